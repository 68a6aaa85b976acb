"""Every read and write of shared state in a module, classified once.

Each `Access` says what state (`StateKey`), how (`AccessKind`: a plain store, a read-modify-write,
a change of a container's contents, an iteration, a check-then-act, an in-place array call, a
read), where (its anchor and function) and under which locks of its own function. A write is
classified once: the act of a check-then-act is a CHECK_THEN_ACT, not also a STORE, and a
read-modify-write is not also a store. Rules filter these records; they never walk the tree.
"""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import BindingKind, Bindings, ScopeKind
from gilsafe.lint.summaries.keys import Anchor, FunctionId, HeldMethod, Kind, LockId, StateKey, StateKind
from gilsafe.lint.summaries.locks import Locks, always_leaves as _always_leaves
from gilsafe.lint.summaries.state import State
from gilsafe.lint.summaries.syntax import descendants as _subtree
from gilsafe.lint.summaries.values import ValueKind, Values

# Methods of list/dict/set/deque that change the container.
GROWERS = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "appendleft", "extendleft", "__setitem__"})
SHRINKERS = frozenset({"pop", "popitem", "remove", "clear", "discard", "popleft", "__delitem__"})
REORDERERS = frozenset({"sort", "reverse", "rotate"})
# ndarray methods that change the array itself (torch: any public method ending in "_").
ARRAY_INPLACE_METHODS = frozenset({"fill", "resize", "put", "partition", "itemset", "setfield", "byteswap"})
# Functions whose first argument is written: the probed call each amounts to.
WRITES_FIRST_ARGUMENT = {
    "numpy.copyto": "numpy.copyto",
    "numpy.put": "numpy.copyto",
    "numpy.place": "numpy.copyto",
    "numpy.putmask": "numpy.copyto",
    "numpy.fill_diagonal": "numpy.copyto",
    "cupy.copyto": "cupy.copyto",
}
ARRAY_LIBRARIES = ("numpy", "torch", "cupy")
OPERATORS = {
    cst.AddAssign: "add", cst.SubtractAssign: "add", cst.MultiplyAssign: "multiply", cst.DivideAssign: "multiply",
    cst.PowerAssign: "multiply", cst.MatrixMultiplyAssign: "dot", cst.Add: "add", cst.Subtract: "add",
    cst.Multiply: "multiply", cst.Divide: "multiply", cst.MatrixMultiply: "dot",
}
# Exceptions that mean "it was not there" when caught around a lookup: try/except check-then-act.
MISSING = frozenset({"KeyError", "AttributeError", "LookupError", "IndexError"})


# The node types `_writes_in` looks at; a type check first skips the rest cheaply.
_WRITING_NODES = frozenset((cst.Assign, cst.AnnAssign, cst.Del, cst.Call))


class AccessKind(Kind):
    READ = "read"  # a read by an array call that may release the GIL
    STORE = "store"  # rebinding: `self.x = v`, `global g; g = v`, `del self.x`
    RMW = "read-modify-write"  # `x += 1`, `x = x + 1`, `d[k] = d.get(k, 0) + 1`; and over two
    # statements: taking a container's contents then replacing it with an empty one (detail
    # "swap"), appending then reading `c[-1]` for the item appended ("append-then-last")
    CHANGE = "change"  # the container's contents change: item store or delete, a mutating method
    ITERATE = "iterate"  # a loop or comprehension walks the container, or `next(iter(c))`
    CHECK_THEN_ACT = "check-then-act"  # a write whose condition was checked first, not atomically
    INPLACE = "in-place"  # an array changed by a call: `out=a`, `np.copyto(a, ...)`, `a.fill()`, `t.add_()`
    CALL = "call"  # a method of the object in the state is called (`self._protocol.send()`): the
    # project pass knows whether that method changes its object


class Change(Kind):
    GROW = "grow"  # append, add, update, setdefault, ...
    SHRINK = "shrink"  # pop, remove, clear, ...
    REORDER = "reorder"  # sort, reverse
    ITEM_STORE = "item store"  # c[k] = v (grows a dict, not a list)
    ITEM_DELETE = "item delete"  # del c[k]
    REBIND = "rebind"  # a STORE of the state itself (also a container swapped for a new one)


class Access(NamedTuple):
    key: StateKey  # for changes of a container's contents: the container
    kind: AccessKind
    anchor: Anchor  # the statement, call or loop to report
    function: FunctionId  # FunctionId(module, "<module>") for top-level code
    locks: frozenset[LockId]  # held in its own function (callers' locks: the project pass)
    change: Change | None = None  # what a write does to the state
    detail: str = ""  # the method or operator (`append`, `+=`), or the array call it amounts to
    check: Anchor | None = None  # CHECK_THEN_ACT: the `if` (or `try`) that checked the state; a
    # two-statement RMW ("swap", "append-then-last"): its first step
    partitioned: bool = False  # an item or slice picked by the function's own arguments
    target: Anchor | None = None  # the accessed expression (`self.n` in `self.n += 1`, `d` in `d[k] = v`)
    end: Anchor | None = None  # ITERATE: the last node of the loop (changes inside it are the loop's own)


class Accesses(Summary):
    DEPENDENCIES = (Bindings, State, Values, Locks)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.state = analysis[State]
        self.values = analysis[Values]
        self.locks = analysis[Locks]
        self.syntax = analysis.syntax
        self.records: list[Access] = []
        self._module_function = FunctionId(analysis.module_name, "<module>")
        # Array reads are only looked for where an array library is imported.
        self._arrays = any(
            target.split(".")[0] in ARRAY_LIBRARIES for scope in self.bindings.scopes.values() for target in scope.imports.values()
        )
        self._reads_seen: set[tuple[FunctionId, StateKey, frozenset[LockId]]] = set()
        self._calls_seen: set[tuple] = set()
        self._acts: dict[cst.CSTNode, tuple[Anchor, frozenset[LockId]]] = {}  # write node -> its unguarded check
        self._find_checks()
        self._collect()

    # -- recording ------------------------------------------------------------------------------

    def _function(self, node: cst.CSTNode) -> FunctionId:
        return self.values.function_of(node) or self._module_function

    def _add(self, key: StateKey, kind: AccessKind, node: cst.CSTNode, *, change: Change | None = None, detail: str = "",
             partitioned: bool = False, target: cst.CSTNode | None = None, write: cst.CSTNode | None = None,
             end: Anchor | None = None, first: cst.CSTNode | None = None) -> None:
        locks = self.locks.held(node)
        check = self.syntax.anchors[first] if first is not None else None
        if write is not None and kind in (AccessKind.STORE, AccessKind.CHANGE) and write in self._acts:
            check, check_locks = self._acts[write]
            kind = AccessKind.CHECK_THEN_ACT
        anchors = self.syntax.anchors
        self.records.append(
            Access(key, kind, anchors[node], self._function(node), locks, change, detail, check, partitioned,
                   anchors[target] if target is not None else None, end)
        )

    def _collect(self) -> None:
        syntax = self.syntax
        for node in syntax.of_type(cst.AugAssign):
            self._aug_assign(node)
        for node in syntax.of_type(cst.Assign):
            for target in node.targets:
                self._store(node, target.target, node.value, single=len(node.targets) == 1)
        for node in syntax.of_type(cst.AnnAssign):
            if node.value is not None:
                self._store(node, node.target, node.value, single=True)
        for node in syntax.of_type(cst.Del):
            self._delete(node, node.target)
        for node in syntax.of_type(cst.Call):
            self._call(node)
        for node in syntax.of_type(cst.For):
            self._iteration(node, node.iter, node)
        for node in syntax.of_type(cst.CompFor):
            comprehension = node
            while not isinstance(comprehension, (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)):
                comprehension = syntax.parents[comprehension]
            self._iteration(node, node.iter, comprehension)
        for node in syntax.of_type(cst.Return):
            self._returned_view(node)
        self._appended_then_last()
        if self._arrays:
            for node in syntax.of_type(cst.BinaryOperation):
                if type(node.operator) in OPERATORS:
                    for side in (node.left, node.right):
                        self._array_read(node, side, f"operator:{OPERATORS[type(node.operator)]}")

    def _appended_then_last(self) -> None:
        """`self.items.append(x)` then `self.items[-1]` in one function, with no lock around both:
        another thread's append between the two makes `[-1]` someone else's item."""
        appends: dict[tuple[FunctionId, StateKey], list[Access]] = {}
        for access in self.records:
            if access.kind in (AccessKind.CHANGE, AccessKind.CHECK_THEN_ACT) and access.detail == "append":
                appends.setdefault((access.function, access.key), []).append(access)
        if not appends:
            return
        nodes = self.syntax.nodes
        for node in self.syntax.of_type(cst.Subscript):
            if not _is_last_item(node) or isinstance(self.syntax.parents.get(node), cst.AssignTarget):
                continue
            key = self.state.key_of(node.value)
            if key is None:
                continue
            before = [a for a in appends.get((self._function(node), key), ()) if a.anchor < self.syntax.anchors[node]]
            if not before:
                continue
            append = before[-1]
            if append.locks & self.locks.held(node):
                continue  # both under one lock
            self._add(key, AccessKind.RMW, node, detail="append-then-last", target=node.value, first=nodes[append.anchor])

    def _aug_assign(self, node: cst.AugAssign) -> None:
        target = node.target
        key = self.state.key_of(target) if not isinstance(target, cst.Name) else self._name_target(target)
        if key is None and isinstance(target, cst.Name):
            key = self.state.bare_argument(target)  # `a += b`: the caller's array, if it is one
        if key is None:
            return
        operator = self.analysis.module.code_for_node(node.operator).strip()
        partitioned = isinstance(target, cst.Subscript) and self.partitioned(target)
        change = Change.ITEM_STORE if isinstance(target, cst.Subscript) else None
        if isinstance(target, cst.Subscript):
            key = key.container  # `d[k] += 1` updates an item: the container's contents change
        self._add(key, AccessKind.RMW, node, change=change, detail=operator, partitioned=partitioned, target=target)

    def _name_target(self, name: cst.Name) -> StateKey | None:
        """A name stored to is state only when it is a global or a closure cell (`global`/`nonlocal`,
        or module-level code); a local that aliases state is just rebound."""
        binding = self.bindings.resolve(name)
        if binding.kind is BindingKind.GLOBAL:
            if binding.scope is not None and self.bindings.scope_of(name).kind is ScopeKind.MODULE:
                return None  # module-level code binding its own globals: set-up, not a thread's write
            return self.state.key_of(name)
        if binding.kind is BindingKind.CLOSURE:
            return self.state.key_of(name)
        return None

    def _store(self, node: cst.CSTNode, target: cst.BaseExpression, value: cst.BaseExpression, *, single: bool) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            paired = isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements)
            for element, item in zip(target.elements, value.elements if paired else [None] * len(target.elements)):
                self._store(node, element.value, item.value if item is not None else value, single=False)
            return
        if isinstance(target, cst.StarredElement):
            self._store(node, target.value, value, single=False)
            return
        if isinstance(target, cst.Name):
            key = self._name_target(target)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            key = self.state.key_of(target)
        else:
            return
        if key is None:
            if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                argument = self.state.bare_argument(target.value)  # `out[i] = v` on an argument
                if argument is not None:
                    self._add(argument, AccessKind.CHANGE, node, change=Change.ITEM_STORE, detail="slice store",
                              partitioned=self.partitioned(target), target=target, write=node)
            return
        if single and self._reads_key(value, key, target):
            change = Change.ITEM_STORE if isinstance(target, cst.Subscript) else None
            partitioned = isinstance(target, cst.Subscript) and self.partitioned(target)
            self._add(key.container if isinstance(target, cst.Subscript) else key, AccessKind.RMW, node, change=change,
                      detail="=", partitioned=partitioned, target=target)
            return
        if isinstance(target, cst.Subscript):
            container = self._array_key(target.value)
            if container is not None:
                self._add(container, AccessKind.CHANGE, node, change=Change.ITEM_STORE, detail="slice store" if _is_slice(target) else "item store",
                          partitioned=self.partitioned(target), target=target.value, write=node)
            return
        constant = isinstance(value, (cst.Integer, cst.Float, cst.SimpleString)) or (isinstance(value, cst.Name) and value.value in ("None", "True", "False"))
        if node not in self._acts and _is_fresh_empty(value, self.bindings):
            taken = self._read_before(node, key)
            if taken is not None:
                # `batch = self.pending` ... `self.pending = []`: what another thread adds between
                # the two lands in the old container after its contents were taken.
                self._add(key, AccessKind.RMW, node, change=Change.REBIND, detail="swap", target=target, first=taken)
                return
        self._add(key, AccessKind.STORE, node, change=Change.REBIND, detail="= constant" if constant else "=", target=target, write=node)

    def _stored_to(self, node: cst.CSTNode) -> bool:
        """`node` is what an assignment stores to (`x` in `x = 1`, `x: int = 1`, `a, x = ...`)."""
        parent = self.syntax.parents.get(node)
        while isinstance(parent, (cst.Tuple, cst.List, cst.Element, cst.StarredElement)):
            node, parent = parent, self.syntax.parents.get(parent)
        if isinstance(parent, cst.AssignTarget):
            return True
        return isinstance(parent, (cst.AnnAssign, cst.AugAssign)) and parent.target is node

    def _only_looked_at(self, node: cst.CSTNode) -> bool:
        """A read that takes nothing out of the container: `len(c)`, `if c:`, `c is None`, `x in c`."""
        parent = self.syntax.parents.get(node)
        if isinstance(parent, cst.Arg):
            call = self.syntax.parents.get(parent)
            return isinstance(call, cst.Call) and self.bindings.qualified(call.func) in LOOKS_ONLY
        if isinstance(parent, (cst.If, cst.While)) and parent.test is node:
            return True
        if isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not):
            return True
        return isinstance(parent, (cst.Comparison, cst.ComparisonTarget, cst.BooleanOperation))

    def _read_before(self, store: cst.CSTNode, key: StateKey) -> cst.CSTNode | None:
        """The statement of the store's function that last read `key` before the store (or the
        store's own value: `out, self.items = self.items, []`), else None."""
        function = self.syntax.enclosing_function(store)
        if function is None:
            return None
        anchors = self.syntax.anchors
        mine = anchors[store]
        found = None
        for node in (*_subtree(function),):
            if not isinstance(node, (cst.Name, cst.Attribute)) or anchors[node] <= (anchors[found] if found is not None else -1):
                continue
            if self._stored_to(node) or self._only_looked_at(node):
                continue
            if self.state.key_of(node) != key:
                continue
            if anchors[node] > mine and not self.syntax.within(node, store):
                continue
            found = node
        return found

    def _reads_key(self, value: cst.BaseExpression, key: StateKey, target: cst.BaseExpression) -> bool:
        """True when `value` reads the state being stored (`x + 1` for `x`, `d.get(k, 0) + 1` for `d[k]`)."""
        container = key.container if isinstance(target, cst.Subscript) else None
        for node in (value, *_subtree(value)):
            if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)) and self.state.key_of(node) == key:
                if isinstance(target, cst.Subscript) and isinstance(node, cst.Subscript) and not node.deep_equals(target):
                    continue  # another item of the same container
                return True  # also through a local read earlier: `n = self.n` ... `self.n = n + 1`
            if container is not None and isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
                if node.func.attr.value in ("get", "setdefault") and self.state.key_of(node.func.value) == container:
                    index = target.slice[0].slice if len(target.slice) == 1 else None
                    if isinstance(index, cst.Index) and node.args and node.args[0].value.deep_equals(index.value):
                        return True
        return False

    def _delete(self, node: cst.Del, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._delete(node, element.value)
            return
        if isinstance(target, cst.Subscript):
            container = self.state.key_of(target.value)
            if container is not None:
                self._add(container, AccessKind.CHANGE, node, change=Change.ITEM_DELETE, detail="del", target=target.value, write=node)
        elif isinstance(target, cst.Attribute):
            key = self.state.key_of(target)
            if key is not None:
                self._add(key, AccessKind.STORE, node, change=Change.REBIND, detail="del", target=target, write=node)
        elif isinstance(target, cst.Name):
            key = self._name_target(target)
            if key is not None:
                self._add(key, AccessKind.STORE, node, change=Change.REBIND, detail="del", target=target, write=node)

    def _call(self, node: cst.Call) -> None:
        func = node.func
        qualified = None
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            receiver = func.value
            # `Locale.parse(...)`, `np.dot(...)`: a class or a module, not state
            definition = isinstance(receiver, cst.Name) and self._names_definition(receiver)
            key = None if definition else self.state.key_of(receiver)
            if key is None and isinstance(receiver, cst.Name) and not definition:
                key = self.state.bare_argument(receiver)
            if key is not None:
                partitioned = isinstance(receiver, cst.Subscript) and self.partitioned(receiver)
                if method in GROWERS:
                    self._add(key, AccessKind.CHANGE, node, change=Change.GROW, detail=method, partitioned=partitioned, target=receiver, write=node)
                elif method in SHRINKERS:
                    self._add(key, AccessKind.CHANGE, node, change=Change.SHRINK, detail=method, partitioned=partitioned, target=receiver, write=node)
                elif method in REORDERERS:
                    self._add(key, AccessKind.CHANGE, node, change=Change.REORDER, detail=method, partitioned=partitioned, target=receiver, write=node)
                elif method in ARRAY_INPLACE_METHODS or (method.endswith("_") and not method.startswith("_")):
                    self._add(key, AccessKind.INPLACE, node, detail=method, partitioned=partitioned, target=receiver)
                else:
                    if self._arrays:
                        self._add_read(key, node, f"method:{method}", receiver)
                    if key.kind in (StateKind.FIELD, StateKind.GLOBAL) and not key.is_item:
                        self._method_call(key, node, method, receiver)
            elif not definition and isinstance(receiver, cst.Name) and (klass := self.state.self_class(receiver)) is not None:
                self._stored_bound_method(node, klass, method)
        else:
            qualified = self.bindings.qualified(func)
            if qualified == "builtins.next" and node.args:
                inner = node.args[0].value
                if isinstance(inner, cst.Call) and self.bindings.qualified(inner.func) == "builtins.iter" and inner.args:
                    self._iteration(node, inner.args[0].value, node)
        if not self._arrays:
            return
        if qualified is None and not isinstance(func, cst.Attribute):
            return
        qualified = qualified or self.bindings.qualified(func)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "out":
                key = self._array_key(arg.value)
                if key is not None:
                    partitioned = isinstance(arg.value, cst.Subscript) and self.partitioned(arg.value)
                    self._add(key, AccessKind.INPLACE, node, detail=f"out=:{qualified or ''}", partitioned=partitioned, target=arg.value)
        if qualified in WRITES_FIRST_ARGUMENT and node.args:
            first = node.args[0].value
            key = self._array_key(first)
            if key is not None:
                partitioned = isinstance(first, cst.Subscript) and self.partitioned(first)
                self._add(key, AccessKind.INPLACE, node, detail=WRITES_FIRST_ARGUMENT[qualified], partitioned=partitioned, target=first)
        if qualified and qualified.split(".")[0] in ARRAY_LIBRARIES:
            for arg in node.args:
                if arg.keyword is None:
                    self._array_read(node, arg.value, qualified)

    def _array_key(self, expr: cst.BaseExpression) -> StateKey | None:
        key = self.state.key_of(expr)
        if key is None and isinstance(expr, cst.Name):
            key = self.state.bare_argument(expr)
        return key

    def _array_read(self, node: cst.CSTNode, expr: cst.BaseExpression, call: str) -> None:
        if not isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)):
            return
        key = self._array_key(expr)
        if key is not None:
            self._add_read(key, node, call, expr)

    def _add_read(self, key: StateKey, node: cst.CSTNode, detail: str, target: cst.CSTNode) -> None:
        partitioned = isinstance(target, cst.Subscript) and self.partitioned(target)
        self._add(key, AccessKind.READ, node, detail=detail, partitioned=partitioned, target=target)

    def _iteration(self, node: cst.CSTNode, iterable: cst.BaseExpression, report: cst.CSTNode) -> None:
        walked = self.state.iterated(iterable)
        if walked is None:
            return
        key = self.state.key_of(walked)
        if key is None:
            return
        if isinstance(walked, cst.Name) and self._detached(key, node):
            return
        at = report if isinstance(report, (cst.For, cst.Call)) else node
        self._add(key, AccessKind.ITERATE, at, detail="for", target=walked, end=self.syntax.last_anchor(at))

    def _names_definition(self, name: cst.Name) -> bool:
        binding = self.bindings.resolve(name)
        if binding.kind is BindingKind.IMPORT:
            return (id(binding.scope), name.value) in self.bindings.module_imports
        return binding.scope is not None and (id(binding.scope), name.value) in self.bindings.definitions

    def _stored_bound_method(self, node: cst.Call, klass: cst.ClassDef, name: str) -> None:
        """`self._push(x)` where `self._push = self._order.append`: a change of `self._order`."""
        field = StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), name)
        for source in self.values.sources.get(field, ()):
            ref = source.ref
            if source.kind is ValueKind.FUNCTION and isinstance(ref, HeldMethod) and ref.name in GROWERS | SHRINKERS:
                change = Change.GROW if ref.name in GROWERS else Change.SHRINK
                self._add(ref.key, AccessKind.CHANGE, node, change=change, detail=ref.name, write=node)

    def _method_call(self, key: StateKey, node: cst.Call, method: str, receiver: cst.BaseExpression) -> None:
        """One record per function, state, method and locks: enough to tell which calls on an
        object happen under a lock and which do not."""
        function = self._function(node)
        locks = self.locks.held(node)
        marker = (function, key, locks, method)
        if marker in self._calls_seen:
            return
        self._calls_seen.add(marker)
        anchors = self.syntax.anchors
        self.records.append(Access(key, AccessKind.CALL, anchors[node], function, locks, None, method, target=anchors[receiver]))

    def _returned_view(self, node: cst.Return) -> None:
        """`return self._d.keys()` hands out a live view: callers iterate it after this function
        (and any lock it holds) has returned."""
        value = node.value
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and not value.args):
            return
        if value.func.attr.value not in ("keys", "values", "items", "__iter__"):
            return
        key = self.state.key_of(value.func.value)
        if key is None or key.kind not in (StateKind.FIELD, StateKind.GLOBAL):
            return
        self.records.append(
            Access(key, AccessKind.ITERATE, self.syntax.anchors[node], self._function(node), frozenset(), None, "returned view",
                   target=self.syntax.anchors[value.func.value])
        )

    def _detached(self, key: StateKey, at: cst.CSTNode) -> bool:
        """`items = self._items; self._items = []` ... `for x in items:` walks the old container,
        which the function took for itself: nothing else can reach it any more."""
        function = self.syntax.enclosing_function(at)
        anchor = self.syntax.anchors[at]
        for node in self.syntax.of_type(cst.Assign):
            if self.syntax.anchors[node] >= anchor or self.syntax.enclosing_function(node) is not function:
                continue
            for target in node.targets:
                for element in (target.target.elements if isinstance(target.target, (cst.Tuple, cst.List)) else (target.target,)):
                    expr = element.value if isinstance(element, cst.Element) else element
                    if isinstance(expr, (cst.Attribute, cst.Name)) and not isinstance(expr, cst.Name) and self.state.key_of(expr) == key:
                        return True
        return False

    # -- check-then-act -------------------------------------------------------------------------

    def _find_checks(self) -> None:
        """For each `if` (and `try` ... `except KeyError`), the writes in its body that act on state
        its test read; kept when no lock covers both the check and the act (a check re-done under
        the act's lock, double-checked locking, is fine)."""
        for node in self.syntax.of_type(cst.If):
            checked = self._checked_keys(node.test)
            if not checked:
                continue
            branches = [node.body] + ([node.orelse] if node.orelse is not None else [])
            if node.orelse is None and _always_leaves(node.body):
                # `if d.get(k): return ...` then `d[k] = ...`: the rest of the block is the act.
                branches.extend(self._following(node))
            self._note_acts(node, checked, branches)
        for node in self.syntax.of_type(cst.Try):
            if not any(_catches_missing(handler) for handler in node.handlers):
                continue
            checked = self._checked_keys(node.body)
            if checked:
                self._note_acts(node, checked, [h for h in node.handlers if _catches_missing(h)])

    def _note_acts(self, check: cst.CSTNode, checked: set[StateKey], branches: list[cst.CSTNode]) -> None:
        check_locks = self.locks.held(check)
        for branch in branches:
            for write, key in self._writes_in(branch):
                if not any(_related(key, other) for other in checked):
                    continue
                if self.locks.held(write) & check_locks:
                    continue
                if write in self._acts:
                    continue
                if self._rechecked_under_lock(write, key, check):
                    continue
                self._acts[write] = (self.syntax.anchors[check], check_locks)

    def _following(self, statement: cst.CSTNode) -> list[cst.CSTNode]:
        block = self.syntax.parents.get(statement)
        body = getattr(block, "body", None)
        if not isinstance(body, (tuple, list)) or statement not in body:
            return []
        return list(body[body.index(statement) + 1:])

    def _rechecked_under_lock(self, write: cst.CSTNode, key: StateKey, outer: cst.CSTNode) -> bool:
        """Double-checked locking: an `if` between the outer check and the write, checking the same
        state with a lock held that the write holds too."""
        for ancestor in self.syntax.ancestors(write):
            if ancestor is outer:
                return False
            if isinstance(ancestor, cst.If):
                locks = self.locks.held(ancestor)
                if locks & self.locks.held(write) and any(_related(key, k) for k in self._checked_keys(ancestor.test)):
                    return True
        return False

    def _checked_keys(self, test: cst.CSTNode) -> set[StateKey]:
        keys: set[StateKey] = set()
        for node in (test, *_subtree(test)):
            if isinstance(node, (cst.Name, cst.Attribute, cst.Subscript)):
                key = self._array_key(node)  # also a parameter's object: `if k not in seen`
                if key is not None:
                    keys.add(key)
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in ("hasattr", "getattr") and len(node.args) >= 2:
                name = node.args[1].value
                if isinstance(name, cst.SimpleString) and isinstance(name.evaluated_value, str):
                    key = self._attribute_key(node.args[0].value, name.evaluated_value)
                    if key is not None:
                        keys.add(key)
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in ("get", "__contains__"):
                holder = self.state.key_of(node.func.value)
                if holder is not None:
                    keys.add(holder.child("[]"))
        return keys

    def _attribute_key(self, holder: cst.BaseExpression, attribute: str) -> StateKey | None:
        """`hasattr(self, "_x")` checks the field `_x`; `hasattr(obj, "x")` the attribute of obj's state."""
        if isinstance(holder, cst.Name):
            klass = self.state.self_class(holder)
            if klass is not None:
                return StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), attribute)
        key = self.state.key_of(holder)
        return key.child(attribute) if key is not None else None

    def _writes_in(self, branch: cst.CSTNode):
        """(write node, the state it writes) for stores, deletes and mutating calls in a block."""
        for node in (branch, *_subtree(branch)):
            kind = type(node)
            if kind not in _WRITING_NODES:
                continue
            if isinstance(node, cst.Assign):
                if len(node.targets) == 1 and self._reads_key_any(node):
                    continue  # a read-modify-write: classified as RMW
                for target in node.targets:
                    for key in self._store_keys(target.target):
                        yield node, key
            elif isinstance(node, cst.AnnAssign) and node.value is not None:
                for key in self._store_keys(node.target):
                    yield node, key
            elif isinstance(node, cst.Del):
                for key in self._store_keys(node.target):
                    yield node, key
            elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in GROWERS | SHRINKERS:
                key = self._array_key(node.func.value)
                if key is not None:
                    yield node, key

    def _reads_key_any(self, node: cst.Assign) -> bool:
        target = node.targets[0].target
        if not isinstance(target, (cst.Name, cst.Attribute, cst.Subscript)):
            return False
        key = self._name_target(target) if isinstance(target, cst.Name) else self.state.key_of(target)
        return key is not None and self._reads_key(node.value, key, target)

    def _store_keys(self, target: cst.BaseExpression):
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                yield from self._store_keys(element.value)
        elif isinstance(target, cst.Subscript):
            container = self._array_key(target.value)
            if container is not None:
                yield container.child("[]")
        elif isinstance(target, cst.Attribute):
            key = self.state.key_of(target)
            if key is not None:
                yield key
        elif isinstance(target, cst.Name):
            key = self._name_target(target)
            if key is not None:
                yield key

    # -- partitioned work -------------------------------------------------------------------------

    def partitioned(self, subscript: cst.Subscript) -> bool:
        """True when the index depends on the running function's parameters (`out[i] = ...`,
        `a[lo:hi] += ...` with `lo = i * chunk`): threads given different arguments write different
        slots, the usual way to split work. gilsafe cannot prove the slots disjoint and trusts the split."""
        return any(self._from_parameters(element.slice, 0) for element in subscript.slice)

    def _from_parameters(self, node: cst.CSTNode, depth: int) -> bool:
        for current in (node, *_subtree(node)):
            if not isinstance(current, cst.Name):
                continue
            scope = self.bindings.scope_of(current)
            if scope.function is None:
                continue
            binding = self.bindings.resolve(current)
            if binding.kind is BindingKind.PARAM and self.state.self_class(current) is None:
                return True
            if binding.kind is BindingKind.LOCAL and depth < 2 and binding.scope is not None:
                for source in self._local_bounds(binding.scope, current.value):
                    if self._from_parameters(source, depth + 1):
                        return True
        return False

    def _local_bounds(self, scope, name: str):
        """The expressions a local was bound from: assignments' values and `range(...)` loops."""
        for how, value in self.state._local_sources.get((id(scope), name), ()):
            if how == "expr" and value is not None:
                yield value
            elif how == "item" and isinstance(value, cst.Call) and self.bindings.qualified(value.func) == "builtins.range":
                yield value  # `for i in range(lo, hi)`: indices from the arguments


def _related(write: StateKey, checked: StateKey) -> bool:
    """A write acts on what was checked: the same state, an item of the checked container, or the
    container of a checked item."""
    if write == checked:
        return True
    return write.container == checked.container and (write.is_item or checked.is_item)


def _catches_missing(handler: cst.ExceptHandler) -> bool:
    kind = handler.type
    names = []
    if isinstance(kind, cst.Name):
        names = [kind.value]
    elif isinstance(kind, cst.Tuple):
        names = [e.value.value for e in kind.elements if isinstance(e.value, cst.Name)]
    return bool(MISSING & set(names))


def _is_last_item(node: cst.Subscript) -> bool:
    """`c[-1]`."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return False
    index = node.slice[0].slice.value
    return (
        isinstance(index, cst.UnaryOperation) and isinstance(index.operator, cst.Minus)
        and isinstance(index.expression, cst.Integer) and index.expression.value == "1"
    )


# Calls that look at a container without taking its contents.
LOOKS_ONLY = frozenset({"builtins.len", "builtins.bool", "builtins.isinstance", "builtins.hasattr", "builtins.id", "builtins.type", "builtins.getattr"})
# What `self.items = ...` replaces a container with when it resets it.
EMPTY_MAKERS = frozenset({"builtins.list", "builtins.dict", "builtins.set", "builtins.bytearray", "collections.deque", "collections.OrderedDict", "collections.defaultdict"})


def _is_fresh_empty(value: cst.BaseExpression, bindings: Bindings) -> bool:
    if isinstance(value, (cst.List, cst.Dict)) and not value.elements:
        return True
    if isinstance(value, cst.Call) and bindings.qualified(value.func) in EMPTY_MAKERS:
        return not value.args or bindings.qualified(value.func) == "collections.defaultdict"
    return False


def _is_slice(target: cst.Subscript) -> bool:
    return any(isinstance(element.slice, cst.Slice) for element in target.slice)

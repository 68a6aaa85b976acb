"""What every rule needs to know about one module, computed once per file and shared by all rules.

- thread entry points: the functions (and lambdas) that run in a thread, and why;
- reachability: functions of this module called, transitively, from those entry points;
- guarding locks: which locks are held at each statement (`with L:` and `L.acquire()`/`release()`);
- shared state: whether an expression names state other threads can see, and under which key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import (
    CodeRange,
    FunctionScope,
    GlobalScope,
    ClassScope,
    ComprehensionScope,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from gilsafe.findings import ThreadEntry
from gilsafe.mutations import walk

FunctionNode = cst.FunctionDef | cst.Lambda

LOCK_FACTORIES = frozenset(
    {
        "threading.Lock",
        "threading.RLock",
        "threading.Condition",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "_thread.allocate_lock",
        "_thread.LockType",
    }
)
THREAD_LOCAL_FACTORIES = frozenset({"threading.local", "_threading_local.local"})
THREAD_CLASSES = frozenset({"threading.Thread", "threading.Timer"})
EXECUTOR_FACTORIES = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor",
        "concurrent.futures.thread.ThreadPoolExecutor",
        "multiprocessing.pool.ThreadPool",
        "multiprocessing.dummy.Pool",
    }
)
EXECUTOR_METHODS = frozenset(
    {
        "submit",
        "map",
        "apply",
        "apply_async",
        "map_async",
        "imap",
        "imap_unordered",
        "starmap",
        "starmap_async",
    }
)
# callee qualified name -> (keyword, position) of the argument that runs in a thread
ENTRY_CALLS: dict[str, tuple[str | None, int]] = {
    "threading.Thread": ("target", 1),
    "threading.Timer": ("function", 1),
    "_thread.start_new_thread": ("function", 0),
    "_thread.start_new": ("function", 0),
    "asyncio.to_thread": (None, 0),
    "dask.delayed": (None, 0),
    "dask.delayed.delayed": (None, 0),
}
PARTIAL = frozenset({"functools.partial"})
# Names that read as locks when gilsafe cannot see where the object was made (a parameter, say).
DEFAULT_LOCK_NAME = re.compile(r"(?i)(lock|mutex)$")
# Top-level packages whose import is a concurrency signal.
THREAD_MODULES = frozenset({"threading", "_thread", "concurrent", "multiprocessing", "asyncio", "dask"})
# Annotations for what the analysis cannot see (gilsafe/__init__.py defines the decorators).
THREAD_CONFINED = frozenset({"gilsafe.thread_confined"})
REQUIRES_LOCK = frozenset({"gilsafe.requires_lock"})
GUARDED_BY = re.compile(r"#\s*gilsafe:\s*guarded-by\s*=\s*([A-Za-z_][\w.]*)")
# Calls that make a new array, by library; an assignment from one types the state it binds.
ARRAY_LIBRARIES = ("numpy", "torch", "cupy")
ARRAY_MAKERS = frozenset(
    {
        "zeros", "empty", "ones", "full", "arange", "array", "asarray", "ascontiguousarray", "linspace",
        "zeros_like", "empty_like", "ones_like", "full_like", "copy", "frombuffer", "fromiter", "concatenate",
        "stack", "eye", "identity", "tensor", "as_tensor", "from_numpy", "rand", "randn", "randint", "random",
        "normal", "uniform", "standard_normal", "load",
    }
)
ARRAY_TYPES = {
    "numpy.ndarray": "numpy",
    "numpy.typing.NDArray": "numpy",
    "torch.Tensor": "torch",
    "cupy.ndarray": "cupy",
}


@dataclass(frozen=True)
class SharedState:
    """State other threads can see: `key` identifies it across the module, `label` is for people."""

    key: str
    label: str
    kind: str = field(default="", compare=False)  # global, closure, self, argument


@dataclass(frozen=True)
class EntrySite:
    """A call (or class, or decorator) that makes functions run in a thread."""

    description: str
    starter: cst.CSTNode = field(compare=False)


@dataclass
class FunctionInfo:
    node: FunctionNode
    qualname: str
    klass: cst.ClassDef | None = None  # set for methods defined directly in a class body
    calls: list[cst.Call] = field(default_factory=list)


def _dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr.value}" if head else None
    return None


def access_root(node: cst.BaseExpression) -> cst.BaseExpression:
    """The expression an Attribute/Subscript chain starts from: `self` in `self.d[k].n`."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node


class ModuleModel(cst.CSTVisitor):
    """Built by one metadata-aware pass over the module; rules then query it."""

    # Parents are recorded by this pass and qualified names asked of the scopes, node by node:
    # each metadata provider dropped is a whole-tree pass saved. Positions are resolved lazily,
    # only when something is reported.
    METADATA_DEPENDENCIES = (ScopeProvider,)

    def __init__(
        self,
        wrapper: cst.MetadataWrapper,
        *,
        lock_names: Sequence[str] = (),
        extra_entry_points: Sequence[str] = (),
        source: str | None = None,
    ) -> None:
        super().__init__()
        self.wrapper = wrapper
        self._source = source
        self.module = wrapper.module
        self.lock_names = frozenset(lock_names)
        self.entry_calls = dict(ENTRY_CALLS)
        for name in extra_entry_points:
            self.entry_calls.setdefault(name, ("target", 0))
        self.functions: dict[FunctionNode, FunctionInfo] = {}
        self.classes: dict[str, cst.ClassDef] = {}
        self.thread_classes: set[cst.ClassDef] = set()
        # @gilsafe.thread_confined functions and classes; @gilsafe.requires_lock("L") functions -> L
        self.confined_functions: set[FunctionNode] = set()
        self.confined_classes: set[cst.ClassDef] = set()
        self._required_lock_names: dict[FunctionNode, str] = {}
        self.required_locks: dict[FunctionNode, str] = {}
        # state key -> the lock a `# gilsafe: guarded-by=L` comment says guards it
        self.guarded_by: dict[str, str] = {}
        self._array_params: list[tuple[cst.Name, str]] = []
        self._array_keys: dict[str, str] | None = None
        self.lock_ids: set[str] = set()
        self.thread_local_ids: set[str] = set()
        self.executor_exprs: set[str] = set()
        # with-statement bodies and the locks their items take; statements after L.acquire()
        self._with_locks: dict[cst.CSTNode, frozenset[str]] = {}
        self._bindings: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []
        self._withs: list[cst.With] = []
        self._blocks: list[Sequence[cst.CSTNode]] = []
        self._calls: list[cst.Call] = []
        # (callable expression, description, the call or class that starts it)
        self._entry_sites: list[tuple[cst.BaseExpression | FunctionNode, str, cst.CSTNode]] = []
        self._function_stack: list[FunctionInfo] = []
        self._class_stack: list[cst.ClassDef] = []
        self._acquired_before: dict[cst.CSTNode, frozenset[str]] = {}
        self.entries: dict[FunctionNode, EntrySite] = {}
        # thread-run functions -> the calls to them from thread-run code (for locks held by callers)
        self._call_sites: dict[FunctionNode, list[cst.Call]] = {}
        self.started_directly: set[FunctionNode] = set()
        self._parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._visiting: list[cst.CSTNode] = []

    # -- metadata helpers -------------------------------------------------------------------

    def position(self, node: cst.CSTNode) -> CodeRange:
        return self.wrapper.resolve(PositionProvider)[node]

    def code_for(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self._parents.get(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        scope = self.scope(node)
        if scope is None:
            return set()
        return {q.name for q in scope.get_qualified_names_for(node)}

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self.wrapper.resolve(ScopeProvider).get(node)

    # -- the pass -----------------------------------------------------------------------------

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._visiting:
            self._parents[node] = self._visiting[-1]
        self._visiting.append(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._visiting.pop()
        super().on_leave(original_node)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not self._function_stack and not self._class_stack:
            self.classes[node.name.value] = node
        if any(self.qualified_names(base.value) & THREAD_CLASSES for base in node.bases):
            self.thread_classes.add(node)
        if any(self._decorator_names(d) & THREAD_CONFINED for d in node.decorators):
            self.confined_classes.add(node)
        self._class_stack.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        klass = None
        parent = self.parent(node)
        if isinstance(parent, cst.IndentedBlock) and isinstance(self.parent(parent), cst.ClassDef):
            klass = self.parent(parent)
        outer = self._function_stack[-1].qualname + ".<locals>." if self._function_stack else ""
        prefix = f"{klass.name.value}." if klass is not None else ""
        info = FunctionInfo(node, outer + prefix + node.name.value, klass)
        self.functions[node] = info
        self._function_stack.append(info)
        if klass is not None and klass in self.thread_classes and node.name.value == "run":
            self._entry_sites.append((node, f"Thread subclass {klass.name.value}.run", klass))
        for decorator in node.decorators:
            target = decorator.decorator
            target = target.func if isinstance(target, cst.Call) else target
            names = self.qualified_names(target)
            if names & {"dask.delayed", "dask.delayed.delayed"}:
                self._entry_sites.append((node, f"@{self.code_for(target)}", decorator))
            elif names & THREAD_CONFINED:
                self.confined_functions.add(node)
            elif names & REQUIRES_LOCK and isinstance(decorator.decorator, cst.Call) and decorator.decorator.args:
                lock = decorator.decorator.args[0].value
                if isinstance(lock, cst.SimpleString) and isinstance(lock.evaluated_value, str):
                    self._required_lock_names[node] = lock.evaluated_value
        for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
            if param.annotation is not None:
                library = self._array_type(param.annotation.annotation)
                if library is not None:
                    self._array_params.append((param.name, library))

    def _decorator_names(self, decorator: cst.Decorator) -> set[str]:
        target = decorator.decorator
        return self.qualified_names(target.func if isinstance(target, cst.Call) else target)

    def _array_type(self, annotation: cst.BaseExpression) -> str | None:
        if isinstance(annotation, cst.Subscript):  # NDArray[np.float64]
            annotation = annotation.value
        for name in self.qualified_names(annotation):
            if name in ARRAY_TYPES:
                return ARRAY_TYPES[name]
        return None

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function_stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        outer = self._function_stack[-1].qualname + ".<locals>." if self._function_stack else ""
        klass = self._function_stack[-1].klass if self._function_stack else None
        info = FunctionInfo(node, outer + "<lambda>", klass)
        self.functions[node] = info
        self._function_stack.append(info)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._function_stack.pop()

    # The traversal only collects; what needs the whole module (parents of every node, every lock
    # and executor binding) is decided in leave_Module.

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._blocks.append(node.body)

    def visit_Module(self, node: cst.Module) -> None:
        self._blocks.append(node.body)

    def visit_With(self, node: cst.With) -> None:
        self._withs.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bindings.append((target.target, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bindings.append((node.target, node.value))

    def visit_Call(self, node: cst.Call) -> None:
        if self._function_stack:
            self._function_stack[-1].calls.append(node)
        self._calls.append(node)

    def leave_Module(self, original_node: cst.Module) -> None:
        for target, value in self._bindings:
            self._note_binding(target, value)
        for node in self._withs:
            self._note_with(node)
        self._note_annotations()
        for body in self._blocks:
            self._note_acquire_release(body)
        for call in self._calls:
            self._note_entry_call(call)
        self._resolve_entries()

    def _note_annotations(self) -> None:
        """Resolve `@requires_lock("L")` and `# gilsafe: guarded-by=L` to lock identities. These run
        before lock regions are found, so that a lock named only by an annotation is recognised."""
        for function, name in self._required_lock_names.items():
            lock = self._annotated_lock(name, self.enclosing_class(function.body) if isinstance(function, cst.FunctionDef) else None)
            self.required_locks[function] = lock
            self.lock_ids.add(lock)
        source = self._source
        if source is None or "guarded-by" not in source:
            return
        wanted = {
            number: match.group(1)
            for number, line in enumerate(source.splitlines(), start=1)
            if (match := GUARDED_BY.search(line))
        }
        for target, _ in self._bindings:
            name = wanted.get(self.position(target).start.line)
            state = self.shared_state(target) or self._module_state(target)
            if name is None or state is None:
                continue
            lock = self._annotated_lock(name, self.enclosing_class(target))
            self.lock_ids.add(lock)
            self.guarded_by[state.key] = lock

    def _module_state(self, target: cst.BaseExpression) -> SharedState | None:
        """A module-level binding's state (outside functions shared_state has no thread to ask about)."""
        if isinstance(target, cst.Name):
            return SharedState(target.value, f"global `{target.value}`", "global")
        return None

    @staticmethod
    def _annotated_lock(name: str, klass: cst.ClassDef | None) -> str:
        """`self._lock` or `_lock` in a class's methods is that class's attribute; else a global."""
        if klass is not None and (name.startswith("self.") or "." not in name):
            return f"{klass.name.value}.{name.removeprefix('self.')}"
        return name

    def missing_lock(self, node: cst.CSTNode, state: SharedState) -> str | None:
        """Why `node`'s access to `state` is unguarded, or None when a lock guards it: no lock held,
        or not the lock a `guarded-by` comment names."""
        held = self.guarding_locks(node)
        declared = self.guarded_by.get(state.key) or self.guarded_by.get(state.key.removesuffix("[]"))
        if declared is not None and declared not in held:
            return f"without `{self.lock_label(declared)}`, which its `guarded-by` comment names"
        if not held:
            return "outside any lock"
        return None

    # -- arrays ----------------------------------------------------------------------------------

    def array_library(self, state: SharedState) -> str | None:
        """"numpy", "torch" or "cupy" when the state (or the container it indexes) was made by that
        library's array constructor in this module, or is a parameter annotated with its array type."""
        kind = self.value_kind(state)
        return kind if kind in ARRAY_LIBRARIES else None

    def value_kind(self, state: SharedState) -> str | None:
        """What made the state (or the container it indexes): an array library's name, or "list",
        "dict", "set" for displays, comprehensions and those constructors; None when unknown."""
        if self._array_keys is None:
            self._array_keys = {}
            for target, value in self._bindings:
                kind = self._made_by(value)
                if kind is not None:
                    bound = self.shared_state(target) or self._module_state(target)
                    if bound is not None:
                        self._array_keys.setdefault(bound.key, kind)
            for name, library in self._array_params:
                owner = self.enclosing_function(name)
                if owner is not None and owner in self.functions:
                    self._array_keys[f"{self.functions[owner].qualname}.<locals>.{name.value}"] = library
        key = state.key
        while key.endswith("[]"):
            key = key[:-2]
        return self._array_keys.get(key)

    def _made_by(self, value: cst.BaseExpression) -> str | None:
        if isinstance(value, (cst.List, cst.ListComp)):
            return "list"
        if isinstance(value, cst.BinaryOperation) and isinstance(value.left, (cst.List, cst.ListComp)):
            return "list"  # [None] * n
        if isinstance(value, (cst.Dict, cst.DictComp)):
            return "dict"
        if isinstance(value, (cst.Set, cst.SetComp)):
            return "set"
        if not isinstance(value, cst.Call):
            return None
        for name in self.qualified_names(value.func):
            library, _, rest = name.partition(".")
            if library in ARRAY_LIBRARIES and rest.rsplit(".", 1)[-1] in ARRAY_MAKERS:
                return library
            if name in ("builtins.list", "builtins.dict", "builtins.set", "collections.defaultdict", "collections.deque"):
                return {"builtins.list": "list", "builtins.set": "set", "collections.deque": "list"}.get(name, "dict")
        return None

    def object_state(self, expr: cst.BaseExpression) -> SharedState | None:
        """Like shared_state, but a bare parameter names the caller's object: `a += b` on an array
        argument changes the caller's array in place."""
        state = self.shared_state(expr)
        if state is not None or not isinstance(expr, cst.Name):
            return state
        scope = self.scope(expr)
        if scope is None:
            return None
        kind, owner = self._name_binding(expr, scope)
        if kind == "param":
            return SharedState(f"{owner}.<locals>.{expr.value}", f"argument `{expr.value}`", "argument")
        if kind == "local":
            alias = self._alias_of(expr, scope)
            if alias is not None:
                return self.shared_state(alias)
        return None

    def partitioned(self, subscript: cst.Subscript) -> bool:
        """True when the index depends on the running function's parameters (`out[i] = ...`,
        `a[lo:hi] += ...` with `lo = i * chunk`): threads given different arguments write
        different slots, the usual way to split work. gilsafe cannot prove the slots disjoint and
        trusts the split."""
        return any(self._from_parameters(element.slice) for element in subscript.slice)

    def _from_parameters(self, node: cst.CSTNode, _depth: int = 0) -> bool:
        for current in (node, *walk(node)):
            if not isinstance(current, cst.Name):
                continue
            scope = self.scope(current)
            if scope is None or not isinstance(_function_scope(scope), FunctionScope):
                continue
            kind, _ = self._name_binding(current, scope)
            if kind == "param":
                return True
            if kind == "local" and _depth < 2:
                for assignment in scope[current.value]:
                    source = self._bound_from(assignment.node)
                    if source is not None and self._from_parameters(source, _depth + 1):
                        return True
        return False

    def _bound_from(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The expression a local name was bound from: an assignment's value or a for loop's iterable."""
        parent = self.parent(node)
        if isinstance(parent, cst.AssignTarget):
            statement = self.parent(parent)
            return statement.value if isinstance(statement, cst.Assign) else None
        while parent is not None and not isinstance(parent, (cst.For, cst.CompFor, cst.SimpleStatementLine)):
            parent = self.parent(parent)
        if isinstance(parent, (cst.For, cst.CompFor)) and isinstance(parent.iter, cst.Call) and _dotted(parent.iter.func) == "range":
            return parent.iter  # `for i in range(lo, hi)`: indices from the arguments
        return None  # `for v in values`: two threads' values can collide

    def _note_with(self, node: cst.With) -> None:
        locks = frozenset(lock for item in node.items if (lock := self.lock_id(item.item)) is not None)
        if locks:
            # The items are evaluated before the lock is taken; only the body is guarded.
            self._with_locks[node.body] = locks
        for item in node.items:
            if item.asname is not None and isinstance(item.item, cst.Call):
                if self.qualified_names(item.item.func) & EXECUTOR_FACTORIES:
                    self.executor_exprs.add(self.code_for(item.asname.name))

    def _note_entry_call(self, node: cst.Call) -> None:
        names = self.qualified_names(node.func)
        for name in names:
            if name in self.entry_calls:
                keyword, position = self.entry_calls[name]
                target = self._argument(node.args, keyword, position)
                if target is not None:
                    short = self.code_for(node.func)
                    label = f"{keyword}={self.code_for(target)}" if keyword and _has_keyword(node.args, keyword) else self.code_for(target)
                    self._entry_sites.append((target, f"{short}({clip(label)})", node))
                return
        if isinstance(node.func, cst.Attribute):
            method = node.func.attr.value
            receiver = node.func.value
            if method == "run_in_executor":
                target = self._argument(node.args, None, 1)
            elif method in EXECUTOR_METHODS and self._is_executor(receiver):
                target = self._argument(node.args, "func", 0)
            else:
                return
            if target is not None:
                label = f"{self.code_for(node.func)}({clip(self.code_for(target))})"
                self._entry_sites.append((target, label, node))

    # -- pass helpers --------------------------------------------------------------------------

    def _line(self, node: cst.CSTNode) -> int:
        return self.position(node).start.line

    @staticmethod
    def _argument(args: Sequence[cst.Arg], keyword: str | None, position: int) -> cst.BaseExpression | None:
        positional = [a for a in args if a.keyword is None and not a.star]
        for arg in args:
            if keyword and arg.keyword is not None and arg.keyword.value == keyword:
                return arg.value
        if position < len(positional):
            return positional[position].value
        return None

    def _is_executor(self, receiver: cst.BaseExpression) -> bool:
        if isinstance(receiver, cst.Call):
            return bool(self.qualified_names(receiver.func) & EXECUTOR_FACTORIES)
        return self.code_for(receiver) in self.executor_exprs

    def _note_binding(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if not isinstance(value, cst.Call):
            return
        factory = self.qualified_names(value.func)
        if not factory:
            return
        state = self.binding_id(target)
        if state is None:
            return
        if factory & LOCK_FACTORIES:
            self.lock_ids.add(state)
        elif factory & THREAD_LOCAL_FACTORIES:
            self.thread_local_ids.add(state)
        elif factory & EXECUTOR_FACTORIES:
            self.executor_exprs.add(self.code_for(target))

    def _note_acquire_release(self, body: Sequence[cst.CSTNode]) -> None:
        """`L.acquire()` ... `L.release()` in one block: the statements between are guarded by L."""
        held: set[str] = set()
        for statement in body:
            if held:
                self._acquired_before[statement] = frozenset(held)
            call = _lone_method_call(statement)
            if call is None:
                continue
            method, receiver = call
            lock = self.lock_id(receiver)
            if lock is None:
                continue
            if method == "acquire":
                held.add(lock)
            elif method == "release":
                held.discard(lock)

    # -- identities of locks and state ------------------------------------------------------

    def within(self, node: cst.CSTNode, ancestor: cst.CSTNode) -> bool:
        """True when `node` is `ancestor` or lies under it."""
        current: cst.CSTNode | None = node
        while current is not None:
            if current is ancestor:
                return True
            current = self.parent(current)
        return False

    def enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        function = self.enclosing_function(node)
        while function is not None:
            info = self.functions[function]
            if info.klass is not None:
                return info.klass
            function = self.enclosing_function(function)
        return None

    def enclosing_function(self, node: cst.CSTNode) -> FunctionNode | None:
        current = self.parent(node)
        while current is not None:
            if isinstance(current, (cst.FunctionDef, cst.Lambda)):
                return current
            current = self.parent(current)
        return None

    def binding_id(self, expr: cst.BaseExpression) -> str | None:
        """A module-wide name for where `expr` is stored: `lock`, `Counter._lock`, `f.<locals>.x`."""
        if isinstance(expr, cst.Name):
            scope = self.scope(expr)
            if scope is None:
                return None
            kind, owner = self._name_binding(expr, scope)
            if kind in ("global", "class"):
                return expr.value if kind == "global" else f"{owner}.{expr.value}"
            if kind in ("local", "closure", "param"):
                return f"{owner}.<locals>.{expr.value}"
            return None
        if isinstance(expr, cst.Attribute):
            root = expr.value
            if isinstance(root, cst.Name) and self._is_self(root):
                klass = self.enclosing_class(expr)
                if klass is not None:
                    return f"{klass.name.value}.{expr.attr.value}"
            head = self.binding_id(root) if isinstance(root, (cst.Name, cst.Attribute)) else None
            return f"{head}.{expr.attr.value}" if head else None
        return None

    def _name_binding(self, name: cst.Name, scope: Scope) -> tuple[str, str]:
        """(kind, owner) of the binding a name refers to: global, class, closure, param, local or unknown."""
        assignments = scope[name.value]
        if not assignments:
            return "unknown", ""
        for assignment in assignments:
            where = assignment.scope
            if isinstance(where, GlobalScope):
                return "global", ""
        assignment = next(iter(assignments))
        where = _function_scope(assignment.scope)
        if isinstance(where, ClassScope):
            return "class", where.node.name.value
        if not isinstance(where, FunctionScope):
            return "unknown", ""
        function = where.node
        owner = self.functions[function].qualname if function in self.functions else "?"
        if where is not _function_scope(scope):
            return "closure", owner
        if any(isinstance(a.node, cst.Param) for a in assignments):
            return "param", owner
        return "local", owner

    def _is_self(self, name: cst.Name) -> bool:
        """True for the first parameter of a method (conventionally `self` or `cls`)."""
        scope = self.scope(name)
        if scope is None:
            return False
        scope = _function_scope(scope)
        if not isinstance(scope, FunctionScope):
            return False
        for assignment in scope[name.value]:
            if isinstance(assignment.node, cst.Param) and assignment.scope is scope:
                function = scope.node
                info = self.functions.get(function)
                if info is None or info.klass is None or not isinstance(function, cst.FunctionDef):
                    # Lambdas and nested defs see the method's `self` as a closure, handled below.
                    return False
                params = function.params.params or function.params.posonly_params
                return bool(params) and params[0].name.value == name.value and not _is_staticmethod(function)
        # `self` captured by a nested function or lambda inside a method
        for assignment in scope[name.value]:
            function = assignment.scope.node if isinstance(assignment.scope, FunctionScope) else None
            if isinstance(function, cst.FunctionDef) and function in self.functions and self.functions[function].klass:
                params = function.params.params or function.params.posonly_params
                return bool(params) and params[0].name.value == name.value
        return False

    def lock_id(self, expr: cst.BaseExpression) -> str | None:
        """The lock an expression denotes, or None when it is not a lock gilsafe recognises."""
        if isinstance(expr, cst.Call):
            return None  # `with threading.Lock():` makes a fresh lock that guards nothing
        binding = self.binding_id(expr)
        if binding is not None and binding in self.lock_ids:
            return binding
        if isinstance(expr, cst.Name) and binding is not None and self._is_parameter(expr):
            # A lock handed in as an argument: functions that take it under the same name are
            # taken to share it (they are usually started with the same lock).
            binding = f"argument {expr.value}"
        last = expr.attr.value if isinstance(expr, cst.Attribute) else getattr(expr, "value", None)
        if not isinstance(last, str):
            return None
        if last in self.lock_names or DEFAULT_LOCK_NAME.search(last):
            return binding or self.code_for(expr)
        return None

    def _is_parameter(self, name: cst.Name) -> bool:
        scope = self.scope(name)
        return scope is not None and self._name_binding(name, scope)[0] == "param"

    def lock_label(self, lock: str) -> str:
        return lock.replace(".<locals>.", ".")

    def guarding_locks(self, node: cst.CSTNode, _depth: int = 0) -> frozenset[str]:
        """The locks held where `node` runs: enclosing `with L:` bodies and `L.acquire()` regions in
        its function, and the locks every thread-run caller holds around each call to the function
        (a thread target itself starts with no lock held)."""
        held: set[str] = set()
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda)):
            held |= self._with_locks.get(current, frozenset())
            held |= self._acquired_before.get(current, frozenset())
            current = self.parent(current)
        if current in self.required_locks:
            held.add(self.required_locks[current])  # @requires_lock: every caller holds it
        if current is None or current in self.started_directly or _depth >= 4:
            return frozenset(held)
        sites = self._call_sites.get(current, [])
        if sites:
            from_callers = [self.guarding_locks(site, _depth + 1) for site in sites]
            held |= frozenset.intersection(*from_callers)
        return frozenset(held)

    def shared_state(self, expr: cst.BaseExpression, *, _depth: int = 0) -> SharedState | None:
        """What shared state `expr` reads or writes, or None when it is owned by the running thread.

        Owned: locals (and what they hold, unless they alias shared state), parameters rebound by
        name, `threading.local()` values, and attributes of a Thread subclass's own instance.
        """
        root = access_root(expr)
        if not isinstance(root, cst.Name):
            return None
        scope = self.scope(root)
        if scope is None:
            return None
        kind, owner = self._name_binding(root, scope)
        path = _access_path(expr)
        if path and kind in ("param", "closure") and self._is_self(root):
            klass = self.enclosing_class(root)
            if klass is None or klass in self.thread_classes or klass in self.confined_classes or self._confined(klass.name.value, path):
                return None  # a Thread subclass's own attributes are confined to that thread
            return SharedState(
                klass.name.value + path,
                f"`{self.code_for(expr)}` (shared by every thread using this `{klass.name.value}`)",
                "self",
            )
        if kind == "global":
            key = root.value + path
            if self._confined(root.value, path):
                return None
            return SharedState(key, f"global `{self.code_for(expr)}`" if path else f"global `{root.value}`", "global")
        if kind == "closure":
            if self._confined(f"{owner}.<locals>.{root.value}", path):
                return None
            return SharedState(f"{owner}.<locals>.{root.value}{path}", f"closure variable `{self.code_for(expr)}`", "closure")
        if expr is root:
            return None  # rebinding a local or a parameter by name
        if kind == "param":
            return SharedState(f"{owner}.<locals>.{root.value}{path}", f"argument `{self.code_for(expr)}`", "argument")
        if kind == "local" and _depth < 3:
            alias = self._alias_of(root, scope)
            if alias is not None:
                shared = self.shared_state(alias, _depth=_depth + 1)
                if shared is not None:
                    return SharedState(shared.key + path, f"`{self.code_for(expr)}` (aliases {shared.label})", shared.kind)
        return None

    def _confined(self, head: str, path: str) -> bool:
        """True when the access goes through a `threading.local()` value."""
        prefix = head
        for attribute in re.findall(r"\.(\w+)", path):
            if prefix in self.thread_local_ids:
                return True
            prefix = f"{prefix}.{attribute}"
        return prefix in self.thread_local_ids

    def _alias_of(self, name: cst.Name, scope: Scope) -> cst.BaseExpression | None:
        """The single expression a local was assigned from, when it is a plain access chain."""
        values = []
        for assignment in scope[name.value]:
            parent = self.parent(assignment.node)
            if isinstance(parent, cst.AssignTarget):
                statement = self.parent(parent)
                if isinstance(statement, cst.Assign):
                    values.append(statement.value)
                    continue
            return None
        if len(values) == 1 and isinstance(values[0], (cst.Name, cst.Attribute, cst.Subscript)):
            return values[0]
        return None

    # -- reachability from thread entry points ------------------------------------------------

    def _resolve_entries(self) -> None:
        queue: list[tuple[FunctionNode, EntrySite]] = []
        for target, description, starter in self._entry_sites:
            entry = EntrySite(description, starter)
            for function in self.callables(target):
                queue.append((function, entry))
        self.started_directly = {function for function, _ in queue}
        while queue:
            function, entry = queue.pop()
            if function in self.entries:
                continue
            self.entries[function] = entry
            for call in self.functions[function].calls:
                for callee in self.callables(call.func):
                    self._call_sites.setdefault(callee, []).append(call)
                    if callee not in self.entries:
                        queue.append((callee, entry))

    def callables(self, expr: cst.CSTNode) -> list[FunctionNode]:
        """The functions of this module an expression may call."""
        if isinstance(expr, (cst.Lambda, cst.FunctionDef)):
            return [expr]
        if isinstance(expr, cst.Call) and self.qualified_names(expr.func) & PARTIAL and expr.args:
            return self.callables(expr.args[0].value)
        if isinstance(expr, cst.Name):
            scope = self.scope(expr)
            if scope is None:
                return []
            found: list[FunctionNode] = []
            for assignment in scope[expr.value]:
                node = getattr(assignment, "node", None)
                if isinstance(node, cst.FunctionDef):
                    found.append(node)
                elif isinstance(node, cst.ClassDef) and node in self.thread_classes:
                    found.extend(self._methods(node, "run"))
            return found
        if isinstance(expr, cst.Attribute):
            method = expr.attr.value
            receiver = expr.value
            if isinstance(receiver, cst.Name):
                if self._is_self(receiver):
                    klass = self.enclosing_class(receiver)
                    return self._methods(klass, method) if klass is not None else []
                if receiver.value in self.classes:
                    return self._methods(self.classes[receiver.value], method)
                klass = self._instance_class(receiver)
                if klass is not None:
                    return self._methods(klass, method)
        return []

    def _methods(self, klass: cst.ClassDef, name: str) -> list[FunctionNode]:
        return [
            info.node
            for info in self.functions.values()
            if info.klass is klass and isinstance(info.node, cst.FunctionDef) and info.node.name.value == name
        ]

    def _instance_class(self, name: cst.Name) -> cst.ClassDef | None:
        """The module class a name was made from (`w = Worker()`), when every assignment agrees."""
        scope = self.scope(name)
        if scope is None:
            return None
        classes = set()
        for assignment in scope[name.value]:
            parent = self.parent(assignment.node)
            statement = self.parent(parent) if isinstance(parent, cst.AssignTarget) else None
            value = statement.value if isinstance(statement, cst.Assign) else None
            if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
                return None
            classes.add(value.func.value)
        if len(classes) == 1:
            return self.classes.get(classes.pop())
        return None

    def entry_site(self, node: cst.CSTNode) -> EntrySite | None:
        """What makes `node` run in a thread, or None when nothing in this module does (cheap)."""
        function = node if isinstance(node, (cst.FunctionDef, cst.Lambda)) else self.enclosing_function(node)
        while function is not None:
            if function in self.confined_functions:
                return None  # @thread_confined: its author says one thread at a time runs it
            if function in self.entries:
                return self.entries[function]
            if isinstance(function, cst.FunctionDef):
                return None  # a def only runs when called; reachability already followed the calls
            function = self.enclosing_function(function)
        return None

    def describe(self, site: EntrySite) -> ThreadEntry:
        return ThreadEntry(site.description, self._line(site.starter))


def _function_scope(scope: Scope) -> Scope:
    """Comprehensions have scopes of their own; their names belong to the enclosing function."""
    while isinstance(scope, ComprehensionScope):
        scope = scope.parent
    return scope


def clip(text: str, width: int = 40) -> str:
    """One line of at most `width` characters, for messages."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _has_keyword(args: Iterable[cst.Arg], keyword: str) -> bool:
    return any(a.keyword is not None and a.keyword.value == keyword for a in args)


def _is_staticmethod(function: cst.FunctionDef) -> bool:
    return any(_dotted(d.decorator) == "staticmethod" for d in function.decorators)


def _access_path(expr: cst.BaseExpression) -> str:
    """`.d[]` for `self.d[k]`: attributes by name, subscripts collapsed (any key is the same state)."""
    parts: list[str] = []
    while isinstance(expr, (cst.Attribute, cst.Subscript)):
        parts.append(f".{expr.attr.value}" if isinstance(expr, cst.Attribute) else "[]")
        expr = expr.value
    return "".join(reversed(parts))


def _lone_method_call(statement: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    """(method, receiver) for a statement that is just `receiver.method(...)`."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    expr = statement.body[0]
    if not isinstance(expr, cst.Expr) or not isinstance(expr.value, cst.Call):
        return None
    func = expr.value.func
    if isinstance(func, cst.Attribute) and func.attr.value in ("acquire", "release"):
        return func.attr.value, func.value
    return None

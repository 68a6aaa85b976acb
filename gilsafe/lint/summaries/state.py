"""Which state an expression names: the `StateKey` of an access chain (`self._jobs[k]`, `CACHE`,
`mod.REGISTRY`), or None when the running thread owns it (a fresh local, a rebound parameter).

Locals that alias shared state (`jobs = self._jobs`, `for job in self._jobs:` makes `job` an item of
it, `d = self._d.setdefault(k, {})`) name that state. Imported state is written with its import
target (`@pkg.mod.CACHE`) and made canonical by the project pass, which knows the modules.
"""

from __future__ import annotations

from collections import defaultdict

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import Binding, BindingKind, Bindings, Scope, ScopeKind
from gilsafe.lint.summaries.keys import FunctionId, LockId, StateKey, StateKind

# Marks the owner of a global that an import names before the project pass resolves it.
IMPORTED = "@"
# The name of such a key when a `from m import x` bound it: x may be an object, not a module.
FROM_IMPORT = "from"
# The owner of a lock passed in as an argument: a lock handed in under the same name is one lock.
ANY_FUNCTION = "*"
# Container methods that return one of the container's items (an alias of `d[]`).
ITEM_GETTERS = frozenset({"get", "setdefault", "pop", "__getitem__"})
# What a loop really walks: `d` for `d.items()`.
VIEWS = frozenset({"items", "keys", "values", "iteritems", "iterkeys", "itervalues", "viewitems", "viewkeys", "viewvalues"})
# Wrappers that iterate their first argument lazily (live views, not copies).
LAZY_WRAPPERS = frozenset(
    {
        "builtins.enumerate", "builtins.reversed", "builtins.zip", "builtins.iter", "builtins.filter", "builtins.map",
        "six.iteritems", "six.itervalues", "six.iterkeys", "six.viewitems", "six.viewvalues", "six.viewkeys",
        "itertools.islice", "itertools.chain",
    }
)


class State(Summary):
    DEPENDENCIES = (Bindings,)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.syntax = analysis.syntax
        self.module_name = analysis.module_name
        # (function scope, local name) -> how it was bound: ("expr", value), ("item", iterable), ("other", None)
        self._local_sources: dict[tuple[int, str], list[tuple[str, cst.CSTNode | None]]] = defaultdict(list)
        # the same, with the anchor of each binding, in source order (for "the binding before this read")
        self._local_anchors: dict[tuple[int, str], list[int]] = defaultdict(list)
        self._memo: dict[cst.CSTNode, StateKey | None] = {}
        self._resolving: set[tuple[int, str]] = set()
        # (function scope, parameter) -> its default value expression
        self._defaults: dict[tuple[int, str], cst.BaseExpression] = {}
        self._collect_local_sources()

    def _collect_local_sources(self) -> None:
        syntax = self.syntax
        for node in syntax.of_type(cst.Param):
            if node.default is not None and isinstance(node.default, (cst.Name, cst.Attribute)):
                function = syntax.scopes.get(node)
                if function in self.bindings.scopes:
                    self._defaults[(id(self.bindings.scopes[function]), node.name.value)] = node.default
        note = self._note_local
        for node in syntax.of_type(cst.Assign):
            single = len(node.targets) == 1
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    note(target.target, ("expr", node.value) if single else ("other", None))
                else:
                    self._note_unpacked(target.target)
        for node in syntax.of_type(cst.AnnAssign):
            if isinstance(node.target, cst.Name):
                note(node.target, ("expr", node.value) if node.value is not None else ("other", None))
        for node in syntax.of_type(cst.NamedExpr):
            if isinstance(node.target, cst.Name):
                note(node.target, ("expr", node.value))
        for node in syntax.of_type(cst.AugAssign):
            if isinstance(node.target, cst.Name):
                note(node.target, ("other", None))
        for node in syntax.of_type(cst.For, cst.CompFor):
            if isinstance(node.target, cst.Name):
                note(node.target, ("item", node.iter))
            else:
                self._note_unpacked(node.target, item_of=node.iter)
        for node in syntax.of_type(cst.WithItem):
            if node.asname is not None and isinstance(node.asname.name, cst.Name):
                note(node.asname.name, ("other", None))

    def _note_unpacked(self, target: cst.BaseExpression, item_of: cst.BaseExpression | None = None) -> None:
        """`for k, v in d.items()`: `v` is an item of `d`; other unpacked names are unknown."""
        if isinstance(target, (cst.Tuple, cst.List)):
            names = [e.value for e in target.elements]
            views_items = (
                item_of is not None
                and isinstance(item_of, cst.Call)
                and isinstance(item_of.func, cst.Attribute)
                and item_of.func.attr.value in ("items", "iteritems", "viewitems")
                and len(names) == 2
            )
            for index, name in enumerate(names):
                if isinstance(name, cst.Name):
                    if views_items and index == 1:
                        self._note_local(name, ("item", item_of))
                    else:
                        self._note_local(name, ("other", None))
                else:
                    self._note_unpacked(name)
        elif isinstance(target, cst.StarredElement) and isinstance(target.value, cst.Name):
            self._note_local(target.value, ("other", None))

    def _note_local(self, name: cst.Name, source: tuple[str, cst.CSTNode | None]) -> None:
        scope = self.bindings.scope_of(name)
        function = scope.function if scope.kind is not ScopeKind.COMPREHENSION or name.value not in scope.assigned else scope
        if function is None:
            return
        self._local_sources[(id(function), name.value)].append(source)
        self._local_anchors[(id(function), name.value)].append(self.syntax.anchors[name])

    # -- the question ---------------------------------------------------------------------------

    def key_of(self, expr: cst.BaseExpression) -> StateKey | None:
        """The shared state an access chain names, or None when it is owned or unknown."""
        if expr in self._memo:
            return self._memo[expr]
        found = self._key_of(expr)
        self._memo[expr] = found
        return found

    def _key_of(self, expr: cst.BaseExpression) -> StateKey | None:
        parts: list[str] = []
        node = expr
        while True:
            if isinstance(node, cst.Attribute):
                parts.append(node.attr.value)
                node = node.value
            elif isinstance(node, cst.Subscript):
                parts.append("[]")
                node = node.value
            else:
                break
        parts.reverse()
        if isinstance(node, cst.Call):
            return self._call_root(node, parts)
        if not isinstance(node, cst.Name):
            return None
        return self._name_key(node, tuple(parts))

    def _call_root(self, call: cst.Call, parts: list[str]) -> StateKey | None:
        """`type(self).x` is the class attribute x; `d.get(k).n` is an item of d."""
        func = call.func
        if isinstance(func, cst.Name) and func.value == "type" and len(call.args) == 1 and isinstance(call.args[0].value, cst.Name):
            klass = self.self_class(call.args[0].value)
            if klass is not None and parts:
                return StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), parts[0], tuple(parts[1:]))
            return None
        if isinstance(func, cst.Attribute) and func.attr.value in ITEM_GETTERS:
            container = self.key_of(func.value)
            if container is not None:
                key = container.child("[]")
                return key._replace(path=key.path + tuple(parts))
        return None

    def _name_key(self, name: cst.Name, parts: tuple[str, ...]) -> StateKey | None:
        binding = self.bindings.resolve(name)
        kind = binding.kind
        if kind is BindingKind.GLOBAL:
            return StateKey(StateKind.GLOBAL, self.module_name, name.value, parts)
        if kind in (BindingKind.PARAM, BindingKind.CLOSURE) and parts:
            klass = self._self_class_of(binding)
            if klass is not None:
                if parts[0] == "__class__":
                    parts = parts[1:]
                if not parts:
                    return None
                return StateKey(StateKind.FIELD, self.bindings.class_dotted(klass), parts[0], parts[1:])
        if kind is BindingKind.PARAM:
            default = self._defaults.get((id(binding.scope), name.value))
            if default is not None and (shared := self.key_of(default)) is not None and shared.kind is StateKind.GLOBAL:
                return shared._replace(path=shared.path + parts)  # `def f(flags=FLAGS)`: the module's object
            if not parts:
                return None  # rebinding or reading a parameter by name: this call's own value
            return StateKey(StateKind.ARGUMENT, str(self._function_id(binding.scope)), name.value, parts)
        if kind is BindingKind.CLOSURE:
            return StateKey(StateKind.CLOSURE, str(self._function_id(binding.scope)), name.value, parts)
        if kind is BindingKind.IMPORT:
            if not parts and (id(binding.scope), name.value) in self.bindings.module_imports:
                return None  # `import threading`: the module itself
            how = "" if (id(binding.scope), name.value) in self.bindings.module_imports else FROM_IMPORT
            if binding.scope is not None and binding.scope.kind is not ScopeKind.MODULE:
                return None if not parts else StateKey(StateKind.GLOBAL, IMPORTED + binding.target, how, parts)
            return StateKey(StateKind.GLOBAL, IMPORTED + binding.target, how, parts)
        if kind is BindingKind.CLASS and binding.scope is not None:
            return StateKey(StateKind.FIELD, self.bindings.dotted(binding.scope.qualname), name.value, parts)
        if kind is BindingKind.LOCAL:
            alias = self._alias(binding, self.syntax.anchors.get(name))
            if alias is not None:
                return alias._replace(path=alias.path + parts)
        return None

    def _alias(self, binding: Binding, at: int | None = None) -> StateKey | None:
        """The state a local was bound from: by the last binding before the read at anchor `at`
        when it is straight-line code before it, else when every binding of it agrees."""
        scope = binding.scope
        if scope is None:
            return None
        marker = (id(scope), binding.name)
        sources = self._local_sources.get(marker)
        if not sources or marker in self._resolving:
            return None
        anchors = self._local_anchors.get(marker, [])
        if at is not None and len(sources) > 1 and len(anchors) == len(sources):
            before = [i for i, anchor in enumerate(anchors) if anchor < at]
            if before and all(how != "item" for how, _ in sources):
                sources = [sources[before[-1]]]
        self._resolving.add(marker)
        try:
            keys = set()
            for how, value in sources:
                if how == "expr" and isinstance(value, (cst.Name, cst.Attribute, cst.Subscript, cst.Call)):
                    key = self.key_of(value)
                elif how == "item" and value is not None:
                    container = self.iterated(value)
                    key = self.key_of(container).child("[]") if container is not None and self.key_of(container) is not None else None
                else:
                    key = None
                if key is None:
                    return None
                keys.add(key)
            return keys.pop() if len(keys) == 1 else None
        finally:
            self._resolving.discard(marker)

    def iterated(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """What a loop really walks: `d` for `d.items()`, `enumerate(d)` or `six.iteritems(d)`;
        None for a copy (`list(d)`, `sorted(d)`, `d.copy()`) or any other call's fresh result."""
        while isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in VIEWS and not expr.args:
                expr = expr.func.value
                continue
            qualified = self.bindings.qualified(expr.func)
            if qualified in LAZY_WRAPPERS and expr.args:
                expr = expr.args[0].value
                continue
            return None
        return expr if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)) else None

    # -- self, classes, functions ---------------------------------------------------------------

    def self_class(self, name: cst.Name) -> cst.ClassDef | None:
        """The class when `name` is a method's `self` (or `cls`), also inside nested functions."""
        binding = self.bindings.resolve(name)
        if binding.kind not in (BindingKind.PARAM, BindingKind.CLOSURE):
            return None
        return self._self_class_of(binding)

    def _self_class_of(self, binding: Binding) -> cst.ClassDef | None:
        scope = binding.scope
        if scope is None or scope.kind is not ScopeKind.FUNCTION or not scope.params or scope.params[0] != binding.name:
            return None
        function = scope.node
        klass = self.bindings.class_of_method(function)
        if klass is None or not isinstance(function, cst.FunctionDef):
            return None
        if any(_decorator_name(d) == "staticmethod" for d in function.decorators):
            return None
        if function.params.posonly_params or function.params.params:
            return klass
        return None

    def _function_id(self, scope: Scope | None) -> FunctionId:
        if scope is None or scope.kind is not ScopeKind.FUNCTION:
            return FunctionId(self.module_name, "<module>")
        return self.bindings.function_ids[scope.node]

    def lock_of(self, expr: cst.BaseExpression) -> LockId | None:
        """The identity of a lock expression: the state that holds it, a local lock variable, or a
        lock handed in as an argument (one lock per argument name)."""
        key = self.key_of(expr)
        if key is not None:
            if key.kind is StateKind.ARGUMENT:
                key = key._replace(owner=ANY_FUNCTION)
            return LockId(key)
        if isinstance(expr, cst.Name):
            binding = self.bindings.resolve(expr)
            if binding.kind is BindingKind.LOCAL and binding.scope is not None and binding.scope.kind is ScopeKind.FUNCTION:
                return LockId(StateKey(StateKind.CLOSURE, str(self._function_id(binding.scope)), expr.value))
            if binding.kind is BindingKind.PARAM:
                return LockId(StateKey(StateKind.ARGUMENT, ANY_FUNCTION, expr.value))
        return None

    def bare_argument(self, name: cst.Name) -> StateKey | None:
        """A parameter named bare: the caller's object (`a += b` on an array argument changes it)."""
        binding = self.bindings.resolve(name)
        if binding.kind is BindingKind.PARAM and self._self_class_of(binding) is None:
            return StateKey(StateKind.ARGUMENT, str(self._function_id(binding.scope)), name.value)
        return None


def _decorator_name(decorator: cst.Decorator) -> str | None:
    target = decorator.decorator
    if isinstance(target, cst.Call):
        target = target.func
    if isinstance(target, cst.Name):
        return target.value
    if isinstance(target, cst.Attribute):
        return target.attr.value
    return None

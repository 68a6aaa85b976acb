"""Scopes and name bindings: which variable a name means (a global, an import, a closure cell, a
parameter, a local, a class attribute or a builtin), and the dotted name an expression spells.

Python's own rules, computed from the syntax index: `global`/`nonlocal` declarations, class bodies
that functions do not see, comprehensions with their own scope, defaults evaluated outside.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.keys import FunctionId, Kind
from gilsafe.lint.summaries.syntax import COMPREHENSIONS, FunctionNode

BUILTIN_NAMES = frozenset(dir(builtins))


class ScopeKind(Kind):
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    COMPREHENSION = "comprehension"


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: cst.CSTNode
    parent: Scope | None
    qualname: str  # "" for the module, "C", "f", "f.<locals>.g", ...
    assigned: set[str] = field(default_factory=set)  # names bound here (not params)
    params: list[str] = field(default_factory=list)  # in order, for functions and lambdas
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    imports: dict[str, str] = field(default_factory=dict)  # name -> the dotted name it imports

    @property
    def function(self) -> Scope | None:
        """The function scope this scope's code runs in (comprehensions run in their function)."""
        scope: Scope | None = self
        while scope is not None and scope.kind is ScopeKind.COMPREHENSION:
            scope = scope.parent
        return scope if scope is not None and scope.kind is ScopeKind.FUNCTION else None


class BindingKind(Kind):
    GLOBAL = "global"  # a module-level variable, def or class of this module
    IMPORT = "import"  # a name an import statement binds (in any scope)
    CLOSURE = "closure"  # a variable of an enclosing function
    PARAM = "param"  # a parameter of the function the name is used in
    LOCAL = "local"  # a local of the function (or comprehension) the name is used in
    CLASS = "class"  # a name bound in the class body the name is used in
    BUILTIN = "builtin"
    UNKNOWN = "unknown"  # e.g. from a `*` import


class Binding(NamedTuple):
    kind: BindingKind
    name: str
    scope: Scope | None  # where the variable lives (None for builtins and unknowns)
    target: str = ""  # for imports: the dotted name imported


class Bindings(Summary):
    """Scopes of one module and name resolution over them."""

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.syntax = analysis.syntax
        self.module_name = analysis.module_name
        self.is_package = analysis.is_package
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self.function_ids: dict[FunctionNode, FunctionId] = {}
        self.star_imports: list[str] = []
        self.definitions: set[tuple[int, str]] = set()  # (id(scope), name) bound by a def or class
        self.module_imports: set[tuple[int, str]] = set()  # (id(scope), name) bound by `import x` (a module)
        self._memo: dict[tuple[int, str], Binding] = {}
        self._build_scopes()
        self._collect_bindings()
        # `global x` then `x = ...` inside a function makes a module variable nobody assigned at the top.
        self._late_globals = {
            name for scope in self.scopes.values() for name in scope.declared_global & scope.assigned
        }

    # -- building -------------------------------------------------------------------------------

    def _build_scopes(self) -> None:
        syntax = self.syntax
        root = syntax.module
        self.scopes[root] = Scope(ScopeKind.MODULE, root, None, "")
        # Pre-order (by anchor): a scope node's enclosing scope node was seen before it.
        openers = sorted(syntax.of_type(cst.FunctionDef, cst.Lambda, cst.ClassDef, *COMPREHENSIONS), key=syntax.anchors.__getitem__)
        for node in openers:
            outer = self.scopes[syntax.scopes[node]]
            prefix = outer.qualname + (".<locals>." if outer.kind is ScopeKind.FUNCTION else ".") if outer.qualname else ""
            if outer.kind is ScopeKind.COMPREHENSION:
                function = outer.function
                prefix = function.qualname + ".<locals>." if function is not None else ""
            if isinstance(node, cst.FunctionDef):
                scope = Scope(ScopeKind.FUNCTION, node, outer, prefix + node.name.value)
            elif isinstance(node, cst.Lambda):
                scope = Scope(ScopeKind.FUNCTION, node, outer, f"{prefix}<lambda>@{syntax.anchors[node]}")
            elif isinstance(node, cst.ClassDef):
                scope = Scope(ScopeKind.CLASS, node, outer, prefix + node.name.value)
            else:
                scope = Scope(ScopeKind.COMPREHENSION, node, outer, outer.qualname)
            self.scopes[node] = scope
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                self.function_ids[node] = FunctionId(self.module_name, scope.qualname)
                params = node.params
                for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                    scope.params.append(param.name.value)
                for star in (params.star_arg, params.star_kwarg):
                    if isinstance(star, cst.Param):
                        scope.params.append(star.name.value)

    def _collect_bindings(self) -> None:
        syntax = self.syntax
        for node in syntax.of_type(cst.Assign):
            for target in node.targets:
                self._bind_target(target.target)
        for node in syntax.of_type(cst.AugAssign, cst.AnnAssign):
            self._bind_target(node.target)
        for node in syntax.of_type(cst.For, cst.CompFor):
            self._bind_target(node.target)
        for node in syntax.of_type(cst.WithItem):
            if node.asname is not None:
                self._bind_target(node.asname.name)
        for node in syntax.of_type(cst.ExceptHandler):
            if node.name is not None and isinstance(node.name.name, cst.Name):
                self._bind_target(node.name.name)
        for node in syntax.of_type(cst.NamedExpr):
            if isinstance(node.target, cst.Name):
                scope = self.scope_of(node)
                while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
                    scope = scope.parent  # walrus in a comprehension binds in the function
                scope.assigned.add(node.target.value)
        for node in syntax.of_type(cst.Del):
            self._bind_target(node.target)
        for node in syntax.of_type(cst.FunctionDef, cst.ClassDef):
            scope = self.scope_of(node)
            scope.assigned.add(node.name.value)
            self.definitions.add((id(scope), node.name.value))
        for node in syntax.of_type(cst.Global):
            self.scope_of(node).declared_global.update(item.name.value for item in node.names)
        for node in syntax.of_type(cst.Nonlocal):
            self.scope_of(node).declared_nonlocal.update(item.name.value for item in node.names)
        for node in syntax.of_type(cst.Import):
            scope = self.scope_of(node)
            for alias in node.names:
                dotted = _dotted_name(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope.imports[alias.asname.name.value] = dotted
                    scope.assigned.add(alias.asname.name.value)
                    self.module_imports.add((id(scope), alias.asname.name.value))
                else:
                    head = dotted.split(".")[0]
                    scope.imports[head] = head
                    scope.assigned.add(head)
                    self.module_imports.add((id(scope), head))
        for node in syntax.of_type(cst.ImportFrom):
            scope = self.scope_of(node)
            base = self._import_base(node)
            if base is None:
                continue
            if isinstance(node.names, cst.ImportStar):
                if scope.kind is ScopeKind.MODULE:
                    self.star_imports.append(base)
                continue
            for alias in node.names:
                name = _dotted_name(alias.name)
                if name is None:
                    continue
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                scope.imports[local] = f"{base}.{name}" if base else name
                scope.assigned.add(local)
        for node in syntax.of_type(cst.MatchAs, cst.MatchStar):
            if node.name is not None:
                self.scope_of(node).assigned.add(node.name.value)

    def _bind_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.scope_of(target).assigned.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)

    def _import_base(self, node: cst.ImportFrom) -> str | None:
        """The dotted module a `from ... import` reads from, relative imports resolved."""
        module = _dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if level == 0:
            return module
        parts = self.module_name.split(".") if self.module_name else []
        if not self.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        base = ".".join(parts)
        if module:
            base = f"{base}.{module}" if base else module
        return base

    # -- questions ----------------------------------------------------------------------------

    def scope_of(self, node: cst.CSTNode) -> Scope:
        return self.scopes[self.syntax.scopes[node]]

    def resolve(self, name: cst.Name) -> Binding:
        return self.resolve_in(self.scope_of(name), name.value)

    def resolve_in(self, scope: Scope, name: str) -> Binding:
        key = (id(scope), name)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(scope, name)
        return found

    def _resolve(self, scope: Scope, name: str) -> Binding:
        using_function = scope.function  # the function whose code reads the name, if any
        current: Scope | None = scope
        while current is not None:
            kind = current.kind
            if kind is ScopeKind.MODULE:
                return self._global(name)
            if kind is ScopeKind.COMPREHENSION:
                if name in current.assigned:
                    return Binding(BindingKind.LOCAL, name, current)
            elif kind is ScopeKind.CLASS:
                # Only code directly in a class body sees its names; its methods do not.
                if current is scope and name in current.assigned:
                    if name in current.imports:
                        return Binding(BindingKind.IMPORT, name, current, current.imports[name])
                    return Binding(BindingKind.CLASS, name, current)
            else:
                if name in current.declared_global:
                    return self._global(name)
                if name in current.declared_nonlocal:
                    outer = self._enclosing_function_binding(current.parent, name)
                    return outer if outer is not None else Binding(BindingKind.UNKNOWN, name, None)
                own = current is using_function
                if name in current.params:
                    return Binding(BindingKind.PARAM if own else BindingKind.CLOSURE, name, current)
                if name in current.assigned:
                    if name in current.imports:
                        return Binding(BindingKind.IMPORT, name, current, current.imports[name])
                    return Binding(BindingKind.LOCAL if own else BindingKind.CLOSURE, name, current)
            current = current.parent
        return self._global(name)

    def _enclosing_function_binding(self, scope: Scope | None, name: str) -> Binding | None:
        while scope is not None and scope.kind is not ScopeKind.MODULE:
            if scope.kind is ScopeKind.FUNCTION and (name in scope.assigned or name in scope.params):
                return Binding(BindingKind.CLOSURE, name, scope)
            scope = scope.parent
        return None

    def _global(self, name: str) -> Binding:
        module = self.scopes[self.syntax.module]
        if name in module.imports:
            return Binding(BindingKind.IMPORT, name, module, module.imports[name])
        if name in module.assigned or name in module.declared_global:
            return Binding(BindingKind.GLOBAL, name, module)
        if name in self._late_globals:
            return Binding(BindingKind.GLOBAL, name, module)
        if name in BUILTIN_NAMES:
            return Binding(BindingKind.BUILTIN, name, None)
        return Binding(BindingKind.UNKNOWN, name, None)

    def qualified(self, expr: cst.BaseExpression) -> str | None:
        """The dotted name an expression spells, with its head resolved: `threading.Thread`,
        `pkg.mod.func`, `builtins.len`, `pkg.mod.Class.method`; None for locals and the like."""
        parts: list[str] = []
        while isinstance(expr, cst.Attribute):
            parts.append(expr.attr.value)
            expr = expr.value
        if not isinstance(expr, cst.Name):
            return None
        binding = self.resolve(expr)
        head = self.binding_dotted(binding)
        if head is None:
            return None
        return ".".join([head, *reversed(parts)])

    def binding_dotted(self, binding: Binding) -> str | None:
        kind = binding.kind
        if kind is BindingKind.IMPORT:
            return binding.target
        if kind is BindingKind.GLOBAL:
            return f"{self.module_name}.{binding.name}" if self.module_name else binding.name
        if kind is BindingKind.BUILTIN:
            return f"builtins.{binding.name}"
        if kind is BindingKind.CLASS and binding.scope is not None:
            return self.dotted(binding.scope.qualname + "." + binding.name)
        if kind in (BindingKind.LOCAL, BindingKind.CLOSURE) and binding.scope is not None:
            # a def or class made inside a function: its dotted name, for calls to it
            return self.dotted(f"{binding.scope.qualname}.<locals>.{binding.name}") if binding.scope.kind is ScopeKind.FUNCTION else None
        return None

    def dotted(self, qualname: str) -> str:
        return f"{self.module_name}.{qualname}" if self.module_name else qualname

    def function_id(self, node: FunctionNode) -> FunctionId:
        return self.function_ids[node]

    def functions(self) -> Iterator[tuple[FunctionNode, FunctionId]]:
        return iter(self.function_ids.items())

    def class_of_method(self, function: cst.CSTNode) -> cst.ClassDef | None:
        """The class whose body defines `function` directly (a method), else None."""
        if not isinstance(function, cst.FunctionDef):
            return None
        owner = self.syntax.scopes.get(function)
        return owner if isinstance(owner, cst.ClassDef) else None

    def class_dotted(self, klass: cst.ClassDef) -> str:
        return self.dotted(self.scopes[klass].qualname)


def _dotted_name(node: cst.BaseExpression | None) -> str | None:
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))

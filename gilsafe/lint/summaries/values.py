"""What made each piece of state, and what a callable expression refers to.

`Values.sources[key]` lists how the state was bound anywhere in the module (`self._lock =
threading.Lock()` gives FIELD(C, "_lock") a CALL of `threading.Lock`). Locals of functions are
recorded under CLOSURE keys, so that a lock or an executor made in a function and used by the
functions nested in it is one identity. The project pass turns the callees into kinds (a lock, an
executor, an instance of a class of the linted tree, a NumPy array) once every module is known.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import BindingKind, Bindings, ScopeKind
from gilsafe.lint.summaries.keys import Dispatch, FunctionId, HeldMethod, Kind, Method, Qualified, Ref, Returned, StateKey, StateKind
from gilsafe.lint.summaries.state import State

PARTIAL = frozenset({"functools.partial"})


class ValueKind(Kind):
    CALL = "call"  # the result of calling `ref` (a class: an instance of it)
    LIST = "list"
    DICT = "dict"
    SET = "set"
    FUNCTION = "function"  # a callable: a def, a lambda, a bound method (`self._order.append`)
    ANNOTATION = "annotation"  # a parameter annotated with `ref` (np.ndarray, a class)
    ALIAS = "alias"  # another state: `def f(flags=FLAGS)` (not stored: State folds it into the key)
    LITERAL = "literal"
    OTHER = "other"


class ValueSource(NamedTuple):
    kind: ValueKind
    ref: Ref | None = None


OTHER = ValueSource(ValueKind.OTHER)


class Values(Summary):
    DEPENDENCIES = (Bindings, State)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.state = analysis[State]
        self.sources: dict[StateKey, list[ValueSource]] = defaultdict(list)
        self.class_level: set[StateKey] = set()  # attributes bound in a class body: one for all instances
        self._collect()

    def _collect(self) -> None:
        syntax = self.analysis.syntax
        for node in syntax.of_type(cst.Assign):
            for target in node.targets:
                self._record(target.target, node.value)
        for node in syntax.of_type(cst.AnnAssign):
            if node.value is not None:
                self._record(node.target, node.value)
            else:
                key = self.target_key(node.target)
                annotation = self.ref_of(node.annotation.annotation)
                if key is not None and annotation is not None:
                    self.sources[key].append(ValueSource(ValueKind.ANNOTATION, annotation))
        for node in syntax.of_type(cst.WithItem):
            if node.asname is not None:
                self._record(node.asname.name, node.item)
        for node in syntax.of_type(cst.Call):
            # `d.setdefault(k, [])`: the container's items are lists
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "setdefault" and len(node.args) >= 2:
                container = self.state.key_of(node.func.value)
                if container is not None:
                    self.sources[container.child("[]")].append(self.source_of(node.args[1].value))
        for node in syntax.of_type(cst.Param):
            if node.annotation is None:
                continue
            function = syntax.scopes.get(node)
            if not isinstance(function, (cst.FunctionDef, cst.Lambda)):
                continue
            annotation = node.annotation.annotation
            if isinstance(annotation, cst.Subscript):  # NDArray[np.float64], Optional[...] is left alone
                annotation = annotation.value
            ref = self.ref_of(annotation)
            if ref is not None:
                key = StateKey(StateKind.ARGUMENT, str(self.bindings.function_ids[function]), node.name.value)
                self.sources[key].append(ValueSource(ValueKind.ANNOTATION, ref))

    def _record(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(target.elements):
                for element, item in zip(target.elements, value.elements):
                    self._record(element.value, item.value)
            else:
                for element in target.elements:
                    key = self.target_key(element.value)
                    if key is not None:
                        self.sources[key].append(OTHER)
            return
        key = self.target_key(target)
        if key is not None:
            self.sources[key].append(self.source_of(value))
            if isinstance(target, cst.Name) and self.bindings.resolve(target).kind is BindingKind.CLASS:
                self.class_level.add(key)

    def target_key(self, target: cst.BaseExpression) -> StateKey | None:
        """The key a store binds: state keys as State gives them, and function locals as CLOSURE
        keys (their identity for locks, executors and threads)."""
        if isinstance(target, cst.Name):
            binding = self.bindings.resolve(target)
            if binding.kind is BindingKind.LOCAL and binding.scope is not None and binding.scope.kind is ScopeKind.FUNCTION:
                return StateKey(StateKind.CLOSURE, str(self.bindings.function_ids[binding.scope.node]), target.value)
            if binding.kind is BindingKind.CLOSURE or binding.kind is BindingKind.GLOBAL or binding.kind is BindingKind.CLASS:
                return self.state.key_of(target)
            return None
        if isinstance(target, (cst.Attribute, cst.Subscript)):
            return self.state.key_of(target)
        return None

    def source_of(self, value: cst.BaseExpression) -> ValueSource:
        if isinstance(value, cst.Call):
            return ValueSource(ValueKind.CALL, self.ref_of(value.func))
        if isinstance(value, (cst.List, cst.ListComp)):
            return ValueSource(ValueKind.LIST)
        if isinstance(value, cst.BinaryOperation) and isinstance(value.left, (cst.List, cst.ListComp)):
            return ValueSource(ValueKind.LIST)  # [None] * n
        if isinstance(value, (cst.Dict, cst.DictComp)):
            return ValueSource(ValueKind.DICT)
        if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
            return self.source_of(value.right)  # `items or []`: what it is when it was not given
        if isinstance(value, cst.IfExp):
            first, second = self.source_of(value.body), self.source_of(value.orelse)
            return first if first == second or second.kind is ValueKind.LITERAL else second if first.kind is ValueKind.LITERAL else OTHER
        if isinstance(value, (cst.Set, cst.SetComp)):
            return ValueSource(ValueKind.SET)
        if isinstance(value, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Imaginary)):
            return ValueSource(ValueKind.LITERAL)
        if isinstance(value, cst.Name) and value.value in ("None", "True", "False"):
            return ValueSource(ValueKind.LITERAL)
        if isinstance(value, (cst.Lambda, cst.Name, cst.Attribute)):
            ref = self.ref_of(value)
            if ref is not None:
                return ValueSource(ValueKind.FUNCTION, ref)
        return OTHER

    # -- what a call passes ----------------------------------------------------------------------

    def argument_value(self, expr: cst.BaseExpression) -> StateKey | ValueSource | None:
        """What an argument hands the callee: the state (or local) it names, or how it was made."""
        if isinstance(expr, cst.Name):
            key = self.target_key(expr)
            if key is None:
                key = self.state.key_of(expr) or self.state.bare_argument(expr)
            if key is not None:
                return key
        elif isinstance(expr, (cst.Attribute, cst.Subscript)):
            key = self.state.key_of(expr)
            if key is not None:
                return key
        source = self.source_of(expr)
        return source if source.kind is not ValueKind.OTHER else None

    def arguments(self, args, *, skip: int = 0) -> tuple[tuple[int | str, StateKey | ValueSource], ...]:
        """(position or keyword, value) for the arguments of a call, the first `skip` positional
        ones left out; positions after a `*args` are unknown and left out too."""
        found = []
        position = 0
        for arg in args:
            if arg.star == "**":
                continue
            if arg.star == "*":
                position = -1_000_000
                continue
            if arg.keyword is not None:
                value = self.argument_value(arg.value)
                if value is not None:
                    found.append((arg.keyword.value, value))
                continue
            if position >= skip:
                value = self.argument_value(arg.value)
                if value is not None and position >= 0:
                    found.append((position - skip, value))
            position += 1
        return tuple(found)

    # -- what a callable expression refers to --------------------------------------------------

    def ref_of(self, expr: cst.BaseExpression) -> Ref | None:
        """What calling `expr` runs, as far as this module can tell (see keys.Ref)."""
        if isinstance(expr, cst.Lambda):
            return self.bindings.function_ids.get(expr)
        if isinstance(expr, cst.Call):
            if self.bindings.qualified(expr.func) in PARTIAL and expr.args:
                return self.ref_of(expr.args[0].value)
            factory = self.ref_of(expr.func)
            return Returned(factory) if factory is not None and not isinstance(factory, Returned) else None
        if isinstance(expr, cst.Name):
            binding = self.bindings.resolve(expr)
            if binding.kind is BindingKind.PARAM and (klass := self._classmethod_class(binding)) is not None:
                return Qualified(self.bindings.class_dotted(klass))  # `cls(...)` in a classmethod
            if binding.kind in (BindingKind.LOCAL, BindingKind.CLOSURE) and binding.scope is not None:
                if (id(binding.scope), expr.value) in self.bindings.definitions:
                    dotted = self.bindings.binding_dotted(binding)
                    return Qualified(dotted) if dotted else None
                key = self.target_key(expr) if binding.kind is BindingKind.LOCAL else self.state.key_of(expr)
                if key is not None:
                    sources = self.sources.get(key, ())
                    refs = {s.ref for s in sources if s.kind is ValueKind.FUNCTION}
                    if len(refs) == 1 and len(sources) == 1:
                        return refs.pop()
                return None
            dotted = self.bindings.binding_dotted(binding)
            return Qualified(dotted) if dotted else None
        if isinstance(expr, cst.Attribute):
            receiver = expr.value
            method = expr.attr.value
            if method == "__func__":
                return self.ref_of(receiver)  # `staticmethod_object.__func__`: the function itself
            head = receiver
            while isinstance(head, cst.Attribute):
                head = head.value
            if isinstance(head, cst.Name) and head is not receiver and self.bindings.resolve(head).kind in (BindingKind.IMPORT, BindingKind.BUILTIN):
                dotted = self.bindings.qualified(expr)  # `np.random.rand`, `os.path.join`
                return Qualified(dotted) if dotted else None
            if isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Name) and receiver.func.value == "super":
                klass = self._enclosing_class(expr)
                return Method(self.bindings.class_dotted(klass), method, Dispatch.SUPER) if klass is not None else None
            if isinstance(receiver, cst.Name):
                klass = self.state.self_class(receiver)
                if klass is not None:
                    return Method(self.bindings.class_dotted(klass), method, Dispatch.VIRTUAL)
                binding = self.bindings.resolve(receiver)
                if binding.kind in (BindingKind.IMPORT, BindingKind.BUILTIN):
                    dotted = self.bindings.qualified(expr)
                    return Qualified(dotted) if dotted else None
                if binding.kind is BindingKind.GLOBAL and self._is_class_or_def(receiver.value):
                    dotted = self.bindings.qualified(expr)
                    return Qualified(dotted) if dotted else None
                if binding.kind is BindingKind.LOCAL:
                    key = self.target_key(receiver)
                    callee = self._single_call(key)
                    if callee is not None:
                        return Method(callee, method)
                    alias = self.state.key_of(receiver)
                    return HeldMethod(alias, method) if alias is not None else None
            key = self.state.key_of(receiver)
            if key is not None:
                return HeldMethod(key, method)
            if isinstance(receiver, cst.Call):
                callee = self.ref_of(receiver.func)
                if isinstance(callee, Qualified):
                    return Method(callee.name, method)  # Worker().run
            return None
        return None

    def _classmethod_class(self, binding) -> cst.ClassDef | None:
        scope = binding.scope
        function = scope.node if scope is not None else None
        if not isinstance(function, cst.FunctionDef) or not scope.params or scope.params[0] != binding.name:
            return None
        if not any(self.bindings.qualified(d.decorator) == "builtins.classmethod" for d in function.decorators):
            return None
        return self.bindings.class_of_method(function)

    def _single_call(self, key: StateKey | None) -> str | None:
        """The dotted callee when a local was bound from one call (`w = Worker()`)."""
        if key is None:
            return None
        sources = self.sources.get(key, ())
        callees = {s.ref.name for s in sources if s.kind is ValueKind.CALL and isinstance(s.ref, Qualified)}
        if len(callees) == 1 and all(s.kind is ValueKind.CALL for s in sources):
            return callees.pop()
        return None

    def _is_class_or_def(self, name: str) -> bool:
        module = self.bindings.scopes[self.analysis.syntax.module]
        return (id(module), name) in self.bindings.definitions

    def _enclosing_class(self, node: cst.CSTNode) -> cst.ClassDef | None:
        function = self.analysis.syntax.enclosing_function(node)
        while function is not None:
            klass = self.bindings.class_of_method(function)
            if klass is not None:
                return klass
            function = self.analysis.syntax.enclosing_function(function)
        return None

    def function_of(self, node: cst.CSTNode) -> FunctionId | None:
        function = self.analysis.syntax.enclosing_function(node)
        return self.bindings.function_ids[function] if function is not None else None

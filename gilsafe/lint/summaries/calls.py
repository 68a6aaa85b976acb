"""Calls each function makes (the edges of the project's call graph), and the calls some rules
care about by themselves (the process-wide random state, `warnings.catch_warnings`).

Besides written calls, Python runs methods implicitly; those become call sites too: `obj[k]`,
`k in obj`, `len(obj)`, `for x in obj`, `with obj:` call the dunder methods of obj's class, and
reading a property calls its getter. `obj` may be `self` or state whose class the project pass
learns (`self._cache[k]` on an LRU cache class of the linted tree).
"""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from gilsafe.lint.summaries.base import ModuleAnalysis, Summary
from gilsafe.lint.summaries.bindings import Bindings
from gilsafe.lint.summaries.keys import Anchor, Dispatch, FunctionId, HeldMethod, Kind, LockId, Method, Qualified, Ref, StateKind
from gilsafe.lint.summaries.locks import Locks
from gilsafe.lint.summaries.state import State
from gilsafe.lint.summaries.syntax import descendants
from gilsafe.lint.summaries.values import Values

# Module-level functions of `random` and legacy `numpy.random` draw from one process-wide generator.
PRIVATE_GENERATORS = frozenset(
    {
        "random.Random", "random.SystemRandom", "numpy.random.default_rng", "numpy.random.Generator",
        "numpy.random.SeedSequence", "numpy.random.BitGenerator", "numpy.random.PCG64", "numpy.random.PCG64DXSM",
        "numpy.random.Philox", "numpy.random.SFC64", "numpy.random.MT19937", "numpy.random.RandomState",
    }
)
SEEDS = frozenset({"random.seed", "numpy.random.seed"})
# A seed drawn from these asks for runs that differ (tornado reseeds after fork from urandom, or
# the clock and the pid), not for repeatable ones.
ENTROPY = frozenset(
    {
        "os.urandom", "os.getpid", "time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns",
        "time.perf_counter", "time.perf_counter_ns", "uuid.uuid1", "uuid.uuid4", "secrets.randbits",
        "secrets.token_bytes", "secrets.token_hex", "datetime.datetime.now", "random.getrandbits",
    }
)
CATCH_WARNINGS = frozenset({"warnings.catch_warnings"})
PROPERTIES = frozenset({"builtins.property", "functools.cached_property"})


class CallSite(NamedTuple):
    callee: Ref
    anchor: Anchor
    function: FunctionId  # the caller (FunctionId(module, "<module>") for top-level code)
    locks: frozenset[LockId]  # held around the call in the caller
    passed: tuple[Ref, ...] = ()  # callables handed to the callee (it may call them)
    # (position or keyword, the state or value passed): what the callee's parameters hold
    arguments: tuple[tuple[int | str, object], ...] = ()
    # in a loop or comprehension (asked only of calls that may make an object: `Worker()`)
    repeated: bool = False


class EventKind(Kind):
    GLOBAL_RANDOM = "global-random"  # random.random(), np.random.rand(), ...
    SEEDS_GLOBAL_RANDOM = "seeds-global-random"  # random.seed(), np.random.seed()
    CATCH_WARNINGS = "catch-warnings"
    CHOOSES_THREADING_LAYER = "chooses-threading-layer"  # numba.config.THREADING_LAYER = "tbb"


class Event(NamedTuple):
    kind: EventKind
    anchor: Anchor
    function: FunctionId
    detail: str = ""  # the qualified name called


THREADSAFE_LAYERS = frozenset({"tbb", "omp", "safe", "threadsafe"})


class Calls(Summary):
    DEPENDENCIES = (Bindings, State, Values, Locks)

    def __init__(self, analysis: ModuleAnalysis) -> None:
        super().__init__(analysis)
        self.bindings = analysis[Bindings]
        self.state = analysis[State]
        self.values = analysis[Values]
        self.locks = analysis[Locks]
        self.syntax = analysis.syntax
        self.sites: list[CallSite] = []
        self.events: list[Event] = []
        self._module_function = FunctionId(analysis.module_name, "<module>")
        self._properties = self._property_names()
        for call in self.syntax.of_type(cst.Call):
            self._note_call(call)
        self._implicit_calls()
        self._threading_layer()

    def _function(self, node: cst.CSTNode) -> FunctionId:
        return self.values.function_of(node) or self._module_function

    def _add(self, callee: Ref | None, node: cst.CSTNode, passed: tuple[Ref, ...] = (), arguments: tuple = ()) -> None:
        if callee is not None:
            repeated = isinstance(callee, Qualified) and callee.name.rsplit(".", 1)[-1][:1].isupper() and self.syntax.in_loop(node)
            self.sites.append(CallSite(callee, self.syntax.anchors[node], self._function(node), self.locks.held(node), passed, arguments, repeated))

    def _note_call(self, call: cst.Call) -> None:
        qualified = self.bindings.qualified(call.func)
        if qualified is not None:
            if qualified in CATCH_WARNINGS:
                self.events.append(Event(EventKind.CATCH_WARNINGS, self.syntax.anchors[call], self._function(call), qualified))
            elif qualified in SEEDS:
                # A seed value asks for repeatable runs; `random.seed()` or a seed from a call
                # (urandom, the time, as after a fork) asks for the opposite.
                if call.args and not isinstance(call.args[0].value, cst.Call) and not self._from_entropy(call.args[0].value, call):
                    self.events.append(Event(EventKind.SEEDS_GLOBAL_RANDOM, self.syntax.anchors[call], self._function(call), qualified))
                if self.values.function_of(call) is not None:
                    # a thread re-seeding the shared state resets everybody's stream (GS401)
                    self.events.append(Event(EventKind.GLOBAL_RANDOM, self.syntax.anchors[call], self._function(call), qualified))
            elif _draws_global_random(qualified):
                self.events.append(Event(EventKind.GLOBAL_RANDOM, self.syntax.anchors[call], self._function(call), qualified))
        callee = self.values.ref_of(call.func)
        passed = tuple(ref for arg in call.args if isinstance(arg.value, (cst.Name, cst.Attribute, cst.Lambda)) and (ref := self._callable(arg.value)) is not None)
        self._add(callee, call, passed, self.values.arguments(call.args) if callee is not None else ())
        if isinstance(call.func, cst.Name) and call.func.value == "len" and call.args:
            self._dunder(call.args[0].value, "__len__", call)
        elif isinstance(call.func, cst.Name) and call.func.value == "iter" and call.args:
            self._dunder(call.args[0].value, "__iter__", call)

    def _from_entropy(self, seed: cst.BaseExpression, call: cst.Call) -> bool:
        """Whether a seed expression, or every value its function assigns to the local it names,
        calls an entropy source (os.urandom, the clock, the pid)."""
        values = [seed]
        function = self.syntax.enclosing_function(call)
        if isinstance(seed, cst.Name) and function is not None:
            values = [
                node.value
                for node in descendants(function)
                if isinstance(node, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == seed.value for t in node.targets)
            ] or values
        return all(
            any(isinstance(node, cst.Call) and self.bindings.qualified(node.func) in ENTROPY for node in (value, *descendants(value)))
            for value in values
        )

    def _callable(self, expr: cst.BaseExpression) -> Ref | None:
        ref = self.values.ref_of(expr)
        if isinstance(ref, HeldMethod) and ref.key.kind is StateKind.FIELD and not ref.key.path:
            return ref  # a bound method of state
        return ref if not isinstance(ref, HeldMethod) else None

    def _implicit_calls(self) -> None:
        syntax = self.syntax
        for node in syntax.of_type(cst.Subscript):
            parent = syntax.parents.get(node)
            method = "__getitem__"
            if isinstance(parent, cst.AssignTarget) or isinstance(parent, cst.AugAssign) and parent.target is node:
                method = "__setitem__"
            elif isinstance(parent, cst.Del):
                method = "__delitem__"
            self._dunder(node.value, method, node)
        for node in syntax.of_type(cst.ComparisonTarget):
            if isinstance(node.operator, (cst.In, cst.NotIn)):
                self._dunder(node.comparator, "__contains__", syntax.parents[node])
        for node in syntax.of_type(cst.For, cst.CompFor):
            self._dunder(node.iter, "__iter__", node)
        for node in syntax.of_type(cst.WithItem):
            self._dunder(node.item, "__enter__", node)
            self._dunder(node.item, "__exit__", node)
        if self._properties:
            for node in syntax.of_type(cst.Attribute):
                if node.attr.value in self._properties and isinstance(node.value, (cst.Name, cst.Attribute)):
                    parent = syntax.parents.get(node)
                    if isinstance(parent, cst.Call) and parent.func is node:
                        continue
                    klass = self.state.self_class(node.value)
                    if klass is not None:
                        self._add(Method(self.bindings.class_dotted(klass), node.attr.value, Dispatch.VIRTUAL), node)
                    else:
                        holder = self.state.key_of(node.value)
                        if holder is not None and holder.kind in (StateKind.FIELD, StateKind.GLOBAL) and not holder.is_item:
                            self._add(HeldMethod(holder, node.attr.value), node)  # `box.total`: the getter runs

    def _dunder(self, receiver: cst.BaseExpression, method: str, node: cst.CSTNode) -> None:
        if isinstance(receiver, cst.Name):
            klass = self.state.self_class(receiver)
            if klass is not None:
                self._add(Method(self.bindings.class_dotted(klass), method, Dispatch.VIRTUAL), node)
                return
        if isinstance(receiver, (cst.Name, cst.Attribute)):
            key = self.state.key_of(receiver)
            if key is not None and key.kind in (StateKind.FIELD, StateKind.GLOBAL) and not key.is_item:
                self._add(HeldMethod(key, method), node)

    def _property_names(self) -> frozenset[str]:
        names = set()
        for function in self.syntax.of_type(cst.FunctionDef):
            for decorator in function.decorators:
                target = decorator.decorator
                if self.bindings.qualified(target.func if isinstance(target, cst.Call) else target) in PROPERTIES:
                    names.add(function.name.value)
        return frozenset(names)

    def _threading_layer(self) -> None:
        """`numba.config.THREADING_LAYER = "tbb"` / `os.environ["NUMBA_THREADING_LAYER"] = "omp"`."""
        module = self.analysis.module
        for node in self.syntax.of_type(cst.Assign):
            value = node.value
            if not (isinstance(value, cst.SimpleString) and value.evaluated_value in THREADSAFE_LAYERS):
                continue
            for target in node.targets:
                code = module.code_for_node(target.target)
                if code.endswith("THREADING_LAYER") or "NUMBA_THREADING_LAYER" in code:
                    self.events.append(Event(EventKind.CHOOSES_THREADING_LAYER, self.syntax.anchors[node], self._function(node)))


def _draws_global_random(qualified: str) -> bool:
    if qualified in PRIVATE_GENERATORS or qualified in SEEDS:
        return False
    if qualified.startswith("random."):
        return qualified.count(".") == 1
    if qualified.startswith("numpy.random."):
        return qualified.count(".") == 2
    return False

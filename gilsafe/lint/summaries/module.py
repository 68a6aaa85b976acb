"""The summary of one module: the typed, picklable record the project pass links with the others.

It is built from the module's summaries (bindings, state, values, locks, entries, calls, accesses)
and holds no syntax tree, so it can be cached by content and handed between processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from gilsafe.lint.summaries.accesses import Access, Accesses
from gilsafe.lint.summaries.base import ModuleAnalysis, SummaryOptions
from gilsafe.lint.summaries.bindings import Bindings
from gilsafe.lint.summaries.calls import Calls, CallSite, Event
from gilsafe.lint.summaries.entries import Entries, EntrySite
from gilsafe.lint.summaries.keys import Anchor, ClassId, FunctionId, LockId, Ref, StateKey
from gilsafe.lint.summaries.locks import Locks
from gilsafe.lint.summaries.values import Values, ValueSource

THREAD_CONFINED = frozenset({"gilsafe.thread_confined"})
THREAD_SAFE = frozenset({"gilsafe.thread_safe"})
JIT_DECORATORS = frozenset(
    {"numba.jit", "numba.njit", "numba.core.decorators.jit", "numba.core.decorators.njit", "numba.generated_jit", "numba.vectorize", "numba.guvectorize"}
)


@dataclass(frozen=True, slots=True)
class FunctionFacts:
    id: FunctionId
    anchor: Anchor  # the def or lambda
    klass: str | None  # the dotted name of the class whose body defines it (a method)
    name: str
    decorators: tuple[str, ...]  # dotted names, resolved: builtins.property, gilsafe.thread_safe, numba.njit
    params: tuple[str, ...]
    returns: tuple[Ref, ...] = ()  # callables it returns (a factory's products)
    confined: bool = False  # @gilsafe.thread_confined
    thread_safe: bool = False  # @gilsafe.thread_safe
    numba_parallel: bool = False  # @jit(parallel=True)
    numba_nopython: bool = False  # compiled without object mode: numba's own per-thread state
    jit_anchor: Anchor | None = None  # the numba decorator, where GS202 points
    is_async: bool = False  # `async def`: calling it makes a coroutine; the body runs in the event loop

    @property
    def is_public(self) -> bool:
        """Callable from outside: no leading underscore, or a dunder method other than construction."""
        name = self.name
        if name.startswith("__") and name.endswith("__"):
            return name not in ("__init__", "__new__", "__init_subclass__", "__post_init__", "__del__", "__class_getitem__")
        return not name.startswith("_") and not name.startswith("<lambda>")


@dataclass(frozen=True, slots=True)
class ClassFacts:
    id: ClassId
    anchor: Anchor
    bases: tuple[str, ...]  # dotted names as this module resolves them
    metaclass: str | None
    methods: tuple[str, ...]
    confined: bool = False  # @gilsafe.thread_confined: its instances are not shared
    thread_safe: bool = False  # @gilsafe.thread_safe: many threads call its public methods at once

    @property
    def dotted(self) -> str:
        return self.id.dotted


@dataclass(frozen=True)
class ModuleSummary:
    path: str
    name: str  # dotted module name
    is_package: bool
    imports: dict[str, str]  # module-level name -> the dotted name it imports (re-exports)
    star_imports: tuple[str, ...]
    globals: frozenset[str]  # names bound at module level (defs, classes, variables)
    functions: tuple[FunctionFacts, ...]
    classes: tuple[ClassFacts, ...]
    values: dict[StateKey, tuple[ValueSource, ...]]
    entries: tuple[EntrySite, ...]
    accesses: tuple[Access, ...]
    calls: tuple[CallSite, ...]
    events: tuple[Event, ...]
    lock_candidates: frozenset[LockId]
    guarded_by: dict[StateKey, LockId]
    required_locks: dict[FunctionId, LockId]
    class_level: frozenset[StateKey] = frozenset()  # attributes bound in class bodies
    node_count: int = 0  # anchors past this are not in the file (a sanity check when locating)
    extra: dict = field(default_factory=dict)


def summarize(module: cst.Module, *, path: str, module_name: str, is_package: bool, text: str, options: SummaryOptions) -> ModuleSummary:
    return summarize_analysis(ModuleAnalysis(module, path=path, module_name=module_name, is_package=is_package, text=text, options=options))


def summarize_analysis(analysis: ModuleAnalysis) -> ModuleSummary:
    module = analysis.module
    path = analysis.path
    is_package = analysis.is_package
    bindings = analysis[Bindings]
    values = analysis[Values]
    locks = analysis[Locks]
    entries = analysis[Entries]
    calls = analysis[Calls]
    accesses = analysis[Accesses]
    syntax = analysis.syntax
    returns = _returned_callables(analysis, values)
    functions = []
    for node, function_id in bindings.function_ids.items():
        decorators = tuple(_decorator_names(bindings, node)) if isinstance(node, cst.FunctionDef) else ()
        klass = bindings.class_of_method(node)
        jit = _jit_options(bindings, node) if isinstance(node, cst.FunctionDef) else None
        functions.append(
            FunctionFacts(
                id=function_id,
                anchor=syntax.anchors[node],
                klass=bindings.class_dotted(klass) if klass is not None else None,
                name=node.name.value if isinstance(node, cst.FunctionDef) else function_id.qualname.rsplit(".", 1)[-1],
                decorators=decorators,
                params=tuple(bindings.scopes[node].params),
                returns=tuple(returns.get(node, ())),
                confined=bool(set(decorators) & THREAD_CONFINED),
                thread_safe=bool(set(decorators) & THREAD_SAFE),
                numba_parallel=jit is not None and jit.get("parallel") is True,
                numba_nopython=jit is not None and not (jit.get("forceobj") is True or jit.get("nopython") is False),
                jit_anchor=syntax.anchors[jit["decorator"]] if jit is not None else None,
                is_async=isinstance(node, cst.FunctionDef) and node.asynchronous is not None,
            )
        )
    classes = []
    for node in syntax.of_type(cst.ClassDef):
        dotted = bindings.class_dotted(node)
        bases = tuple(name for base in node.bases if (name := bindings.qualified(base.value)) is not None)
        metaclass = next(
            (bindings.qualified(k.value) for k in node.keywords if k.keyword is not None and k.keyword.value == "metaclass"), None
        )
        decorators = tuple(_decorator_names(bindings, node))
        methods = tuple(
            statement.name.value
            for statement in (node.body.body if isinstance(node.body, cst.IndentedBlock) else ())
            if isinstance(statement, cst.FunctionDef)
        )
        classes.append(
            ClassFacts(
                id=ClassId(analysis.module_name, bindings.scopes[node].qualname),
                anchor=syntax.anchors[node],
                bases=bases,
                metaclass=metaclass,
                methods=methods,
                confined=bool(set(decorators) & THREAD_CONFINED),
                thread_safe=bool(set(decorators) & THREAD_SAFE),
            )
        )
        del dotted
    module_scope = bindings.scopes[module]
    return ModuleSummary(
        path=path,
        name=analysis.module_name,
        is_package=is_package,
        imports=dict(module_scope.imports),
        star_imports=tuple(bindings.star_imports),
        globals=frozenset(module_scope.assigned | bindings._late_globals),
        functions=tuple(functions),
        classes=tuple(classes),
        values={key: tuple(sources) for key, sources in values.sources.items()},
        entries=tuple(entries.sites),
        accesses=tuple(accesses.records),
        calls=tuple(calls.sites),
        events=tuple(calls.events),
        lock_candidates=frozenset(locks.candidates),
        guarded_by=dict(locks.guarded_by),
        required_locks={bindings.function_ids[f]: lock for f, lock in locks.required.items() if f in bindings.function_ids},
        class_level=frozenset(values.class_level),
        node_count=len(syntax.nodes),
    )


def _decorator_names(bindings: Bindings, node: cst.FunctionDef | cst.ClassDef):
    for decorator in node.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        name = bindings.qualified(target)
        if name is not None:
            yield name


def _jit_options(bindings: Bindings, node: cst.FunctionDef) -> dict | None:
    """The keyword options of a numba jit decorator ({} for a bare `@njit`), or None without one."""
    for decorator in node.decorators:
        target = decorator.decorator
        call = target if isinstance(target, cst.Call) else None
        name = bindings.qualified(call.func if call is not None else target)
        if name not in JIT_DECORATORS:
            continue
        options: dict = {"nopython": True, "decorator": decorator} if name.endswith("njit") else {"decorator": decorator}
        for arg in call.args if call is not None else ():
            if arg.keyword is not None and isinstance(arg.value, cst.Name) and arg.value.value in ("True", "False"):
                options[arg.keyword.value] = arg.value.value == "True"
        return options
    return None


def _returned_callables(analysis: ModuleAnalysis, values: Values) -> dict[cst.CSTNode, list[Ref]]:
    """Callables each function returns (`return worker`, `return self._run`, `return lambda: ...`):
    calling the factory's result calls them."""
    syntax = analysis.syntax
    found: dict[cst.CSTNode, list[Ref]] = {}
    for statement in syntax.of_type(cst.Return):
        value = statement.value
        if not isinstance(value, (cst.Name, cst.Attribute, cst.Lambda)):
            continue
        function = syntax.enclosing_function(statement)
        ref = values.ref_of(value)
        if function is not None and ref is not None:
            found.setdefault(function, []).append(ref)
    return found

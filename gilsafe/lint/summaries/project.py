"""The project pass: links the module summaries of everything linted together.

In order: symbols (modules, functions, classes, re-exports through `__init__`), the class hierarchy,
canonical state keys, what each piece of state holds, which lock candidates are locks, the call
graph (including constructors, dunder methods, properties and methods of objects held in state),
the thread entries (with the conditions modules could not decide), the thread contexts that reach
each function with the chain of calls that leads there, and the locks each function's callers hold.
Rules read the result through `ProjectFacts`; nothing here knows about rule codes.
"""

from __future__ import annotations

import re
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from gilsafe.lint.summaries.accesses import Access, AccessKind
from gilsafe.lint.summaries.calls import CallSite, Event, EventKind
from gilsafe.lint.summaries.entries import Condition, EntryKind, EntrySite
from gilsafe.lint.summaries.keys import (
    Anchor,
    Dispatch,
    FunctionId,
    HeldMethod,
    Kind,
    LockId,
    Method,
    Qualified,
    Ref,
    Returned,
    StateKey,
    StateKind,
)
from gilsafe.lint.rule import Trace
from gilsafe.lint.summaries.module import ClassFacts, FunctionFacts, ModuleSummary
from gilsafe.lint.summaries.state import ANY_FUNCTION, FROM_IMPORT, IMPORTED
from gilsafe.lint.summaries.values import ValueKind, ValueSource

LOCK_FACTORIES = frozenset(
    {
        "threading.Lock", "threading.RLock", "threading.Condition", "threading.Semaphore", "threading.BoundedSemaphore",
        "_thread.allocate_lock", "_thread.LockType", "_thread.RLock", "multiprocessing.Lock", "multiprocessing.RLock",
        "multiprocessing.synchronize.Lock", "multiprocessing.synchronize.RLock", "threading._RLock", "threading._PyRLock",
    }
)
THREAD_LOCAL_FACTORIES = frozenset({"threading.local", "_threading_local.local"})
EXECUTOR_FACTORIES = frozenset(
    {
        "concurrent.futures.ThreadPoolExecutor", "concurrent.futures.thread.ThreadPoolExecutor",
        "multiprocessing.pool.ThreadPool", "multiprocessing.dummy.Pool", "multiprocessing.dummy.Pool",
    }
)
NOT_THREAD_EXECUTORS = frozenset(
    {"concurrent.futures.ProcessPoolExecutor", "multiprocessing.Pool", "multiprocessing.pool.Pool", "concurrent.futures.process.ProcessPoolExecutor"}
)
THREAD_BASES = frozenset({"threading.Thread", "threading.Timer"})
TEST_PATH = re.compile(r"(^|/)(tests?|testing)/|(^|/)test_[^/]*\.py$|_test\.py$|(^|/)conftest\.py$")
THREAD_FUTURES = frozenset({"concurrent.futures.Future", "concurrent.futures._base.Future"})
THREADING_MIXINS = frozenset({"socketserver.ThreadingMixIn", "http.server.ThreadingHTTPServer", "socketserver.ThreadingTCPServer"})
CONSTRUCTORS = frozenset({"__init__", "__post_init__", "__init_subclass__", "setUp", "__set_name__"})


class GlobalName(NamedTuple):
    """A module-level variable of the tree, as `resolve` names it."""

    module: str
    name: str

    def key(self, path: tuple[str, ...] = ()) -> StateKey:
        return StateKey(StateKind.GLOBAL, self.module, self.name, path)


HANDLER_METHODS = re.compile(r"^(handle|setup|finish|do_[A-Z]+|process_request|handle_one_request)$")
# Names that read as locks when gilsafe cannot see where the object was made (a parameter, say).
LOCK_NAME = re.compile(r"(?i)(lock|mutex|^_*cond|_cond|condition|_cv|^_*cv|semaphore|_sem)$")
NOT_LOCK_NAME = re.compile(r"(?i)(block|clock|unlock|deadlock|flock|_lockfile|is_locked)$")
EXECUTOR_NAME = re.compile(r"(?i)(executor|thread_?pool|workers?_?pool)$")
ARRAY_MAKERS = frozenset(
    {
        "zeros", "empty", "ones", "full", "arange", "array", "asarray", "ascontiguousarray", "linspace", "zeros_like",
        "empty_like", "ones_like", "full_like", "copy", "frombuffer", "fromiter", "concatenate", "stack", "eye",
        "identity", "tensor", "as_tensor", "from_numpy", "rand", "randn", "randint", "random", "normal", "uniform",
        "standard_normal", "load", "ndarray", "Tensor",
    }
)
ARRAY_TYPES = {"numpy.ndarray": "numpy", "numpy.typing.NDArray": "numpy", "torch.Tensor": "torch", "cupy.ndarray": "cupy"}
CONTAINERS = {
    "builtins.list": "list", "builtins.dict": "dict", "builtins.set": "set", "collections.deque": "list",
    "collections.defaultdict": "dict", "collections.OrderedDict": "dict", "collections.Counter": "dict",
    "weakref.WeakSet": "set", "weakref.WeakValueDictionary": "dict", "weakref.WeakKeyDictionary": "dict",
}


MAIN = -1  # the program's own thread, in Overlap


class Overlap(NamedTuple):
    """Two accesses may run at once: under entries `first` and `second` (MAIN for the program's
    own thread; the same entry twice when it runs in several threads at once)."""

    first: int
    second: int


# Lock discipline: state some code accesses under a lock is meant to be guarded by it. With False,
# only the owner's own locks count (a class's lock fields for its fields, a module's locks for its
# globals); with True, any lock.
DISCIPLINE_ANY_LOCK = False
# Kinds of access that write the state or change a container's contents.
WRITES = frozenset({AccessKind.RMW, AccessKind.STORE, AccessKind.CHANGE, AccessKind.CHECK_THEN_ACT, AccessKind.INPLACE})


class ContextKind(Kind):
    THREAD = "thread"  # code a thread entry runs
    API = "api"  # public API declared thread-safe: many threads call it at once
    MAIN = "main"  # code run by the program's own thread(s) outside any entry gilsafe sees


@dataclass(frozen=True)
class Entry:
    """A resolved thread entry: what runs in a thread, and why gilsafe thinks so."""

    index: int
    kind: EntryKind | str  # EntryKind, or "subclass" / "api" for what the project pass adds
    module: str  # path of the module where it is started (or declared)
    anchor: Anchor
    description: str
    targets: tuple[FunctionId, ...]
    repeated: bool
    starter: FunctionId | None
    start: Anchor
    join: Anchor | None
    context: ContextKind = ContextKind.THREAD
    # Each run has an object of its own (a Thread subclass's `self`, a request handler): the
    # fields of this class are not shared between its runs.
    instance_class: str | None = None
    # The classes whose objects the thread works on: the object its target is a method of, the
    # class that starts it, what it is handed (see ProjectFacts.covers).
    objects: frozenset[str] = frozenset()


class Link(NamedTuple):
    """One step of a chain of calls: `caller` calls on to the next function at `anchor`."""

    function: FunctionId
    anchor: Anchor
    path: str


@dataclass
class ProjectSettings:
    lock_names: frozenset[str] = frozenset()
    thread_safe: tuple[str, ...] = ()  # "pkg.mod:Class", "pkg.api:*"
    reproducible: bool = False  # the project relies on seeding the process-wide random state
    # Lower-confidence evidence too (as ruff's preview): a thread against the program's own
    # thread, finalizers, threads tests start, methods nothing in the tree calls.
    preview: bool = False


class ProjectFacts:
    """Everything the rules ask about the linked project."""

    def __init__(self, summaries: Iterable[ModuleSummary], settings: ProjectSettings | None = None) -> None:
        self.settings = settings or ProjectSettings()
        self.summaries: list[ModuleSummary] = list(summaries)
        self.modules: dict[str, ModuleSummary] = {}
        for summary in self.summaries:
            self.modules.setdefault(summary.name, summary)
        self.functions: dict[FunctionId, FunctionFacts] = {}
        self.function_module: dict[FunctionId, ModuleSummary] = {}
        self.by_dotted: dict[str, FunctionId] = {}
        self.classes: dict[str, ClassFacts] = {}
        self.class_module: dict[str, ModuleSummary] = {}
        self._symbols()
        self._resolve_memo: dict[str, object] = {}
        self._hierarchy()
        self._canonical_memo: dict[StateKey, StateKey] = {}
        self._made_memo: dict[StateKey, set[str]] = {}
        self._kind_memo: dict[StateKey, str | None] = {}
        self._parameters_ready = False  # until the call graph says what parameters hold
        self.parameters: dict[tuple[FunctionId, str], list[object]] = defaultdict(list)
        self._binding: set[StateKey] = set()
        self._function_ids: dict[str, FunctionId] = {}
        self._typed_paths = False  # `self._pool.x` as the field x of the pool's class, once values are known
        self.values: dict[StateKey, list[ValueSource]] = defaultdict(list)
        self._gather_values()
        self._typed_paths = True
        self._regather_values()
        self.factory_methods: dict[tuple[str, str], list[FunctionId]] = {}
        self._factory_methods()
        self._call_graph()
        # What parameters hold is known from the call graph; with it, methods of objects passed
        # as arguments resolve, so the graph is built once more.
        self._bind_parameters()
        self._call_graph(only_parameter_dependent=True)
        self.locks: set[LockId] = set()
        self._recognise_locks()
        self.class_level = {self.canonical(key) for summary in self.summaries for key in summary.class_level}
        self._held_classes()
        self._covers_memo: dict[int, frozenset[str]] = {}
        self.entries: list[Entry] = []
        self._resolve_entries()
        # function -> entry index -> the call that reached it first (None for the entry's target)
        self.reached_by: dict[FunctionId, dict[int, Link | None]] = defaultdict(dict)
        self._contexts()
        self.main: set[FunctionId] = set()
        self._main_reach()
        self.held_by_callers: dict[FunctionId, frozenset[LockId]] = {}
        self._constructor_memo: dict[FunctionId, bool] = {}  # needs only the call graph
        self._caller_locks()
        self.accesses: dict[StateKey, list[tuple[ModuleSummary, Access]]] = defaultdict(list)
        self._index_accesses()
        self._declared: dict[StateKey, LockId] | None = None
        self._writers_memo: dict[StateKey, list[tuple[ModuleSummary, Access]]] = {}
        self._locks_by_owner: dict[tuple[StateKind, str], set[LockId]] | None = None
        self._guard_memo: dict[StateKey, list[tuple[ModuleSummary, Access]]] = {}
        self._changes_memo: dict[FunctionId, bool] = {}
        # Seeding in a test asks for repeatable tests, not a repeatable library.
        seeding = [summary for summary in self.summaries if any(e.kind is EventKind.SEEDS_GLOBAL_RANDOM for e in summary.events)]
        self._seeded_code = any(not TEST_PATH.search(s.path) for s in seeding)
        self._seeded_tests = bool(seeding)

    # -- symbols -------------------------------------------------------------------------------

    def _symbols(self) -> None:
        for summary in self.summaries:
            for function in summary.functions:
                self.functions[function.id] = function
                self.function_module[function.id] = summary
                self.by_dotted.setdefault(f"{summary.name}.{function.id.qualname}" if summary.name else function.id.qualname, function.id)
            self.functions[FunctionId(summary.name, "<module>")] = FunctionFacts(FunctionId(summary.name, "<module>"), 0, None, "<module>", (), ())
            self.function_module[FunctionId(summary.name, "<module>")] = summary
            for klass in summary.classes:
                self.classes.setdefault(klass.dotted, klass)
                self.class_module.setdefault(klass.dotted, summary)

    def resolve(self, dotted: str, _seen: frozenset[str] = frozenset()) -> object:
        """What a dotted name denotes in the project: a FunctionId, a ClassFacts, a ModuleSummary,
        a GlobalName, or None (outside the linted tree)."""
        if dotted in self._resolve_memo:
            return self._resolve_memo[dotted]
        found = self._resolve(dotted, _seen)
        self._resolve_memo[dotted] = found
        return found

    def _resolve(self, dotted: str, seen: frozenset[str]) -> object:
        if dotted in seen:
            return None
        seen = seen | {dotted}
        if dotted in self.by_dotted:
            return self.by_dotted[dotted]
        if dotted in self.classes:
            return self.classes[dotted]
        if dotted in self.modules:
            return self.modules[dotted]
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            prefix = ".".join(parts[:cut])
            rest = parts[cut:]
            if prefix in self.classes:
                klass = self.classes[prefix]
                if len(rest) == 1:
                    method = self.lookup_method(klass.dotted, rest[0])
                    if method is not None:
                        return method
                return None
            module = self.modules.get(prefix)
            if module is None:
                continue
            head = rest[0]
            if head in module.imports:
                return self.resolve(".".join([module.imports[head], *rest[1:]]), seen)
            if head in module.globals:
                if len(rest) == 1:
                    return GlobalName(module.name, head)
                return None
            for star in module.star_imports:
                found = self.resolve(".".join([star, *rest]), seen)
                if found is not None:
                    return found
            return None
        return None

    # -- classes -------------------------------------------------------------------------------

    def _hierarchy(self) -> None:
        self.bases: dict[str, list[str]] = {}
        self.subclasses: dict[str, set[str]] = defaultdict(set)
        for dotted, klass in self.classes.items():
            resolved = []
            for base in klass.bases:
                target = self.resolve(base)
                resolved.append(target.dotted if isinstance(target, ClassFacts) else base)
            self.bases[dotted] = resolved
        self._mro: dict[str, list[str]] = {}
        for dotted in self.classes:
            for ancestor in self.mro(dotted)[1:]:
                self.subclasses[ancestor].add(dotted)

    def mro(self, dotted: str) -> list[str]:
        """The class and its ancestors, nearest first (project classes and external names)."""
        found = self._mro.get(dotted)
        if found is not None:
            return found
        order: list[str] = []
        stack = [dotted]
        visiting = set()
        while stack:
            current = stack.pop(0)
            if current in visiting:
                continue
            visiting.add(current)
            order.append(current)
            stack = list(self.bases.get(current, ())) + stack
        self._mro[dotted] = order
        return order

    def is_subclass(self, dotted: str, of: frozenset[str]) -> bool:
        return any(ancestor in of for ancestor in self.mro(dotted))

    def lookup_method(self, class_dotted: str, name: str, *, skip_first: bool = False) -> FunctionId | None:
        for ancestor in self.mro(class_dotted)[1 if skip_first else 0:]:
            klass = self.classes.get(ancestor)
            if klass is not None and name in klass.methods:
                return FunctionId(klass.id.module, f"{klass.id.qualname}.{name}")
            made = getattr(self, "factory_methods", {}).get((ancestor, name))
            if made:
                return made[0]
        return None

    def methods_for(self, method: Method) -> list[FunctionId]:
        target = self.resolve(method.owner) if method.owner not in self.classes else self.classes[method.owner]
        if not isinstance(target, ClassFacts):
            return []
        owner = target.dotted
        if method.dispatch is Dispatch.SUPER:
            found = self.lookup_method(owner, method.name, skip_first=True)
            return [found] if found is not None else []
        found = self.lookup_method(owner, method.name)
        result = [found] if found is not None else []
        if method.dispatch is Dispatch.VIRTUAL:
            for sub in self.subclasses.get(owner, ()):
                klass = self.classes[sub]
                if method.name in klass.methods:
                    result.append(FunctionId(klass.id.module, f"{klass.id.qualname}.{method.name}"))
        return result

    def root_class(self, dotted: str) -> str:
        """The class whose fields a class's fields are: up the first-base chain of project classes."""
        current = dotted
        seen = {current}
        while True:
            bases = [b for b in self.bases.get(current, ()) if b in self.classes and b not in seen]
            if not bases:
                return current
            current = bases[0]
            seen.add(current)

    # -- state -----------------------------------------------------------------------------------

    def canonical(self, key: StateKey) -> StateKey:
        found = self._canonical_memo.get(key)
        if found is None:
            found = self._canonical_memo[key] = self._canonical(key)
        return found

    def _canonical(self, key: StateKey) -> StateKey:
        key = self._canonical_root(key)
        if self._typed_paths and key.path and key.path[0] != "[]" and key not in self._binding:
            # `self._metrics.metrics` is the `metrics` field of whatever class `self._metrics`
            # holds instances of, when that is one class of the tree.
            head = key._replace(path=())
            self._binding.add(key)
            try:
                classes = self.instance_classes(head)
            finally:
                self._binding.discard(key)
            if len(classes) == 1:
                owner = self.root_class(classes.pop())
                return self.canonical(StateKey(StateKind.FIELD, owner, key.path[0], key.path[1:]))
        return key

    def _canonical_root(self, key: StateKey) -> StateKey:
        if key.kind is StateKind.ARGUMENT:
            return self._bound_argument(key)
        if key.kind is StateKind.FIELD:
            root = self.root_class(key.owner) if key.owner in self.classes else key.owner
            return key._replace(owner=root) if root != key.owner else key
        if key.kind is not StateKind.GLOBAL or not key.owner.startswith(IMPORTED):
            return key
        target = key.owner[len(IMPORTED):]
        attributes = []
        path = list(key.path)
        while path and path[0] != "[]":
            attributes.append(path.pop(0))
        # `import pkg.state as st; st.CACHE`: the longest dotted prefix that is a global of the tree
        for cut in range(len(attributes), -1, -1):
            dotted = ".".join([target, *attributes[:cut]])
            found = self.resolve(dotted)
            if isinstance(found, GlobalName):
                return found.key(tuple(attributes[cut:] + path))
            if isinstance(found, ClassFacts) and cut < len(attributes):
                return StateKey(StateKind.FIELD, self.root_class(found.dotted), attributes[cut], tuple(attributes[cut + 1:] + path))
        if attributes and key.name != FROM_IMPORT:
            return StateKey(StateKind.GLOBAL, target, attributes[0], tuple(attributes[1:] + path))
        # `from ctx import STATE; STATE.user`: STATE is a name of module ctx, the same key as
        # `import ctx; ctx.STATE.user` gives; what STATE holds is not known outside the tree.
        path = attributes + path
        module, _, name = target.rpartition(".")
        return StateKey(StateKind.GLOBAL, module, name, tuple(path))

    def _bound_argument(self, key: StateKey) -> StateKey:
        """An argument every caller passes the same state for is that state (a list handed to
        two threads is shared by them)."""
        if not self._parameters_ready or key.owner == ANY_FUNCTION or key in self._binding:
            return key
        function = self._function_id(key.owner)
        passed = self.parameters.get((function, key.name)) if function is not None else None
        if not passed or not all(isinstance(value, StateKey) for value in passed):
            return key
        self._binding.add(key)
        try:
            targets = {self.canonical(value) for value in passed}
        finally:
            self._binding.discard(key)
        if len(targets) != 1:
            return key
        target = targets.pop()
        return target._replace(path=target.path + key.path)

    def _function_id(self, text: str) -> FunctionId | None:
        found = self._function_ids.get(text)
        if found is None and not self._function_ids:
            self._function_ids.update({str(function): function for function in self.functions})
            found = self._function_ids.get(text)
        return found

    def _regather_values(self) -> None:
        self._canonical_memo.clear()
        self._made_memo.clear()
        self._kind_memo.clear()
        self.values = defaultdict(list)
        self._gather_values()

    def _gather_values(self) -> None:
        for summary in self.summaries:
            for key, sources in summary.values.items():
                self.values[self.canonical(key)].extend(sources)

    def sources(self, key: StateKey, _depth: int = 0) -> list[ValueSource]:
        key = self.canonical(key)
        found = self.values.get(key, [])
        if key.kind is StateKind.ARGUMENT and not key.path and self._parameters_ready and _depth < 4:
            function = self._function_id(key.owner)
            extra = []
            for value in self.parameters.get((function, key.name), ()):
                if isinstance(value, StateKey):
                    extra.extend(self.sources(value, _depth + 1))
                elif isinstance(value, ValueSource):
                    extra.append(value)
            if extra:
                return found + extra
        return found

    def made_by(self, key: StateKey) -> set[str]:
        """The dotted names of what was called to make the state (classes resolved through imports)."""
        key = self.canonical(key)
        memo = self._made_memo
        if key in memo:
            return memo[key]
        memo[key] = found = self._made_by(key)
        return found

    def _made_by(self, key: StateKey) -> set[str]:
        found = set()
        for source in self.sources(key):
            if source.kind in (ValueKind.CALL, ValueKind.ANNOTATION) and isinstance(source.ref, Qualified):
                target = self.resolve(source.ref.name)
                found.add(target.dotted if isinstance(target, ClassFacts) else source.ref.name)
        return found

    def instance_classes(self, key: StateKey) -> set[str]:
        """Project classes whose instances the state holds."""
        return {name for name in self.made_by(key) if name in self.classes}

    def value_kind(self, key: StateKey) -> str | None:
        """"numpy", "torch", "cupy", "list", "dict", "set" for what made the state (or the container
        it indexes), else None."""
        container = self.canonical(key).container
        memo = self._kind_memo
        if container not in memo:
            memo[container] = self._value_kind(container)
        return memo[container]

    def _value_kind(self, container: StateKey) -> str | None:
        kinds = set()
        for source in self.sources(container):
            if source.kind is ValueKind.LIST:
                kinds.add("list")
            elif source.kind is ValueKind.DICT:
                kinds.add("dict")
            elif source.kind is ValueKind.SET:
                kinds.add("set")
            elif source.kind is ValueKind.CALL and isinstance(source.ref, Method) and source.ref.owner.split(".")[0] in ("numpy", "torch", "cupy"):
                if source.ref.name in ARRAY_MAKERS:  # np.random.default_rng(0).random(n)
                    kinds.add(source.ref.owner.split(".")[0])
            elif source.kind in (ValueKind.CALL, ValueKind.ANNOTATION) and isinstance(source.ref, Qualified):
                name = source.ref.name
                library, _, rest = name.partition(".")
                if name in ARRAY_TYPES:
                    kinds.add(ARRAY_TYPES[name])
                elif library in ("numpy", "torch", "cupy") and rest.rsplit(".", 1)[-1] in ARRAY_MAKERS:
                    kinds.add(library)
                elif name in CONTAINERS:
                    kinds.add(CONTAINERS[name])
        for library in ("numpy", "torch", "cupy"):
            if library in kinds:
                return library
        return kinds.pop() if len(kinds) == 1 else None

    def item_kind(self, key: StateKey) -> str | None:
        """What a container's items are, for a key that names items (`d[]`): known only when
        items were stored from a display (`d[k] = []`); else the kind of the key itself."""
        if not key.is_item:
            return self.value_kind(key)
        kinds = {source.kind for source in self.sources(key)}
        named = {ValueKind.LIST: "list", ValueKind.DICT: "dict", ValueKind.SET: "set"}
        found = {named[kind] for kind in kinds if kind in named}
        return found.pop() if len(found) == 1 and len(kinds) == 1 else None

    def is_thread_local(self, key: StateKey) -> bool:
        """True when the access goes through a `threading.local()` object."""
        probe = key._replace(path=())
        for part in (None, *key.path):
            if part is not None:
                probe = probe.child(part)
            if self.made_by(probe) & THREAD_LOCAL_FACTORIES:
                return True
        return False

    # -- locks ---------------------------------------------------------------------------------

    def _recognise_locks(self) -> None:
        named = set(self.settings.lock_names)
        candidates: set[LockId] = set()
        for summary in self.summaries:
            candidates.update(summary.lock_candidates)
            self.locks.update(LockId(self.canonical(lock.state)) for lock in summary.guarded_by.values())
            self.locks.update(LockId(self.canonical(lock.state)) for lock in summary.required_locks.values())
        for lock in candidates:
            state = self.canonical(lock.state)
            last = state.path[-1] if state.path and state.path[-1] != "[]" else state.name
            last = last.removesuffix("()")  # `with cls.get_lock():`
            made = self.made_by(state)
            if any(name.startswith(("asyncio.", "trio.", "anyio.")) for name in made):
                continue  # a coroutine lock
            if made & LOCK_FACTORIES or last in named or (LOCK_NAME.search(last) and not NOT_LOCK_NAME.search(last)):
                self.locks.add(LockId(state))
            elif state.is_item and (self.made_by(state.container.child("[]")) & LOCK_FACTORIES or LOCK_NAME.search(state.name)):
                self.locks.add(LockId(state))  # one lock per key: `with self._locks[name]:`

    def recognised(self, locks: frozenset[LockId]) -> frozenset[LockId]:
        if not locks:
            return locks
        return frozenset(lock for lock in (LockId(self.canonical(l.state)) for l in locks) if lock in self.locks)

    # -- the call graph ----------------------------------------------------------------------------

    def callables(self, ref: Ref, _depth: int = 0) -> list[FunctionId]:
        """The functions of the tree a reference may run (a class: its constructor)."""
        if _depth > 8:
            return []
        if isinstance(ref, FunctionId):
            return [ref] if ref in self.functions else []
        if isinstance(ref, Qualified):
            target = self.resolve(ref.name)
            if isinstance(target, FunctionId):
                return [target]
            if isinstance(target, ClassFacts):
                return self._constructors(target)
            if isinstance(target, GlobalName):
                return self._held_callables(target.key(), _depth)
            holder, _, method = ref.name.rpartition(".")
            if holder:
                # `SHARED.bump()` with `from pkg.counter import SHARED`: a method of a global's object
                found = self.resolve(holder)
                if isinstance(found, GlobalName):
                    return self.callables(HeldMethod(found.key(), method), _depth + 1)
            return []
        if isinstance(ref, Method):
            return self.methods_for(ref)
        if isinstance(ref, HeldMethod):
            key = self.canonical(ref.key)
            found = []
            for klass in self.instance_classes(key):
                found.extend(self.methods_for(Method(klass, ref.name, Dispatch.VIRTUAL)))
            if not found and key.kind is StateKind.FIELD and not key.path:
                # `self._push(x)` where `self._push = self._order.append`: the bound method stored there
                found.extend(self._held_callables(key.child(ref.name), _depth))
            return found
        if isinstance(ref, Returned):
            found = []
            for factory in self.callables(ref.callee, _depth + 1):
                for returned in self.functions[factory].returns:
                    found.extend(self.callables(returned, _depth + 1))
            return found
        return []

    def _held_callables(self, key: StateKey, depth: int) -> list[FunctionId]:
        found = []
        for source in self.sources(key):
            if source.kind is ValueKind.FUNCTION and source.ref is not None:
                found.extend(self.callables(source.ref, depth + 1))
        return found

    def _constructors(self, klass: ClassFacts) -> list[FunctionId]:
        found = [m for name in ("__new__", "__init__", "__post_init__") if (m := self.lookup_method(klass.dotted, name)) is not None]
        if klass.metaclass:
            meta = self.resolve(klass.metaclass)
            if isinstance(meta, ClassFacts):
                call = self.lookup_method(meta.dotted, "__call__")
                if call is not None:
                    found.append(call)
        return found

    def _call_graph(self, only_parameter_dependent: bool = False) -> None:
        """Resolve every call site. The second time (after parameters are bound) only the sites
        whose callee depends on what a parameter holds are resolved again and added."""
        if not only_parameter_dependent:
            self.callees: dict[FunctionId, list[tuple[FunctionId, CallSite]]] = defaultdict(list)
            self.callers: dict[FunctionId, list[tuple[FunctionId, CallSite]]] = defaultdict(list)
            self.instantiations: dict[str, list[tuple[ModuleSummary, CallSite]]] = defaultdict(list)
            self._parameter_sites: list[tuple[ModuleSummary, CallSite, set[FunctionId]]] = []
            sites = ((summary, site, None) for summary in self.summaries for site in summary.calls)
        else:
            sites = iter(self._parameter_sites)
        for summary, site, known in sites:
            callees = self.callables(site.callee)
            if known is not None:
                callees = [c for c in callees if c not in known]  # new through the parameters
            elif _depends_on_parameters(site.callee):
                self._parameter_sites.append((summary, site, set(callees)))
            if known is None and isinstance(site.callee, Qualified):
                target = self.resolve(site.callee.name)
                if isinstance(target, ClassFacts):
                    self.instantiations[target.dotted].append((summary, site))
            for callee in callees:
                self.callees[site.function].append((callee, site))
                self.callers[callee].append((site.function, site))
            # A function handed to another function of the tree may be called by it: on
            # the caller's behalf (an edge from the caller, not from the callee, whose other
            # callers hand it other functions).
            if callees and site.passed and known is None:
                for passed in site.passed:
                    for target in self.callables(passed):
                        self.callees[site.function].append((target, site))
                        self.callers[target].append((site.function, site))

    def _factory_methods(self) -> None:
        """`info = _make_log_function("INFO")` in a class body: the function the factory returns is
        a method of the class, and its first parameter is the instance."""
        for dotted, klass in self.classes.items():
            module = self.class_module[dotted]
            prefix = StateKey(StateKind.FIELD, dotted, "")
            for key, sources in module.values.items():
                if key.kind is not StateKind.FIELD or key.owner != dotted or key.path:
                    continue
                made = [
                    function
                    for source in sources
                    if source.kind is ValueKind.CALL and source.ref is not None and not isinstance(self.resolve_ref_target(source.ref), ClassFacts)
                    for function in self.callables(Returned(source.ref))
                ]
                if made:
                    self.factory_methods[(dotted, key.name)] = made
                    for function in made:
                        params = self.functions[function].params
                        if params:
                            self.parameters[(function, params[0])].append(ValueSource(ValueKind.CALL, Qualified(dotted)))
            del prefix

    def resolve_ref_target(self, ref: Ref) -> object:
        return self.resolve(ref.name) if isinstance(ref, Qualified) else None

    def _bind_parameters(self) -> None:
        """What each parameter may hold: the arguments of every resolved call and thread entry."""
        for caller, edges in list(self.callees.items()):
            for callee, site in edges:
                self._bind(callee, site.callee, site.arguments)
        for summary in self.summaries:
            for site in summary.entries:
                if site.target is None or not site.arguments:
                    continue
                for target in self.callables(site.target):
                    self._bind(target, site.target, site.arguments)
        self._parameters_ready = True
        self._regather_values()

    def _bind(self, callee: FunctionId, ref: Ref, arguments) -> None:
        facts = self.functions.get(callee)
        if facts is None:
            return
        constructor = isinstance(ref, Qualified) and isinstance(self.resolve(ref.name), ClassFacts)
        bound_method = "builtins.staticmethod" not in facts.decorators and (
            isinstance(ref, (Method, HeldMethod)) or (constructor and facts.klass is not None)
        )
        offset = 1 if bound_method else 0
        if bound_method and facts.params and "builtins.classmethod" not in facts.decorators:
            # The receiver: `obj.m()` binds m's first parameter to obj.
            if isinstance(ref, HeldMethod):
                self.parameters[(callee, facts.params[0])].append(ref.key)
            elif isinstance(ref, Method) and facts.klass is None:
                self.parameters[(callee, facts.params[0])].append(ValueSource(ValueKind.CALL, Qualified(ref.owner)))
        for where_, value in arguments:
            if isinstance(where_, int):
                index = where_ + offset
                if index >= len(facts.params):
                    continue
                name = facts.params[index]
            else:
                name = where_
                if name not in facts.params:
                    continue
            self.parameters[(callee, name)].append(value)

    # -- thread entries --------------------------------------------------------------------------

    def _resolve_entries(self) -> None:
        for summary in self.summaries:
            for site in summary.entries:
                if not self._condition_holds(site):
                    continue
                targets = [t for t in self._entry_targets(site) if not self.functions[t].is_async]
                if targets:
                    handler = self.resolve(site.target.name) if site.kind is EntryKind.HANDLER and isinstance(site.target, Qualified) else None
                    instance_class = self.root_class(handler.dotted) if isinstance(handler, ClassFacts) else None
                    if site.kind is EntryKind.FINALIZER and isinstance(site.target, FunctionId) and self.functions[site.target].klass:
                        # `__del__` runs when nothing else can reach its object: its fields are its own.
                        instance_class = self.root_class(self.functions[site.target].klass)
                    self._add_entry(
                        site.kind, summary.path, site.anchor, site.description, targets, site.repeated, site.function, site.start, site.join,
                        instance_class=instance_class, objects=self._entry_objects(site),
                    )
        for dotted, klass in self.classes.items():
            if not self.is_subclass(dotted, THREAD_BASES) or dotted in THREAD_BASES:
                continue
            run = self.lookup_method(dotted, "run")
            if run is None:
                continue
            made = self.instantiations.get(dotted, [])
            repeated = len(made) > 1 or any(site.repeated for _, site in made)
            module = self.class_module[dotted]
            self._add_entry(
                "subclass", module.path, klass.anchor, f"Thread subclass {klass.id.label}.run", (run,), repeated, None, klass.anchor, None,
                instance_class=self.root_class(dotted),
            )
        self._declared_thread_safe()

    def _entry_objects(self, site: EntrySite) -> set[str]:
        """Classes whose objects an entry site hands its thread: the receiver of a bound-method
        target, and what is passed as arguments."""
        found: set[str] = set()
        target = site.target
        if isinstance(target, Method) and target.owner in self.classes:
            found.add(self.root_class(target.owner))
        elif isinstance(target, HeldMethod):
            found.update(self.root_class(c) for c in self.instance_classes(target.key))
            key = self.canonical(target.key)
            if key.kind is StateKind.FIELD and key.owner in self.classes:
                found.add(key.owner)
        for _, value in site.arguments:
            if isinstance(value, StateKey):
                found.update(self.root_class(c) for c in self.instance_classes(value))
                key = self.canonical(value)
                if key.kind is StateKind.FIELD and key.owner in self.classes:
                    found.add(key.owner)
            elif isinstance(value, ValueSource) and value.kind is ValueKind.CALL and isinstance(value.ref, Qualified):
                made = self.resolve(value.ref.name)
                if isinstance(made, ClassFacts):
                    found.add(self.root_class(made.dotted))
        return found

    def covers(self, entry_index: int) -> frozenset[str]:
        """The classes whose instances a thread entry may share with other code: the objects it
        works on, and the objects those hold in their fields (not for threads tests start, unless
        the test is declared thread-safe: the pytest plugin runs it in many threads)."""
        found = self._covers_memo.get(entry_index)
        if found is None:
            entry = self.entries[entry_index]
            found = set(entry.objects)
            frontier = set(found)
            # A thread a test starts makes its own objects: only what it is handed is shared.
            depth = 0 if TEST_PATH.search(entry.module) and entry.context is not ContextKind.API else 1
            for _ in range(depth):
                frontier = {held for owner in frontier for held in self.held_classes.get(owner, ())} - found
                found |= frontier
            found = self._covers_memo[entry_index] = frozenset(found)
        return found

    def _held_classes(self) -> None:
        """For each class, the classes of the objects its fields hold; and the classes whose
        objects live in module globals or class attributes (one object every thread can reach)."""
        self.held_classes: dict[str, set[str]] = defaultdict(set)
        self.singletons: set[str] = set()
        for key in list(self.values):
            if key.path:
                continue
            if key.kind is StateKind.FIELD and key.owner in self.classes:
                for made in self.instance_classes(key):
                    self.held_classes[key.owner].add(self.root_class(made))
                if key in self.class_level:
                    self.singletons.update(self.root_class(made) for made in self.instance_classes(key))
            elif key.kind is StateKind.GLOBAL:
                self.singletons.update(self.root_class(made) for made in self.instance_classes(key))
        # A metaclass's instances are classes: one object per class, reachable from everywhere.
        self.singletons.update(self.root_class(dotted) for dotted in self.classes if self.is_subclass(dotted, frozenset({"builtins.type"})))

    def _add_entry(self, kind, path, anchor, description, targets, repeated, starter, start, join, context=ContextKind.THREAD, instance_class=None, objects=()) -> None:
        targets = tuple(t for t in dict.fromkeys(targets) if not self.functions[t].confined)
        if not targets:
            return
        found = set(objects)
        if instance_class:
            found.add(instance_class)
        for function in (*targets, starter):
            facts = self.functions.get(function) if function is not None else None
            if facts is not None and facts.klass:
                found.add(self.root_class(facts.klass))
        self.entries.append(
            Entry(len(self.entries), kind, path, anchor, description, targets, repeated, starter, start, join, context, instance_class, frozenset(found))
        )

    def _condition_holds(self, site: EntrySite) -> bool:
        condition = site.condition
        if condition is Condition.NONE:
            return True
        subject = site.subject
        if condition is Condition.THREAD_CLASS:
            target = self.resolve(subject.name) if isinstance(subject, Qualified) else None
            return isinstance(target, ClassFacts) and self.is_subclass(target.dotted, THREAD_BASES)
        if condition is Condition.THREADING_SERVER:
            target = self.resolve(subject.name) if isinstance(subject, Qualified) else None
            return isinstance(target, ClassFacts) and self.is_subclass(target.dotted, THREADING_MIXINS)
        if condition is Condition.THREAD_FUTURE:
            if isinstance(subject, Qualified):
                return subject.name in THREAD_FUTURES
            if isinstance(subject, StateKey):
                for source in self.sources(subject):
                    ref = source.ref
                    if source.kind is ValueKind.CALL and isinstance(ref, Qualified) and ref.name in THREAD_FUTURES:
                        return True
                    if source.kind is ValueKind.CALL and isinstance(ref, (Method, HeldMethod)) and ref.name == "submit":
                        return True  # `future = executor.submit(...)`
            return False
        if condition is Condition.EXECUTOR:
            if isinstance(subject, Qualified):
                made = {subject.name}
                target = self.resolve(subject.name)
                if isinstance(target, ClassFacts):
                    made = set(self.mro(target.dotted))
                return self._is_executor(made, None)
            if isinstance(subject, StateKey):
                key = self.canonical(subject)
                made = set()
                for name in self.made_by(key):
                    made.update(self.mro(name) if name in self.classes else {name})
                last = key.path[-1] if key.path else key.name
                return self._is_executor(made, last)
        return False

    @staticmethod
    def _is_executor(made: set[str], name: str | None) -> bool:
        if made & EXECUTOR_FACTORIES:
            return True
        if made & NOT_THREAD_EXECUTORS:
            return False
        if made:
            return False  # made by something else we can see: not an executor
        return name is not None and EXECUTOR_NAME.search(name) is not None

    def _entry_targets(self, site: EntrySite) -> list[FunctionId]:
        if site.kind is EntryKind.HANDLER and isinstance(site.target, Qualified):
            klass = self.resolve(site.target.name)
            if not isinstance(klass, ClassFacts):
                return []
            found = []
            for ancestor in self.mro(klass.dotted):
                owner = self.classes.get(ancestor)
                if owner is None:
                    continue
                for method in owner.methods:
                    if HANDLER_METHODS.match(method):
                        found.extend(self.methods_for(Method(klass.dotted, method, Dispatch.EXACT)))
            return found
        return self.callables(site.target) if site.target is not None else []

    def _declared_thread_safe(self) -> None:
        patterns = [p.split(":", 1) if ":" in p else (p, "*") for p in self.settings.thread_safe]
        for dotted, klass in self.classes.items():
            module = self.class_module[dotted]
            # A pattern names a module's API: a class made inside a function is not part of it.
            named = "<locals>" not in klass.id.qualname and any(module.name == m and (n == "*" or n == klass.id.qualname) for m, n in patterns)
            declared = klass.thread_safe or named
            if not declared:
                continue
            targets = [FunctionId(klass.id.module, f"{klass.id.qualname}.{m}") for m in klass.methods]
            targets = [t for t in targets if t in self.functions and self.functions[t].is_public]
            if targets:
                self._add_entry("api", module.path, klass.anchor, f"{klass.id.label}, declared thread-safe", targets, True, None, klass.anchor, None, ContextKind.API, objects={self.root_class(dotted)})
        for function_id, function in self.functions.items():
            if function.klass is not None or function.name == "<module>" or "<locals>" in function_id.qualname:
                continue
            module = self.function_module[function_id]
            declared = function.thread_safe or any(module.name == m and (n == "*" or n == function_id.qualname) for m, n in patterns)
            if declared and function.is_public:
                self._add_entry("api", module.path, function.anchor, f"{function_id.label}, declared thread-safe", (function_id,), True, None, function.anchor, None, ContextKind.API)

    # -- contexts --------------------------------------------------------------------------------

    def _contexts(self) -> None:
        for entry in self.entries:
            queue = deque()
            for target in entry.targets:
                if entry.index not in self.reached_by[target]:
                    self.reached_by[target][entry.index] = None
                    queue.append(target)
            finalizer = entry.kind is EntryKind.FINALIZER and entry.instance_class is not None
            while queue:
                function = queue.popleft()
                for callee, site in self.callees.get(function, ()):
                    facts = self.functions[callee]
                    if facts.confined or facts.is_async:
                        continue  # calling a coroutine function only makes a coroutine object
                    if finalizer and (facts.klass is None or self.root_class(facts.klass) != entry.instance_class):
                        continue  # a finalizer's own object is unreachable: follow only its methods
                    reached = self.reached_by[callee]
                    if entry.index not in reached:
                        reached[entry.index] = Link(function, site.anchor, self.function_module[function].path)
                        queue.append(callee)

    def _main_reach(self) -> None:
        """Functions the program's own threads run: module-level code, functions nothing in the
        tree calls (called by users, or by callbacks gilsafe does not see), and what they call."""
        entry_targets = {t for entry in self.entries for t in entry.targets if entry.context is ContextKind.THREAD}
        queue = deque()
        for function_id in self.functions:
            if function_id in entry_targets and not self.callers.get(function_id):
                continue
            if not self.callers.get(function_id) or function_id.qualname == "<module>":
                self.main.add(function_id)
                queue.append(function_id)
        while queue:
            function = queue.popleft()
            for callee, _ in self.callees.get(function, ()):
                if callee not in self.main:
                    self.main.add(callee)
                    queue.append(callee)

    def _caller_locks(self) -> None:
        """Locks every caller holds around every call (a must-hold fixpoint over the call graph,
        by worklist; recursion keeps what holds on every path), constructors' calls aside. Entry
        targets and uncalled functions start with none."""
        roots = {t for entry in self.entries for t in entry.targets}
        held: dict[FunctionId, frozenset[LockId] | None] = {}  # None: not yet known (top)
        for function in self.functions:
            held[function] = frozenset() if function in roots or not self.callers.get(function) else None
        # What each call site adds: the locks held around it, and the caller's @requires_lock.
        around: dict[tuple[FunctionId, int], frozenset[LockId]] = {}
        for function, callers in self.callers.items():
            for caller, site in callers:
                locks = self.recognised(site.locks)
                required = self._required(caller)
                around[(caller, site.anchor)] = locks | {required} if required is not None else locks
        # A constructor's call runs before its object is shared (`self.sampler.check()` in
        # `__init__`, later calls under the lock): it does not break the callers' discipline,
        # unless constructors are all there is.
        skip_constructors = {
            function for function, callers in self.callers.items() if not all(self.is_constructor(c) for c, _ in callers)
        }
        # Values only shrink (None, then smaller and smaller sets), so a caller's new value is
        # folded into each callee's intersection as it comes: every edge is revisited only when
        # its caller changed, not every caller whenever one did (sympy: 1,446 files, 10,000 callers
        # of its hottest functions).
        pending = deque(f for f, h in held.items() if h is not None)
        queued = set(pending)
        while pending:
            caller = pending.popleft()
            queued.discard(caller)
            caller_held = held[caller]
            skip = self.is_constructor(caller)
            for function, site in self.callees.get(caller, ()):
                if function in roots or function not in held or (skip and function in skip_constructors):
                    continue
                here = around[(caller, site.anchor)] | caller_held
                current = held[function]
                result = here if current is None else current & here
                if result != current:
                    held[function] = result
                    if function not in queued:
                        pending.append(function)
                        queued.add(function)
        self.held_by_callers = {f: (h or frozenset()) for f, h in held.items()}

    def _required(self, function: FunctionId) -> LockId | None:
        summary = self.function_module.get(function)
        if summary is None or not summary.required_locks:
            return None
        lock = summary.required_locks.get(function)
        return LockId(self.canonical(lock.state)) if lock is not None else None

    # -- accesses ----------------------------------------------------------------------------------

    def _index_accesses(self) -> None:
        self.accesses_in: dict[FunctionId, list[tuple[ModuleSummary, Access]]] = defaultdict(list)
        for summary in self.summaries:
            for access in summary.accesses:
                self.accesses[self.canonical(access.key)].append((summary, access))
                self.accesses_in[access.function].append((summary, access))

    def held(self, summary: ModuleSummary, access: Access) -> frozenset[LockId]:
        """The locks held at an access: its own function's, @requires_lock, and every caller's."""
        own = self.recognised(access.locks)
        required = self._required(access.function)
        callers = self.held_by_callers.get(access.function, frozenset())
        return own | callers | ({required} if required is not None else frozenset())

    def guard_declared(self, key: StateKey) -> LockId | None:
        """The lock a `# gilsafe: guarded-by=L` comment names for this state (or its container)."""
        if self._declared is None:
            self._declared = {
                self.canonical(annotated): LockId(self.canonical(lock.state))
                for summary in self.summaries
                for annotated, lock in summary.guarded_by.items()
            }
        if not self._declared:
            return None
        canonical = self.canonical(key)
        return self._declared.get(canonical) or self._declared.get(canonical.container)

    def contexts(self, function: FunctionId) -> dict[int, Link | None]:
        return self.reached_by.get(function, {})

    def chain(self, function: FunctionId, entry: int) -> list[Link]:
        """The calls from an entry's target down to `function` (empty when it is the target)."""
        links = []
        current = function
        seen = set()
        while current not in seen:
            seen.add(current)
            link = self.reached_by.get(current, {}).get(entry)
            if link is None:
                break
            links.append(link)
            current = link.function
        return list(reversed(links))

    def is_constructor(self, function: FunctionId) -> bool:
        """`__init__` and the like, and private methods only constructors call: the object is not
        yet shared while they run."""
        found = self._constructor_memo.get(function)
        if found is None:
            self._constructor_memo[function] = False  # recursion: not proven
            found = self._constructor_memo[function] = self._is_constructor(function)
        return found

    def _is_constructor(self, function: FunctionId) -> bool:
        facts = self.functions.get(function)
        if facts is None or facts.klass is None:
            return False
        if facts.name in CONSTRUCTORS:
            return True
        if facts.is_public:
            return False
        callers = [caller for caller, _ in self.callers.get(function, ()) if caller != function]
        return bool(callers) and all(self.is_constructor(caller) for caller in callers)


    # -- which accesses can run at the same time ---------------------------------------------------

    def ordered(self, access: Access, entry_index: int) -> bool:
        """Happens-before: the access runs in the entry's starter before `start()`, or after it
        waited for the thread (join, result, the end of a `with` executor block); or the access's
        function is only called from such places in the starter."""
        entry = self.entries[entry_index]
        if entry.starter is None:
            return False

        def before_or_after(anchor: Anchor) -> bool:
            return anchor < entry.start or (entry.join is not None and anchor > entry.join)

        if access.function == entry.starter:
            return before_or_after(access.anchor)
        callers = self.callers.get(access.function, ())
        return bool(callers) and all(caller == entry.starter and before_or_after(site.anchor) for caller, site in callers)

    def overlap(self, first: tuple[ModuleSummary, Access], second: tuple[ModuleSummary, Access]) -> Overlap | None:
        """Whether two accesses (maybe the same one) can run at the same time, with no lock held
        at both: under two thread entries, or under one entry that runs in several threads at once.
        With `preview`, also a thread entry against the program's own thread (MAIN), which is
        right for module state but, for instance state, often meets objects one thread owns."""
        (module_a, a), (module_b, b) = first, second
        common = self.held(module_a, a) & self.held(module_b, b)
        # A lock made by each call of a function (`lock = Lock()` in the thread's target) is a
        # different lock in each thread, unless the threads share that call.
        lock_frames = {self._frame_of(lock.state) for lock in common}
        if None in lock_frames:
            return None
        key = self.canonical(a.key)
        # An instance attribute is shared by a thread only if the thread works on objects of
        # that class: its own, its starter's, what it was handed, and what those hold.
        owner = key.owner if key.kind is StateKind.FIELD and key._replace(path=()) not in self.class_level else None
        frame = self._frame_of(key)
        contexts_a = [e for e in self.contexts(a.function) if self._counts(e, owner, module_a) and self._shares_frame(e, frame)]
        contexts_b = [e for e in self.contexts(b.function) if self._counts(e, owner, module_b) and self._shares_frame(e, frame)]
        for ea in contexts_a:
            for eb in contexts_b:
                if any(self._shares_frame(ea, frame) and self._shares_frame(eb, frame) for frame in lock_frames):
                    continue  # both threads hold the one lock their shared call made
                if ea != eb:
                    return Overlap(ea, eb)
                entry = self.entries[ea]
                if entry.repeated and not (key.kind is StateKind.FIELD and key.owner == entry.instance_class):
                    return Overlap(ea, eb)
            if self.settings.preview and b.function in self.main and not self.ordered(b, ea):
                return Overlap(ea, MAIN)
        if self.settings.preview and a.function in self.main:
            for eb in contexts_b:
                if not self.ordered(a, eb):
                    return Overlap(MAIN, eb)
        return None

    def _frame_of(self, key: StateKey) -> str | None:
        """The function whose every call makes this state anew (label form, `mod.outer`): a
        closure cell's function, or the function a local class is defined in; None for state
        that outlives calls (globals, fields of module-level classes)."""
        if key.kind is StateKind.CLOSURE:
            return key.owner
        if key.kind is StateKind.FIELD:
            klass = self.classes.get(key.owner)
            if klass is not None and ".<locals>." in klass.id.qualname:
                return str(FunctionId(klass.id.module, klass.id.qualname.rsplit(".<locals>.", 1)[0]))
        return None

    def _shares_frame(self, entry_index: int, frame: str | None) -> bool:
        """Threads share a call's closure cells, locals and local-class instances only when that
        call starts them (`Thread(target=inner)` or `Thread(target=f, args=(local,))` in `outer`)
        or they run code defined inside it. An entry that runs `outer` itself, or code that calls
        it, makes a new frame per thread: nothing is shared."""
        if frame is None:
            return True
        entry = self.entries[entry_index]

        def within(function: FunctionId) -> bool:
            return str(function).startswith(frame + ".")

        started_here = entry.starter is not None and (str(entry.starter) == frame or within(entry.starter))
        return started_here or any(within(target) for target in entry.targets)

    def _counts(self, entry_index: int, owner: str | None, module: ModuleSummary) -> bool:
        """Whether a thread entry is evidence for an access: it must work on objects of the
        state's class; by default, threads a test starts only count for test code, and a
        finalizer (which runs when nothing else can reach its object) does not count."""
        entry = self.entries[entry_index]
        if owner is not None and owner not in self.covers(entry_index) and owner not in self.singletons:
            return False
        if self.settings.preview:
            return True
        if entry.kind is EntryKind.FINALIZER:
            return False
        if entry.context is ContextKind.API:
            return True  # declared: many threads call it at once (tests too, under the pytest plugin)
        return not (TEST_PATH.search(entry.module) and not TEST_PATH.search(module.path))

    def writers(self, key: StateKey) -> list[tuple[ModuleSummary, Access]]:
        """Accesses that write the state (or change the container), outside construction."""
        found = self._writers_memo.get(key)
        if found is None:
            found = self._writers_memo[key] = [
                (summary, access)
                for summary, access in self.accesses.get(self.canonical(key), ())
                if access.kind in WRITES and not self.in_construction(access)
            ]
        return found

    def confined(self, key: StateKey, function: FunctionId | None = None) -> bool:
        """@thread_confined: a class whose instances are not shared, or a function one thread runs."""
        if function is not None and (facts := self.functions.get(function)) is not None and facts.confined:
            return True
        if key.kind is StateKind.FIELD:
            return any(self.classes[c].confined for c in self.mro(key.owner) if c in self.classes) or any(
                self.classes[sub].confined for sub in self.subclasses.get(key.owner, ())
            )
        return False

    def in_construction(self, access: Access) -> bool:
        """A field access while its object is being made (and not yet shared)."""
        return access.key.kind is StateKind.FIELD and self.is_constructor(access.function)

    def owner_locks(self, key: StateKey) -> set[LockId]:
        """The locks a class makes for its instances (fields), or a module for its globals."""
        key = self.canonical(key)
        if key.kind not in (StateKind.FIELD, StateKind.GLOBAL):
            return set()
        if self._locks_by_owner is None:
            self._locks_by_owner = defaultdict(set)
            for lock in self.locks:
                self._locks_by_owner[(lock.state.kind, lock.state.owner)].add(lock)
        return self._locks_by_owner.get((key.kind, key.owner), set())

    def lock_discipline(self, module: ModuleSummary, access: Access, *, uses_only: bool = False) -> tuple[ModuleSummary, Access, LockId] | None:
        """Another access to the same state under a lock (the owner's own lock: the class's for its
        fields, the module's for its globals; or, with DISCIPLINE_ANY_LOCK, any lock) that can run
        while this one, which holds none of the locks the others take: the lock discipline the
        code shows elsewhere is broken here (Infer's RacerD idea). Accesses in construction, and
        ones ordered with the guarded code's threads (before `start()`, after `join()`), do not
        break it. The guarded accesses that show the discipline are writes; with `uses_only` (an
        access that calls a method of the object), calls that change the object count too."""
        if self.in_construction(access) or access.function.qualname == "<module>":
            return None
        facts = self.functions[access.function]
        if facts.is_async and not self.contexts(access.function):
            return None  # a coroutine: the event loop's one thread runs it
        if not self.settings.preview and not facts.is_public and not self.callers.get(access.function) and not self.contexts(access.function):
            return None  # a private method nothing calls: called some way gilsafe cannot see, maybe under a lock
        key = self.canonical(access.key)
        if key.kind not in (StateKind.FIELD, StateKind.GLOBAL):
            return None
        guarded = self._guarded(key)
        if not guarded:
            return None
        held = self.held(module, access)
        if any(self.held(summary, other) & held for summary, other in guarded):
            return None  # this access takes a lock the others take
        if access.kind is AccessKind.CALL and any(self.makes_lock(c) for c in self.instance_classes(key)):
            return None  # the object locks itself: its holder's lock is not what keeps it consistent
        mine = self.functions[access.function].klass
        for summary, other in guarded:
            theirs = self.functions[other.function].klass
            if theirs and mine and theirs != mine and theirs in self.classes and not self.is_subclass(mine, frozenset({theirs})):
                continue  # a subclass's lock: the base class's own methods do not know of it
            # The discipline is shown by what the lock protects: writes (or, for objects, calls
            # that change them). A read under a lock is often only convenience.
            if other.kind is AccessKind.CALL:
                if not (uses_only and self.call_changes(other)):
                    continue
            elif other.kind not in WRITES:
                continue
            contexts = self.contexts(other.function)
            if contexts and all(self.ordered(access, entry) for entry in contexts):
                continue
            if access.function == other.function and not self.contexts(access.function):
                continue  # one function, run by one thread at a time as far as gilsafe can see
            lock = sorted(self._discipline_locks(key, summary, other))[0]
            return summary, other, lock
        return None

    def _discipline_locks(self, key: StateKey, summary: ModuleSummary, access: Access) -> frozenset[LockId]:
        held = self.held(summary, access)
        return held if DISCIPLINE_ANY_LOCK else held & frozenset(self.owner_locks(key))

    def guarded(self, key: StateKey) -> list[tuple[ModuleSummary, Access]]:
        """The accesses to `key` that hold one of its owner's locks (outside construction)."""
        return self._guarded(self.canonical(key))

    def _guarded(self, key: StateKey) -> list[tuple[ModuleSummary, Access]]:
        found = self._guard_memo.get(key)
        if found is None:
            found = self._guard_memo[key] = [
                (summary, access)
                for summary, access in self.accesses.get(key, ())
                if not self.in_construction(access)
                and access.function.qualname != "<module>"
                and not self.functions[access.function].is_async
                and self._discipline_locks(key, summary, access)
            ]
        return found

    def call_changes(self, access: Access) -> bool:
        """Whether the method an access calls on an object of the tree changes that object."""
        if access.kind is not AccessKind.CALL:
            return access.kind in WRITES
        methods = self.callables(HeldMethod(access.key, access.detail))
        return any(self.changes_own_state(method) for method in methods)

    def changes_own_state(self, function: FunctionId) -> bool:
        """A method that writes its own object's fields, itself or through its other methods."""
        found = self._changes_memo.get(function)
        if found is not None:
            return found
        self._changes_memo[function] = False  # recursion: not proven
        facts = self.functions.get(function)
        owner = self.root_class(facts.klass) if facts is not None and facts.klass else None
        result = False
        if owner is not None:
            for _, access in self.accesses_in.get(function, ()):
                key = self.canonical(access.key)
                if key.kind is StateKind.FIELD and key.owner == owner and access.kind in WRITES:
                    result = True
                    break
            if not result:
                for callee, _ in self.callees.get(function, ()):
                    callee_facts = self.functions.get(callee)
                    if callee_facts is not None and callee_facts.klass and self.root_class(callee_facts.klass) == owner and self.changes_own_state(callee):
                        result = True
                        break
        self._changes_memo[function] = result
        return result

    def seeds_global_random(self, module: ModuleSummary) -> bool:
        """Whether the program this module is part of seeds the process-wide random state:
        seeding in library code counts everywhere, seeding in tests only for tests."""
        return self._seeded_code or (self._seeded_tests and bool(TEST_PATH.search(module.path)))

    def imports_between(self, first: ModuleSummary, second: ModuleSummary) -> bool:
        """One of two modules imports the other (or they are one)."""
        if first is second:
            return True
        return any(t == second.name or t.startswith(second.name + ".") for t in first.imports.values()) or any(
            t == first.name or t.startswith(first.name + ".") for t in second.imports.values()
        )

    def is_initializer(self, function: FunctionId) -> bool:
        """A method the constructor calls (`reset()`, `_setup()`): it also re-initialises later."""
        return any(self.is_constructor(caller) for caller, _ in self.callers.get(function, ()))

    def makes_lock(self, class_dotted: str) -> bool:
        """A class that makes a lock for its instances means them to be shared."""
        return bool(self.owner_locks(StateKey(StateKind.FIELD, self.root_class(class_dotted), "")))

    def trace(self, function: FunctionId, entry_index: int) -> Trace:
        entry = self.entries[entry_index]
        return Trace(entry.description, entry.module, entry.anchor, tuple(self.chain(function, entry_index)))

    def any_trace(self, function: FunctionId) -> Trace | None:
        contexts = self.contexts(function)
        if not contexts:
            return None
        return self.trace(function, min(contexts))

    def module_of(self, function: FunctionId) -> ModuleSummary | None:
        return self.function_module.get(function)

    def events(self) -> Iterator[tuple[ModuleSummary, Event]]:
        for summary in self.summaries:
            for event in summary.events:
                yield summary, event


def _depends_on_parameters(ref: Ref) -> bool:
    """A callee the binding of parameters can change: a method of an object held in an argument."""
    if isinstance(ref, HeldMethod):
        return ref.key.kind is StateKind.ARGUMENT or ref.key.kind is StateKind.CLOSURE
    if isinstance(ref, Returned):
        return _depends_on_parameters(ref.callee)
    return False

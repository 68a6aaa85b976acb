"""Typed identities shared by the module summaries and the project pass.

Everything here is a small immutable tuple, so summaries pickle compactly and compare fast.
A *reference* (`Qualified`, `Method`) is what one module can say about something that may live in
another; the project pass resolves it to a definition (`FunctionId`, `ClassId`).
"""

from __future__ import annotations

import enum
from typing import NamedTuple, Union

# The ordinal of a node in the summary walk's pre-order (see syntax.py): stable for the same source,
# so a finding can be placed and quoted by re-parsing only the files that have findings.
Anchor = int


class FunctionId(NamedTuple):
    """A function, method or lambda: its module and its qualified name inside it."""

    module: str  # dotted module name
    qualname: str  # "Class.method", "outer.<locals>.inner", "f.<locals>.<lambda>@12" (12: its anchor)

    @property
    def label(self) -> str:
        """For people: `Cache.get`, `outer.inner`."""
        return self.qualname.replace(".<locals>", "")

    def __str__(self) -> str:
        return f"{self.module}.{self.label}" if self.module else self.label


class ClassId(NamedTuple):
    """A class defined in the linted tree."""

    module: str
    qualname: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.qualname}" if self.module else self.qualname

    @property
    def label(self) -> str:
        return self.qualname.replace(".<locals>", "")


class Kind(enum.Enum):
    """The base of the summaries' enums: members are singletons, so they hash by identity (Enum's
    own hash is Python code, and keys holding kinds are hashed millions of times per run)."""

    __hash__ = object.__hash__

    def __lt__(self, other: object) -> bool:
        # Keys are sorted (the locks a message lists, the first of a discipline's locks), and the
        # tuples compare their kinds first: without an order, two kinds of lock raise TypeError.
        if type(other) is not type(self):
            return NotImplemented
        return self.value < other.value


class StateKind(Kind):
    GLOBAL = "global"  # owner: module name; name: the global
    FIELD = "field"  # owner: the class's dotted name; name: the attribute (on instances or the class)
    CLOSURE = "closure"  # owner: str(FunctionId) of the function that binds the variable
    ARGUMENT = "argument"  # owner: str(FunctionId) whose parameter `name` holds the object
    LOCAL = "local"  # owner: str(FunctionId); only ever a lock's identity (`lock = Lock()` in a function)


class StateKey(NamedTuple):
    """State other threads may see: a variable or attribute, and the path below it.

    `path` holds attribute names and "[]" for any item: `self.d[k].n` is FIELD(C, "d", ("[]", "n")).
    All items of a container are one state: gilsafe does not tell keys apart.
    """

    kind: StateKind
    owner: str
    name: str
    path: tuple[str, ...] = ()

    def child(self, part: str) -> StateKey:
        return self._replace(path=self.path + (part,))

    @property
    def container(self) -> StateKey:
        """The object whose contents an item access changes: `d` for `d[k]`."""
        path = self.path
        while path and path[-1] == "[]":
            path = path[:-1]
        return self._replace(path=path)

    @property
    def is_item(self) -> bool:
        return bool(self.path) and self.path[-1] == "[]"

    @property
    def label(self) -> str:
        """`self._jobs`, `CACHE[]`, `Worker.count` for people."""
        head = {
            StateKind.GLOBAL: self.name,
            StateKind.FIELD: f"{self.owner.rsplit('.', 1)[-1]}.{self.name}",
        }.get(self.kind, self.name)
        return head + "".join(part if part == "[]" else f".{part}" for part in self.path)


class LockId(NamedTuple):
    """A lock, identified by the state that holds it (`self._lock` of class C is FIELD(C, "_lock"))."""

    state: StateKey

    @property
    def label(self) -> str:
        if self.state.kind is StateKind.FIELD:
            return f"self.{self.state.name}" + "".join(p if p == "[]" else f".{p}" for p in self.state.path)
        return self.state.label


class Qualified(NamedTuple):
    """A dotted name as imports spell it (`threading.Thread`, `pkg.workers.run`), resolved across
    modules by the project pass; names outside the linted tree stay as they are."""

    name: str


class Dispatch(Kind):
    EXACT = "exact"  # `Class.m()`, `Worker().run()`: that class's method (or an inherited one)
    VIRTUAL = "virtual"  # `self.m()`: subclasses may override it
    SUPER = "super"  # `super().m()`: the first base class that defines it


class Method(NamedTuple):
    """`self.m()`, `Class.m()`, `super().m()` or `obj.m()` where obj's class is known: method
    `name` of class `owner` (a dotted name), looked up as `dispatch` says."""

    owner: str
    name: str
    dispatch: Dispatch = Dispatch.EXACT


class HeldMethod(NamedTuple):
    """`self._pool.submit`, `REGISTRY.add`: method `name` of whatever object the state `key` holds;
    the project pass looks up what was stored there, in any module."""

    key: StateKey
    name: str


class Returned(NamedTuple):
    """What calling `callee` returns, when that is a callable: `Thread(target=make_worker())`
    runs the function `make_worker` returns."""

    callee: Union[FunctionId, Qualified, Method, HeldMethod]


# What a call or a thread entry may run, as one module can tell.
Ref = Union[FunctionId, Qualified, Method, HeldMethod, Returned]

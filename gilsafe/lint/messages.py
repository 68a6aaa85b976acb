"""Phrases the rules' messages share: how a piece of state and a lock are named, and which
thread entry a finding names. Rules build messages from these and from `Quote`s of the code."""

from __future__ import annotations

from gilsafe.lint.rule import Quote
from gilsafe.lint.summaries.accesses import Access
from gilsafe.lint.summaries.keys import LockId, StateKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import MAIN, Overlap, ProjectFacts


def state(project: ProjectFacts, module: ModuleSummary, access: Access) -> tuple[str | Quote, ...]:
    """`global `n``, `` `self.n` (shared by every thread using this `Stats`) ``, ... The kind is
    the project's: an argument every caller passes the same global for is that global."""
    key = project.canonical(access.key)
    code: tuple[str | Quote, ...] = ("`", Quote(module.path, access.target, width=40), "`") if access.target is not None else (f"`{key.label}`",)
    if key.kind is StateKind.GLOBAL:
        return ("global ", *code)
    if key.kind is StateKind.FIELD:
        owner = access.key.owner if access.key.kind is StateKind.FIELD else key.owner  # the class the code is in
        return (*code, f" (shared by every thread using this `{owner.rsplit('.', 1)[-1]}`)")
    if key.kind is StateKind.CLOSURE:
        return ("closure variable ", *code)
    return ("argument ", *code)


def code(module: ModuleSummary, anchor: int, width: int = 40) -> tuple[str | Quote, ...]:
    return ("`", Quote(module.path, anchor, width=width), "`")


def where(module_path: str, anchor: int) -> Quote:
    return Quote(module_path, anchor, "where")


def locks(held: frozenset[LockId]) -> str:
    return ", ".join(f"`{lock.label}`" for lock in sorted(held))


def trace_for(project: ProjectFacts, access: Access, overlap: Overlap | None = None):
    """The entry that makes the access run in a thread (the one an overlap names first, else any)."""
    if overlap is not None and overlap.first != MAIN:
        return project.trace(access.function, overlap.first)
    return project.any_trace(access.function)


def outside_discipline(project: ProjectFacts, module: ModuleSummary, access: Access, why: str = ""):
    """The message parts and trace when the access breaks the lock discipline its state's owner
    keeps elsewhere (ProjectFacts.lock_discipline), else None."""
    guard = project.lock_discipline(module, access)
    if guard is None:
        return None
    guarded_module, guarded, lock = guard
    return (
        f" outside `{lock.label}`, which `{guarded.function.label}` holds for it (", where(guarded_module.path, guarded.anchor), f"){why}",
    ), trace_for(project, access)


def runner(project: ProjectFacts, entry: int) -> str:
    """`threading.Thread(target=work)` or `the main thread` for the other side of an overlap."""
    if entry == MAIN:
        return "code outside any thread entry"
    return project.entries[entry].description



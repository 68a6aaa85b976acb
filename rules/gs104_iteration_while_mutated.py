"""GS104: thread-run code iterating over a shared container that other thread-run code changes."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.crosscheck import RuntimeCheck
from gilsafe.lint.messages import code, runner, state, trace_for, where
from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.accesses import Access, AccessKind, Change
from gilsafe.lint.summaries.keys import StateKey
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


class IterationWhileMutated(Rule):
    code = "GS104"
    name = "iteration-while-mutated"
    summary = "Iteration over a shared container that thread-run code changes elsewhere, with no common lock."
    when = BOTH
    docs = """
    ## What it does
    Finds `for` loops and comprehensions in thread-run code over shared state (`for k in d`,
    `d.items()`, `enumerate(items)`, ...) when other thread-run code adds to or removes from the same
    container (`d[k] = v`, `del d[k]`, `.append()`, `.pop()`, `.update()`, `.clear()`, ...) and no
    lock is held by both. Iterating over a copy (`list(d)`, `d.copy()`, `sorted(d)`) is fine: the copy
    is made in one step and belongs to the thread.

    ## Why is this bad?
    A dict or set that changes size while a `for` loop walks it raises
    `RuntimeError: dictionary changed size during iteration` in the iterating thread; a list skips
    or repeats items. Under the GIL the other thread can run at every loop iteration; on a
    free-threaded build the iterator can also observe a container mid-resize (torn reads).

    ## Example
    ```python
    import threading

    stats = {}

    def record(key):
        stats[key] = stats.get(key, 0) + 1

    def report():
        for key, value in stats.items():
            print(key, value)
    ```

    ## Use instead
    ```python
    def report():
        with stats_lock:
            snapshot = dict(stats)
        for key, value in snapshot.items():
            print(key, value)
    ```
    (with `record` taking `stats_lock` too).

    ## Fix safety
    No automatic fix.

    ## Options
    `lock-names`, `thread-entry-points`; `# gilsafe: guarded-by=LOCK` comments.
    """

    VALID = [
        Valid(
            """
            import threading
            stats = {}
            stats_lock = threading.Lock()
            def record(key):
                with stats_lock:
                    stats[key] = 1
            def report():
                with stats_lock:
                    for key in stats:
                        print(key)
            threading.Thread(target=record, args=("a",)).start()
            threading.Thread(target=report).start()
            """
        ),
        Valid(
            """
            import threading
            stats = {}
            def record(key):
                stats[key] = 1
            def report():
                for key in list(stats):  # a copy made in one step
                    print(key)
            threading.Thread(target=record, args=("a",)).start()
            threading.Thread(target=report).start()
            """
        ),
        Valid(
            """
            import threading
            names = ["a", "b"]
            def show():
                for name in names:  # nothing running in a thread changes names
                    print(name)
            threading.Thread(target=show).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            stats = {}
            def record(key):
                stats[key] = 1
            def report():
                return sum(v for v in stats.values())
            threading.Thread(target=record, args=("a",)).start()
            threading.Thread(target=report).start()
            """,
            line=6,
        ),
        Invalid(
            """
            from concurrent.futures import ThreadPoolExecutor
            class Registry:
                def __init__(self):
                    self.live = set()
                def join(self, name):
                    self.live.add(name)
                def broadcast(self):
                    for name in self.live:
                        print(name)
            r = Registry()
            with ThreadPoolExecutor() as pool:
                pool.submit(r.join, "a")
                pool.submit(r.broadcast)
            """,
            line=8,
        ),
    ]

    RUNTIME_CHECKS = [
        RuntimeCheck(
            "summing a dict's values while another thread inserts keys",
            racy="""
            import threading

            stats = {}

            def record(n):
                for key in range(n):
                    stats[key] = 1

            def report(out):
                for _ in range(200):
                    try:
                        out.append(sum(v for v in stats.values()))
                    except RuntimeError:
                        out.append(None)

            def trial():
                stats.clear()
                out = []
                threads = [threading.Thread(target=record, args=(200_000,)), threading.Thread(target=report, args=(out,))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return None in out
            """,
            fixed="""
            import threading

            stats = {}
            stats_lock = threading.Lock()

            def record(n):
                for key in range(n):
                    with stats_lock:
                        stats[key] = 1

            def report(out):
                for _ in range(200):
                    try:
                        with stats_lock:
                            out.append(sum(v for v in stats.values()))
                    except RuntimeError:
                        out.append(None)

            def trial():
                stats.clear()
                out = []
                threads = [threading.Thread(target=record, args=(200_000,)), threading.Thread(target=report, args=(out,))]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return None in out
            """,
            shows_under=BOTH,
            why="the generator is a Python frame: the GIL can change hands at every value it yields",
            example=0,
        ),
        RuntimeCheck(
            "iterating a set that pool workers add to",
            racy="""
            from concurrent.futures import ThreadPoolExecutor

            class Registry:
                def __init__(self):
                    self.live = set()

                def join(self, names):
                    for name in names:
                        self.live.add(name)

                def broadcast(self):
                    failed = 0
                    for _ in range(100):
                        try:
                            for name in self.live:
                                pass
                        except RuntimeError:
                            failed += 1
                    return failed

            def trial():
                r = Registry()
                with ThreadPoolExecutor(2) as pool:
                    pool.submit(r.join, range(300_000))
                    failed = pool.submit(r.broadcast)
                return failed.result() > 0
            """,
            fixed="""
            import threading
            from concurrent.futures import ThreadPoolExecutor

            class Registry:
                def __init__(self):
                    self.live = set()
                    self.lock = threading.Lock()

                def join(self, names):
                    for name in names:
                        with self.lock:
                            self.live.add(name)

                def broadcast(self):
                    failed = 0
                    for _ in range(100):
                        try:
                            with self.lock:
                                for name in self.live:
                                    pass
                        except RuntimeError:
                            failed += 1
                    return failed

            def trial():
                r = Registry()
                with ThreadPoolExecutor(2) as pool:
                    pool.submit(r.join, range(300_000))
                    failed = pool.submit(r.broadcast)
                return failed.result() > 0
            """,
            shows_under=BOTH,
            why="the `for` loop's back-edge is a switch point under the GIL",
            example=1,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access in module.accesses:
            if access.kind is not AccessKind.ITERATE:
                continue
            key = project.canonical(access.key)
            kind = project.item_kind(key)
            if kind in ("numpy", "torch", "cupy") or project.in_construction(access) or project.is_thread_local(key):
                continue
            if project.confined(key, access.function):
                continue
            found = self._conflict(project, module, access, key, kind)
            if found is None:
                continue
            parts, trace = found
            if access.detail == "returned view":
                what = ("returns a live view of ", *state(project, module, access), ", which callers iterate after it returns, while ")
            else:
                what = ("iterates ", *state(project, module, access), " while ")
            yield self.report(
                module, access.anchor, *what, *parts,
                ": the loop can fail with 'changed size during iteration' or skip items", trace=trace,
            )

    def _conflict(self, project: ProjectFacts, module: ModuleSummary, loop: Access, key: StateKey, kind: str | None):
        mine = (module, loop)
        held = project.held(module, loop)
        changes = [other for other in project.writers(key) if _changes_size(other[1], kind) and not _inside(other, mine)]
        for other in changes:
            overlap = project.overlap(mine, other)
            if overlap is None:
                continue
            other_module, change = other
            missing = "outside any lock" if not (held or project.held(*other)) else "with no lock held by both"
            return (
                *code(other_module, change.anchor), " (", where(other_module.path, change.anchor),
                f", run by {runner(project, overlap.second)}) changes its size, {missing}",
            ), trace_for(project, loop, overlap)
        guard = project.lock_discipline(module, loop) if changes else None
        if guard is not None:
            guarded_module, guarded, lock = guard
            other_module, change = next((c for c in changes if guard[2] in project.held(*c)), changes[0])
            return (
                *code(other_module, change.anchor), " (", where(other_module.path, change.anchor),
                f") changes its size; `{guarded.function.label}` holds `{lock.label}` for it (",
                where(guarded_module.path, guarded.anchor), ") but the loop does not",
            ), trace_for(project, loop)
        return None


def _changes_size(access: Access, kind: str | None) -> bool:
    change = access.change
    if change is Change.GROW:
        return kind != "list"  # a loop over a list another thread appends to just sees more items
    if change in (Change.SHRINK, Change.ITEM_DELETE):
        return True
    if change is Change.ITEM_STORE:
        return kind != "list"  # a list slot store does not change the list's size
    return False


def _inside(change: tuple[ModuleSummary, Access], loop: tuple[ModuleSummary, Access]) -> bool:
    """Changing what you iterate in the same loop is a one-thread bug, not a race."""
    (change_module, write), (loop_module, access) = change, loop
    return (
        change_module is loop_module
        and write.function == access.function
        and access.end is not None
        and access.anchor <= write.anchor <= access.end
    )

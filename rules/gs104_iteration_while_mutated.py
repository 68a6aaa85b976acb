"""GS104: thread-run code iterating over a shared container that other thread-run code changes."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gilsafe.crosscheck import RuntimeCheck
from gilsafe.model import THREAD_MODULES, EntrySite, SharedState, clip
from gilsafe.mutations import CHANGES_SIZE, writes_of
from gilsafe.rule import BOTH, Invalid, Rule, Valid

VIEWS = frozenset({"items", "keys", "values"})
WRAPPERS = frozenset({"builtins.enumerate", "builtins.reversed", "builtins.zip", "builtins.iter"})
# Copies made by one C call: iterating over the copy is iterating over this thread's own list.
SNAPSHOTS = frozenset({"builtins.list", "builtins.tuple", "builtins.sorted", "builtins.dict", "builtins.set", "builtins.frozenset", "copy.copy"})


@dataclass(frozen=True)
class _Site:
    node: cst.CSTNode
    state: SharedState
    locks: frozenset[str]
    entry: EntrySite


class IterationWhileMutated(Rule):
    code = "GS104"
    name = "iteration-while-mutated"
    summary = "Iteration over a shared container that thread-run code changes elsewhere, with no common lock."
    when = BOTH
    interesting_modules = THREAD_MODULES
    needs_thread_entries = True
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._iterations: list[_Site] = []
        self._changes: list[_Site] = []

    def visit_For(self, node: cst.For) -> None:
        self._note_iteration(node, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._note_iteration(node, node.iter)

    def _note_iteration(self, node: cst.CSTNode, iterable: cst.BaseExpression) -> None:
        iterable = self._container(iterable)
        if iterable is None:
            return
        state = self.model.shared_state(iterable)
        site = self.model.entry_site(node)
        if state is None or site is None or self.model.array_library(state):
            return
        self._iterations.append(_Site(node, state, self.model.guarding_locks(node), site))

    def _container(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """What a loop really walks: `d` for `d.items()` and `enumerate(d)`; None for a copy."""
        while isinstance(expr, cst.Call):
            names = self.model.qualified_names(expr.func)
            if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in VIEWS:
                expr = expr.func.value
            elif names & WRAPPERS and expr.args:
                expr = expr.args[0].value
            else:
                return None  # a copy (list(d), sorted(d), d.copy()) or a call's fresh result
        return expr if isinstance(expr, (cst.Name, cst.Attribute, cst.Subscript)) else None

    def visit_Assign(self, node: cst.Assign) -> None:
        self._note_change(node)

    def visit_Del(self, node: cst.Del) -> None:
        self._note_change(node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._note_change(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._note_change(node)

    def _note_change(self, node: cst.CSTNode) -> None:
        for write in writes_of(node):
            if write.container is None:
                continue
            if write.how not in CHANGES_SIZE and write.how not in ("store", "del", "augmented"):
                continue
            state = self.model.shared_state(write.container)
            if state is None:
                continue
            if write.how in ("store", "augmented") and self.model.value_kind(state) == "list":
                continue  # a list slot store does not change the list's size
            site = self.model.entry_site(node)
            if site is not None:
                self._changes.append(_Site(node, state, self.model.guarding_locks(node), site))

    def finish(self) -> None:
        for loop in self._iterations:
            for change in self._changes:
                if change.state.key != loop.state.key or loop.locks & change.locks:
                    continue
                if self.model.within(change.node, loop.node):
                    continue  # changing what you iterate in the same loop is a one-thread bug
                line = self.model.position(change.node).start.line
                missing = "outside any lock" if not (loop.locks or change.locks) else "with no lock held by both"
                self.report(
                    loop.node if isinstance(loop.node, cst.For) else self.model.parent(loop.node) or loop.node,
                    f"iterates {loop.state.label} while `{clip(self.model.code_for(change.node), 40)}` "
                    f"(line {line}, run by {change.entry.description}) changes its size, {missing}: "
                    f"the loop can fail with 'changed size during iteration' or skip items",
                    entry=self.model.describe(loop.entry),
                )
                break

"""GS103: check-then-act on shared state in thread-run code outside a lock."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.crosscheck import RuntimeCheck
from gilsafe.lint.messages import code, outside_discipline, runner, state, trace_for, where
from gilsafe.lint.rule import BOTH, FREE_THREADED, Invalid, Quote, Report, Rule, Valid
from gilsafe.lint.summaries.accesses import Access, AccessKind
from gilsafe.lint.summaries.keys import StateKey, StateKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


class CheckThenAct(Rule):
    code = "GS103"
    name = "check-then-act"
    summary = "Check-then-act on shared state in thread-run code outside a lock."
    when = BOTH
    docs = """
    ## What it does
    Finds an `if` whose test reads shared state and whose body (or `else`) changes that same state,
    in code that runs in a thread, with the change outside a lock: `if k not in d: d[k] = make()`,
    lazy singletons `if self._x is None: self._x = make()`, `if q: q.pop()`,
    `if d.get(k) is None: d[k] = ...`. Double-checked locking (the change made under a lock) is fine.

    ## Why is this bad?
    Between the check and the act another thread can make the same check and act too, or undo what
    the check saw: two objects are built where one was meant (two connections, two caches, a counter
    reset), or `pop()` runs on a queue another thread has just emptied. Under the GIL the switch can
    come at any Python call between the two, such as `make()`; a free-threaded build needs no call at
    all.

    ## Example
    ```python
    import threading

    _instance = None

    def get_client():
        global _instance
        if _instance is None:
            _instance = Client()
        return _instance

    threading.Thread(target=get_client).start()
    ```

    ## Use instead
    ```python
    _instance = None
    _instance_lock = threading.Lock()

    def get_client():
        global _instance
        if _instance is None:
            with _instance_lock:
                if _instance is None:  # checked again under the lock
                    _instance = Client()
        return _instance
    ```
    Or `functools.cache` on a function that makes it, `dict.setdefault(k, v)` (one atomic step),
    or `queue.Queue` instead of a list used as a queue.

    ## Fix safety
    No automatic fix.

    ## Options
    `lock-names`, `thread-entry-points`; `# gilsafe: guarded-by=LOCK` comments.
    """

    VALID = [
        Valid(
            """
            import threading
            _instance = None
            _instance_lock = threading.Lock()
            def get_client():
                global _instance
                if _instance is None:
                    with _instance_lock:
                        if _instance is None:
                            _instance = object()
                return _instance
            threading.Thread(target=get_client).start()
            """
        ),
        Valid(
            """
            import threading
            def worker(items):
                seen = {}
                for item in items:
                    if item not in seen:  # a fresh dict: this thread's own
                        seen[item] = 1
                return seen
            threading.Thread(target=worker, args=([1, 1],)).start()
            """
        ),
        Valid(
            """
            import threading
            registry = {}
            def register(name):
                return registry.setdefault(name, object())  # one atomic step
            threading.Thread(target=register, args=("a",)).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            _instance = None
            def get_client():
                global _instance
                if _instance is None:
                    _instance = object()
                return _instance
            for _ in range(2):
                threading.Thread(target=get_client).start()
            """,
            line=5,
        ),
        Invalid(
            """
            from concurrent.futures import ThreadPoolExecutor
            class Cache:
                def __init__(self):
                    self.values = {}
                def get(self, key):
                    if key not in self.values:
                        self.values[key] = len(key)
                    return self.values[key]
            cache = Cache()
            with ThreadPoolExecutor() as pool:
                pool.map(cache.get, ["a", "a"])
            """,
            line=6,
        ),
        Invalid(
            """
            import threading
            jobs = [1, 2, 3]
            def drain():
                while True:
                    if jobs:
                        jobs.pop()
                    else:
                        return
            threading.Thread(target=drain).start()
            threading.Thread(target=drain).start()
            """,
            line=5,
        ),
    ]

    RUNTIME_CHECKS = [
        RuntimeCheck(
            "lazy singleton built by two threads",
            racy="""
            import threading
            import time

            _instance = None
            built = []

            def make():
                built.append(1)
                time.sleep(0.001)  # connecting: I/O releases the GIL
                return object()

            def get_client():
                global _instance
                if _instance is None:
                    _instance = make()
                return _instance

            def trial():
                global _instance
                _instance = None
                built.clear()
                barrier = threading.Barrier(4)
                def worker():
                    barrier.wait()
                    get_client()
                threads = [threading.Thread(target=worker) for _ in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return len(built) > 1
            """,
            fixed="""
            import threading
            import time

            _instance = None
            _instance_lock = threading.Lock()
            built = []

            def make():
                built.append(1)
                time.sleep(0.001)  # connecting: I/O releases the GIL
                return object()

            def get_client():
                global _instance
                if _instance is None:
                    with _instance_lock:
                        if _instance is None:
                            _instance = make()
                return _instance

            def trial():
                global _instance
                _instance = None
                built.clear()
                barrier = threading.Barrier(4)
                def worker():
                    barrier.wait()
                    get_client()
                threads = [threading.Thread(target=worker) for _ in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return len(built) > 1
            """,
            shows_under=BOTH,
            why="the GIL may change hands when `make()` is called, after the check",
            example=0,
        ),
        RuntimeCheck(
            "`if key not in self.values: self.values[key] = compute(key)` from a pool",
            racy="""
            import threading
            import time
            from concurrent.futures import ThreadPoolExecutor

            computed = []

            def compute(key):
                computed.append(key)
                time.sleep(0.0005)  # a lookup elsewhere: I/O releases the GIL
                return len(key)

            class Cache:
                def __init__(self):
                    self.values = {}

                def get(self, key):
                    if key not in self.values:
                        self.values[key] = compute(key)
                    return self.values[key]

            def trial():
                computed.clear()
                cache = Cache()
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(cache.get, [f"k{i % 20}" for i in range(200)]))
                return len(computed) > len(set(computed))
            """,
            fixed="""
            import threading
            import time
            from concurrent.futures import ThreadPoolExecutor

            computed = []

            def compute(key):
                computed.append(key)
                time.sleep(0.0005)  # a lookup elsewhere: I/O releases the GIL
                return len(key)

            class Cache:
                def __init__(self):
                    self.values = {}
                    self._lock = threading.Lock()

                def get(self, key):
                    with self._lock:
                        if key not in self.values:
                            self.values[key] = compute(key)
                        return self.values[key]

            def trial():
                computed.clear()
                cache = Cache()
                with ThreadPoolExecutor(4) as pool:
                    list(pool.map(cache.get, [f"k{i % 20}" for i in range(200)]))
                return len(computed) > len(set(computed))
            """,
            shows_under=BOTH,
            why="the GIL may change hands when `compute()` is called, between the check and the store",
            example=1,
        ),
        RuntimeCheck(
            "`if jobs: jobs.pop()` draining a shared list from two threads",
            racy="""
            import threading

            jobs = []
            failures = []

            def drain():
                while True:
                    if jobs:
                        try:
                            jobs.pop()
                        except IndexError:
                            failures.append(1)
                    else:
                        return

            def trial():
                failures.clear()
                jobs[:] = range(200_000)
                threads = [threading.Thread(target=drain) for _ in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return bool(failures)
            """,
            fixed="""
            import threading

            jobs = []
            jobs_lock = threading.Lock()
            failures = []

            def drain():
                while True:
                    with jobs_lock:
                        if jobs:
                            try:
                                jobs.pop()
                            except IndexError:
                                failures.append(1)
                        else:
                            return

            def trial():
                failures.clear()
                jobs[:] = range(200_000)
                threads = [threading.Thread(target=drain) for _ in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                return bool(failures)
            """,
            shows_under=FREE_THREADED,
            why="no Python call falls between `if jobs` and `jobs.pop()`, so under the GIL no switch "
            "does; a free-threaded build runs both threads' checks and pops at once",
            example=2,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        reported: set[int] = set()
        for access in module.accesses:
            if access.kind is not AccessKind.CHECK_THEN_ACT or access.check in reported:
                continue
            key = project.canonical(access.key)
            if key.kind is StateKind.ARGUMENT:
                continue  # arguments: pool.map(f, items) hands each thread its own object
            if access.detail == "= constant" and not self.settings.preview:
                continue  # `if self.running: self.running = False`: both threads store the same value
            if project.in_construction(access) or project.is_thread_local(key) or project.confined(key, access.function):
                continue
            missing = self._missing(project, module, access, key)
            if missing is None:
                continue
            parts, trace = missing
            reported.add(access.check)
            yield self.report(
                module, access.check, "check-then-act on ", *state(project, module, access), ": `if ",
                Quote(module.path, access.check, "test", 40), "` then ", *code(module, access.anchor), " (",
                where(module.path, access.anchor), ")", *parts, "; another thread can act between the check and the act",
                trace=trace,
            )

    @staticmethod
    def _missing(project: ProjectFacts, module: ModuleSummary, access: Access, key: StateKey):
        held = project.held(module, access)
        declared = project.guard_declared(key)
        if declared is not None and declared not in held and project.contexts(access.function):
            return (f" without `{declared.label}`, which its `guarded-by` comment names",), trace_for(project, access)
        if not held:
            # Two threads doing this check-then-act, or another thread writing the state between.
            for other in project.writers(key):
                overlap = project.overlap((module, access), other)
                if overlap is not None:
                    if other[1] is access:
                        return (" outside any lock",), trace_for(project, access, overlap)
                    other_module, write = other
                    return (
                        " outside any lock, while ", *code(other_module, write.anchor), " (", where(other_module.path, write.anchor),
                        f", run by {runner(project, overlap.second)}) writes it too",
                    ), trace_for(project, access, overlap)
        breach = outside_discipline(project, module, access)
        if breach is not None:
            return breach
        if not held and project.settings.preview:
            # A container whose class locks each of its own methods is meant to be shared; the
            # pair of calls is still two steps.
            locked = sorted(c for c in project.instance_classes(key.container) if project.makes_lock(c))
            if locked:
                name = locked[0].rsplit(".", 1)[-1]
                return (
                    f" outside any lock: `{name}` locks each call but not the pair",
                ), trace_for(project, access)
        return None

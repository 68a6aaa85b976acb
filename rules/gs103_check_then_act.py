"""GS103: check-then-act on shared state in thread-run code outside a lock."""

from __future__ import annotations

import libcst as cst

from gilsafe.crosscheck import RuntimeCheck
from gilsafe.model import THREAD_MODULES, ModuleModel, SharedState, clip
from gilsafe.mutations import Write, reads_in, walk, writes_of
from gilsafe.rule import BOTH, FREE_THREADED, Invalid, Rule, Valid


def checked_by_enclosing_if(model: ModuleModel, write: Write, state: SharedState) -> cst.If | None:
    """The `if` (in the same function) whose test reads the state `write` changes, if any: the write
    is then the act of a check-then-act."""
    keys = _written_keys(model, write, state)
    current = model.parent(write.node)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.Module)):
        if isinstance(current, cst.If) and not model.within(write.node, current.test):
            for read in reads_in(current.test):
                read_state = model.shared_state(read)
                if read_state is not None and read_state.key in keys:
                    return current
        current = model.parent(current)
    return None


def _written_keys(model: ModuleModel, write: Write, state: SharedState) -> set[str]:
    """The state a write changes, and the container it changes (`d` for `d[k] = v`)."""
    keys = {state.key}
    if write.container is not None and (container := model.shared_state(write.container)) is not None:
        keys.add(container.key)
    return keys


class CheckThenAct(Rule):
    code = "GS103"
    name = "check-then-act"
    summary = "Check-then-act on shared state in thread-run code outside a lock."
    when = BOTH
    interesting_modules = THREAD_MODULES
    needs_thread_entries = True
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

    def visit_If(self, node: cst.If) -> None:
        site = self.model.entry_site(node)
        if site is None:
            return
        checked = self._checked_states(node.test)
        if not checked:
            return
        for write in self._acts(node):
            state = self.model.shared_state(write.target)
            if state is None or state.kind == "argument":
                continue  # arguments: pool.map(f, items) hands each thread its own object
            matched = next((checked[key] for key in _written_keys(self.model, write, state) if key in checked), None)
            if matched is None:
                continue
            missing = self.model.missing_lock(write.node, state)
            if missing is None:
                continue
            act = clip(self.model.code_for(write.node), 40)
            line = self.model.position(write.node).start.line
            self.report(
                node,
                f"check-then-act on {matched.label}: `if {clip(self.model.code_for(node.test), 40)}` then "
                f"`{act}` (line {line}) {missing}; another thread can act between the check and the act",
                entry=self.model.describe(site),
            )
            return

    def _checked_states(self, test: cst.BaseExpression) -> dict[str, SharedState]:
        found: dict[str, SharedState] = {}
        for read in reads_in(test):
            state = self.model.shared_state(read)
            if state is not None:
                found.setdefault(state.key, state)
        return found

    def _acts(self, node: cst.If):
        """Writes in the branches, not those of nested `if`s that check again (their own report)."""
        branches = [node.body] + ([node.orelse] if node.orelse is not None else [])
        for branch in branches:
            for current in (branch, *walk(branch)):
                for write in writes_of(current):
                    if write.how != "augmented":  # GS101 reports read-modify-writes
                        yield write

"""GS102: thread-run code rebinding a global or changing a module-level container outside a lock."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint.messages import code, outside_discipline, state, trace_for
from gilsafe.lint.rule import BOTH, FREE_THREADED, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.accesses import GROWERS, Access, AccessKind, Change
from gilsafe.lint.summaries.keys import StateKey, StateKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts

# Growing a container with one call is one atomic step on both builds and the usual way to collect
# results (`results.append(x)`); GS104 reports iterating while it happens. `setdefault` is the atomic
# get-or-insert that GS103 recommends instead of check-then-act, so it is not reported either.
NOT_REPORTED = GROWERS - {"update", "insert"}


class UnguardedModuleStateWrite(Rule):
    code = "GS102"
    name = "unguarded-module-state-write"
    summary = "Thread-run code rebinds a global or changes a module-level container outside a lock."
    when = BOTH
    docs = """
    ## What it does
    Finds, in code that runs in a thread and holds no lock: rebinding a global (`global x; x = ...`),
    `del` of one, and changes to a module-level container (or an attribute of a module-level object):
    `CACHE[k] = v`, `del CACHE[k]`, `CACHE.update(...)`, `.pop()`, `.popitem()`, `.clear()`,
    `.remove()`, `.insert()`, `.sort()`, `.reverse()`.

    Not reported: `x += 1` and `x = x + 1` (GS101 reports those), writes inside `if` tests of the same
    state (GS103), `append`/`add`/`extend` (one atomic step that only grows the container), arrays
    (GS301/GS303), `setdefault` (the atomic get-or-insert GS103 recommends), and stores into a list slot chosen by the function's arguments
    (`out[i] = f(i)`, the usual way to hand each thread its own slot). Without `preview`, not
    attributes of an object imported from outside the linted tree (`from ctx import STATE;
    STATE.user = u`): gilsafe cannot see its class, which may keep them per thread (a
    `threading.local` proxy, a `__setattr__` over a `ContextVar`).

    ## Why is this bad?
    Module state is one object for every thread. A write outside a lock can land between another
    thread's read and its use of the value: a reader sees the cache half-updated across two keys,
    a `pop()` empties the container between another thread's `if CACHE:` and its `CACHE[0]`, a flag
    flips while another thread is halfway through a multi-step update. Under the GIL each single
    store is atomic, but nothing orders it against the other threads' steps. `list.sort()` and
    `reverse()` are reported only for `--target free-threaded`: under the GIL a sort of built-in
    values runs without a thread switch, but a free-threaded build lets another thread read the list
    while the sort has emptied it.

    ## Example
    ```python
    import threading

    CACHE = {}

    def refresh(key, value):
        CACHE.clear()
        CACHE[key] = value

    threading.Thread(target=refresh, args=("a", 1)).start()
    ```

    ## Use instead
    ```python
    import threading

    CACHE = {}
    CACHE_LOCK = threading.Lock()

    def refresh(key, value):
        with CACHE_LOCK:
            CACHE.clear()
            CACHE[key] = value
    ```
    Readers take the same lock, or read a snapshot the writer swaps in with one assignment. For a
    stop flag use `threading.Event`.

    ## Fix safety
    No automatic fix: which lock to take is a design decision.

    ## Options
    `lock-names`, `thread-entry-points`, `target` (for `sort`/`reverse`); a `# gilsafe: guarded-by=LOCK`
    comment where the state is made declares its lock.

    ## Runtime evidence
    A lone store loses nothing by itself, so there is no lost-update driver for this rule: the race is
    between the write and another thread's multi-step use. The corpus in `tests/corpus/`
    (cache clears, flags, config swaps) pins which of these gilsafe reports; GS103's and GS104's
    evidence shows the failures such unguarded writes feed.
    """

    VALID = [
        Valid(
            """
            import threading
            CACHE = {}
            CACHE_LOCK = threading.Lock()
            def refresh(key, value):
                with CACHE_LOCK:
                    CACHE.clear()
                    CACHE[key] = value
            threading.Thread(target=refresh, args=("a", 1)).start()
            """
        ),
        Valid(
            """
            import threading
            results = []
            def work(x):
                results.append(x * x)  # one atomic step
            threading.Thread(target=work, args=(3,)).start()
            """
        ),
        Valid(
            """
            import threading
            out = [None] * 4
            def work(i):
                out[i] = i * i  # each thread its own slot
            for i in range(4):
                threading.Thread(target=work, args=(i,)).start()
            """
        ),
        Valid(
            """
            import threading
            from requestcontext import CONTEXT  # not in the linted tree
            def handle(user):
                CONTEXT.user = user  # its class may keep this per thread
            threading.Thread(target=handle, args=("ada",)).start()
            """
        ),
        Valid(
            """
            CACHE = {}
            def refresh(key, value):
                CACHE.clear()  # nothing runs this in a thread
                CACHE[key] = value
            """
        ),
        Valid(
            """
            import threading
            names = ["b", "a"]
            def tidy():
                names.sort()  # atomic under the GIL for built-in values
            threading.Thread(target=tidy).start()
            """,
            settings={"target": "gil"},
        ),
        Valid(
            """
            import threading
            import gilsafe
            from myapp import locking
            CONFIG = {}
            @gilsafe.requires_lock("CONFIG_LOCK")
            def set_option(key, value):
                CONFIG[key] = value  # every caller holds CONFIG_LOCK
            def worker():
                with locking.hold("config"):  # takes CONFIG_LOCK where gilsafe cannot see it
                    set_option("a", 1)
            threading.Thread(target=worker).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            CACHE = {}
            def refresh(key, value):
                CACHE.clear()
                CACHE[key] = value
            threading.Thread(target=refresh, args=("a", 1)).start()
            """,
            line=4,
        ),
        Invalid(
            """
            import threading
            current = None
            def switch(config):
                global current
                current = config
            threading.Thread(target=switch, args=({},)).start()
            """,
            line=5,
        ),
        Invalid(
            """
            from concurrent.futures import ThreadPoolExecutor
            pending = {"a": 1}
            def take(key):
                return pending.pop(key, None)
            with ThreadPoolExecutor() as pool:
                pool.map(take, ["a", "a"])
            """,
            line=4,
        ),
        Invalid(
            """
            import threading
            names = ["b", "a"]
            def tidy():
                names.sort()
            threading.Thread(target=tidy).start()
            """,
            line=4,
            settings={"target": "free-threaded"},
        ),
        Invalid(
            """
            import threading
            TOTALS = {}  # gilsafe: guarded-by=TOTALS_LOCK
            TOTALS_LOCK = threading.Lock()
            OTHER_LOCK = threading.Lock()
            def record(key, value):
                with OTHER_LOCK:
                    TOTALS[key] = value
            threading.Thread(target=record, args=("a", 1)).start()
            """,
            line=7,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access in module.accesses:
            if access.kind not in (AccessKind.STORE, AccessKind.CHANGE):
                continue
            key = project.canonical(access.key)
            # Module state only: a closure variable rebound in a thread is nearly always a result
            # handed back to the function that joins the thread (measured on the standard library's tests).
            if key.kind is not StateKind.GLOBAL or access.function.qualname == "<module>":
                continue
            if access.change is Change.GROW and access.detail in NOT_REPORTED:
                continue
            if key.owner not in project.modules and key.path[:1] not in ((), ("[]",)) and not self.settings.preview:
                continue  # an attribute of an object from outside the tree: its class may keep it per thread
            kind = project.value_kind(key)
            if kind in ("numpy", "torch", "cupy") or project.is_thread_local(key) or project.confined(key, access.function):
                continue
            if access.change is Change.ITEM_STORE and kind == "list" and access.partitioned:
                continue  # `out[i] = f(i)`: each thread its own slot
            missing = self._missing(project, module, access, key)
            if missing is None:
                continue
            parts, trace = missing
            if access.kind is AccessKind.STORE:
                verb = "deletes" if access.detail == "del" else "rebinds"
            else:
                verb = "changes"
            yield self.report(
                module, access.anchor, *code(module, access.anchor, 50), f" {verb} ", *state(project, module, access), *parts,
                ": another thread can read or change it between its own steps",
                trace=trace, when=FREE_THREADED if access.change is Change.REORDER else BOTH,
            )

    @staticmethod
    def _missing(project: ProjectFacts, module: ModuleSummary, access: Access, key: StateKey):
        """Why the write is unguarded, and the thread entry to name; None when it is not."""
        held = project.held(module, access)
        threaded = bool(project.contexts(access.function))
        declared = project.guard_declared(key)
        if threaded and declared is not None and declared not in held:
            return (f" without `{declared.label}`, which its `guarded-by` comment names",), trace_for(project, access)
        if threaded and not held:
            mine = project.contexts(access.function)
            # Other code that touches the state: if all of it runs before the thread starts or
            # after it was waited for (join, result), it is ordered with the write. Module state
            # nothing else in the tree touches is still anyone's to read.
            others = [
                other for other in project.accesses.get(key, ())
                if other[1] is not access and (other[1].function in project.main or not set(project.contexts(other[1].function)) <= set(mine))
            ]
            if not others or any(project.overlap((module, access), other) for other in others):
                return (" outside any lock",), trace_for(project, access)
            return None
        return outside_discipline(project, module, access) if project.settings.preview else None

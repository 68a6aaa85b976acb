"""GS102: thread-run code rebinding a global or changing a module-level container outside a lock."""

from __future__ import annotations

import libcst as cst

from gilsafe.model import THREAD_MODULES, clip
from gilsafe.mutations import GROWERS, REORDERERS, Write, reads_target, writes_of
from gilsafe.rule import BOTH, FREE_THREADED, Invalid, Rule, Valid
from gilsafe.rules.gs103_check_then_act import checked_by_enclosing_if

# Growing a container with one call is one atomic step on both builds and the usual way to collect
# results (`results.append(x)`); GS104 reports iterating while it happens. `setdefault` is the atomic
# get-or-insert that GS103 recommends instead of check-then-act, so it is not reported either.
NOT_REPORTED = GROWERS - {"update", "insert"}


class UnguardedModuleStateWrite(Rule):
    code = "GS102"
    name = "unguarded-module-state-write"
    summary = "Thread-run code rebinds a global or changes a module-level container outside a lock."
    when = BOTH
    interesting_modules = THREAD_MODULES
    needs_thread_entries = True
    docs = """
    ## What it does
    Finds, in code that runs in a thread and holds no lock: rebinding a global (`global x; x = ...`),
    `del` of one, and changes to a module-level container (or an attribute of a module-level object):
    `CACHE[k] = v`, `del CACHE[k]`, `CACHE.update(...)`, `.pop()`, `.popitem()`, `.clear()`,
    `.remove()`, `.insert()`, `.sort()`, `.reverse()`.

    Not reported: `x += 1` and `x = x + 1` (GS101 reports those), writes inside `if` tests of the same
    state (GS103), `append`/`add`/`extend` (one atomic step that only grows the container), arrays
    (GS301/GS303), `setdefault` (the atomic get-or-insert GS103 recommends), and stores into a list slot chosen by the function's arguments
    (`out[i] = f(i)`, the usual way to hand each thread its own slot).

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

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and reads_target(node.value, node.targets[0].target):
            return  # a read-modify-write: GS101
        self._check(node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._check(node)

    def visit_Del(self, node: cst.Del) -> None:
        self._check(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        for write in writes_of(node):
            if write.how in NOT_REPORTED:
                continue
            self._check_write(write)

    def _check_write(self, write: Write) -> None:
        state = self.model.shared_state(write.target)
        # Module state only: a closure variable rebound in a thread is nearly always a result handed
        # back to the function that joins the thread (measured on the standard library's tests).
        if state is None or state.kind != "global":
            return
        if self.model.array_library(state):
            return  # GS301 / GS303
        kind = self.model.value_kind(state)
        if isinstance(write.target, cst.Subscript) and write.how == "store" and kind == "list" and self.model.partitioned(write.target):
            return
        site = self.model.entry_site(write.node)
        if site is None:
            return
        missing = self.model.missing_lock(write.node, state)
        if missing is None or checked_by_enclosing_if(self.model, write, state):
            return
        what = clip(self.model.code_for(write.node), 50)
        if write.container is None:
            verb = "deletes" if write.how == "del" else "rebinds"
        else:
            verb = "changes"
        container = self.model.shared_state(write.container) if write.container is not None else None
        label = (container or state).label
        self.report(
            write.node,
            f"`{what}` {verb} {label} {missing}: another thread can read or change it between its own steps",
            entry=self.model.describe(site),
            when=FREE_THREADED if write.how in REORDERERS else BOTH,
        )

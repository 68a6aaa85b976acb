"""GS105: state guarded by a lock in one place is changed without that lock in another."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint.messages import code, state, trace_for, where
from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.accesses import AccessKind, Change
from gilsafe.lint.summaries.keys import StateKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


# What a lock must wrap for an unlocked change to break it: several steps on the state (a loop over
# it, a test and the act on its result, a read and the write back). Under the GIL one dict or set
# operation is one step, which a lock around it alone does not make any safer.
SEVERAL_STEPS = frozenset({AccessKind.ITERATE, AccessKind.CHECK_THEN_ACT, AccessKind.RMW})


class InconsistentLocking(Rule):
    code = "GS105"
    name = "inconsistent-locking"
    summary = "An attribute, or the object held in one, is changed without the lock its class takes for it elsewhere."
    when = BOTH
    docs = """
    ## What it does
    Finds, in a class that makes a lock (`threading.Lock`, `RLock`, `Condition`, `Semaphore`), a
    container attribute that one method changes while holding that lock and another method changes
    without it: `self.items[k] = v`, `del self.items[k]`, `self.items.pop(...)`, `self.seen.add(x)`,
    where the locked code does several steps on it that the unlocked change can land between (a
    loop over it, a test and the act on its result, a read and the write back).
    No thread start needs to be in sight: making a lock is the class's statement that its instances
    are shared. Read-modify-writes, check-then-acts and loops over such state are GS101, GS103 and
    GS104. With `preview` (`--preview`), also rebinding an attribute (`self.x = ...`) and calling a
    method that changes the object held in an attribute (`self._protocol.send_bytes()` when
    `send_request()` on the same object is called under the lock): on real projects most of those
    were harmless flag stores and setup-time code.

    Not reported: constructors (`__init__`, and private methods only constructors call), rebinding
    in methods the constructor also calls (`reset()`), accesses that run before the threads using
    the state start or after they were joined, accesses that hold any lock the guarded ones hold,
    calls on an object whose own class makes a lock (it keeps itself consistent), a subclass's
    lock in the base class's methods, appending to a list (one atomic step that a loop under the
    lock merely sees or not), private methods nothing in the linted tree calls, and state whose
    locked accesses are all single steps (`self.d[k] = v` under the lock, `self.d.pop(k)` without:
    under the GIL each is atomic, so there is nothing for the lock to keep together; on real
    projects these were all harmless; `preview` reports them).

    ## Why is this bad?
    The lock only excludes code that takes it. A method that changes the state without it runs in
    the middle of another thread's guarded update: the guarded code sees a list grow mid-loop, a
    buffer swapped out under it, two requests written into one buffer.

    ## Example
    ```python
    import threading

    class Outbox:
        def __init__(self):
            self._lock = threading.Lock()
            self._pending = {}

        def flush(self):
            with self._lock:
                for key in self._pending:
                    self.send(key)
                self._pending.clear()

        def put(self, key, item):
            self._pending[key] = item  # not under self._lock: flush's loop can fail
    ```

    ## Use instead
    ```python
        def put(self, key, item):
            with self._lock:
                self._pending[key] = item
    ```

    ## Fix safety
    No automatic fix: which lock to take, and for how long, is a design decision.

    ## Options
    `lock-names`; `# gilsafe: guarded-by=LOCK` and `@gilsafe.requires_lock("LOCK")` for locks the
    analysis cannot see; `@gilsafe.thread_confined` for a class whose instances are not shared.

    ## Known problems
    The lock discipline is learnt from the code: state that is locked in one place only by accident
    (read under a lock for convenience) makes every unlocked write of it a finding. Instances are
    told apart by class, not by object.

    ## Runtime evidence
    None of its own: the rule points at the missing lock that GS101, GS103 and GS104's drivers show
    losing updates and breaking loops.
    """

    VALID = [
        Valid(
            """
            import threading
            class Outbox:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._pending = []
                def flush(self):
                    with self._lock:
                        batch, self._pending = self._pending, []
                    return batch
                def put(self, item):
                    with self._lock:
                        self._pending.append(item)
            """
        ),
        Valid(
            """
            import threading
            class Config:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.values = {}  # construction: nothing is shared yet
                    self._load()
                def _load(self):
                    self.values["mode"] = "fast"
                def get(self, key):
                    with self._lock:
                        return self.values.get(key)
            """
        ),
        Valid(
            """
            import threading
            class Stats:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.seen = []
                def record(self, x):
                    with self._lock:
                        self.seen.append(x)
            def run():
                stats = Stats()
                worker = threading.Thread(target=stats.record, args=(1,))
                stats.seen.clear()  # before the thread starts: nothing runs beside it
                worker.start()
                worker.join()
                stats.seen.clear()  # after join: the thread is done
            """
        ),
        Valid(
            """
            import threading
            class ResultStore:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._results = {}
                def put(self, task_id, value):
                    with self._lock:
                        self._results[task_id] = value
                def take(self, task_id):
                    # one dict operation, as is the locked one: no step of it can be split
                    return self._results.pop(task_id, None)
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            class Outbox:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._pending = {}
                def flush(self):
                    with self._lock:
                        for key in self._pending:
                            self.send(key)
                        self._pending.clear()
                def send(self, key):
                    pass
                def put(self, key, item):
                    self._pending[key] = item
            """,
            line=14,
        ),
        Invalid(
            """
            import threading
            class Protocol:
                def __init__(self):
                    self.outgoing = []
                def send_request(self, data):
                    self.outgoing.append(data)
                def send_bytes(self):
                    data, self.outgoing = b"".join(self.outgoing), []
                    return data
            class Connection:
                def __init__(self):
                    self._lock = threading.Lock()
                    self._protocol = Protocol()
                def send(self, request):
                    with self._lock:
                        self._protocol.send_request(request)
                def flush(self):
                    return self._protocol.send_bytes()
            """,
            line=18,
            settings={"preview": True},
        ),
        Invalid(
            """
            import threading
            class Registry:
                _lock = threading.Lock()
                def __init__(self):
                    self.names = set()
                def add(self, name):
                    with self._lock:
                        self.names.add(name)
                def reset(self):
                    self.names = set()
            """,
            line=10,
            settings={"preview": True},
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access in module.accesses:
            if access.kind not in (AccessKind.STORE, AccessKind.CHANGE, AccessKind.CALL):
                continue
            key = project.canonical(access.key)
            if key.kind is not StateKind.FIELD and access.kind is not AccessKind.CALL:
                continue  # module state: GS102
            if project.value_kind(key) in ("numpy", "torch", "cupy") or project.is_thread_local(key) or project.confined(key, access.function):
                continue
            if access.kind is not AccessKind.CHANGE and not self.settings.preview:
                continue  # rebinding one attribute, a call on the object: often benign (preview)
            if access.change is Change.GROW and project.value_kind(key) == "list":
                continue  # append/extend on a list is one step: a loop under the lock just sees it or not
            if access.kind is AccessKind.CALL and not project.call_changes(access):
                continue
            if access.kind is AccessKind.STORE and project.is_initializer(access.function):
                continue  # `reset()` that `__init__` calls too: re-initialisation, not a racing update
            guard = project.lock_discipline(module, access, uses_only=access.kind is AccessKind.CALL)
            if guard is None:
                continue
            guarded_module, guarded, lock = guard
            if access.kind is AccessKind.CHANGE and not self.settings.preview and not any(
                other.kind in SEVERAL_STEPS for _, other in project.guarded(key)
            ):
                continue  # the lock only wraps single steps, which one unlocked step cannot split
            if access.kind is AccessKind.CALL:
                what = ("changes the object in ", *state(project, module, access))
            else:
                verb = "rebinds " if access.kind is AccessKind.STORE else "changes "
                what = (verb, *state(project, module, access))
            yield self.report(
                module, access.anchor, *code(module, access.anchor, 50), " ", *what, f" without `{lock.label}`, which ",
                f"`{guarded.function.label}` holds around ", *code(guarded_module, guarded.anchor, 40), " (",
                where(guarded_module.path, guarded.anchor), "): the lock only excludes code that takes it",
                trace=trace_for(project, access),
            )

"""GS101: read-modify-write of shared state from code that runs in a thread, outside a lock."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from gilsafe.crosscheck import RuntimeCheck
from gilsafe.lint.messages import code, locks, outside_discipline, state, trace_for, where
from gilsafe.lint.rule import BOTH, FREE_THREADED, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.accesses import Access, AccessKind
from gilsafe.lint.summaries.keys import StateKey, StateKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


# The runtime drivers' shared lines: start the threads, then wait for all of them.
_TWO_THREADS = """
import threading

def run_all(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join()
"""


def _driver(body: str) -> str:
    return _TWO_THREADS + textwrap.dedent(body)


class SharedReadModifyWrite(Rule):
    code = "GS101"
    name = "shared-read-modify-write"
    summary = "Read-modify-write of shared state in thread-run code outside a lock."
    when = BOTH
    docs = """
    ## What it does
    Finds `x += 1`, `x = x + 1`, `d[k] += 1`, `d[k] = d.get(k, 0) + 1`, `self.n -= 1` and `obj.count += 1`
    where the target is state other threads can see (a global, a closure variable, an attribute of
    `self` or of a module-level object, an argument, or an item of one) in code that runs in a thread,
    and no lock is held, or different updates of the same state hold different locks. Two more
    read-modify-writes spread over two statements: taking a container's contents and then
    replacing it with an empty one (`batch = self.pending` ... `self.pending = []`), and appending
    then reading `c[-1]` as the item just appended. Each is reported when another thread can write
    the same state at the same time (two threads running it, or a lock discipline its class breaks
    here). A lock made by each call (`lock = threading.Lock()` inside the thread's function) counts
    as no lock: every thread holds one of its own. Likewise a closure variable, or an object of a
    class defined in a function, is shared only by threads started from the one call that made it.

    ## Why is this bad?
    The statement is three steps: read the value, compute, store. Another thread can run between the
    read and the store, and one of the two updates is lost. Under the GIL the interpreter may switch
    threads between the steps (at any call, including `__hash__`, `__eq__`, `__iadd__` or a property);
    on a free-threaded build both threads run the steps truly at once. The talk's experiment E2 shows
    it: one thread adds 1 n times, another subtracts 1 n times, and the result is not 0.

    ## Example
    ```python
    import threading

    counter = 0

    def worker():
        global counter
        for _ in range(100_000):
            counter += 1

    threads = [threading.Thread(target=worker) for _ in range(2)]
    ```

    ## Use instead
    ```python
    import threading

    counter = 0
    counter_lock = threading.Lock()

    def worker():
        global counter
        for _ in range(100_000):
            with counter_lock:
                counter += 1
    ```
    Or give each thread its own total and add them up after `join()`.

    For the two-statement forms, hold the lock around both statements, or keep the item you
    appended in a local instead of reading it back with `[-1]`.

    ## Fix safety
    No automatic fix: which lock to take is a design decision.

    ## Options
    `lock-names` (names of lock objects gilsafe cannot see being made), `thread-entry-points`.

    ## Known problems
    A swap in a method the constructor also calls (`reset()`) is taken for re-initialisation and
    not reported; a read that only looks (`len(c)`, `if c:`) does not make a swap.
    """

    VALID = [
        Valid(
            """
            import threading
            def run_two():
                lock = threading.Lock()  # one call makes it and starts both threads: one lock
                tally = {"n": 0}
                def step():
                    with lock:
                        tally["n"] += 1
                first, second = threading.Thread(target=step), threading.Thread(target=step)
                first.start(); second.start()
            """
        ),
        Valid(
            """
            import threading
            def work():
                done = 0
                def step():
                    nonlocal done
                    done += 1  # each call of work() has its own cell: one thread's
                for _ in range(10):
                    step()
            for _ in range(4):
                threading.Thread(target=work).start()
            """
        ),
        Valid(
            """
            import threading
            def work():
                class Tally:
                    def __init__(self):
                        self.n = 0
                    def add(self):
                        self.n += 1  # a class made per call: its objects are this thread's
                tally = Tally()
                tally.add()
            for _ in range(4):
                threading.Thread(target=work).start()
            """
        ),
        Valid(
            """
            import threading
            counter = 0
            lock = threading.Lock()
            def worker():
                global counter
                with lock:
                    counter += 1
            threading.Thread(target=worker).start()
            """
        ),
        Valid(
            """
            import threading
            def worker(n):
                total = 0
                for i in range(n):
                    total += i  # a local: owned by this thread
                return total
            threading.Thread(target=worker, args=(10,)).start()
            """
        ),
        Valid(
            """
            counter = 0
            def not_in_a_thread():
                global counter
                counter += 1
            """
        ),
        Valid(
            """
            import threading
            state = threading.local()
            def worker():
                state.count = getattr(state, "count", 0)
                state.count += 1  # thread-local: every thread has its own
            threading.Thread(target=worker).start()
            """
        ),
        Valid(
            """
            import threading
            class Counter:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.n = 0
                def bump(self):
                    self._lock.acquire()
                    try:
                        self.n += 1
                    finally:
                        self._lock.release()
            c = Counter()
            threading.Thread(target=c.bump).start()
            """
        ),
        Valid(
            """
            import threading
            class Worker(threading.Thread):
                def run(self):
                    self.done = 0
                    self.done += 1  # a Thread subclass's own attributes are its own
            """
        ),
        Valid(
            """
            from concurrent.futures import ThreadPoolExecutor
            def task(chunk):
                hits = {}
                for x in chunk:
                    hits[x] = hits.get(x, 0) + 1  # a fresh dict, not yet shared
                return hits
            with ThreadPoolExecutor() as ex:
                list(ex.map(task, [[1, 2], [3]]))
            """
        ),
        Valid(
            """
            import threading
            partials = [0] * 4
            def work(i, values):
                for v in values:
                    partials[i] += v  # each thread its own slot, chosen by its argument
            for i in range(4):
                threading.Thread(target=work, args=(i, [1, 2])).start()
            """
        ),
        Valid(
            """
            import threading
            import time
            class Progress:
                def __init__(self):
                    self.done = 0
                def run(self, items):
                    for _ in items:
                        self.done += 1  # one writer; the main thread only reads
            progress = Progress()
            worker = threading.Thread(target=progress.run, args=(range(100),))
            worker.start()
            while worker.is_alive():
                print(progress.done)
                time.sleep(0.1)
            """
        ),
        Valid(
            """
            import threading
            LOCK = threading.Lock()
            n = 0
            def bump():
                global n
                if not LOCK.acquire(blocking=False):
                    raise RuntimeError("busy")
                try:
                    n += 1  # only after the acquire succeeded
                finally:
                    LOCK.release()
            for _ in range(2):
                threading.Thread(target=bump).start()
            """
        ),
        Valid(
            """
            import threading
            class Tree:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.size = 0
                def insert(self, depth):
                    with self._lock:
                        self._insert(depth)
                def _insert(self, depth):
                    self.size += 1  # every path here holds insert's lock, recursion too
                    if depth:
                        self._insert(depth - 1)
            tree = Tree()
            for _ in range(2):
                threading.Thread(target=tree.insert, args=(3,)).start()
            """
        ),
        Valid(
            """
            import threading
            total = 0
            def work():
                global total
                total += 1
            def main():
                global total
                t = threading.Thread(target=work)
                t.start()
                t.join()
                total += 1  # after join: the thread is done
            main()
            """,
            settings={"preview": True},  # the main thread against a thread: preview evidence
        ),
        Valid(
            """
            import threading
            class Chunker:
                def __init__(self, buffer):
                    self.buffer = buffer
                    self.read = b""
                def next_chunk(self, n):
                    self.read = self.buffer.read(n)  # a store: `.read` is the buffer's method
                    return self.read
            import io
            chunker = Chunker(io.BytesIO(b"abcdefgh"))
            for _ in range(2):
                threading.Thread(target=chunker.next_chunk, args=(4,)).start()
            """
        ),
        Valid(
            """
            import threading
            class Outbox:
                def __init__(self):
                    self._lock = threading.Lock()
                    self.pending = []
                def put(self, item):
                    with self._lock:
                        self.pending.append(item)
                        return self.pending[-1]  # under the same lock as the append
                def take(self):
                    with self._lock:
                        batch = self.pending
                        self.pending = []  # taken and replaced under one lock
                    return batch
            box = Outbox()
            threading.Thread(target=box.put, args=(1,)).start()
            threading.Thread(target=box.take).start()
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
                    self.pending = []
                def put(self, item):
                    with self._lock:
                        self.pending.append(item)
                def take(self):
                    batch = self.pending
                    self.pending = []  # a put() between the two lines is lost
                    return batch
            box = Outbox()
            threading.Thread(target=box.put, args=(1,)).start()
            threading.Thread(target=box.take).start()
            """,
            line=11,
        ),
        Invalid(
            """
            import threading
            jobs = []
            def submit(job):
                jobs.append(job)
                return jobs[-1]  # maybe another thread's job
            for name in "ab":
                threading.Thread(target=submit, args=(name,)).start()
            """,
            line=5,
        ),
        Invalid(
            """
            import threading
            g = 0
            def add(n):
                global g
                for _ in range(n):
                    g += 1
            for _ in range(2):
                threading.Thread(target=add, args=(10,)).start()
            """,
            line=6,
        ),
        Invalid(
            """
            from threading import Thread as T
            hits = 0
            def count():
                global hits
                hits = hits + 1
            T(target=lambda: count()).start()
            T(target=count).start()
            """,
            line=5,
        ),
        Invalid(
            """
            import concurrent.futures as cf
            import functools
            counts = {}
            def tally(word, weight):
                counts[word] = counts.get(word, 0) + weight
            with cf.ThreadPoolExecutor() as pool:
                pool.submit(functools.partial(tally, weight=1), "a")
            """,
            line=5,
        ),
        Invalid(
            """
            import threading
            class Stats:
                def __init__(self):
                    self.n = 0
                def record(self):
                    self._bump()
                def _bump(self):
                    self.n -= 1
            s = Stats()
            threading.Thread(target=s.record).start()
            threading.Thread(target=s.record).start()
            """,
            line=8,
        ),
        Invalid(
            """
            import threading
            a_lock = threading.Lock()
            b_lock = threading.Lock()
            total = 0
            def left():
                global total
                with a_lock:
                    total += 1
            def right():
                global total
                with b_lock:
                    total -= 1
            threading.Thread(target=left).start()
            threading.Thread(target=right).start()
            """,
            line=8,
        ),
        Invalid(
            """
            import asyncio
            def work(box):
                box.count += 1
            async def main(box):
                await asyncio.gather(asyncio.to_thread(work, box), asyncio.to_thread(work, box))
            """,
            line=3,
        ),
        Invalid(
            """
            import threading
            def run_two():
                done = 0
                def step():
                    nonlocal done
                    done += 1  # both threads were started in one call: one cell
                first = threading.Thread(target=step)
                second = threading.Thread(target=step)
                first.start(); second.start()
            """,
            line=6,
        ),
        Invalid(
            """
            import threading
            total = 0
            def work():
                global total
                lock = threading.Lock()  # each call makes its own: it excludes no other thread
                with lock:
                    total += 1
            for _ in range(4):
                threading.Thread(target=work).start()
            """,
            line=7,
        ),
    ]

    # Runtime evidence (gilsafe.crosscheck): each racy driver must lose updates, each fixed one never.
    RUNTIME_CHECKS = [
        RuntimeCheck(
            "global `g += 1` / `g -= 1` (the talk's add/sub)",
            racy=_driver(
                """
            g = 0

            def add(n):
                global g
                for _ in range(n):
                    g += 1

            def sub(n):
                global g
                for _ in range(n):
                    g -= 1

            def trial():
                global g
                g = 0
                run_all([threading.Thread(target=add, args=(100_000,)), threading.Thread(target=sub, args=(100_000,))])
                return g != 0
            """
            ),
            fixed=_driver(
                """
            g = 0
            g_lock = threading.Lock()

            def add(n):
                global g
                for _ in range(n):
                    with g_lock:
                        g += 1

            def sub(n):
                global g
                for _ in range(n):
                    with g_lock:
                        g -= 1

            def trial():
                global g
                g = 0
                run_all([threading.Thread(target=add, args=(100_000,)), threading.Thread(target=sub, args=(100_000,))])
                return g != 0
            """
            ),
            shows_under=FREE_THREADED,
            why="since Python 3.10 the GIL changes hands only at calls and loop back-edges, never between "
            "the load and the store of `g += 1`, so only a free-threaded build loses updates here",
            example=0,
        ),
        RuntimeCheck(
            "`counts[w] = counts.get(w, 0) + 1` from two threads",
            racy=_driver(
                """
            counts = {}

            def tally(word, n):
                for _ in range(n):
                    counts[word] = counts.get(word, 0) + 1

            def trial():
                counts.clear()
                # a million each: two threads overlap for many switch intervals even on a fast machine
                run_all([threading.Thread(target=tally, args=("a", 1_000_000)) for _ in range(2)])
                return counts["a"] != 2_000_000
            """
            ),
            fixed=_driver(
                """
            counts = {}
            counts_lock = threading.Lock()

            def tally(word, n):
                for _ in range(n):
                    with counts_lock:
                        counts[word] = counts.get(word, 0) + 1

            def trial():
                counts.clear()
                # a million each: two threads overlap for many switch intervals even on a fast machine
                run_all([threading.Thread(target=tally, args=("a", 1_000_000)) for _ in range(2)])
                return counts["a"] != 2_000_000
            """
            ),
            shows_under=BOTH,
            why="the GIL may change hands when `.get()` returns, between the read and the store",
            example=2,
        ),
        RuntimeCheck(
            "`self.n -= 1` reached through a method",
            racy=_driver(
                """
            class Stats:
                def __init__(self):
                    self.n = 0

                def record(self, k):
                    for _ in range(k):
                        self._bump()

                def _bump(self):
                    self.n -= 1

            def trial():
                stats = Stats()
                run_all([threading.Thread(target=stats.record, args=(100_000,)) for _ in range(2)])
                return stats.n != -200_000
            """
            ),
            fixed=_driver(
                """
            class Stats:
                def __init__(self):
                    self.n = 0
                    self._lock = threading.Lock()

                def record(self, k):
                    for _ in range(k):
                        self._bump()

                def _bump(self):
                    with self._lock:
                        self.n -= 1

            def trial():
                stats = Stats()
                run_all([threading.Thread(target=stats.record, args=(100_000,)) for _ in range(2)])
                return stats.n != -200_000
            """
            ),
            shows_under=FREE_THREADED,
            why="the call to `_bump` happens before the read, so under the GIL no switch falls between "
            "the read and the store",
            example=3,
        ),
        RuntimeCheck(
            "`hits = hits + 1` in a function a lambda thread target calls",
            racy=_driver(
                """
                hits = 0

                def count(n):
                    global hits
                    for _ in range(n):
                        hits = hits + 1

                def trial():
                    global hits
                    hits = 0
                    run_all([threading.Thread(target=lambda: count(100_000)) for _ in range(2)])
                    return hits != 200_000
                """
            ),
            fixed=_driver(
                """
                hits = 0
                hits_lock = threading.Lock()

                def count(n):
                    global hits
                    for _ in range(n):
                        with hits_lock:
                            hits = hits + 1

                def trial():
                    global hits
                    hits = 0
                    run_all([threading.Thread(target=lambda: count(100_000)) for _ in range(2)])
                    return hits != 200_000
                """
            ),
            shows_under=FREE_THREADED,
            why="as for `g += 1`: no call falls between the read and the store",
            example=1,
        ),
        RuntimeCheck(
            "`total += 1` under one lock, `total -= 1` under another",
            racy=_driver(
                """
                a_lock = threading.Lock()
                b_lock = threading.Lock()
                total = 0

                def left(n):
                    global total
                    for _ in range(n):
                        with a_lock:
                            total += 1

                def right(n):
                    global total
                    for _ in range(n):
                        with b_lock:
                            total -= 1

                def trial():
                    global total
                    total = 0
                    run_all([threading.Thread(target=left, args=(100_000,)), threading.Thread(target=right, args=(100_000,))])
                    return total != 0
                """
            ),
            fixed=_driver(
                """
                total_lock = threading.Lock()
                total = 0

                def left(n):
                    global total
                    for _ in range(n):
                        with total_lock:
                            total += 1

                def right(n):
                    global total
                    for _ in range(n):
                        with total_lock:
                            total -= 1

                def trial():
                    global total
                    total = 0
                    run_all([threading.Thread(target=left, args=(100_000,)), threading.Thread(target=right, args=(100_000,))])
                    return total != 0
                """
            ),
            shows_under=FREE_THREADED,
            why="under the GIL the switch comes at the lock's release, after the store; two different "
            "locks exclude nothing, which a free-threaded build shows",
            example=4,
        ),
        RuntimeCheck(
            "`box.count += 1` in `asyncio.to_thread` workers",
            racy="""
            import asyncio

            class Box:
                count = 0

            def work(box, n):
                for _ in range(n):
                    box.count += 1

            async def main(box):
                await asyncio.gather(asyncio.to_thread(work, box, 100_000), asyncio.to_thread(work, box, 100_000))

            def trial():
                box = Box()
                asyncio.run(main(box))
                return box.count != 200_000
            """,
            fixed="""
            import asyncio
            import threading

            class Box:
                count = 0
                lock = threading.Lock()

            def work(box, n):
                for _ in range(n):
                    with box.lock:
                        box.count += 1

            async def main(box):
                await asyncio.gather(asyncio.to_thread(work, box, 100_000), asyncio.to_thread(work, box, 100_000))

            def trial():
                box = Box()
                asyncio.run(main(box))
                return box.count != 200_000
            """,
            shows_under=FREE_THREADED,
            why="an attribute increment with no call between its read and its store",
            example=5,
        ),
        RuntimeCheck(
            "`batch = self.pending; self.pending = []` while other threads append under the lock",
            racy=_driver(
                """
                class Outbox:
                    def __init__(self):
                        self.lock = threading.Lock()
                        self.pending = []

                    def put(self, item):
                        with self.lock:
                            self.pending.append(item)

                    def take(self):
                        batch = self.pending
                        self.pending = []
                        return batch

                def produce(box, n):
                    for i in range(n):
                        box.put(i)

                def consume(box, taken, done):
                    while not done.is_set():
                        taken.extend(box.take())

                def trial():
                    box, taken, done = Outbox(), [], threading.Event()
                    consumer = threading.Thread(target=consume, args=(box, taken, done))
                    consumer.start()
                    run_all([threading.Thread(target=produce, args=(box, 50_000)) for _ in range(2)])
                    done.set()
                    consumer.join()
                    taken.extend(box.take())
                    return len(taken) != 100_000
                """
            ),
            fixed=_driver(
                """
                class Outbox:
                    def __init__(self):
                        self.lock = threading.Lock()
                        self.pending = []

                    def put(self, item):
                        with self.lock:
                            self.pending.append(item)

                    def take(self):
                        with self.lock:
                            batch = self.pending
                            self.pending = []
                        return batch

                def produce(box, n):
                    for i in range(n):
                        box.put(i)

                def consume(box, taken, done):
                    while not done.is_set():
                        taken.extend(box.take())

                def trial():
                    box, taken, done = Outbox(), [], threading.Event()
                    consumer = threading.Thread(target=consume, args=(box, taken, done))
                    consumer.start()
                    run_all([threading.Thread(target=produce, args=(box, 50_000)) for _ in range(2)])
                    done.set()
                    consumer.join()
                    taken.extend(box.take())
                    return len(taken) != 100_000
                """
            ),
            shows_under=FREE_THREADED,
            why="no call falls between taking the list and replacing it, nor between loading "
            "`self.pending` and appending to it, so under the GIL no switch does",
            example=6,
        ),
        RuntimeCheck(
            "`jobs.append(job)` then `jobs[-1]` from two threads",
            racy=_driver(
                """
                jobs = []
                wrong = []

                def submit(n, tag, start):
                    start.wait()  # both threads append at once
                    for i in range(n):
                        job = (tag, i)
                        jobs.append(job)
                        if jobs[-1] is not job:
                            wrong.append(job)

                def trial():
                    jobs.clear()
                    wrong.clear()
                    start = threading.Barrier(2)
                    run_all([threading.Thread(target=submit, args=(200_000, tag, start)) for tag in "ab"])
                    return bool(wrong)
                """
            ),
            fixed=_driver(
                """
                jobs = []
                wrong = []
                jobs_lock = threading.Lock()

                def submit(n, tag, start):
                    start.wait()
                    for i in range(n):
                        job = (tag, i)
                        with jobs_lock:
                            jobs.append(job)
                            last = jobs[-1]
                        if last is not job:
                            wrong.append(job)

                def trial():
                    jobs.clear()
                    wrong.clear()
                    start = threading.Barrier(2)
                    run_all([threading.Thread(target=submit, args=(200_000, tag, start)) for tag in "ab"])
                    return bool(wrong)
                """
            ),
            shows_under=FREE_THREADED,
            why="no switch falls between the append and the index under the GIL",
            example=7,
        ),
        RuntimeCheck(
            "a closure cell `done += 1` in two threads one call started",
            racy=_driver(
                """
                def trial():
                    done = 0

                    def step(n):
                        nonlocal done
                        for _ in range(n):
                            done += 1

                    run_all([threading.Thread(target=step, args=(100_000,)) for _ in range(2)])
                    return done != 200_000
                """
            ),
            fixed=_driver(
                """
                def trial():
                    done = 0
                    lock = threading.Lock()

                    def step(n):
                        nonlocal done
                        for _ in range(n):
                            with lock:
                                done += 1

                    run_all([threading.Thread(target=step, args=(100_000,)) for _ in range(2)])
                    return done != 200_000
                """
            ),
            shows_under=FREE_THREADED,
            why="as for `g += 1`: no call falls between the read of the cell and the store",
            example=8,
        ),
        RuntimeCheck(
            "`total += 1` under a lock each call of the thread's target makes",
            racy=_driver(
                """
                total = 0

                def work(n):
                    global total
                    lock = threading.Lock()
                    for _ in range(n):
                        with lock:
                            total += 1

                def trial():
                    global total
                    total = 0
                    run_all([threading.Thread(target=work, args=(100_000,)) for _ in range(2)])
                    return total != 200_000
                """
            ),
            fixed=_driver(
                """
                total = 0
                lock = threading.Lock()

                def work(n):
                    global total
                    for _ in range(n):
                        with lock:
                            total += 1

                def trial():
                    global total
                    total = 0
                    run_all([threading.Thread(target=work, args=(100_000,)) for _ in range(2)])
                    return total != 200_000
                """
            ),
            shows_under=FREE_THREADED,
            why="under the GIL the switch comes at the lock's release, after the store",
            example=9,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access in module.accesses:
            if access.kind is not AccessKind.RMW:
                continue
            key = project.canonical(access.key)
            if not self._shared_value(project, key, access):
                continue
            if access.detail == "swap" and project.is_initializer(access.function):
                continue  # `reset()` that `__init__` calls too: re-initialisation
            message = self._problem(project, module, access, key)
            if message is not None:
                parts, trace = message
                head, tail = self._what(module, access, project)
                yield self.report(module, access.anchor, *head, *parts, *tail, trace=trace)

    @staticmethod
    def _what(module: ModuleSummary, access, project: ProjectFacts) -> tuple[tuple, tuple]:
        """The finding's words before and after where the locks are (or are not)."""
        if access.detail == "swap":
            return (
                *code(module, access.anchor, 60), " replaces ", *state(project, module, access), " after taking its contents (",
                where(module.path, access.check), ")",
            ), (": what another thread adds in between is lost",)
        if access.detail == "append-then-last":
            return (
                *code(module, access.anchor, 60), " reads the last item of ", *state(project, module, access), " after appending to it (",
                where(module.path, access.check), ")",
            ), (": another thread's append can land in between",)
        return (*code(module, access.anchor, 60), " is a read-modify-write of ", *state(project, module, access)), ()

    @staticmethod
    def _shared_value(project: ProjectFacts, key: StateKey, access: Access) -> bool:
        if key.kind is StateKind.ARGUMENT and not access.key.path:
            return False  # `n += 1` on a parameter rebinds this call's own name
        if project.in_construction(access) or project.is_thread_local(key):
            return False
        kind = project.value_kind(key)
        if kind in ("numpy", "torch", "cupy"):
            return False  # arrays are updated in place: GS301 / GS303 say why that races
        if access.partitioned and kind == "list":
            return False  # `partials[i] += x`: each thread its own slot, picked by its arguments
        return not project.confined(key, access.function)

    def _problem(self, project: ProjectFacts, module: ModuleSummary, access: Access, key: StateKey):
        mine = (module, access)
        held = project.held(module, access)
        declared = project.guard_declared(key)
        if declared is not None and declared not in held and project.contexts(access.function):
            return (f" without `{declared.label}`, which its `guarded-by` comment names",), trace_for(project, access)
        for other in project.writers(key):
            overlap = project.overlap(mine, other)
            if overlap is None:
                continue
            other_held = project.held(*other)
            if not held:
                return (" outside any lock",), trace_for(project, access, overlap)
            if other_held and not (held & other_held):
                return (
                    f" under {locks(held)}, but ", where(other[0].path, other[1].anchor),
                    f" updates it under {locks(other_held)}: different locks do not exclude each other",
                ), trace_for(project, access, overlap)
            if held & other_held:  # they can still overlap: the lock is made by each call
                return (f" under {locks(held & other_held)}, which each call makes anew: every thread holds a lock of its own",), trace_for(project, access, overlap)
        breach = outside_discipline(project, module, access, ": this class's own lock discipline")
        if breach is not None:
            return breach
        return None

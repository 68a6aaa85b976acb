"""Running the per-file pass so that no one file can take the run down with it.

A hostile or merely unusual file can crash LibCST's native parser, recurse past Python's limit,
run for minutes or eat memory. So:

- every file is analysed on a thread with a large stack and a high recursion limit: deep but valid
  code (a thousand-branch `elif`, a very long expression) is analysed, not reported as too deep;
- in worker processes (`IsolatedPool`), each worker holds one file at a time and the parent knows
  which: a worker that dies (a segfault, the kernel's OOM killer) costs only its file, reported
  as a `Failure`, and is replaced; a file over the time limit has its worker killed and replaced;
  memory is capped per worker (RLIMIT_AS), so a runaway file raises MemoryError there;
- workers die with the parent (PR_SET_PDEATHSIG on Linux; elsewhere they see the end of their
  pipe when it goes), so a killed run leaves no orphans behind.

In the parent process (`run_deep`, used for small runs), a file over the time limit is given up
on and reported; its thread is left to finish on its own, as a thread cannot be killed.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

# Seconds one file may take; real files take well under one (the largest stdlib module, ~2 s).
FILE_TIME_LIMIT = 60.0
# A worker's address space: far above what any real file needs (a few hundred MB), far below
# what takes a machine down.
WORKER_MEMORY_LIMIT = 6 * 1024**3
# Native parsing and Python's walks both recurse once per nesting level; with this stack and
# limit a 10,000-branch elif chain is fine. Only touched pages of the stack are ever allocated.
DEEP_STACK_BYTES = 512 * 1024**2
DEEP_RECURSION_LIMIT = 60_000
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Failure:
    """A file whose analysis did not come back: why, in words for a GS000 line. `over_limit`: it
    ran past the time limit (a big file, not a fault in gilsafe or in the file)."""

    reason: str
    over_limit: bool = False


# -- deep stacks -----------------------------------------------------------------------------------

_recursion_lock = threading.Lock()
_deep_runs = 0
_saved_limit = 0


def _raise_recursion_limit() -> None:
    global _deep_runs, _saved_limit
    with _recursion_lock:
        if _deep_runs == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, DEEP_RECURSION_LIMIT))
        _deep_runs += 1


def _restore_recursion_limit() -> None:
    global _deep_runs
    with _recursion_lock:
        _deep_runs -= 1
        if _deep_runs == 0:
            sys.setrecursionlimit(_saved_limit)


def run_deep(function: Callable[..., Any], *arguments: Any, time_limit: float | None = FILE_TIME_LIMIT, **keywords: Any) -> Any:
    """`function(*arguments, **keywords)` on a thread with a large stack; its exception is raised here. Returns a
    `Failure` when it runs past `time_limit` (the thread is abandoned: threads cannot be killed)."""
    outcome: list = []

    def body() -> None:
        try:
            outcome.append((True, function(*arguments, **keywords)))
        except BaseException as error:  # handed to the caller, which decides
            outcome.append((False, error))

    _raise_recursion_limit()
    try:
        with _stack_size(DEEP_STACK_BYTES):
            thread = threading.Thread(target=body, name="gilsafe-deep", daemon=True)
            thread.start()
        thread.join(time_limit)
    finally:
        _restore_recursion_limit()
    if not outcome:
        return Failure(f"skipped: analysis took over {time_limit:g} s", over_limit=True)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


class _stack_size:
    """`threading.stack_size` for the threads started inside, then back to what it was."""

    _lock = threading.Lock()

    def __init__(self, size: int) -> None:
        self.size = size

    def __enter__(self) -> None:
        self._lock.acquire()
        try:
            self.previous = threading.stack_size(self.size)
        except (ValueError, RuntimeError):  # a platform that will not: the default stack it is
            self.previous = None

    def __exit__(self, *exc: object) -> None:
        try:
            if self.previous is not None:
                threading.stack_size(self.previous)
        finally:
            self._lock.release()


# -- worker processes ------------------------------------------------------------------------------


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _limit_memory(limit: int) -> None:
    """At most `limit` bytes of address space beyond what the process maps already (a forked
    worker starts with its parent's mappings, which may be large)."""
    try:
        import resource

        pages = int(open("/proc/self/statm").read().split()[0])
        limit += pages * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, ValueError, OSError):  # not on this platform (no /proc): the time limit still holds
        pass


def _serve(connection: Connection, parent_end: Connection, parent_pid: int, function, initializer, initargs, memory_limit: int) -> None:
    parent_end.close()  # only the parent holds that end, so its death ends our pipe
    _die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the line above took effect
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a crash here is reported by the parent in one line, not a stack dump
    _limit_memory(memory_limit)
    if initializer is not None:
        initializer(*initargs)

    def loop() -> None:
        while True:
            try:
                job = connection.recv()
            except (EOFError, OSError):
                return
            try:
                reply = (True, function(job))
            except BaseException as error:  # noqa: BLE001 - every failure goes back as the file's
                reply = (False, f"{type(error).__name__}: {error}")
            try:
                connection.send(reply)
            except Exception as error:  # e.g. a result that cannot be pickled
                connection.send((False, f"{type(error).__name__}: {error}"))

    sys.setrecursionlimit(DEEP_RECURSION_LIMIT)
    with _stack_size(DEEP_STACK_BYTES):
        thread = threading.Thread(target=loop, name="gilsafe-worker")
        thread.start()
    thread.join()
    os._exit(0)  # skip interpreter teardown: nothing to flush, and it is slow


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    job: int | None = None
    started: float = 0.0


class IsolatedPool:
    """`map` over jobs in worker processes, one job per worker at a time; results (or `Failure`s)
    come back as (index, value) in completion order."""

    def __init__(
        self,
        workers: int,
        function: Callable[[Any], Any],
        initializer: Callable[..., None] | None = None,
        initargs: Sequence[Any] = (),
        *,
        time_limit: float = FILE_TIME_LIMIT,
        memory_limit: int = WORKER_MEMORY_LIMIT,
    ) -> None:
        methods = multiprocessing.get_all_start_methods()
        # fork starts a worker in milliseconds with gilsafe already imported; elsewhere, the default.
        self._context = multiprocessing.get_context("fork" if "fork" in methods and sys.platform.startswith("linux") else None)
        self._count = max(1, workers)
        self._function, self._initializer, self._initargs = function, initializer, tuple(initargs)
        self._time_limit, self._memory_limit = time_limit, memory_limit
        self._workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child_end, parent_end, os.getpid(), self._function, self._initializer, self._initargs, self._memory_limit),
            daemon=True,
        )
        process.start()
        child_end.close()
        worker = _Worker(process, parent_end)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        self._workers.remove(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(5)
        worker.connection.close()

    def map(self, jobs: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        waiting = deque(range(len(jobs)))
        try:
            while len(self._workers) < min(self._count, len(jobs)):
                self._start()
            while waiting or any(w.job is not None for w in self._workers):
                for worker in list(self._workers):
                    if worker.job is None and waiting:
                        worker.job, worker.started = waiting.popleft(), time.monotonic()
                        try:
                            worker.connection.send(jobs[worker.job])
                        except (OSError, EOFError):
                            pass  # it died while idle: found below through its sentinel
                yield from self._collect()
        finally:
            self.close()

    def _collect(self) -> Iterator[tuple[int, Any]]:
        busy = [w for w in self._workers if w.job is not None]
        if not busy:
            return
        now = time.monotonic()
        deadline = min(w.started for w in busy) + self._time_limit
        ready = set(wait([w.connection for w in busy] + [w.process.sentinel for w in busy], timeout=max(0.0, deadline - now)))
        for worker in busy:
            if worker.connection in ready:
                try:
                    ok, value = worker.connection.recv()
                except (EOFError, OSError):
                    ok, value = None, None  # it died mid-reply: treat as a death below
                if ok is not None:
                    index, worker.job = worker.job, None
                    yield index, value if ok else Failure(f"internal error {value}")
                    continue
            if worker.connection in ready or worker.process.sentinel in ready:
                worker.process.join(5)
                index = worker.job
                self._retire(worker)
                self._start()
                yield index, Failure(f"skipped: gilsafe's worker process died while analysing it ({_death(worker.process.exitcode)})")
            elif time.monotonic() - worker.started > self._time_limit:
                index = worker.job
                self._retire(worker)
                self._start()
                yield index, Failure(f"skipped: analysis took over {self._time_limit:g} s", over_limit=True)

    def close(self) -> None:
        for worker in list(self._workers):
            self._retire(worker)


def _death(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not exit"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit status {exitcode}"

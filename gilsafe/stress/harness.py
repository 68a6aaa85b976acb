"""What every experiment is made of: the observation it returns, the catalogue entry that describes
it, and running threads together behind a barrier, timed."""

from __future__ import annotations

import ctypes
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gilsafe.stress.environment import busy_cpu_seconds
from gilsafe.stress.model import Cell, OutcomeCounts, OutcomeTable
from gilsafe.stress.stability import CellConditions, Spread


class Unavailable(Exception):
    """This cell cannot run here (no GPU, say): reported as skipped with the message."""


@dataclass
class Observation:
    outcomes: OutcomeCounts = field(default_factory=OutcomeCounts)  # counted; graded by the experiment's table
    timings: dict = field(default_factory=dict)  # figures timed in rounds hold their median here
    detail: str = ""
    spreads: dict[str, Spread] = field(default_factory=dict)  # each repeated figure's range
    conditions: CellConditions | None = None  # what the worker saw while timing (cores, other load)
    repeats: int | None = None  # rounds timed; None when the cell times no rounds
    repeats_planned: int | None = None


@dataclass(frozen=True)
class Experiment:
    id: str
    title: str
    slides: str
    observes: str
    talk: str  # the talk's figures, to compare ratios with
    variants: dict[str, tuple[str, ...]]  # backend -> variants
    run: Callable[[Cell], Observation]
    threaded: bool = True  # False: the thread count is part of the experiment, not --threads
    fixed_threads: int = 1
    # When set, only these variants take --threads; the others are single-threaded runs.
    threaded_variants: tuple[str, ...] | None = None
    needs: tuple[str, ...] = ()  # packages needed beyond the backend's own
    # What each outcome means, declared before anything runs; a function of the cell where the
    # table depends on it (a user's --expect values).
    outcomes: OutcomeTable | Callable[[Cell], OutcomeTable] = OutcomeTable(())

    def outcome_table(self, cell: Cell) -> OutcomeTable:
        return self.outcomes(cell) if callable(self.outcomes) else self.outcomes


@functools.cache
def _sched_getcpu() -> Callable[[], int] | None:
    try:
        function = ctypes.CDLL(None).sched_getcpu  # glibc and musl; os has no binding before 3.14
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_int
    return function


def current_cpu() -> int | None:
    """The CPU the calling thread runs on now; None where the system cannot say."""
    function = _sched_getcpu()
    cpu = function() if function else -1
    return cpu if cpu >= 0 else None


@dataclass(frozen=True)
class ThreadPlacement:
    """The CPUs one thread of a timed run was on as its work started and as it ended."""

    cpu_at_start: int | None
    cpu_at_end: int | None


def on_distinct_cores(runs: Sequence[Sequence[ThreadPlacement]]) -> bool | None:
    """Whether, in every run, no two threads shared a CPU when sampled; None when nothing was sampled."""
    if not runs or any(p.cpu_at_start is None or p.cpu_at_end is None for run in runs for p in run):
        return None
    return all(
        len({p.cpu_at_start for p in run}) == len(run) and len({p.cpu_at_end for p in run}) == len(run) for run in runs
    )


class OtherLoad:
    """CPU time other processes use while a cell times its runs, in cores (Linux; None elsewhere)."""

    def __init__(self) -> None:
        self._busy = busy_cpu_seconds()
        self._own = _own_cpu_seconds()
        self._wall = time.monotonic()

    def cores(self) -> float | None:
        busy = busy_cpu_seconds()
        wall = time.monotonic() - self._wall
        if busy is None or self._busy is None or wall <= 0:
            return None
        others = (busy - self._busy) - (_own_cpu_seconds() - self._own)
        return max(0.0, others / wall)


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


# -- running threads together ----------------------------------------------------------------------


def run_together(functions: Sequence[Callable[[], object]], placements: list[ThreadPlacement] | None = None) -> tuple[float, list]:
    """Run each function in its own thread, released together by a barrier.

    Returns the seconds from the release to the last join, and each function's result. With
    `placements`, each thread appends the CPUs it ran on as its work started and ended.
    """
    barrier = threading.Barrier(len(functions) + 1)
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def actor(index: int, function: Callable[[], object]) -> None:
        barrier.wait()
        cpu_at_start = current_cpu() if placements is not None else None
        try:
            results[index] = function()
        except BaseException as error:  # surfaced in the caller's thread below
            errors.append(error)
        if placements is not None:
            placements.append(ThreadPlacement(cpu_at_start, current_cpu()))

    threads = [threading.Thread(target=actor, args=(i, f), daemon=True) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, results


def best_time(function: Callable[[], object], repeat: int = 3) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def trials_until(cell: Cell) -> Callable[[int], bool]:
    """`more(done)`: True while trials remain and the cell's soft deadline has not passed."""
    deadline = time.monotonic() + cell.seconds

    def more(done: int) -> bool:
        return done < cell.trials and (done == 0 or time.monotonic() < deadline)

    return more


def trials_note(done: int, cell: Cell) -> str:
    return "" if done >= cell.trials else f" (time budget: {done} of {cell.trials} trials ran)"




# -- timing a pi kernel ------------------------------------------------------------------------------

PYTHON_BASELINE_SHOTS = 200_000


def time_pi_kernel(kernel: Callable[[int, int], int], n: int, seed: int = 12345, repeat: int = 3) -> dict:
    """First call (compile, trace, warm-up) apart, then the best of `repeat` runs of n shots."""
    start = time.perf_counter()
    kernel(1000, 1)
    first_call = time.perf_counter() - start
    hits = [0]

    def once() -> None:
        hits[0] = kernel(n, seed)

    ns = best_time(once, repeat) / n * 1e9
    estimate = 4.0 * hits[0] / n
    return {
        "n": n,
        "ns_per_shot": ns,
        "first_call_s": first_call,
        "pi_estimate": estimate,
        "relative_error": abs(estimate - math.pi) / math.pi,
    }


def seconds_of(kernel: Callable[[int, int], int], n: int, seed: int) -> float:
    start = time.perf_counter()
    kernel(n, seed)
    return time.perf_counter() - start


def python_ns_per_shot(repeat: int = 3) -> float:
    """The talk's pure-Python kernel, the baseline every "vs python" ratio divides."""
    from gilsafe.kernels import load

    python = load("python")
    return best_time(lambda: python.pi_hits(PYTHON_BASELINE_SHOTS, 1), repeat) / PYTHON_BASELINE_SHOTS * 1e9

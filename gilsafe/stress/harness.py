"""What every experiment is made of: the observation it returns, the catalogue entry that describes
it, and running threads together behind a barrier, timed."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gilsafe.stress.model import Cell, OutcomeTally


class Unavailable(Exception):
    """This cell cannot run here (no GPU, say): reported as skipped with the message."""


@dataclass
class Observation:
    outcomes: OutcomeTally = field(default_factory=OutcomeTally)
    timings: dict = field(default_factory=dict)
    detail: str = ""


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


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# -- running threads together ----------------------------------------------------------------------


def run_together(functions: Sequence[Callable[[], object]]) -> tuple[float, list]:
    """Run each function in its own thread, released together by a barrier.

    Returns the seconds from the release to the last join, and each function's result.
    """
    barrier = threading.Barrier(len(functions) + 1)
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def actor(index: int, function: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = function()
        except BaseException as error:  # surfaced in the caller's thread below
            errors.append(error)

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


def python_ns_per_shot(repeat: int = 3) -> float:
    """The talk's pure-Python kernel, the baseline every "vs python" ratio divides."""
    from gilsafe.kernels import load

    python = load("python")
    return best_time(lambda: python.pi_hits(PYTHON_BASELINE_SHOTS, 1), repeat) / PYTHON_BASELINE_SHOTS * 1e9

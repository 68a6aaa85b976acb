"""What a LineRecorder costs a threaded, CPU-bound pure-Python test body, side by side in one run.

    python benchmarks/line_recording.py [--threads 4] [--iterations N] [--repeats 5]

Each repeat runs the same workload (a loop calling two small functions) in N threads behind a
barrier, three ways in turn: plain; recording 3 lines of the workload that run on every
iteration (the worst case: every event reaches the recorder); recording 3 lines of another file
(only the cost of being switched on). Prints the median seconds and the ratio to plain.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gilsafe.pytest_plugin.lines import LineRecorder  # noqa: E402

WORKLOAD = """\
def step(x):
    return (x * 31 + 7) % 1000003  # HOT


def mix(a, b):
    return (a ^ (b << 1)) & 0xFFFFFFFF  # HOT


def work(iterations):
    total = 0
    for i in range(iterations):
        total = mix(total, step(i))  # HOT
    return total
"""

UNRELATED = """\
def elsewhere(x):
    y = x + 1
    z = y * 2
    return z
"""


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_threads(work: Callable[[int], int], threads: int, iterations: int) -> None:
    barrier = threading.Barrier(threads)

    def body() -> None:
        barrier.wait()
        work(iterations)

    workers = [threading.Thread(target=body) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


class Trial(NamedTuple):
    seconds: float
    # "sys.monitoring", "sys.settrace", or "" when nothing recorded.
    recorder: str
    # Watched lines the trial ran in 2+ threads: the hot case must record all 3, or it measured
    # nothing.
    concurrent_lines: int


def timed_trial(
    work: Callable[[int], int],
    threads: int,
    iterations: int,
    watched: Mapping[str, Collection[int]] | None,
) -> Trial:
    """One trial; with `watched`, recorded as the pytest plugin would."""
    if watched is None:
        start = time.perf_counter()
        run_threads(work, threads, iterations)
        return Trial(time.perf_counter() - start, "", 0)
    with LineRecorder(watched) as recorder:
        start = time.perf_counter()
        recorder.begin_trial("benchmark", 0)
        run_threads(work, threads, iterations)
        recorder.end_trial("benchmark", 0, failed=False)
        seconds = time.perf_counter() - start
        how = "sys.monitoring" if recorder.uses_sys_monitoring else "sys.settrace"
    concurrent = sum(evidence.trials for evidence in recorder.statuses().values())
    return Trial(seconds, how, concurrent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--iterations", type=int, default=1_000_000, help="loop turns per thread")
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        workload_path, unrelated_path = Path(folder, "workload.py"), Path(folder, "unrelated.py")
        workload_path.write_text(WORKLOAD)
        unrelated_path.write_text(UNRELATED)
        work = load(workload_path).work
        hot_lines = [n for n, text in enumerate(WORKLOAD.splitlines(), 1) if "# HOT" in text]
        cases: dict[str, Mapping[str, Collection[int]] | None] = {
            "plain": None,
            "3 hot lines of the workload": {str(workload_path): hot_lines},
            "3 lines of an unrelated file": {str(unrelated_path): [2, 3, 4]},
        }
        trials: dict[str, list[Trial]] = {case: [] for case in cases}
        run_threads(work, options.threads, options.iterations // 10)  # warm up
        for _ in range(options.repeats):
            for case, watched in cases.items():
                trials[case].append(timed_trial(work, options.threads, options.iterations, watched))

    hot = trials["3 hot lines of the workload"]
    if options.threads > 1 and any(trial.concurrent_lines != len(hot_lines) for trial in hot):
        sys.exit(f"the recorder missed hot lines: {[trial.concurrent_lines for trial in hot]}")
    gil = "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL"
    print(
        f"Python {sys.version.split()[0]} ({gil}), recording through {hot[0].recorder}, "
        f"{options.threads} threads x {options.iterations} iterations, "
        f"median of {options.repeats}"
    )
    plain = statistics.median(trial.seconds for trial in trials["plain"])
    print(f"{'case':<32} {'median s':>9} {'vs plain':>9}")
    for case, case_trials in trials.items():
        median = statistics.median(trial.seconds for trial in case_trials)
        print(f"{case:<32} {median:>9.3f} {median / plain:>8.2f}x")


if __name__ == "__main__":
    main()

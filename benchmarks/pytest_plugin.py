"""What gilsafe's pytest plugin costs a test suite, side by side in one run.

    python benchmarks/pytest_plugin.py [--suite DIR] [--python PYTHON] [--repeats 3]
                                       [--threads 4] [--trials 3] [-- EXTRA PYTEST ARGS]

Runs the suite (default: a small generated one of pure-Python tests over a small library) with
the interpreter given (it must have pytest and gilsafe installed), each configuration in turn, per
repeat, and prints the median wall time of each and its ratio to its baseline:

- loaded but off (`--gilsafe-threads 1`) against plain pytest (`-p no:gilsafe`);
- `--gilsafe-lint` against the same threaded run without it. The lint itself is answered from
  .gilsafe_cache after the first repeat (it is timed apart, `lint only`), so the ratio is mostly
  the line recording's cost.

Wall times of whole pytest processes: interpreter start-up is in every row.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

LIBRARY = '''
import threading

_cache = {}
_lock = threading.Lock()
hits = 0


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def cached_square(x):
    global hits
    if x in _cache:
        hits += 1
        return _cache[x]
    value = x * x
    with _lock:
        _cache[x] = value
    return value


def words(text):
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
'''

TESTS = '''
import pytest

import library


@pytest.mark.parametrize("n", range(12, 20))
def test_fib(n):
    assert library.fib(n) == library.fib(n - 1) + library.fib(n - 2)


@pytest.mark.parametrize("x", range(200))
def test_cached_square(x):
    assert library.cached_square(x) == x * x


def test_words():
    text = " ".join(["alpha beta gamma"] * 20000)
    assert library.words(text)["beta"] == 20000
'''


def generated_suite() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gilsafe-pytest-bench-"))
    (folder / "library.py").write_text(textwrap.dedent(LIBRARY))
    (folder / "test_library.py").write_text(textwrap.dedent(TESTS))
    return folder


def run(python: str, suite: Path, args: list[str]) -> tuple[float, str]:
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=suite, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode not in (0, 1):  # 1: the suite has failures of its own, still a timed run
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, default=None, help="a test suite's folder (default: a generated one)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with pytest and gilsafe installed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more pytest arguments for every run (after --)")
    options = parser.parse_args()
    suite = options.suite.resolve() if options.suite else generated_suite()
    threaded = ["--gilsafe-threads", str(options.threads), "--gilsafe-trials", str(options.trials)]
    configurations = {
        "plain pytest (-p no:gilsafe)": ["-p", "no:gilsafe"],
        "plugin loaded, off (--gilsafe-threads 1)": ["--gilsafe-threads", "1"],
        f"threaded ({options.threads} threads x {options.trials} trials)": threaded,
        "threaded + --gilsafe-lint (recording)": [*threaded, "--gilsafe-lint"],
        "lint only (--gilsafe-lint, no threads)": ["--gilsafe-lint", "--gilsafe-threads", "1"],
    }
    run(options.python, suite, [*configurations["threaded + --gilsafe-lint (recording)"], *options.extra])  # warm .gilsafe_cache
    times: dict[str, list[float]] = {name: [] for name in configurations}
    last_lines: dict[str, str] = {}
    for _ in range(options.repeats):
        for name, args in configurations.items():  # alternating: drift in the machine's load hits every row alike
            seconds, last_lines[name] = run(options.python, suite, [*args, *options.extra])
            times[name].append(seconds)
    median = {name: statistics.median(values) for name, values in times.items()}
    python = subprocess.run([options.python, "-c", "import sys; print(sys.version.split()[0], 'free-threaded' if not getattr(sys, '_is_gil_enabled', lambda: True)() else 'GIL')"], capture_output=True, text=True).stdout.strip()
    print(f"suite {suite}, Python {python}, {options.repeats} repeats, median wall seconds")
    baseline = {
        "plugin loaded, off (--gilsafe-threads 1)": "plain pytest (-p no:gilsafe)",
        "threaded + --gilsafe-lint (recording)": f"threaded ({options.threads} threads x {options.trials} trials)",
        "lint only (--gilsafe-lint, no threads)": "plugin loaded, off (--gilsafe-threads 1)",
    }
    print(f"{'configuration':<44} {'seconds':>8} {'ratio':>8}  against / pytest's last line")
    for name in configurations:
        against = baseline.get(name)
        ratio = f"{median[name] / median[against]:.2f}x" if against else ""
        print(f"{name:<44} {median[name]:>8.2f} {ratio:>8}  {('vs ' + against) if against else ''}")
        print(f"{'':<62}{last_lines[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lint accuracy on the corpus (gilsafe beside threadcheck) and throughput on a large real tree
(gilsafe beside Fixit), each measured side by side in one run.

    python benchmarks/lint.py [--tree PATH] [--repeat N] [--threadcheck PATH] [--accuracy-only]

First prints precision and recall on tests/corpus/ (benchmarks/corpus.py). Then prints files/s and lines/s for: gilsafe on 1 process (cold), on all cores (cold), warm from its
cache, and `fixit lint` (all cores, its default) on the same tree. Default tree: the running
interpreter's standard library, which every machine has.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gilsafe.lint.discovery import discover  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, done.returncode


def best_of(repeat: int, command: list[str], cwd: Path, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        times.append(timed(command, cwd)[0])
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threadcheck", default=None, help="the threadcheck executable (default: PATH, then .venv-threadcheck)")
    parser.add_argument("--accuracy-only", action="store_true", help="print the corpus table only")
    args = parser.parse_args()

    print(corpus.report(corpus.find_threadcheck(args.threadcheck)))
    print()
    if args.accuracy_only:
        return 0

    # Copy the tree so both tools see the same files and gilsafe's cache starts empty.
    work = Path(tempfile.mkdtemp(prefix="gilsafe-bench-"))
    tree = work / "tree"
    shutil.copytree(args.tree, tree, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"), symlinks=True)
    files = discover([str(tree)]).files
    lines = sum(path.read_bytes().count(b"\n") for path in files)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gilsafe = [sys.executable, "-m", "gilsafe", "lint", "--exit-zero", "."]
    cache = work / "cache"

    rows = []
    rows.append(("gilsafe, 1 process, cold", best_of(args.repeat, gilsafe + ["--no-cache", "--jobs", "1"], tree)))
    rows.append((f"gilsafe, {cores} processes, cold", best_of(args.repeat, gilsafe + ["--no-cache", "--jobs", str(cores)], tree)))
    timed(gilsafe + ["--cache-dir", str(cache)], tree)  # fill the cache
    rows.append(("gilsafe, warm cache", best_of(args.repeat, gilsafe + ["--cache-dir", str(cache)], tree)))
    fixit = shutil.which("fixit") or str(Path(sys.executable).with_name("fixit"))
    if Path(fixit).exists():
        rows.append((f"fixit lint ({cores} processes, its default)", best_of(args.repeat, [fixit, "lint", "."], tree)))
    else:
        print("fixit: skipped: not installed (pip install fixit)")

    print(f"tree: {args.tree} ({len(files)} files, {lines} lines), {cores} cores, Python {sys.version.split()[0]}")
    cold = rows[0][1]
    print(f"{'run':<40} {'seconds':>8} {'files/s':>9} {'lines/s':>10} {'vs 1-process cold':>18}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.2f} {len(files) / seconds:9.0f} {lines / seconds:10.0f} {cold / seconds:17.2f}x")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Lint accuracy on the corpus (gilsafe beside threadcheck) and throughput on a large real tree
(gilsafe beside another gilsafe install and Fixit), each measured side by side in one run.

    python benchmarks/lint.py [--tree PATH] [--repeat N] [--baseline PYTHON] [--no-fixit]
                              [--threadcheck PATH] [--accuracy-only]

First prints precision and recall on tests/corpus/ (benchmarks/corpus.py). Then prints files/s and
lines/s for: gilsafe on 1 process (cold), on all cores (cold), warm from its cache, a baseline
gilsafe (`--baseline OLD/bin/python`, e.g. the last release installed in another venv) cold on all
cores alternating with this one, and `fixit lint`. Default tree: the running interpreter's standard
library, which every machine has. Last, the warm edit: a 1,000-file tree linted once into the
cache, one file changed, linted again: how many files were analysed again and how long it took.
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
    parser.add_argument("--baseline", default=None, help="another install's python to compare cold runs with")
    parser.add_argument("--no-fixit", action="store_true", help="skip Fixit (it takes ~15 minutes on the standard library)")
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
    parallel = gilsafe + ["--no-cache", "--jobs", str(cores)]
    if args.baseline:
        # Alternate the two installs so that machine noise falls on both alike.
        old = [args.baseline, "-m", "gilsafe", "lint", "--exit-zero", "--no-cache", "--jobs", str(cores), "."]
        mine, theirs = [], []
        for _ in range(max(args.repeat, 2)):
            mine.append(timed(parallel, tree)[0])
            theirs.append(timed_in(old, tree))
        rows.append((f"gilsafe, {cores} processes, cold", min(mine)))
        rows.append((f"baseline ({args.baseline}), {cores} processes, cold", min(theirs)))
    else:
        rows.append((f"gilsafe, {cores} processes, cold", best_of(args.repeat, parallel, tree)))
    timed(gilsafe + ["--cache-dir", str(cache)], tree)  # fill the cache
    rows.append(("gilsafe, warm cache", best_of(args.repeat, gilsafe + ["--cache-dir", str(cache)], tree)))
    fixit = shutil.which("fixit") or str(Path(sys.executable).with_name("fixit"))
    if args.no_fixit:
        print("fixit: skipped (--no-fixit)")
    elif Path(fixit).exists():
        rows.append((f"fixit lint ({cores} processes, its default)", best_of(args.repeat, [fixit, "lint", "."], tree)))
    else:
        print("fixit: skipped: not installed (pip install fixit)")

    print(f"tree: {args.tree} ({len(files)} files, {lines} lines), {cores} cores, Python {sys.version.split()[0]}")
    cold = rows[0][1]
    print(f"{'run':<55} {'seconds':>8} {'files/s':>9} {'lines/s':>10} {'vs 1-process cold':>18}")
    for name, seconds in rows:
        print(f"{name:<55} {seconds:8.2f} {len(files) / seconds:9.0f} {lines / seconds:10.0f} {cold / seconds:17.2f}x")
    if args.baseline:
        print(f"this gilsafe / baseline, cold on {cores} processes: {rows[1][1] / rows[2][1]:.2f}x the time")
    print()
    print(warm_edit(tree, files, work))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def timed_in(command: list[str], cwd: Path) -> float:
    return timed(command, cwd)[0]


# Runs in a subprocess: lint a tree with the cache and count the files gilsafe analysed again.
_WARM_EDIT = """
import sys, time
from pathlib import Path
import gilsafe.lint.api as api
analysed = []
original = api.analyse_file
def counting(path, *args, **kwargs):
    analysed.append(path)
    return original(path, *args, **kwargs)
api.analyse_file = counting
start = time.perf_counter()
report = api.lint_paths([sys.argv[1]], cache_folder=Path(sys.argv[2]), jobs=1)
print(len(analysed), time.perf_counter() - start, len(report.findings))
"""


def warm_edit(tree: Path, files: list[Path], work: Path, count: int = 1000) -> str:
    """A 1,000-file project: cold into the cache, warm, then warm after one file changed."""
    project = work / "project"
    chosen = sorted(files)[:count]
    for path in chosen:
        target = project / path.relative_to(tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for folder in {p.parent for p in project.rglob("*.py")}:
        (folder / "__init__.py").touch()
    cache = work / "edit-cache"

    def run() -> tuple[int, float, int]:
        out = subprocess.run([sys.executable, "-c", _WARM_EDIT, str(project), str(cache)], capture_output=True, text=True, check=True).stdout
        analysed, seconds, findings = out.split()
        return int(analysed), float(seconds), int(findings)

    total = len(list(project.rglob("*.py")))
    cold = run()
    warm = run()
    edited = sorted(project.rglob("*.py"))[total // 2]
    edited.write_text(edited.read_text(encoding="utf-8", errors="replace") + "\n_gilsafe_benchmark_edit = 1\n", encoding="utf-8")
    after = run()
    lines = [f"warm edit on a {total}-file tree (1 process, in-process timing):"]
    for name, (analysed, seconds, findings) in (("cold, empty cache", cold), ("warm, nothing changed", warm), ("warm, one file changed", after)):
        lines.append(f"  {name:<24} analysed {analysed:>5} files  {seconds:6.2f} s  {findings} findings")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())

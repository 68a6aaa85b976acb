"""Does a change make lint slower on files that start no threads? Two gilsafe installs side by side.

    python benchmarks/nonthreaded.py --baseline OLD_VENV/bin/python [--python NEW] [--tree PATH] [--repeat N]

Splits a tree (default: this interpreter's standard library) into the files that import nothing
threaded (no threading, concurrent, multiprocessing, asyncio, dask, _thread) and the rest, then lints
each part with both interpreters' gilsafe on one process, without cache, alternating the two, and
prints the best and median times and their ratio. Build the baseline from a commit with
`git worktree add /tmp/old <commit>` and `pip install --no-deps /tmp/old` into a fresh venv.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gilsafe.lint.discovery import discover  # noqa: E402
from gilsafe.lint.engine import imported_roots  # noqa: E402
from gilsafe.model import THREAD_MODULES  # noqa: E402


def split_tree(tree: Path, work: Path) -> tuple[Path, Path, int, int]:
    plain, threaded = work / "plain", work / "threaded"
    counts = [0, 0]
    for path in discover([str(tree)]).files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        is_threaded = bool(imported_roots(text) & THREAD_MODULES)
        target = (threaded if is_threaded else plain) / path.relative_to(tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        counts[is_threaded] += 1
    return plain, threaded, counts[0], counts[1]


def lint_seconds(python: str, folder: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        # -I: the folder holds copies of stdlib modules, which must not shadow the real ones
        [python, "-I", "-m", "gilsafe", "lint", "--no-cache", "--jobs", "1", "--exit-zero", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True, help="python of the install to compare against")
    parser.add_argument("--python", default=sys.executable, help="python of the install under test (default: this one)")
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gilsafe-nonthreaded-"))
    source = work / "tree"
    shutil.copytree(args.tree, source, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc", "test", "tests"), symlinks=True)
    plain, threaded, n_plain, n_threaded = split_tree(source, work)
    print(f"tree: {args.tree} (tests left out): {n_plain} files import nothing threaded, {n_threaded} do; 1 process, no cache")
    print(f"{'files':<22} {'baseline best':>13} {'median':>8} {'this best':>10} {'median':>8} {'this / baseline':>16}")
    for label, folder in (("import nothing threaded", plain), ("import threading etc.", threaded)):
        old, new = [], []
        for _ in range(args.repeat):  # alternate, so drift on a shared machine hits both alike
            old.append(lint_seconds(args.baseline, folder))
            new.append(lint_seconds(args.python, folder))
        print(
            f"{label:<22} {min(old):12.2f}s {statistics.median(old):7.2f}s {min(new):9.2f}s {statistics.median(new):7.2f}s "
            f"{min(new) / min(old):15.2f}x"
        )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

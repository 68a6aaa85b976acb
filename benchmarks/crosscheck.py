"""Each rule's runtime checks under a GIL build and a free-threaded build, side by side.

    python benchmarks/crosscheck.py [--free-threaded PATH] [--trials N]

Prints: rule, check, where the check says the race shows, the racy driver's trials that showed it
and the fixed driver's, on this interpreter and on the free-threaded one (found or built by
scripts/free-threaded-python unless --free-threaded names one).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from gilsafe.crosscheck import all_checks, observe  # noqa: E402


def free_threaded_python() -> str | None:
    done = subprocess.run(["bash", str(REPO / "scripts" / "free-threaded-python")], capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr.strip() or "no free-threaded Python", file=sys.stderr)
        return None
    return done.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--free-threaded", default=None)
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    ft = args.free_threaded or free_threaded_python()
    interpreters = [("GIL build " + sys.version.split()[0], sys.executable)]
    if ft:
        version = subprocess.run([ft, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True).stdout.strip()
        interpreters.append((f"free-threaded {version}t", ft))
    rows = [["rule", "check", "shows under"] + [f"{name}: racy" for name, _ in interpreters] + [f"{name}: fixed" for name, _ in interpreters]]
    for code, check in all_checks():
        racy = [str(observe(check.racy_source, python, args.trials, 120)) for _, python in interpreters]
        fixed = [str(observe(check.fixed_source, python, max(10, args.trials // 5), 60)) for _, python in interpreters]
        rows.append([code, check.name, check.shows_under, *racy, *fixed])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How much `gilsafe stress` speed figures move from run to run: the same E4 cells, run again and again.

    python benchmarks/stress_stability.py [--runs 5] [--before /tmp/stress-before] [-- STRESS OPTIONS]

Runs `gilsafe stress --backend numba,cext --experiment E4 --threads 1,2` (plus, for this checkout,
any options after `--`) `--runs` times in a row and prints, for each cell and figure, the reported value's range
across the runs. With `--before FOLDER` (another checkout of gilsafe, say `git worktree add
/tmp/stress-before HEAD~1`), that checkout's runs alternate with this one's, so a busy spell on the
machine hits both alike, and the table shows both side by side. The aim on an idle machine: 2-thread
efficiency of the GIL-free kernels within +-0.05 across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CELLS = ["--backend", "numba,cext", "--experiment", "E4", "--threads", "1,2"]
# The figures a reader of E4 acts on: (timings key, label, format).
FIGURES = (
    ("efficiency", "efficiency", "{:.2f}"),
    ("speedup_vs_1_thread", "vs 1 thread", "{:.2f}"),
    ("ns_per_shot", "ns/shot", "{:.2f}"),
    ("speedup_vs_python", "vs python", "{:.1f}"),
)


def run_once(checkout: Path, extra: list[str]) -> tuple[list[dict], float]:
    """One `gilsafe stress` run from `checkout`: its result rows, and its wall seconds."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "r.json"
        env = dict(os.environ, PYTHONPATH=str(checkout))
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "gilsafe", "stress", *CELLS, *extra, "--json", str(out)],
            cwd=checkout, env=env, capture_output=True, text=True,
        )
        seconds = time.monotonic() - started
        if not out.exists():
            raise SystemExit(f"{checkout}: gilsafe stress failed:\n{done.stderr[-2000:]}")
        return json.loads(out.read_text())["results"], seconds


def ranges(runs: list[list[dict]]) -> dict[tuple[str, str], list[float]]:
    """(cell, figure) -> the value each run reported."""
    found: dict[tuple[str, str], list[float]] = {}
    for rows in runs:
        for row in rows:
            cell = f"{row['backend']}/{row['variant']} x{row['threads']}"
            for key, _, _ in FIGURES:
                if isinstance(row["timings"].get(key), (int, float)):
                    found.setdefault((cell, key), []).append(row["timings"][key])
    return found


def unstable_marks(runs: list[list[dict]]) -> dict[str, int]:
    """cell -> in how many runs gilsafe itself marked a figure of it unstable."""
    marks: dict[str, int] = {}
    for rows in runs:
        for row in rows:
            cell = f"{row['backend']}/{row['variant']} x{row['threads']}"
            marks[cell] = marks.get(cell, 0) + bool(row.get("stability", {}).get("unstable"))
    return marks


def describe(values: list[float] | None, fmt: str) -> str:
    if not values:
        return "-"
    width = max(values) - min(values)
    return f"{fmt.format(min(values))}-{fmt.format(max(values))} (+-{fmt.format(width / 2)})"


def meets_aim(values: list[float] | None) -> str:
    """The issue's aim for 2-thread efficiency: within +-0.05 across runs, and at least 0.9."""
    if not values:
        return "-"
    return "met" if max(values) - min(values) <= 0.10 and min(values) >= 0.9 else "missed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", type=Path, default=None, help="another gilsafe checkout to run alternately")
    parser.add_argument("extra", nargs="*", help="options passed on to this checkout's gilsafe stress (after --)")
    args = parser.parse_args()
    checkouts = {"after": HERE} if args.before is None else {"before": args.before.resolve(), "after": HERE}
    runs: dict[str, list[list[dict]]] = {name: [] for name in checkouts}
    seconds: dict[str, float] = {name: 0.0 for name in checkouts}
    for index in range(args.runs):
        for name, checkout in checkouts.items():
            rows, took = run_once(checkout, args.extra if checkout == HERE else [])
            runs[name].append(rows)
            seconds[name] += took
            print(f"run {index + 1}/{args.runs} {name}: {took:.0f} s, load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"{args.runs} runs of gilsafe stress {' '.join(CELLS)} {' '.join(args.extra)}; each figure's range across the runs (+- half its width)")
    found = {name: ranges(r) for name, r in runs.items()}
    marks = {name: unstable_marks(r) for name, r in runs.items() if name == "after"}
    names = list(checkouts)
    header = (f"{'cell':<18} {'figure':<12} " + " ".join(f"{name:<26}" for name in names)).rstrip()
    print(header)
    print("-" * len(header))
    cells = sorted({cell for cell, _ in found["after"]}, key=lambda c: (c.split("/")[0], c))
    for cell in cells:
        for key, label, fmt in FIGURES:
            if (cell, key) not in found["after"]:
                continue
            line = f"{cell:<18} {label:<12} " + " ".join(f"{describe(found[name].get((cell, key)), fmt):<26}" for name in names)
            if key == "efficiency" and not cell.endswith("x1"):
                line += "  aim " + " ".join(f"{name} {meets_aim(found[name].get((cell, key)))}" for name in names)
            print(line.rstrip())
        if marks.get("after", {}).get(cell):
            print(f"{'':<18} (marked unstable by gilsafe in {marks['after'][cell]} of {args.runs} runs)")
    print("wall time per run: " + ", ".join(f"{name} {seconds[name] / args.runs:.0f} s" for name in names))
    other = [row["conditions"]["other_load_cores"] for rows in runs["after"] for row in rows if (row.get("conditions") or {}).get("other_load_cores") is not None]
    if other:
        print(f"CPU used by other processes while the after cells timed: {min(other):.2f}-{max(other):.2f} cores (median {sorted(other)[len(other) // 2]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

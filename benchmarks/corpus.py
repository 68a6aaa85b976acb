"""Precision and recall on tests/corpus/, gilsafe beside threadcheck, measured in one run.

    python benchmarks/corpus.py [--threadcheck PATH]

Each corpus program comes racy and fixed. Two scores per tool:
- programs: a racy program the tool flags is a true positive, a fixed one it flags a false positive;
- lines: each `# expect:` line of a racy program is a positive; a finding on any other line (racy or
  fixed program) is a false positive. gilsafe's findings must match the code as well; threadcheck's
  categories differ from gilsafe's codes, so for it any warning on the line counts.
threadcheck's "info" items (it notes every thread creation) are not counted as findings.
threadcheck needs Python 3.12+: `make bench` installs it into .venv-threadcheck.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
sys.path.insert(0, str(ROOT / "tests"))
from test_corpus import expected_findings  # noqa: E402


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def gilsafe_findings() -> dict[str, Counter]:
    done = subprocess.run(
        [sys.executable, "-m", "gilsafe", "lint", "--format", "json", "--no-cache", "--target", "gil", "--exit-zero", str(CORPUS)],
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, Counter] = {}
    for item in json.loads(done.stdout):
        found.setdefault(Path(item["path"]).name, Counter())[(item["line"], item["code"])] += 1
    return found


def threadcheck_findings(executable: str) -> dict[str, Counter]:
    done = subprocess.run([executable, "scan", "--json", "-q", str(CORPUS)], capture_output=True, text=True)
    text = done.stdout[done.stdout.index("[") :] if "[" in done.stdout else "[]"
    found: dict[str, Counter] = {}
    for item in json.loads(text):
        if item.get("severity") == "info":
            continue
        found.setdefault(Path(item["file"]).name, Counter())[(item["line"], "*")] += 1
    return found


def score(found: dict[str, Counter], match_code: bool) -> tuple[Score, Score]:
    programs, lines = Score(), Score()
    for path in sorted(CORPUS.glob("*.py")):
        expected = expected_findings(path.read_text())
        got = found.get(path.name, Counter())
        racy = path.stem.endswith("_racy")
        if racy:
            programs.tp += bool(got)
            programs.fn += not got
        else:
            programs.fp += bool(got)
        expected_lines = {line for line, _ in expected}
        if match_code:
            hits = expected & got
            lines.tp += sum(hits.values())
            lines.fn += sum((expected - got).values())
            lines.fp += sum((got - expected).values())
        else:
            got_lines = {line for line, _ in got}
            lines.tp += len(expected_lines & got_lines)
            lines.fn += len(expected_lines - got_lines)
            lines.fp += len(got_lines - expected_lines)
    return programs, lines


def find_threadcheck(given: str | None) -> str | None:
    for candidate in (given, shutil.which("threadcheck"), str(ROOT / ".venv-threadcheck" / "bin" / "threadcheck")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def report(threadcheck: str | None) -> str:
    pairs = len(list(CORPUS.glob("*_racy.py")))
    rows = [("gilsafe", *score(gilsafe_findings(), match_code=True))]
    lines = [f"corpus: {pairs} programs, each racy and fixed ({2 * pairs} files), tests/corpus/"]
    if threadcheck:
        version = subprocess.run([threadcheck, "--version"], capture_output=True, text=True).stdout.strip()
        rows.append((version or "threadcheck", *score(threadcheck_findings(threadcheck), match_code=False)))
    else:
        lines.append("threadcheck: skipped: not installed (needs Python 3.12+; `make bench` installs it)")
    lines.append(
        f"{'tool':<22} {'programs: precision':>19} {'recall':>7} {'TP/FP/FN':>11}   {'lines: precision':>16} {'recall':>7} {'TP/FP/FN':>11}"
    )
    for name, programs, line_score in rows:
        lines.append(
            f"{name:<22} {programs.precision:19.2f} {programs.recall:7.2f} {f'{programs.tp}/{programs.fp}/{programs.fn}':>11}   "
            f"{line_score.precision:16.2f} {line_score.recall:7.2f} {f'{line_score.tp}/{line_score.fp}/{line_score.fn}':>11}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threadcheck", default=None, help="the threadcheck executable (default: PATH, then .venv-threadcheck)")
    args = parser.parse_args()
    print(report(find_threadcheck(args.threadcheck)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""gilsafe on code nobody here wrote: recall on real fixed thread-safety bugs, and precision on whole
projects by hand triage. Third-party code is read from local git checkouts, never from this repo.

    python benchmarks/realworld.py --checkouts DIR [--half dev|holdout|both] [--bugs] [--projects] [-j N]

DIR holds one git checkout per repository as `owner+name` (a work tree, a bare repository, or a
folder with the bare repository in `repo/`, as the fetch tool lays them out).

Bugs (benchmarks/realworld/bugs.toml): each bug's package is exported at the commit before the fix
and linted whole (`gilsafe lint PACKAGE`, one project); the bug counts as found when a finding's
lines overlap the buggy lines. Then the same at the fix commit: "quiet" when no finding overlaps the
fixed lines. Recall is printed for the dev half (looked at while developing) and the held-out half
(not looked at) apart.

Projects (benchmarks/realworld/projects.toml): whole packages at a pinned commit; findings per rule,
each looked up in benchmarks/realworld/triage.toml (`repo@commit path:line code`), giving precision
over the triaged findings and listing the untriaged ones. Internal errors (GS000 "could not
analyse") are counted everywhere: the standard is zero.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gilsafe.lint.api import OVER_TIME_LIMIT, lint_paths  # noqa: E402
from gilsafe.lint.findings import Finding  # noqa: E402

HERE = Path(__file__).resolve().parent / "realworld"


def git_dir(checkouts: Path, repo: str) -> Path:
    folder = checkouts / repo.replace("/", "+")
    for candidate in (folder / "repo", folder / ".git", folder):
        if (candidate / "HEAD").exists() and (candidate / "objects").exists():
            return candidate
    raise SystemExit(f"{repo}: no git checkout under {folder}")


def export(git: Path, commit: str, package: str, into: Path) -> Path:
    """The package's Python files as they were at `commit`, written under `into` (git archive: no
    work tree needed; only .py files, since snapshots may lack large data files)."""
    spec = package if package.endswith(".py") else f":(glob){package}/**/*.py"
    archive = subprocess.run(
        ["git", "--git-dir", str(git), "archive", "--format=tar", commit, "--", spec],
        capture_output=True, check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / package


@dataclass
class Linted:
    findings: list[Finding]
    seconds: float
    files: int
    internal_errors: list[Finding]
    over_time: list[Finding]  # files cut by the per-file time limit (huge generated files)


# The settings every tree is linted with; `--preview` adds the lower-confidence evidence.
OVERRIDES: dict[str, object] = {"target": "gil"}


def lint_tree(root: Path, package: Path, jobs: int) -> Linted:
    start = time.perf_counter()
    report = lint_paths([str(package)], jobs=jobs, cache_folder=None, overrides=OVERRIDES)
    seconds = time.perf_counter() - start
    findings = []
    for finding in report.findings:
        relative = str(Path(finding.path).relative_to(root))
        findings.append(Finding(relative, finding.line, finding.column, finding.code, finding.message, finding.end_line, finding.end_column, finding.entry, None, finding.chain))
    errors = [f for f in findings if f.code == "GS000" and "could not analyse" in f.message]
    over_time = [f for f in findings if f.code == "GS000" and f.message.endswith(OVER_TIME_LIMIT)]
    return Linted(findings, seconds, len(report.results), errors, over_time)


def overlaps(finding: Finding, path: str, lines: list[int]) -> bool:
    end = max(finding.end_line, finding.line)
    return finding.path == path and finding.code != "GS000" and finding.line <= lines[1] and end >= lines[0]


def run_bugs(checkouts: Path, halves: set[str], jobs: int, show: bool) -> list[str]:
    bugs = [b for b in tomllib.loads((HERE / "bugs.toml").read_text())["bug"] if b["half"] in halves]
    rows = []
    totals: dict[str, Counter] = defaultdict(Counter)
    for bug in bugs:
        git = git_dir(checkouts, bug["repo"])
        with tempfile.TemporaryDirectory() as before, tempfile.TemporaryDirectory() as after:
            old = lint_tree(Path(before), export(git, bug["buggy_commit"], bug["package"], Path(before)), jobs)
            new = lint_tree(Path(after), export(git, bug["fix_commit"], bug["package"], Path(after)), jobs)
        hits = [f for f in old.findings if overlaps(f, bug["path"], bug["lines"])]
        still = [f for f in new.findings if overlaps(f, bug["fixed_path"], bug["fixed_lines"])]
        half = bug["half"]
        totals[half]["bugs"] += 1
        totals[half]["found"] += bool(hits)
        totals[half]["quiet"] += bool(hits) and not still
        totals[half]["errors"] += len(old.internal_errors) + len(new.internal_errors)
        totals[half]["seconds"] += old.seconds + new.seconds
        codes = ",".join(sorted({f.code for f in hits})) or "-"
        rows.append(f"{bug['id']:<18} {half:<8} {'found' if hits else 'missed':<7} {codes:<12} {'quiet' if not still else 'still':<6} {old.files:>5} files {old.seconds:6.1f}s  errors {len(old.internal_errors) + len(new.internal_errors)}"
                    + (f"  (cut by the time limit: {', '.join(sorted({f.path for f in old.over_time + new.over_time}))})" if old.over_time or new.over_time else ""))
        if show and hits:
            for f in hits:
                rows.append(f"    {f.path}:{f.line} {f.code} {f.full_message[:220]}")
    lines = ["bug                half     result  codes        fixed  package"]
    lines += rows
    lines.append("")
    lines.append("half       bugs  found  recall  quiet-after-fix (of found)  internal errors  lint time")
    for half in ("dev", "holdout"):
        if half in totals:
            t = totals[half]
            lines.append(
                f"{half:<9} {t['bugs']:>5} {t['found']:>6}  {t['found'] / t['bugs']:6.2f}  {t['quiet']:>3} of {t['found']:<3}"
                f"                     {t['errors']:>5}  {t['seconds']:8.1f}s"
            )
    return lines


def run_projects(checkouts: Path, jobs: int, show_untriaged: bool) -> list[str]:
    projects = tomllib.loads((HERE / "projects.toml").read_text())["project"]
    triage_file = HERE / "triage.toml"
    triage = {}
    if triage_file.exists():
        for entry in tomllib.loads(triage_file.read_text()).get("finding", []):
            triage[entry["key"]] = entry
    per_rule: dict[str, Counter] = defaultdict(Counter)
    lines = ["project                          files  findings  true  false  untriaged  internal errors  lint time"]
    untriaged_keys = []
    false_keys = []
    for project in projects:
        git = git_dir(checkouts, project["repo"])
        with tempfile.TemporaryDirectory() as folder:
            linted = lint_tree(Path(folder), export(git, project["commit"], project["package"], Path(folder)), jobs)
        counts = Counter()
        for finding in linted.findings:
            if finding.code == "GS000" and "could not analyse" not in finding.message:
                continue  # files that are not Python this interpreter reads (py2 data, templates)
            key = f"{project['repo']}@{project['commit'][:12]} {finding.path}:{finding.line} {finding.code}"
            verdict = triage.get(key, {}).get("verdict")
            per_rule[finding.code][verdict or "untriaged"] += 1
            counts[verdict or "untriaged"] += 1
            if verdict is None:
                untriaged_keys.append((key, finding.full_message))
            elif verdict == "false":
                false_keys.append((key, triage[key]["reason"]))
        lines.append(
            f"{project['repo']:<32} {linted.files:>5} {sum(counts.values()):>9} {counts['true']:>5} {counts['false']:>6} {counts['untriaged']:>10}"
            f" {len(linted.internal_errors):>16} {linted.seconds:9.1f}s"
        )
    lines.append("")
    lines.append("rule    findings  true  false  untriaged  precision (triaged)")
    for code in sorted(per_rule):
        c = per_rule[code]
        judged = c["true"] + c["false"]
        precision = f"{c['true'] / judged:.2f}" if judged else "-"
        lines.append(f"{code:<7} {sum(c.values()):>9} {c['true']:>5} {c['false']:>6} {c['untriaged']:>10}  {precision}")
    all_true = sum(c["true"] for c in per_rule.values())
    all_judged = sum(c["true"] + c["false"] for c in per_rule.values())
    if all_judged:
        lines.append(f"all     {sum(sum(c.values()) for c in per_rule.values()):>9} {all_true:>5} {all_judged - all_true:>6}  precision {all_true / all_judged:.2f}")
    if show_untriaged and false_keys:
        lines.append("")
        lines.append("reported and judged false:")
        for key, reason in false_keys:
            lines.append(f"  {key}  # {reason}")
    if show_untriaged and untriaged_keys:
        lines.append("")
        lines.append("untriaged:")
        for key, message in untriaged_keys:
            lines.append(f"  key = \"{key}\"  # {message}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkouts", type=Path, required=True, help="folder of git checkouts named owner+name")
    parser.add_argument("--half", choices=("dev", "holdout", "both"), default="both")
    parser.add_argument("--bugs", action="store_true", help="only the fixed-bug recall")
    parser.add_argument("--projects", action="store_true", help="only the whole-project precision")
    parser.add_argument("--preview", action="store_true", help="lint with preview = true (lower-confidence evidence too)")
    parser.add_argument("--show", action="store_true", help="print the findings on buggy lines, the false and the untriaged findings")
    parser.add_argument("-j", "--jobs", type=int, default=2)
    args = parser.parse_args()
    halves = {"dev", "holdout"} if args.half == "both" else {args.half}
    both = not (args.bugs or args.projects)
    if args.preview:
        OVERRIDES["preview"] = True
    if args.bugs or both:
        print("\n".join(run_bugs(args.checkouts, halves, args.jobs, args.show)))
        print()
    if args.projects or both:
        print("\n".join(run_projects(args.checkouts, args.jobs, args.show)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

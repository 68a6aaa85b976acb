"""`--gilsafe-lint`: lint the modules the tests import, then watch the lines of each finding while
the threaded tests run, and say per finding whether the tests confirmed it.

The threaded tests are what runs in many threads here, so the lint treats each of them as an API
many threads call at once (the `thread-safe` setting): whatever such a test reaches is linted as
concurrent code, whether or not the library starts a thread of its own.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gilsafe.pytest_plugin.lines import LineEvidence, LineRecorder, LineStatus, finding_status, watched_lines

if TYPE_CHECKING:
    from gilsafe.lint.findings import FileError, Finding

# Folders whose modules are third-party or tooling, not the code under test.
NOT_UNDER_TEST = frozenset({"site-packages", "dist-packages", ".venv", "venv", ".tox", ".nox", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class ConfirmedFinding:
    """A lint finding and what the threaded tests showed about its lines."""

    finding: Finding
    evidence: LineEvidence

    def to_json(self, root: Path) -> dict:
        return {
            **self.finding.to_json(),
            "display_path": display_path(self.finding.path, root),
            "runtime": {
                "status": str(self.evidence.status),
                "tests": list(self.evidence.tests),
                "failing_tests": list(self.evidence.failing_tests),
                "trials": self.evidence.trials,
            },
        }


def modules_under_test(root: Path, test_files: Iterable[Path]) -> list[Path]:
    """The source files of the modules imported so far that live under `root`: the project's own
    code, without its tests, conftests and anything installed into a virtual environment there."""
    root = root.resolve()
    tests = {p.resolve() for p in test_files}
    found = set()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if not file or not file.endswith(".py"):
            continue
        path = Path(file).resolve()
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        if path in tests or path.name == "conftest.py" or NOT_UNDER_TEST.intersection(parts):
            continue
        found.add(path)
    return sorted(found)


def threaded_test_patterns(tests: Iterable[tuple[Path, str]]) -> list[str]:
    """`thread-safe` patterns naming exactly the tests that run threaded: (file, name) pairs where
    the name is a test function's or its class's (`test_mod:test_add`, `test_mod:TestCache`).
    A unittest.TestCase or a single-threaded test in the same module stays undeclared."""
    from gilsafe.lint.api import module_name_of

    return sorted({f"{module_name_of(path)[0]}:{name}" for path, name in tests})


class RuntimeLint:
    """The findings to watch and the recorder watching them, for one pytest session."""

    def __init__(self, findings: Sequence[Finding], errors: Sequence[FileError], linted: int) -> None:
        self.findings = list(findings)
        self.errors = list(errors)
        self.linted = linted  # files linted
        self.recorder = LineRecorder(watched_lines(self.findings))

    @classmethod
    def lint(cls, sources: Sequence[Path], threaded_tests: Sequence[tuple[Path, str]], cache_folder: Path | None) -> RuntimeLint:
        from gilsafe.lint.api import lint_paths

        test_files = sorted({path for path, _ in threaded_tests})
        patterns = threaded_test_patterns(threaded_tests)
        report = lint_paths([str(p) for p in [*sources, *test_files]], overrides={"thread_safe": patterns}, jobs=1, cache_folder=cache_folder)
        return cls(report.findings, report.errors, len(sources) + len(test_files))

    def confirmed(self) -> list[ConfirmedFinding]:
        """Every finding with its runtime status: confirmed races first, then by place."""
        statuses = self.recorder.statuses()
        rows = [ConfirmedFinding(f, finding_status(f, statuses)) for f in self.findings]
        order = {LineStatus.CONFIRMED: 0, LineStatus.CONCURRENT: 1, LineStatus.NOT_EXERCISED: 2}
        return sorted(rows, key=lambda row: (order[row.evidence.status], row.finding))

    def summary_lines(self, root: Path, shown: int = 20) -> list[str]:
        rows = self.confirmed()
        counts = {status: sum(row.evidence.status is status for row in rows) for status in LineStatus}
        lines = [
            f"{len(rows)} findings in {self.linted} files linted: {counts[LineStatus.CONFIRMED]} confirmed race, "
            f"{counts[LineStatus.CONCURRENT]} ran concurrently, {counts[LineStatus.NOT_EXERCISED]} not exercised"
        ]
        for row in rows[:shown]:
            f, evidence = row.finding, row.evidence
            tests = evidence.failing_tests or evidence.tests
            where = f" by {', '.join(tests[:3])}{' and more' if len(tests) > 3 else ''}" if tests else ""
            lines.append(f"{evidence.status}: {display_path(f.path, root)}:{f.line}:{f.column}: {f.code} {f.message}{where}")
        if len(rows) > shown:
            lines.append(f"... {len(rows) - shown} more (--gilsafe-json FILE has them all)")
        lines += [f"not linted: {error}" for error in self.errors]
        return lines

    def write_json(self, path: Path, root: Path) -> None:
        from gilsafe.atomic import write_atomically

        document = {"findings": [row.to_json(root) for row in self.confirmed()], "errors": [str(e) for e in self.errors]}
        write_atomically(path, (json.dumps(document, indent=2) + "\n").encode())


def display_path(path: str, root: Path) -> str:
    try:
        return os.path.relpath(path, root) if Path(path).resolve().is_relative_to(root.resolve()) else path
    except ValueError:
        return path


def read_confirmed(path: Path) -> list[tuple[Finding, dict]]:
    """A `--gilsafe-json` file: each finding and its runtime record, for `gilsafe report --runtime`."""
    from gilsafe.errors import UsageError
    from gilsafe.lint.findings import Finding

    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return [(Finding.from_json({k: v for k, v in f.items() if k not in ("runtime", "display_path")}), f["runtime"]) for f in document["findings"]]
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UsageError(f"{path}: not a --gilsafe-json file ({type(error).__name__}: {error})") from None

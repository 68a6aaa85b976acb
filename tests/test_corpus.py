"""The regression corpus: small programs modeled on real thread-safety bugs, each in a racy and a
fixed version. Every `# expect: CODE[, CODE]` comment is a finding gilsafe must report on that line,
and it must report nothing else (fixed versions carry no such comment)."""

import re
from collections import Counter
from pathlib import Path

import pytest

from gilsafe.lint.api import lint_source
from gilsafe.lint.config import Settings

CORPUS = Path(__file__).parent / "corpus"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>GS\d{3}(?:\s*,\s*GS\d{3})*)")
# The corpus is written for code that runs under the GIL (the rules' free-threaded-only patterns
# are covered by their own examples).
SETTINGS = Settings(target="gil")


def expected_findings(text: str) -> Counter:
    found = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            for code in re.split(r"\s*,\s*", match.group("codes")):
                found[(number, code)] += 1
    return found


def corpus_files():
    return sorted(CORPUS.glob("*.py"))


def test_corpus_has_at_least_60_racy_fixed_pairs():
    racy = {p.name.removesuffix("_racy.py") for p in CORPUS.glob("*_racy.py")}
    fixed = {p.name.removesuffix("_fixed.py") for p in CORPUS.glob("*_fixed.py")}
    assert racy == fixed and len(racy) >= 60
    for name in racy:
        assert expected_findings((CORPUS / f"{name}_racy.py").read_text()), f"{name}_racy.py expects nothing"
        assert not expected_findings((CORPUS / f"{name}_fixed.py").read_text()), f"{name}_fixed.py expects findings"


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_corpus_program_gives_exactly_the_expected_findings(path):
    text = path.read_text()
    findings = lint_source(text, SETTINGS, path=path.name).findings
    got = Counter((f.line, f.code) for f in findings)
    assert got == expected_findings(text), "\n".join(f"{f.line}: {f.code} {f.message}" for f in findings)


def test_corpus_linted_as_one_project_gives_exactly_the_expected_findings():
    # `gilsafe lint tests/corpus` links all 140 modules into one project: one program's threads,
    # locks and functions must not leak into another program's findings.
    from gilsafe.lint.api import lint_paths

    report = lint_paths([str(CORPUS)], overrides={"target": "gil"}, jobs=1)
    assert not report.errors, report.errors
    got: dict[str, Counter] = {}
    for result in report.results:
        got[Path(result.path).name] = Counter((f.line, f.code) for f in result.findings)
    for path in corpus_files():
        assert got.get(path.name, Counter()) == expected_findings(path.read_text()), path.name

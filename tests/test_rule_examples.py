"""Every rule's VALID and INVALID examples, turned into test cases automatically."""

import textwrap

import pytest

from gilsafe.lint.api import lint_source, lint_sources
from gilsafe.lint.config import Settings, settings_from_table
from gilsafe.rules import ALL_RULES


def _settings(example) -> Settings:
    if not example.settings:
        return Settings()
    return settings_from_table(example.settings, root=".", where="<example>", known_codes=ALL_RULES)


def _cases(kind):
    for code, rule in ALL_RULES.items():
        for index, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, example, id=f"{code}-{kind.lower()}-{index}")


def test_every_rule_has_examples_and_docs():
    for code, rule in ALL_RULES.items():
        assert rule.VALID and rule.INVALID, code
        for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
            assert section in rule.docs, f"{code} lacks {section}"
        assert rule.when in ("under the GIL", "free-threaded", "both")


def _lint(example):
    """The example as a project: `example.py` and the modules its `files` add."""
    files = {"example.py": example.source}
    for path, source in (example.files or {}).items():
        files[path] = textwrap.dedent(source).lstrip("\n")
    report = lint_sources(files, _settings(example))
    return [f for f in report.findings]


@pytest.mark.parametrize("rule, example", list(_cases("VALID")))
def test_valid_example_is_not_reported(rule, example):
    findings = _lint(example)
    assert [f for f in findings if f.code == rule.code] == [], "\n".join(f"{f.path}:{f.line} {f.full_message}" for f in findings)
    assert all(f.code != "GS000" for f in findings), findings


@pytest.mark.parametrize("rule, example", list(_cases("INVALID")))
def test_invalid_example_is_reported(rule, example):
    mine = [f for f in _lint(example) if f.code == rule.code and f.path == "example.py"]
    assert mine, f"{rule.code} did not report:\n{example.source}"
    if example.line is not None:
        assert example.line in [f.line for f in mine], mine


@pytest.mark.parametrize("rule, example", [p for p in _cases("INVALID") if p.values[1].expected_fix is not None])
def test_invalid_example_fix(rule, example):
    result = lint_source(example.source, _settings(example), path="example.py", fix=True)
    assert result.fixed_source is not None
    assert result.fixed_source.decode() == example.fixed_source
    again = lint_source(result.fixed_source, _settings(example), path="example.py", fix=True)
    assert again.fixed_source is None, "a second --fix must change nothing"
    assert [f for f in again.findings if f.code == rule.code] == []

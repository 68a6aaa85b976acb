"""Every rule's VALID and INVALID examples, turned into test cases automatically."""

import pytest

from gilsafe.api import lint_source
from gilsafe.config import Settings, settings_from_table
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


@pytest.mark.parametrize("rule, example", list(_cases("VALID")))
def test_valid_example_is_not_reported(rule, example):
    result = lint_source(example.source, _settings(example), path="example.py")
    assert [f for f in result.findings if f.code == rule.code] == []
    assert all(f.code != "GS000" for f in result.findings), result.findings


@pytest.mark.parametrize("rule, example", list(_cases("INVALID")))
def test_invalid_example_is_reported(rule, example):
    result = lint_source(example.source, _settings(example), path="example.py")
    mine = [f for f in result.findings if f.code == rule.code]
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

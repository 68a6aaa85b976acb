"""Static claims backed by runtime evidence: every rule's racy driver is reported and shows its race
on the interpreters its check names; every fixed driver is clean and never shows it."""

import pytest

from gilsafe.lint.api import lint_source
from gilsafe.crosscheck import all_checks, observe
from gilsafe.lint.rule import BOTH, FREE_THREADED, UNDER_GIL
from gilsafe.stress.environment import gil_enabled

CHECKS = [pytest.param(code, check, id=f"{code}-{index}") for index, (code, check) in enumerate(all_checks())]


def test_there_are_runtime_checks():
    assert CHECKS
    assert all(check.shows_under in (BOTH, FREE_THREADED, UNDER_GIL) and check.why for _, check in all_checks())


@pytest.mark.parametrize("code, check", CHECKS)
def test_racy_driver_is_reported_and_fixed_driver_is_not(code, check):
    assert code in [f.code for f in lint_source(check.racy_source, path="racy.py").findings]
    assert code not in [f.code for f in lint_source(check.fixed_source, path="fixed.py").findings]


@pytest.mark.parametrize("code, check", CHECKS)
def test_racy_driver_shows_the_race_where_its_check_says(code, check):
    if not check.expected_on(gil_enabled()):
        pytest.skip(f"shows only {check.shows_under}: {check.why}")
    seen = observe(check.racy_source, trials=300, seconds=90, until_shown=True)
    assert not seen.error, seen.error
    assert seen.shown >= 1, f"no race in {seen.trials} trials"


@pytest.mark.parametrize("code, check", CHECKS)
def test_fixed_driver_never_shows_it(code, check):
    seen = observe(check.fixed_source, trials=20, seconds=30)
    assert not seen.error, seen.error
    assert seen.trials >= 1 and seen.shown == 0


def test_every_invalid_example_of_a_checked_rule_has_a_driver():
    from gilsafe.rules import ALL_RULES

    for code, rule in ALL_RULES.items():
        checks = getattr(rule, "RUNTIME_CHECKS", ())
        if not checks:
            assert "## Runtime evidence" in rule.docs, f"{code} must say why its claim has no runtime check"
            continue
        assert {c.example for c in checks} == set(range(len(rule.INVALID))), code

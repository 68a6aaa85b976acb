"""The stress API without the command line: plan -> prepare -> run -> merge -> document."""

import json
from pathlib import Path

import pytest

from gilsafe.errors import UsageError
from gilsafe.stress import api
from gilsafe.stress.experiments import E2_VARIANTS
from gilsafe.stress.model import Expect, Result, Status

TESTS = str(Path(__file__).resolve().parent)


def test_a_catalogue_plan_runs_and_documents_itself():
    plan = api.StressPlan(experiments=("e2",), backends=("python",), trials=2, size=2_000)
    prepared = api.prepare(plan)
    runs = api.run(plan, prepared)
    merged = api.merge(runs)
    assert len(runs) == 1 and not merged.interrupted
    assert {r.variant for r in merged.results} == set(E2_VARIANTS)
    for result in merged.results:
        assert isinstance(result, Result) and result.status is Status.OK
        assert [o.outcome for o in result.outcomes] == ["g == 0", "g != 0"], "the declared table, in order"
        assert sum(o.count for o in result.outcomes) == 2
    document = json.loads(json.dumps(api.document(prepared, merged)))
    assert document["environment"]["python"] and len(document["results"]) == len(merged.results)
    assert [Result.from_json(r).to_json() for r in document["results"]] == [r.to_json() for r in merged.results]


def test_a_user_target_plan_grades_its_values():
    target = {"func": "stress_targets:locked_increment", "setup": "stress_targets:make_counter", "check": "stress_targets:final_count", "expect": ["800000"], "cwd": TESTS}
    plan = api.StressPlan(target=target, threads=(4,), trials=2)
    [result] = api.merge(api.run(plan, api.prepare(plan))).results
    assert (result.outcomes[0].outcome, result.outcomes[0].count, result.outcomes[0].expect) == ("800000", 2, Expect.ACCEPTABLE)
    assert not result.failed


@pytest.mark.parametrize(
    "plan, message",
    [
        (api.StressPlan(backends=("fortran",)), "unknown backend 'fortran'"),
        (api.StressPlan(experiments=("E99",)), "unknown experiment 'E99'"),
        (api.StressPlan(target={"func": "m:f", "expect": ["1"]}), "--expect names values of --check"),
    ],
)
def test_a_bad_plan_is_a_one_line_usage_error(plan, message):
    with pytest.raises(UsageError, match=message):
        api.prepare(plan)

"""The Sphinx extension, `gilsafe report` and the project's docs, built with -W and read back."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def stress_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("stress") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "gilsafe", "stress", "--experiment", "E2,E4", "--backend", "python,cext",
         "--threads", "1,2", "--trials", "3", "--size", "200000", "--json", str(path)],
        capture_output=True, text=True, timeout=600,
    )
    assert path.exists(), done.stderr
    return path


def test_report_on_examples(tmp_path, stress_json, run_gilsafe):
    out = tmp_path / "report"
    result = run_gilsafe("report", "--lint", "examples", "--stress", stress_json, "-o", out, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    index = (out / "index.html").read_text()
    assert "Lint: 6 findings under examples" in index
    assert re.search(r"GS101.*shared-read-modify-write.*3", index, re.S)
    assert "races or wrong results observed" in index and "best speed-up vs 1 thread" in index
    findings = (out / "findings.html").read_text()
    assert "examples/add_sub_race.py:14:9" in findings
    assert "threading.Thread(target=add)" in findings
    assert 'class="hll"' in findings, "the finding's line is marked in its source"
    assert 'href="rules/GS101.html' in findings, "findings link to their rule's page"
    stress_page = (out / "stress.html").read_text()
    assert "lost updates" in stress_page and "ACCEPTABLE" in stress_page
    images = sorted(p.name for p in (out / "_images").glob("*.png"))
    assert images == ["E4-cext.png", "E4-python.png"]
    assert "E4-cext.png" in stress_page


def test_report_usage_errors(tmp_path, run_gilsafe):
    result = run_gilsafe("report", "-o", tmp_path / "r", cwd=REPO)
    assert result.returncode == 2 and "give --lint PATH" in result.stderr
    result = run_gilsafe("report", "--lint", "nowhere", "-o", tmp_path / "r", cwd=REPO)
    assert result.returncode == 2 and "nowhere: no such file" in result.stderr
    assert not (tmp_path / "r").exists(), "nothing half-written"


def test_project_docs_build_with_warnings_as_errors(tmp_path):
    out = tmp_path / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(REPO / "docs"), str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rule_page = (out / "rules" / "GS101.html").read_text()
    assert "What it does" in rule_page and "Use instead" in rule_page and "Examples from the test suite" in rule_page
    experiments = sorted(p.stem for p in (out / "experiments").glob("E*.html"))
    assert experiments == sorted(["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E10", "E11", "E12", "E13"])
    e4 = (out / "experiments" / "E4.html").read_text()
    assert "3x at 3 threads" in e4 and "Measured by this project" in e4
    e2 = (out / "experiments" / "E2.html").read_text()
    assert "Outcomes each trial is graded by" in e2 and "an update was lost: the race the talk shows" in e2, "the declared table, read without a run"
    assert "Outcomes each trial is graded by" not in e4, "a speed experiment counts no outcomes"
    cli = (out / "cli.html").read_text()
    assert "--add-noqa" in cli and "--time-budget" in cli
    quickstart = (out / "quickstart.html").read_text()
    assert "examples/numba_pi_racy.py:12:2" in quickstart


def test_measured_results_are_a_valid_stress_document():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((REPO / "gilsafe" / "stress" / "result.schema.json").read_text())
    jsonschema.validate(json.loads((REPO / "docs" / "measured" / "cpu-2core.json").read_text()), schema)


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "cannot read: No such file or directory"),
        ("garbage", "not a gilsafe stress result file (not JSON: Expecting value: line 1 column 1 (char 0))"),
        ('{"results": [{"experiment": "E2"}]}', "not a gilsafe stress result file (results[0]: missing 'backend')"),
    ],
)
def test_report_rejects_a_wrong_stress_file_in_one_line(tmp_path, run_gilsafe, content, problem):
    stress = tmp_path / "results.json"
    if content is not None:
        stress.write_text(content)
    result = run_gilsafe("report", "--stress", stress, "-o", tmp_path / "r", cwd=REPO)
    assert result.returncode == 2
    assert result.stderr == f"gilsafe: error: {stress}: {problem}\n" and result.stdout == ""
    assert not (tmp_path / "r").exists()


def test_report_shows_a_file_that_is_not_python_at_all(tmp_path, run_gilsafe):
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"[\x8dI\x90-\n" * 3)  # not UTF-8: lint says GS000, Pygments finds no Python token
    result = run_gilsafe("report", "--lint", binary, "-o", tmp_path / "r", cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GS000" in (tmp_path / "r" / "findings.html").read_text()

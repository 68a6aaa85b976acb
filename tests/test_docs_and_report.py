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
    assert "Races and wrong results seen" in index and "The best speed-up per backend" in index
    findings = (out / "findings.html").read_text()
    assert "examples/add_sub_race.py:14:9" in findings
    assert "threading.Thread(target=add)" in findings
    assert 'class="hll"' in findings, "the finding's line is marked in its source"
    assert 'href="rules/GS101.html' in findings, "findings link to their rule's page"
    stress_page = (out / "stress.html").read_text()
    assert "lost updates" in stress_page and "ACCEPTABLE" in stress_page
    images = sorted(p.name for p in (out / "_images").glob("*.png"))
    assert images == ["E4-cext.png", "E4-python.png", "best-speedups.png"]
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


def _cell(experiment, backend, variant, threads, status="ok", outcomes=(), timings=None, detail="", stability=None):
    from gilsafe.stress.model import Outcome, Result, Status

    return Result(experiment, backend, variant, threads, Status(status), detail, [Outcome(*o) for o in outcomes], timings or {}, "current", True, stability=stability)


def test_report_first_page_is_a_verdict_linking_to_its_detail(tmp_path):
    """Built through the API from typed results: the first page answers first (findings worst
    first, races k/N with wrong results first, crashes and hangs, best speed-up against min(N, M))
    and every number is a link that lands on an anchor that exists."""
    from gilsafe.report import build_report
    from gilsafe.stress.model import ACCEPTABLE, FORBIDDEN, INTERESTING
    from gilsafe.stress.stability import Stability

    results = [
        _cell("user", "python", "racy", 4, outcomes=[("400000", 19, INTERESTING, "differed"), ("300000", 1, INTERESTING, "differed")]),
        _cell("E12", "numpy", "inplace", 2, outcomes=[("correct", 17, ACCEPTABLE), ("wrong sum", 3, FORBIDDEN, "an update was lost")]),
        _cell("E2", "cext", "locked", 2, outcomes=[("400000", 20, ACCEPTABLE)]),
        _cell("E4", "numba", "talk", 2, status="crash", detail="killed by SIGSEGV\nmore"),
        _cell("E4", "cext", "tuned", 2, status="timeout", detail="no result after 60 s"),
        _cell("E4", "numpy", "tuned", 1, timings={"speedup_vs_1_thread": 1.0}),
        _cell("E4", "numpy", "tuned", 2, timings={"speedup_vs_1_thread": 1.8}),
        _cell("E4", "numpy", "talk", 2, timings={"speedup_vs_1_thread": 5.9}, stability=Stability(2, 5, ("speedup_vs_1_thread",), ("other load",))),
        _cell("E4", "python", "tuned", 2, timings={"speedup_vs_1_thread": 0.94}),
    ]
    stress = tmp_path / "results.json"
    environment = json.loads((REPO / "docs" / "measured" / "cpu-2core.json").read_text())["environment"]
    environment.update(cpu_affinity=2, gil_enabled=True, free_threaded_build=False)
    stress.write_text(json.dumps({"environment": environment, "results": [r.to_json() for r in results]}))
    index_path = build_report([str(REPO / "examples")], stress, tmp_path / "out")
    index = index_path.read_text()
    text = re.sub(r"<[^>]+>", " ", index)
    text = re.sub(r"\s+", " ", text)
    assert "Needs attention: 6 lint findings from 4 rules; races or wrong results in 2 of 9 stress cells; 2 cells crashed, hung or failed to run." in text
    # wrong results (FORBIDDEN) before races, each with k/N and the outcome that made it so
    assert text.index("E12 numpy/inplace x2 3/20 trials FORBIDDEN: wrong sum x3") < text.index("user python/racy x4 20/20 trials INTERESTING: 400000 x19; INTERESTING: 300000 x1")
    assert "E2 cext/locked" not in text.split("Crashes, hangs and errors")[0], "a cell with only ACCEPTABLE outcomes is not a race"
    assert text.index("E4 numba/talk x2 crash killed by SIGSEGV") < text.index("E4 cext/tuned x2 timeout"), "crashes before hangs"
    assert "numpy 1.80x 2 2 90% steady E4 numpy/tuned x2" in text and "python 0.94x 2 2 47% steady" in text
    assert "5.90x" not in text, "a figure whose rounds spread wide does not beat a steady one"
    assert "No race seen is not safe No race showed in 1 cell on a GIL build (E2 cext/locked x2)" in text, "0 races under the GIL never reads as safe"
    # every link on the first page lands on an anchor of the page it names
    links = re.findall(r'href="(findings|stress|rules/GS\d+)\.html#([^"]+)"', index)
    assert {page for page, _ in links} >= {"findings", "stress", "rules/GS101"}
    for page, anchor in links:
        assert f'id="{anchor}"' in (tmp_path / "out" / f"{page}.html").read_text(), (page, anchor)
    assert 'href="stress.html#gilsafe-cell-e12-numpy-inplace-2"' in index
    assert 'href="findings.html#gilsafe-findings-gs101"' in index
    assert "best-speedups.png" in index
    stress_page = (tmp_path / "out" / "stress.html").read_text()
    assert "killed by SIGSEGV" in stress_page and "an update was lost" in stress_page

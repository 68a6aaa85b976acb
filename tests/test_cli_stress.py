"""`gilsafe stress` end to end: isolation, budget, JSON, user targets, --python, --compare, exit codes."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "gilsafe" / "stress" / "result.schema.json"


def pyenv_python(version):
    root = os.environ.get("PYENV_ROOT") or (subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip() if _has("pyenv") else "")
    candidate = Path(root) / "versions" / version / "bin" / "python3"
    return candidate if root and candidate.exists() else None


def _has(program):
    from shutil import which

    return which(program) is not None


@pytest.fixture
def stress(run_gilsafe, tmp_path):
    def run(*args, timeout=300):
        return run_gilsafe("stress", *args, cwd=REPO / "tests", timeout=timeout)

    return run


def validate(document):
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))


def test_race_experiment_json_and_outcome_table(stress, tmp_path):
    out = tmp_path / "r.json"
    result = stress("--experiment", "E2", "--backend", "python", "--trials", "3", "--size", "2000", "--json", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    validate(document)
    rows = document["results"]
    assert [(r["experiment"], r["variant"], r["threads"], r["status"]) for r in rows] == [
        ("E2", v, 2, "ok") for v in ("talk", "call-between", "property", "dict-python-hash", "switchinterval")
    ]
    assert all(sum(o["count"] for o in r["outcomes"]) == 3 for r in rows)
    from gilsafe.stress.environment import gil_enabled

    assert document["environment"]["gil_enabled"] is gil_enabled()
    assert "outcome                 count frequency  expect" in result.stdout
    assert "5 cells: 5 ok" in result.stdout
    assert not list(tmp_path.glob(".r.json.*")), "written atomically, no temporary left"


def test_speed_experiments_across_backends_and_threads(stress, tmp_path):
    pytest.importorskip("numpy")
    out = tmp_path / "s.json"
    result = stress("--experiment", "E4", "--backend", "numpy,cext", "--threads", "1,2", "--size", "100000", "--json", out)
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())["results"]
    assert [(r["backend"], r["variant"], r["threads"]) for r in rows] == [
        (b, v, t) for b in ("numpy", "cext") for v in ("talk", "tuned") for t in (1, 2)
    ]
    for row in rows:
        assert row["status"] == "ok", row["detail"]
        assert row["timings"]["ideal"] == min(row["threads"], os.cpu_count())
    assert "vs 1 thread" in result.stdout


def test_crash_and_hang_are_rows_and_the_run_finishes_in_budget(stress, tmp_path):
    out = tmp_path / "iso.json"
    started = time.monotonic()
    crash = stress("stress_targets:segfault", "--threads", "1", "--trials", "1", "--json", out)
    assert crash.returncode == 1
    row = json.loads(out.read_text())["results"][0]
    assert row["status"] == "crash" and row["detail"].startswith("killed by SIGSEGV")
    assert "Traceback" not in crash.stderr
    hang = stress("stress_targets:hang", "--threads", "2", "--trials", "1", "--time-budget", "15", "--json", out)
    elapsed = time.monotonic() - started
    assert hang.returncode == 1
    row = json.loads(out.read_text())["results"][0]
    assert row["status"] == "timeout"
    assert "no result after" in row["detail"] and "hang" in row["detail"], "the stacks show where it hangs"
    assert elapsed < 60


def test_exception_is_an_outcome(stress, tmp_path):
    out = tmp_path / "e.json"
    result = stress("stress_targets:raises", "--threads", "2", "--trials", "2", "--json", out)
    assert result.returncode == 1
    outcomes = json.loads(out.read_text())["results"][0]["outcomes"]
    assert outcomes == [{"outcome": "func raised RuntimeError", "count": 2, "expect": "FORBIDDEN", "description": "boom", "frequency": 1.0}]


def test_user_target_with_setup_and_check(stress, tmp_path):
    out = tmp_path / "u.json"
    racy = stress(
        "stress_targets:racy_increment", "--setup", "stress_targets:make_counter",
        "--check", "stress_targets:expect_all_increments", "--threads", "4", "--trials", "10", "--json", out,
    )
    row = json.loads(out.read_text())["results"][0]
    assert row["status"] == "ok" and row["threads"] == 4
    forbidden = [o for o in row["outcomes"] if o["expect"] == "FORBIDDEN"]
    assert forbidden and forbidden[0]["outcome"] == "check raised AssertionError"
    assert racy.returncode == 1
    safe = stress(
        "stress_targets:locked_increment", "--setup", "stress_targets:make_counter",
        "--check", "stress_targets:expect_all_increments", "--threads", "4", "--trials", "3",
    )
    assert safe.returncode == 0, safe.stdout
    assert "check passed" in safe.stdout


def test_import_failure_of_a_target_is_an_error_row(stress):
    result = stress("no_such_module:func", "--threads", "1", "--trials", "1")
    assert result.returncode == 1
    assert "import failed: No module named 'no_such_module'" in result.stdout


def test_time_budget_cuts_cells_and_says_so(stress):
    result = stress("--experiment", "E2,E1", "--backend", "python", "--trials", "1000", "--time-budget", "8")
    assert "cut by the time budget" in result.stdout or "time budget:" in result.stdout
    assert result.returncode == 0


def test_list_shows_availability(stress):
    result = stress("--list")
    assert result.returncode == 0
    assert "  python     available" in result.stdout
    assert "releases the GIL for: the whole kernel loop (Py_BEGIN_ALLOW_THREADS around it)" in result.stdout
    assert "E12  GIL-safe prediction" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--backend", "fortran"], "unknown backend 'fortran'"),
        (["--experiment", "E99"], "unknown experiment 'E99'"),
        (["--threads", "0"], "give positive numbers"),
        (["--python", "/no/such/python"], "no such interpreter"),
        (["--compare", "a.json", "b.json"], "a.json: cannot read"),
    ],
)
def test_usage_errors_exit_2(stress, args, message):
    result = stress(*args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_compare(stress, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = {"experiment": "E2", "backend": "python", "variant": "talk", "threads": 2, "status": "ok", "detail": "", "timings": {}}
    a.write_text(json.dumps({"results": [dict(base, outcomes=[{"outcome": "g == 0", "count": 10, "expect": "ACCEPTABLE"}])]}))
    b.write_text(json.dumps({"results": [dict(base, outcomes=[{"outcome": "g == 0", "count": 7, "expect": "ACCEPTABLE"}, {"outcome": "g != 0", "count": 3, "expect": "INTERESTING"}])]}))
    result = stress("--compare", a, b)
    assert result.returncode == 0
    assert result.stdout == "E2 python/talk threads=2: g != 0 0.0% -> 30.0%; g == 0 100.0% -> 70.0%\n"


def test_other_interpreter_runs_and_labels_results(stress, tmp_path):
    python = pyenv_python("3.12.1")
    if python is None:
        pytest.skip("pyenv's Python 3.12.1 is not on this machine")
    out = tmp_path / "p.json"
    result = stress("--python", python, "--experiment", "E2,E3", "--backend", "python,numpy", "--trials", "2", "--size", "2000", "--json", out)
    document = json.loads(out.read_text())
    validate(document)
    assert document["environment"]["python"] == "3.12.1"
    rows = document["results"]
    assert {r["python"] for r in rows} == {"3.12.1"}
    assert all(r["status"] == "ok" for r in rows if r["backend"] == "python")
    numpy_rows = [r for r in rows if r["backend"] == "numpy"]
    assert numpy_rows and all(r["status"] == "skipped" and r["detail"] == "skipped: numpy: not installed" for r in numpy_rows)
    assert result.returncode == 0


def test_ctrl_c_stops_cleanly_and_keeps_partial_results(tmp_path):
    import signal
    import sys

    out = tmp_path / "partial.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "gilsafe", "stress", "--experiment", "E2", "--backend", "python", "--trials", "100000", "--size", "1000", "--json", str(out)],
        cwd=REPO / "tests", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    time.sleep(6)  # past the environment probe, inside the first cells
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted: the results above are partial" in stdout
    document = json.loads(out.read_text())
    assert document["interrupted"] is True
    assert "Traceback" not in stderr


def test_compare_interpreters_side_by_side(stress, tmp_path):
    python = pyenv_python("3.12.1")
    if python is None:
        pytest.skip("pyenv's Python 3.12.1 is not on this machine")
    import sys

    out = tmp_path / "both.json"
    result = stress("--compare-interpreters", sys.executable, python, "--experiment", "E2", "--backend", "python", "--trials", "2", "--size", "1000", "--json", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert document["compared_environment"]["python"] == "3.12.1"
    labels = {r["python"] for r in document["results"]}
    assert labels == {sys.version.split()[0] + ("t" if document["environment"]["free_threaded_build"] else ""), "3.12.1"}
    table = result.stdout.split("\n\n")[-1]
    header = table.splitlines()[0]
    assert header.startswith("cell") and "3.12.1 (GIL on)" in header
    assert "E2 python/property x2" in table

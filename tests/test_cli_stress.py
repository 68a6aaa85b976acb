"""`gilsafe stress` end to end: isolation, budget, JSON, user targets, --python, --compare, exit codes."""

import json
import os
import subprocess
import sys
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
        # Five interleaved rounds by default: the median reported, its range kept, the machine recorded.
        assert row["stability"]["repeats"] == row["stability"]["repeats_planned"] == 5
        efficiency = row["spreads"]["efficiency"]
        assert efficiency["samples"] == 5 and efficiency["low"] <= row["timings"]["efficiency"] == efficiency["median"] <= efficiency["high"]
        assert row["conditions"]["load_average_start"] is not None and row["conditions"]["usable_cores"] == os.cpu_count()
        assert (row["conditions"]["distinct_cores"] is None) == (row["threads"] == 1)
    validate(json.loads(out.read_text()))
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
    assert outcomes == [
        {"outcome": "completed", "count": 0, "expect": "ACCEPTABLE", "description": "no exception (no --check given)", "frequency": 0.0},
        {"outcome": "func raised RuntimeError", "count": 2, "expect": "FORBIDDEN", "description": "boom", "frequency": 1.0},
    ]


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


def test_a_value_check_that_gives_different_totals_is_a_race_shown(stress, tmp_path):
    """The issue's case: two or more totals from the same work were all called ACCEPTABLE, and the
    run said "races shown in 0"."""
    out = tmp_path / "v.json"
    racy = stress(
        "stress_targets:racy_increment", "--setup", "stress_targets:make_counter",
        "--check", "stress_targets:final_count", "--threads", "4", "--trials", "10", "--json", out,
    )
    row = json.loads(out.read_text())["results"][0]
    values = [o for o in row["outcomes"] if o["outcome"] not in ("check passed", "check returned False") and "raised" not in o["outcome"]]
    assert len(values) > 1, row["outcomes"]
    assert {o["expect"] for o in values} == {"INTERESTING"}
    assert all(o["description"] == "results differed between trials: a race or other nondeterminism" for o in values)
    assert "races shown in 1" in racy.stdout and racy.returncode == 0, "a race shown is what a racy target is run for"
    safe = stress(
        "stress_targets:locked_increment", "--setup", "stress_targets:make_counter",
        "--check", "stress_targets:final_count", "--threads", "4", "--trials", "3", "--json", out,
    )
    [value] = [o for o in json.loads(out.read_text())["results"][0]["outcomes"] if o["count"]]
    assert value == {"outcome": "800000", "count": 3, "expect": "ACCEPTABLE", "description": "the value the check returned, the same in every trial", "frequency": 1.0}
    assert "races shown in 0" in safe.stdout and safe.returncode == 0


def test_expect_names_the_acceptable_values_and_any_other_is_forbidden(stress, tmp_path):
    out = tmp_path / "x.json"
    arguments = ("--setup", "stress_targets:make_counter", "--check", "stress_targets:final_count", "--expect", "800000", "--threads", "4")
    racy = stress("stress_targets:racy_increment", *arguments, "--trials", "10", "--json", out)
    outcomes = json.loads(out.read_text())["results"][0]["outcomes"]
    assert outcomes[0]["outcome"] == "800000" and outcomes[0]["expect"] == "ACCEPTABLE", "declared first, even if seen 0 times"
    lost = [o for o in outcomes if o["count"] and o["outcome"] != "800000"]
    assert lost and {o["expect"] for o in lost} == {"FORBIDDEN"} and racy.returncode == 1
    safe = stress("stress_targets:locked_increment", *arguments, "--trials", "3", "--json", out)
    assert safe.returncode == 0 and json.loads(out.read_text())["results"][0]["outcomes"][0]["count"] == 3
    alone = stress("stress_targets:racy_increment", "--expect", "1")
    assert alone.returncode == 2 and "--expect names values of --check" in alone.stderr


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


def test_compare_says_no_significant_change_within_the_spread(stress, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    base = {"experiment": "E4", "backend": "numba", "variant": "tuned", "threads": 2, "status": "ok", "detail": "", "outcomes": []}

    def row(low, median, high):
        return dict(base, timings={"efficiency": median}, spreads={"efficiency": {"median": median, "low": low, "high": high, "samples": 5}})

    a.write_text(json.dumps({"results": [row(0.52, 0.70, 0.82), dict(row(0.90, 0.92, 0.94), variant="talk")]}))
    b.write_text(json.dumps({"results": [row(0.60, 0.79, 0.95), dict(row(0.97, 0.98, 0.99), variant="talk")]}))
    result = stress("--compare", a, b)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "E4 numba/talk threads=2: efficiency 0.92 -> 0.98 (1.07x)\n"
        "E4 numba/tuned threads=2: efficiency 0.7 -> 0.79 (no significant change)\n"
    )


def test_time_budget_cuts_repeats_and_says_how_many_ran(stress, tmp_path):
    pytest.importorskip("gilsafe.kernels._cext")
    out = tmp_path / "r.json"
    result = stress("--experiment", "E4", "--backend", "cext", "--variant", "tuned", "--threads", "2", "--repeats", "1000", "--time-budget", "12", "--json", out)
    assert result.returncode == 0, result.stderr
    row = json.loads(out.read_text())["results"][0]
    ran = row["stability"]["repeats"]
    assert 1 <= ran < 1000 and row["stability"]["repeats_planned"] == 1000
    assert f"time budget: {ran} of 1000 repeats ran" in result.stdout


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


# -- nothing a user does loses their work -----------------------------------------------------------

HOSTILE = {  # target -> the status its row must have
    "exits_via_sys_exit": "ok",  # sys.exit() in a thread is an exception of that call: an outcome
    "exits_via_os_exit": "error",
    "forks_a_long_lived_child": "ok",
    "spawns_a_sleeper": "ok",
    "prints_without_newline": "ok",
    "recurses_forever": "ok",
    "leaks_a_thread": "ok",
    "segfaults": "crash",
    "hangs": "timeout",
}


def _alive_with_argument(argument):
    """Pids whose command line has `argument` (a zombie has none: it is dead)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_hostile_targets_each_get_a_row_and_the_summary_prints():
    from gilsafe.stress import report
    from gilsafe.stress.runner import Budget, Interpreter, run_all, user_target_cells

    from hostile_targets import SLEEPER_SECONDS

    cells = [
        cell
        for name in HOSTILE
        for cell in user_target_cells({"func": f"hostile_targets:{name}", "setup": None, "check": None, "cwd": str(REPO / "tests")}, [2], 1)
    ]
    started = time.monotonic()
    run = run_all(cells, Interpreter(), budget=Budget(None), cell_timeout=6.0)
    elapsed = time.monotonic() - started
    statuses = {r.variant.split(":")[1]: r.status for r in run.results}
    assert statuses == HOSTILE, {r.variant: r.detail for r in run.results}
    by_name = {r.variant.split(":")[1]: r for r in run.results}
    assert [(o.outcome, o.count) for o in by_name["exits_via_sys_exit"].outcomes] == [("completed", 0), ("func raised SystemExit", 1)]
    assert by_name["exits_via_os_exit"].detail.startswith("worker exited with 7")
    assert [o.outcome for o in by_name["recurses_forever"].outcomes if o.count] == ["func raised RecursionError"]
    assert by_name["segfaults"].detail.startswith("killed by SIGSEGV")
    assert "hangs" in by_name["hangs"].detail, "the stacks show where it hangs"
    text = report.format_results(run.results)
    assert text.rstrip().endswith("races shown in 0; FORBIDDEN outcomes in 2")
    assert "9 cells: 1 crash, 1 timeout, 1 error, 6 ok" in text, "worst first"
    assert elapsed < 6.0 + 30, "only the hang waits for its timeout"
    if sys.platform.startswith("linux"):
        assert not _alive_with_argument(SLEEPER_SECONDS), "the cell's session is killed with it"


def test_json_destination_is_checked_before_any_cell_runs(stress, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for destination in (tmp_path / "nope" / "dir" / "out.json", a_file / "out.json", tmp_path):
        result = stress("stress_targets:hang", "--threads", "1", "--trials", "1", "--cell-timeout", "60", "--json", destination, timeout=30)
        assert result.returncode == 2
        assert result.stderr.startswith(f"gilsafe: error: --json {destination}: ") and result.stderr.count("\n") == 1
        assert result.stdout == "", "no cell ran"


def test_summary_is_printed_when_the_json_cannot_be_written_after_all(stress, tmp_path, monkeypatch):
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setenv("GILSAFE_TEST_OUTPUT_FOLDER", str(folder))
    result = stress("hostile_targets:removes_the_output_folder", "--threads", "1", "--trials", "1", "--json", folder / "r.json")
    assert result.returncode == 2
    assert "1 cells: 1 ok" in result.stdout
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"gilsafe: error: --json {folder / 'r.json'}: cannot write: No such file or directory")
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_killed_run_takes_its_worker_with_it(tmp_path):
    import signal

    run = subprocess.Popen(
        [sys.executable, "-m", "gilsafe", "stress", "stress_targets:hang", "--threads", "1", "--trials", "1", "--cell-timeout", "120"],
        cwd=REPO / "tests", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        workers = []
        while not workers and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = [pid for pid in _alive_with_argument("gilsafe.stress.worker") if _parent(pid) == run.pid and _is_cell(pid)]
        assert workers, "the cell's worker started"
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 10
        while _running(workers[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(workers[0])
    finally:
        run.kill()


def _is_cell(pid):
    """A cell's worker, not one answering --environment or --availability (those end by themselves)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"--environment" not in arguments and b"--availability" not in arguments


def _parent(pid):
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _running(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(
    "args, message",
    [
        (["--size", "-1"], "argument --size: '-1': give a number of 1 or more"),
        (["--size", "0"], "argument --size: '0': give a number of 1 or more"),
        (["--trials", "0"], "argument --trials: '0': give a number of 1 or more"),
        (["--trials", "many"], "argument --trials: 'many' is not a whole number"),
        (["--time-budget", "-5"], "argument --time-budget: '-5': give a number of seconds above 0"),
        (["--cell-timeout", "nan"], "argument --cell-timeout: 'nan': give a number of seconds above 0"),
        (["--threads", "-2"], "argument --threads: '-2': give positive numbers"),
    ],
)
def test_numeric_options_are_checked(stress, args, message):
    # A selection that runs in a second if an option slipped through, so the failure is quick.
    result = stress("--experiment", "E2", "--backend", "python", "--variant", "talk", "--trials", "1", "--size", "1000", *args, timeout=60)
    assert result.returncode == 2
    assert result.stderr == f"gilsafe: error: {message}\n"


def _result_row(**changes):
    row = {"experiment": "E2", "backend": "python", "variant": "talk", "threads": 2, "status": "ok", "detail": "", "outcomes": [], "timings": {}}
    return {**row, **changes}


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "cannot read: No such file or directory"),
        ("garbage", "not a gilsafe stress result file (not JSON: Expecting value: line 1 column 1 (char 0))"),
        ("[1]", "not a gilsafe stress result file (the document: expected object, found array)"),
        ('{"results": [1, 2]}', "not a gilsafe stress result file (results[0]: expected object, found integer)"),
        (json.dumps({"results": [{"experiment": "E2"}]}), "not a gilsafe stress result file (results[0]: missing 'backend')"),
        (
            json.dumps({"results": [_result_row(outcomes=[{"outcome": "x", "count": "3", "expect": "ACCEPTABLE"}])]}),
            "not a gilsafe stress result file (results[0].outcomes[0].count: expected integer, found string)",
        ),
        (json.dumps({"results": [_result_row(status="fine")]}), "not a gilsafe stress result file (results[0].status: 'fine' is not one of ok, crash, timeout, error, skipped)"),
    ],
)
def test_compare_rejects_a_wrong_file_in_one_line(stress, tmp_path, content, problem):
    good, wrong = tmp_path / "good.json", tmp_path / "wrong.json"
    good.write_text(json.dumps({"results": [_result_row()]}))
    if content is not None:
        wrong.write_text(content)
    for pair in ((wrong, good), (good, wrong)):
        result = stress("--compare", *pair)
        assert result.returncode == 2
        assert result.stderr == f"gilsafe: error: {wrong}: {problem}\n"


def test_results_reader_accepts_what_stress_writes():
    from gilsafe.stress.results_file import read_results

    assert read_results(REPO / "docs" / "measured" / "cpu-2core.json")["results"]


def test_compare_interpreters_checks_both_paths(stress, tmp_path):
    not_executable = tmp_path / "python3"
    not_executable.write_text("")
    for path, problem in ((tmp_path / "nowhere", "no such interpreter"), (not_executable, "not an executable")):
        result = stress("--compare-interpreters", sys.executable, path, "--experiment", "E2")
        assert result.returncode == 2
        assert result.stderr == f"gilsafe: error: --compare-interpreters {path}: {problem}\n"


def test_backend_help_lists_every_backend():
    from gilsafe.cli import build_parser
    from gilsafe.kernels import BACKENDS

    stress = build_parser()._subparsers._group_actions[0].choices["stress"]
    backend = next(action for action in stress._actions if "--backend" in action.option_strings)
    assert all(name in backend.help for name in BACKENDS), backend.help


def test_availability_looks_packages_up_without_importing_them():
    """`stress --list` asks every backend: importing torch and tensorflow to ask took seconds."""
    heavy = ("numpy", "numba", "torch", "tensorflow", "dask")
    code = (
        "import sys; from gilsafe.stress.worker import availability; "
        f"availability({list(heavy)!r}); print(sorted(set({heavy!r}) & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"

"""`gilsafe lint` among hostile files: one file may be skipped, in one line, but never the run.

Each case puts a hostile file next to good ones and checks that every good finding is still
reported, in the serial path (few files) and with worker processes (many files, `-j 2`)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gilsafe.cli import main
from gilsafe.cores import usable_cores
from gilsafe.lint.workers import Failure, IsolatedPool, run_deep

RACY = textwrap.dedent(
    """\
    import threading
    n = 0
    def work():
        global n
        n += 1
    for _ in range(2):
        threading.Thread(target=work).start()
    """
)
GOOD_FINDING = "GS101 `n += 1` is a read-modify-write of global `n`"


def lint(capsys, *args):
    code = main(["lint", "--no-cache", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=["serial", "workers"])
def tree(request, tmp_path, monkeypatch):
    """A folder with one racy file, and (for "workers") enough clean files for `-j 2` to use its
    worker processes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "racy.py").write_text(RACY)
    if request.param == "workers":
        for i in range(20):
            (tmp_path / f"clean{i:02d}.py").write_text("import threading\nx = 1\n")
    return tmp_path


def deep_brackets(depth: int) -> str:
    return "x = " + "(" * depth + "1" + ")" * depth + "\n"


def elif_chain(branches: int) -> str:
    lines = ["import threading", "n = 0", "def work(k):", "    global n", "    if k == 0:", "        pass"]
    for i in range(1, branches):
        lines += [f"    elif k == {i}:", "        pass"]
    lines += ["    else:", "        n += 1", "for k in range(2):", "    threading.Thread(target=work, args=(k,)).start()"]
    return "\n".join(lines) + "\n"


def test_brackets_nested_past_pythons_limit_are_one_line(tree, capsys):
    """LibCST's native parser overflows its stack a few thousand levels down (exit 139, no output);
    CPython refuses past 200, so gilsafe asks CPython first."""
    (tree / "deep.py").write_text(deep_brackets(20_000))
    code, out, err = lint(capsys, ".", "-j", "2")
    assert GOOD_FINDING in out
    [deep] = [line for line in out.splitlines() if line.startswith("deep.py")]
    assert "GS000" in deep and "brackets nested 20,000 deep; Python allows 200" in deep
    assert code == 1 and "Traceback" not in out + err


def test_brackets_that_only_look_deep_are_parsed():
    from gilsafe.lint.source import bracket_nesting, check_nesting

    text = 's = "' + "(" * 500 + '"\n'
    assert bracket_nesting(text.encode()) == 500  # the estimate counts the string...
    check_nesting(text.encode(), text, "s.py")  # ...but CPython parses it, so it is code to lint


def test_a_thousand_branch_elif_is_analysed_not_skipped(tree, capsys):
    """Valid code that is merely long: the walks recurse once per branch."""
    (tree / "chain.py").write_text(elif_chain(1_500))
    code, out, err = lint(capsys, ".", "-j", "2")
    assert GOOD_FINDING in out
    chain = [line for line in out.splitlines() if line.startswith("chain.py")]
    assert len(chain) == 1 and "GS101" in chain[0], chain
    assert "GS000" not in out and "Traceback" not in err


def test_a_long_expression_is_analysed_not_skipped(tree, capsys):
    terms = " + ".join(["n"] * 3_000)
    (tree / "long.py").write_text(RACY.replace("n += 1", f"n = {terms}"))
    code, out, err = lint(capsys, ".", "-j", "2")
    assert GOOD_FINDING in out
    assert "GS000" not in out and "Traceback" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_reported_and_does_not_block(tree, capsys):
    os.mkfifo(tree / "pipe.py")
    code, out, err = lint(capsys, ".", "-j", "2")
    assert GOOD_FINDING in out
    assert "pipe.py: error: skipped: a named pipe (FIFO), not a source file" in err.splitlines()
    # Named on the command line too: not a folder to walk, a file to refuse.
    code, out, err = lint(capsys, "pipe.py", "racy.py")
    assert GOOD_FINDING in out and "pipe.py: error: skipped: a named pipe" in err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_link_to_an_endless_device_is_reported_without_reading_it(tree, capsys):
    os.symlink("/dev/zero", tree / "zero.py")
    code, out, err = lint(capsys, ".")
    assert GOOD_FINDING in out
    assert "zero.py: error: skipped: a character device, not a source file" in err.splitlines()


# -- the worker pool ---------------------------------------------------------------------------------


def _job(kind: str):
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    if kind == "hang":
        time.sleep(60)
    if kind == "memory":
        return len(bytearray(8 * 1024**3))
    if kind == "raise":
        raise ValueError("broken on purpose")
    if kind == "deep":
        def down(n):
            return 0 if n == 0 else 1 + down(n - 1)

        return down(20_000)
    return kind.upper()


def test_pool_reports_each_dead_or_stuck_job_and_finishes_the_rest():
    jobs = ["a", "segfault", "b", "hang", "c", "memory", "raise", "deep", "d"]
    pool = IsolatedPool(2, _job, time_limit=3.0, memory_limit=2 * 1024**3)
    started = time.monotonic()
    results = dict(pool.map(jobs))
    assert time.monotonic() - started < 30
    assert [results[i] for i in (0, 2, 4, 8)] == ["A", "B", "C", "D"]
    assert results[7] == 20_000, "a worker runs jobs with a deep stack"
    assert isinstance(results[1], Failure) and "died while analysing it (killed by SIGSEGV)" in results[1].reason
    assert results[3] == Failure("skipped: analysis took over 3 s", over_limit=True)
    assert isinstance(results[5], Failure) and "MemoryError" in results[5].reason
    assert results[6] == Failure("internal error ValueError: broken on purpose")


def test_run_deep_gives_up_on_a_stuck_call_and_raises_what_the_call_raised():
    assert run_deep(_job, "deep") == 20_000
    assert run_deep(time.sleep, 5, time_limit=0.2) == Failure("skipped: analysis took over 0.2 s", over_limit=True)
    with pytest.raises(ValueError, match="broken on purpose"):
        run_deep(_job, "raise")
    assert sys.getrecursionlimit() < 20_000, "the raised limit is put back"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux's")
def test_a_killed_lint_run_takes_its_workers_with_it(tmp_path):
    for i in range(40):
        # Big enough that the workers are still busy when the run is killed.
        (tmp_path / f"m{i:02d}.py").write_text(RACY + "".join(f"def f{j}(x):\n    return [x + {j} for _ in range(3)]\n" for j in range(400)))
    run = subprocess.Popen([sys.executable, "-m", "gilsafe", "lint", "--no-cache", "-j", "2", "."], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline and run.poll() is None:
        workers = _children(run.pid)
        time.sleep(0.05)
    assert workers, "the run started worker processes"
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers), "no worker outlives its run"


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(child) for child in (task / "children").read_text().split())
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# -- file names, --fix and options ---------------------------------------------------------------

NUMBA = "from numba import jit\n@jit(nogil=True, forceobj=True)\ndef f(x):\n    return x\n"


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that takes any bytes as a name")
def test_a_file_name_that_is_not_utf8_is_linted_and_round_trips(tmp_path, monkeypatch, capsys):
    import json

    from gilsafe.lint.findings import Finding

    monkeypatch.chdir(tmp_path)
    name = os.fsdecode(b"caf\xe9.py")
    Path(name).write_text(RACY)
    for cached in ([], ["--no-cache"]):
        # The name goes out as the bytes it is, even to a stream that wants strict UTF-8.
        done = subprocess.run([sys.executable, "-m", "gilsafe", "lint", *cached, "."], capture_output=True,
                              env=dict(os.environ, PYTHONIOENCODING="utf-8:strict"))
        assert done.returncode == 1 and done.stdout.startswith(b"caf\xe9.py:5:5: GS101") and not done.stderr
    main(["lint", "--no-cache", "--format", "json", "."])
    text = capsys.readouterr().out
    text.encode("utf-8")  # valid Unicode: no lone surrogates
    [data] = json.loads(text)
    assert data["path"] == "caf\\xe9.py" and data["path_bytes"] == b"caf\xe9.py".hex()
    assert Finding.from_json(data).path == name, "the exact name comes back"
    main(["lint", "--no-cache", "--format", "sarif", "."])
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "caf%E9.py"


def test_fix_leaves_a_read_only_file_alone_and_still_reports_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.py").write_text(NUMBA)
    (tmp_path / "racy.py").write_text(RACY)
    os.chmod(tmp_path / "nb.py", 0o444)
    code, out, err = lint(capsys, ".", "--fix")
    assert (tmp_path / "nb.py").read_text() == NUMBA
    assert "nb.py: error: not fixed: the file is read-only" in err.splitlines()
    assert "nb.py:2:2: GS201" in out and GOOD_FINDING in out, "the unfixed finding is still reported"
    assert "Fixed" not in err and code == 1


def test_fix_does_not_overwrite_a_change_made_meanwhile(tmp_path, monkeypatch, capsys):
    from gilsafe.lint import api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.py").write_text(NUMBA)
    report = api.lint_paths(["nb.py"], fix=True)
    edited = NUMBA + "# saved by an editor while gilsafe was fixing\n"
    (tmp_path / "nb.py").write_text(edited)
    outcome = api.write_fixes(report.fixed)
    assert (tmp_path / "nb.py").read_text() == edited
    assert [str(p) for p in outcome.problems] == ["nb.py: error: not fixed: the file changed while gilsafe was fixing it"]
    assert [f.code for f in outcome.unfixed] == ["GS201"] and outcome.written == 0


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes into read-only folders")
def test_fix_in_a_read_only_folder_is_one_line_and_the_rest_prints(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "nb.py").write_text(NUMBA)
    (folder / "racy.py").write_text(RACY)
    os.chmod(folder, 0o555)
    try:
        monkeypatch.chdir(folder)
        code, out, err = lint(capsys, ".", "--fix")
    finally:
        os.chmod(folder, 0o755)
    assert any(line.startswith("nb.py: error: not fixed: cannot write it") for line in err.splitlines())
    assert GOOD_FINDING in out and "Traceback" not in err


def test_fix_failing_to_write_is_one_line_and_the_rest_prints(tmp_path, monkeypatch, capsys):
    """The same without depending on who runs the tests: the rename itself fails."""
    import gilsafe.lint.api as api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "nb.py").write_text(NUMBA)
    (tmp_path / "racy.py").write_text(RACY)

    def refuse(path, data, still=None):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(api, "write_atomically", refuse)
    code, out, err = lint(capsys, ".", "--fix")
    assert "nb.py: error: not fixed: cannot write it: Permission denied" in err.splitlines()
    assert GOOD_FINDING in out and "nb.py:2:2: GS201" in out and code == 1


@pytest.mark.parametrize("jobs", ["0", "-3", "two"])
def test_jobs_must_be_a_positive_number(tmp_path, monkeypatch, capsys, jobs):
    monkeypatch.chdir(tmp_path)
    code, out, err = lint(capsys, ".", "--jobs", jobs)
    assert code == 2 and len(err.splitlines()) == 1 and "--jobs" in err


def test_jobs_beyond_the_cores_start_no_more_workers(monkeypatch, tmp_path):
    import gilsafe.lint.api as api

    started = []

    class Recording(api.IsolatedPool):
        def __init__(self, workers, *args, **kwargs):
            started.append(workers)
            super().__init__(workers, *args, **kwargs)

    monkeypatch.setattr(api, "IsolatedPool", Recording)
    for i in range(20):
        (tmp_path / f"m{i}.py").write_text("x = 1\n")
    api.lint_paths([str(tmp_path)], jobs=1000)
    assert started == [usable_cores()] or (usable_cores() == 1 and started == [])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_battery_every_hostile_file_at_once_and_every_good_finding_kept(tmp_path, monkeypatch, capsys, jobs):
    monkeypatch.chdir(tmp_path)
    for i in range(20):
        (tmp_path / f"good{i:02d}.py").write_text(RACY)
    (tmp_path / "deep.py").write_text(deep_brackets(5_000))
    (tmp_path / "chain.py").write_text(elif_chain(600))
    (tmp_path / "huge.py").write_bytes(b"x = 1\n" * 1_000_000)
    (tmp_path / "binary.py").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "latin.py").write_bytes(b"x = '\xe9'\n")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.py")
    if Path("/dev/zero").exists():
        os.symlink("/dev/zero", tmp_path / "zero.py")
    if sys.platform == "linux":
        (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    code, out, err = lint(capsys, ".", "--jobs", jobs, "--format", "json")
    import json

    findings = json.loads(out)
    good = [f for f in findings if f["path"].startswith("good") and f["code"] == "GS101"]
    assert len(good) == 20, "every good file's finding is still reported"
    by_file = {f["path"]: f for f in findings if f["code"] == "GS000"}
    assert set(by_file) == {"deep.py", "binary.py", "latin.py"}, by_file
    assert [f["line"] for f in findings if f["path"] == "chain.py"] == [len(elif_chain(600).splitlines()) - 2]
    errors = err.splitlines()
    assert any(line.startswith("huge.py: error: skipped:") for line in errors)
    if hasattr(os, "mkfifo"):
        assert "fifo.py: error: skipped: a named pipe (FIFO), not a source file" in errors
    if Path("/dev/zero").exists():
        assert "zero.py: error: skipped: a character device, not a source file" in errors
    assert "Traceback" not in err and code == 1


def test_a_file_over_the_time_limit_is_a_skip_not_an_internal_error(tmp_path, monkeypatch, capsys):
    """A 1.5 MB generated test file in sympy takes LibCST ~50 s to parse: the limit says so in
    words that do not call it a fault, and the run is not cached (a quieter machine may finish it)."""
    import gilsafe.lint.api as api

    monkeypatch.chdir(tmp_path)
    (tmp_path / "racy.py").write_text(RACY)
    (tmp_path / "slow.py").write_text("x = 1\n")
    original = api.analyse_path

    def slow_for_one(path, *args, **kwargs):
        if Path(path).name == "slow.py":
            time.sleep(5)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(api, "analyse_path", slow_for_one)
    monkeypatch.setattr(api, "run_deep", lambda *a, **k: run_deep(*a, **{**k, "time_limit": 0.5}) if a[0] is slow_for_one else run_deep(*a, **k))
    code = main(["lint", "--cache-dir", str(tmp_path / "cache"), "."])
    out, _ = capsys.readouterr()
    [slow] = [line for line in out.splitlines() if line.startswith("slow.py")]
    assert slow == f"slow.py:1:1: GS000 skipped: analysis took over 0.5 s {api.OVER_TIME_LIMIT}"
    assert "could not analyse" not in slow and GOOD_FINDING in out and code == 1
    assert not list((tmp_path / "cache").glob("v*/results/*")), "a run with a file cut by time is not cached"

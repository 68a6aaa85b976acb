"""gilsafe's pytest plugin, as a user meets it: pytest run in a subprocess (so the installed pytest11
entry point loads it) on small test files that race, fail, or must stay single-threaded. The thread
runner's record and the single-threaded detection are also checked in process."""

from __future__ import annotations

import threading
import types
import xml.etree.ElementTree as ElementTree

import pytest

from gilsafe.errors import ConfigError
from gilsafe.pytest_plugin.single import DEFAULT_LISTS, thread_unsafe_call, thread_unsafe_lists
from gilsafe.pytest_plugin.threaded import PASSED, run_in_threads
from gilsafe.stress.model import FORBIDDEN

pytest_plugins = ["pytester"]

THREADED = ("--gilsafe-threads", "4", "--gilsafe-trials", "10", "--gilsafe-switch-interval", "1e-6")

# A lost update that each thread can see for itself: every thread copies the shared dict, adds its
# own key, and publishes the copy; the last to publish wins and the others' keys are gone. The
# windows are far longer than thread start-up, so every trial has losers and one winner, under the
# GIL and without it.
LEDGER = """
    import sys
    import threading
    import time

    import pytest

    WINDOW = 0.03
    DEFAULT_INTERVAL = sys.getswitchinterval()


    class Ledger:
        def __init__(self):
            self.entries = {}

        def add(self, key):
            copy = dict(self.entries)
            copy[key] = True
            time.sleep(WINDOW)
            self.entries = copy


    class LockedLedger(Ledger):
        def __init__(self):
            super().__init__()
            self.lock = threading.Lock()

        def add(self, key):
            with self.lock:
                super().add(key)


    @pytest.fixture
    def ledger():
        return Ledger()


    @pytest.fixture
    def locked_ledger():
        return LockedLedger()


    def test_unlocked_update(ledger):
        me = object()
        ledger.add(me)
        time.sleep(WINDOW)
        assert me in ledger.entries, "my update was lost"


    def test_locked_update(locked_ledger):
        me = object()
        locked_ledger.add(me)
        time.sleep(WINDOW)
        assert me in locked_ledger.entries, "my update was lost"
"""

ALWAYS_WRONG = """
    def test_always_wrong():
        assert sum([1, 2]) == 4
"""

SWITCH_INTERVAL = """
    def test_switch_interval_while_threaded():
        assert sys.getswitchinterval() == 1e-6


    @pytest.mark.gilsafe(threads=1)
    def test_switch_interval_restored():
        assert sys.getswitchinterval() == DEFAULT_INTERVAL
"""

IN_MAIN_THREAD = "assert threading.current_thread() is threading.main_thread()"


def test_a_lost_update_is_a_race_and_a_wrong_test_a_failure(pytester):
    pytester.makepyfile(test_ledger=LEDGER + ALWAYS_WRONG + SWITCH_INTERVAL)
    result = pytester.runpytest_subprocess(*THREADED, "-v")
    assert result.parseoutcomes() == {"race": 1, "failed": 1, "passed": 3}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "gilsafe: each test's body in 4 threads x 10 trials, switch interval 1e-06 s",
            "*::test_unlocked_update RACE*",
            "*::test_locked_update PASSED*",
            "*::test_always_wrong FAILED*",
            "*= FAILURES =*",
            "*assert 3 == 4*",
            "*= gilsafe races =*",
            "race: failed in * of 10 trials (* of 40 thread runs)",
            "4 threads x 10 trials, switch interval 1e-06 s, GIL *",
            "*outcome*count*frequency*expect*description",
            "*passed*ACCEPTABLE*",
            "*AssertionError: my update was lost*FORBIDDEN*",
            "first failing thread (trial *, thread *):",
            ">*assert me in ledger.entries*",
            "RACE test_ledger.py::test_unlocked_update - failed in * of 10 trials*",
        ]
    )
    # The race is in its own section, not among the failures (that section holds only the wrong test).
    failures = result.stdout.str().split("= FAILURES =")[1].split("= gilsafe races =")[0]
    assert "test_always_wrong" in failures and "test_unlocked_update" not in failures


def test_junitxml_shows_the_race_as_a_failure_with_its_table(pytester):
    pytester.makepyfile(test_ledger=LEDGER)
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4", "--gilsafe-trials", "3", "--junitxml=out.xml")
    assert result.parseoutcomes() == {"race": 1, "passed": 1}
    cases = {case.get("name"): case for case in ElementTree.parse(pytester.path / "out.xml").iter("testcase")}
    failure = cases["test_unlocked_update"].find("failure")
    assert failure is not None and cases["test_locked_update"].find("failure") is None
    assert failure.get("message").startswith("race: failed in")
    assert "AssertionError: my update was lost" in failure.get("message") and "FORBIDDEN" in failure.get("message")
    assert "assert me in ledger.entries" in failure.text


def test_x_stops_at_the_first_race(pytester):
    pytester.makepyfile(test_ledger=LEDGER + ALWAYS_WRONG)
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4", "--gilsafe-trials", "2", "-x")
    assert result.parseoutcomes() == {"race": 1}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])


def test_without_options_the_plugin_is_inert(pytester):
    pytester.makepyfile(
        test_ledger=LEDGER
        + """
    def test_nothing_threaded_or_imported():
        assert threading.active_count() == 1
        assert "gilsafe.pytest_plugin.threaded" not in sys.modules
        assert "libcst" not in sys.modules
    """
    )
    result = pytester.runpytest_subprocess("-v")
    assert result.parseoutcomes() == {"passed": 3}
    assert [line for line in result.stdout.lines if "gilsafe" in line] == [line for line in result.stdout.lines if line.startswith("plugins:")]


def test_p_no_gilsafe_turns_it_off(pytester):
    pytester.makepyfile(test_ledger=LEDGER)
    assert pytester.runpytest_subprocess("-p", "no:gilsafe").parseoutcomes() == {"passed": 2}
    result = pytester.runpytest_subprocess("-p", "no:gilsafe", "--gilsafe-threads", "4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --gilsafe-threads*"])


def test_the_marker_overrides_the_command_line(pytester):
    pytester.makepyfile(
        """
        import threading
        import pytest

        SEEN = []


        @pytest.mark.gilsafe(threads=3, trials=2)
        def test_marked():
            SEEN.append(threading.current_thread().name)


        @pytest.mark.gilsafe(threads=1)
        def test_count():
            assert len(SEEN) == 6 and len(set(SEEN)) == 3, SEEN


        @pytest.mark.gilsafe(threads=0)
        def test_bad_marker():
            pass
        """
    )
    result = pytester.runpytest_subprocess("--gilsafe-threads", "8", "--gilsafe-trials", "5", "--strict-markers")
    assert result.parseoutcomes() == {"passed": 2, "failed": 1}
    result.stdout.fnmatch_lines(["*_ test_bad_marker _*", "@pytest.mark.gilsafe: threads must be a whole number of 1 or more, not 0", "*= short test summary info =*"])


def test_a_marker_alone_runs_the_test_in_threads(pytester):
    pytester.makepyfile(test_ledger=LEDGER.replace("    def test_unlocked_update", "    @pytest.mark.gilsafe(trials=3)\n    def test_unlocked_update"))
    result = pytester.runpytest_subprocess("--strict-markers")
    assert result.parseoutcomes() == {"race": 1, "passed": 1}
    result.stdout.fnmatch_lines(["race: failed in * of 3 trials (* of 12 thread runs)"])


def test_thread_unsafe_tests_run_once_in_the_main_thread_with_the_reason(pytester):
    pytester.makepyprojecttoml(
        """
        [tool.gilsafe]
        thread-unsafe-fixtures = ["database"]
        thread-unsafe-calls = ["helpers.reset_cache"]
        """
    )
    pytester.makepyfile(
        helpers="def reset_cache():\n    pass\n",
        test_single=f"""
        import io
        import os
        import sys
        import threading
        import unittest
        from warnings import catch_warnings as quiet

        import pytest
        from helpers import reset_cache


        @pytest.fixture
        def database():
            return {{}}


        @pytest.fixture
        def patched(monkeypatch):
            return monkeypatch


        def test_patched(patched):
            {IN_MAIN_THREAD}


        def test_monkeypatch(monkeypatch):
            {IN_MAIN_THREAD}


        def test_catch_warnings():
            with quiet():
                {IN_MAIN_THREAD}


        def test_environment():
            os.environ["GILSAFE_PLUGIN_TEST"] = "1"
            {IN_MAIN_THREAD}


        def test_database(database):
            {IN_MAIN_THREAD}


        def test_reset():
            reset_cache()
            {IN_MAIN_THREAD}


        @pytest.mark.gilsafe_single(reason="drives a GPU")
        def test_marked_single():
            {IN_MAIN_THREAD}


        def test_stderr_swap():
            sys.stderr, saved = io.StringIO(), sys.stderr
            sys.stderr = saved
            {IN_MAIN_THREAD}


        class TestOldStyle(unittest.TestCase):
            def test_case(self):
                {IN_MAIN_THREAD}


        def test_threaded():
            assert threading.current_thread() is not threading.main_thread()
        """,
    )
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4", "--junitxml=out.xml")
    assert result.parseoutcomes() == {"passed": 10}
    result.stdout.fnmatch_lines(
        [
            "*= gilsafe ran single-threaded =*",
            "    2 tests: uses fixture 'monkeypatch'",
        ]
    )
    for line in (
        "    1 test: calls warnings.catch_warnings",
        "    1 test: writes os.environ[...]",
        "    1 test: uses fixture 'database'",
        "    1 test: calls helpers.reset_cache",
        "    1 test: marked gilsafe_single: drives a GPU",
        "    1 test: assigns sys.stderr",
        "    1 test: a unittest.TestCase test: gilsafe threads plain test functions only",
    ):
        assert line in result.stdout.lines
    properties = {
        case.get("name"): [p.get("value") for p in case.iter("property") if p.get("name") == "gilsafe_single_threaded"]
        for case in ElementTree.parse(pytester.path / "out.xml").iter("testcase")
    }
    assert properties["test_monkeypatch"] == ["uses fixture 'monkeypatch'"]
    assert properties["test_threaded"] == []


def test_skip_and_xfail_inside_a_threaded_body_act_as_in_pytest(pytester):
    pytester.makepyfile(
        """
        import pytest


        def test_skipped():
            pytest.skip("not here")


        def test_xfailed():
            pytest.xfail("known")
        """
    )
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4", "--gilsafe-trials", "3")
    assert result.parseoutcomes() == {"skipped": 1, "xfailed": 1}


def test_a_bad_config_is_one_usage_line(pytester):
    pytester.makepyprojecttoml("[tool.gilsafe]\nthread-unsafe-calls = 3\n")
    pytester.makepyfile(test_ledger=LEDGER)
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == [f"ERROR: {pytester.path / 'pyproject.toml'}: [tool.gilsafe] `thread-unsafe-calls` must be a list of strings, not 3"]


def test_each_xdist_worker_runs_its_own_threads(pytester):
    pytest.importorskip("xdist")
    pytester.makepyfile(test_ledger=LEDGER + ALWAYS_WRONG)
    result = pytester.runpytest_subprocess("-n", "2", "--gilsafe-threads", "4", "--gilsafe-trials", "3")
    assert result.parseoutcomes() == {"race": 1, "failed": 1, "passed": 1}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*= gilsafe races =*",
            "race: failed in * of 3 trials (* of 12 thread runs)",
            "*AssertionError: my update was lost*FORBIDDEN*",
            "RACE test_ledger.py::test_unlocked_update - failed in * of 3 trials*",
        ]
    )


class Recorder:
    """A trial observer: what it was told, and from which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, bool | None, bool]] = []

    def begin_trial(self, nodeid: str, trial: int) -> None:
        self.calls.append(("begin", nodeid, trial, None, threading.current_thread() is threading.main_thread()))

    def end_trial(self, nodeid: str, trial: int, failed: bool) -> None:
        self.calls.append(("end", nodeid, trial, failed, threading.current_thread() is threading.main_thread()))


def test_the_runner_records_each_threads_outcome_and_tells_the_observer():
    # Exactly one thread in four fails in each trial: a counter under a lock picks it.
    lock = threading.Lock()
    runs = []

    def body() -> None:
        with lock:
            runs.append(None)
            unlucky = len(runs) % 4 == 0
        if unlucky:
            raise ValueError("the fourth at 0x7f00deadbeef")

    recorder = Recorder()
    run = run_in_threads(body, threads=4, trials=3, nodeid="t::x", switch_interval=1e-5, observer=recorder)
    assert (run.thread_runs, run.failed_runs, run.failed_trials) == (12, 3, 3)
    assert run.is_race and not run.always_failed
    assert run.outcome_counts() == {PASSED: 9, "ValueError: the fourth at 0x...": 3}
    assert [(row.outcome, row.count, row.expect) for row in run.graded()][1] == ("ValueError: the fourth at 0x...", 3, FORBIDDEN)
    assert run.switch_interval == pytest.approx(1e-5)
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("gilsafe-")]
    assert recorder.calls == [
        call for trial in range(3) for call in (("begin", "t::x", trial, None, True), ("end", "t::x", trial, True, True))
    ]
    assert isinstance(run.first_failure.error, ValueError)


def test_the_runner_stops_after_a_trial_that_raised_a_stop_exception():
    class Stop(Exception):
        pass

    def body() -> None:
        raise Stop

    run = run_in_threads(body, threads=2, trials=5, stop_on=(Stop,))
    assert len(run.trials) == 1 and run.always_failed and not run.is_race
    assert isinstance(run.first_raised((Stop,)), Stop)


def test_calls_are_resolved_through_the_modules_imports(tmp_path):
    source = tmp_path / "test_calls.py"
    source.write_text(
        "import numpy as np\n"
        "from os import environ\n"
        "import random\n\n"
        "def test_seeded():\n    np.random.seed(1)\n\n"
        "def test_environment():\n    del environ['A']\n\n"
        "def test_local_alias():\n    from unittest import mock\n    with mock.patch('os.getcwd'):\n        pass\n\n"
        "def test_pure():\n    random.random()\n    environ.get('A')\n"
    )
    # The functions without running the module: numpy need not be installed for its name to resolve.
    module = compile(source.read_text(), str(source), "exec")
    functions = [types.FunctionType(code, {}) for code in module.co_consts if isinstance(code, types.CodeType)]
    found = {function.__name__: thread_unsafe_call(function, DEFAULT_LISTS.calls) for function in functions}
    assert found == {
        "test_seeded": "numpy.random.seed",
        "test_environment": "os.environ.__delitem__",
        "test_local_alias": "unittest.mock.patch",
        "test_pure": None,
    }


def test_the_lists_extend_the_defaults_and_reject_bad_names(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.gilsafe]\nthread-unsafe-fixtures = ["database"]\n')
    lists = thread_unsafe_lists(pyproject)
    assert lists.fixtures == DEFAULT_LISTS.fixtures | {"database"} and lists.calls == DEFAULT_LISTS.calls
    pyproject.write_text('[tool.gilsafe]\nthread-unsafe-calls = ["not a name"]\n')
    with pytest.raises(ConfigError, match="`thread-unsafe-calls`: 'not a name' is not a dotted name"):
        thread_unsafe_lists(pyproject)
    assert thread_unsafe_lists(tmp_path / "missing.toml") == DEFAULT_LISTS


# A library with three thread-safety findings, and tests that reach two of them in threads.
REGISTRY = """
    import threading
    import time

    _items = {}
    calls = 0


    def get_or_make(key):
        if key not in _items:
            time.sleep(0.02)
            _items[key] = object()
        return _items[key]


    def count_call():
        global calls
        calls += 1


    def start_worker():
        threading.Thread(target=_worker).start()


    def _worker():
        global calls
        calls -= 1
"""

REGISTRY_TESTS = """
    import time

    import registry


    def test_one_object_per_key():
        first = registry.get_or_make("k")
        time.sleep(0.05)  # every thread has made its object by now: only the last one's is kept
        assert registry.get_or_make("k") is first


    def test_counting():
        registry.count_call()


    def test_counting_then_always_wrong():
        registry.count_call()
        assert False, "wrong in every thread: an ordinary failure confirms no race"
"""


def test_lint_findings_are_confirmed_by_the_threaded_tests(pytester):
    """--gilsafe-lint: a check-then-act whose test failed in a trial where its line ran in 4 threads
    is a confirmed race; a += that ran in 4 threads without a failure ran concurrently; a finding
    no threaded test reaches is not exercised. The JSON file says the same."""
    import json

    pytester.makepyfile(registry=REGISTRY, test_registry=REGISTRY_TESTS)
    result = pytester.runpytest_subprocess(*THREADED, "--gilsafe-lint", "--gilsafe-json", "found.json")
    result.stdout.fnmatch_lines([
        "*= gilsafe findings at runtime =*",
        "3 findings in 2 files linted: 1 confirmed race, 1 ran concurrently, 1 not exercised",
        "confirmed race: registry.py:9:5: GS103 check-then-act on global `_items`* by test_registry.py::test_one_object_per_key",
        "ran concurrently: registry.py:17:5: GS101 `calls += 1`* by test_registry.py::test_counting, test_registry.py::test_counting_then_always_wrong",
        "not exercised: registry.py:26:5: GS101 `calls -= 1`*",
    ])
    outcomes = result.parseoutcomes()
    assert outcomes.get("race") == 1 and outcomes.get("passed") == 1 and outcomes.get("failed") == 1, outcomes
    found = json.loads((pytester.path / "found.json").read_text())["findings"]
    assert [(f["display_path"], f["line"], f["runtime"]["status"]) for f in found] == [
        ("registry.py", 9, "confirmed race"),
        ("registry.py", 17, "ran concurrently"),
        ("registry.py", 26, "not exercised"),
    ]
    assert found[0]["runtime"]["failing_tests"] == ["test_registry.py::test_one_object_per_key"]
    assert found[1]["runtime"]["failing_tests"] == [] and "test_registry.py::test_counting_then_always_wrong" in found[1]["runtime"]["tests"]
    assert found[2]["runtime"]["tests"] == [] and found[2]["runtime"]["trials"] == 0

    # `gilsafe report --runtime` shows the same status beside each finding.
    pytest.importorskip("sphinx")
    import re

    from gilsafe.report import build_report

    index = build_report([str(pytester.path)], None, pytester.path / "report", runtime=pytester.path / "found.json")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", (index.parent / "findings.html").read_text()))
    assert re.search(r"registry\.py:9:5 \[confirmed race\] check-then-act on global _items.*?Ran in 2\+ threads in \d+ trials? of test_registry\.py::test_one_object_per_key", page), page
    assert "registry.py:26:5 [not exercised]" in page
    first = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", index.read_text()))
    assert "Under the threaded tests ( pytest --gilsafe-lint ): 1 confirmed race, 1 ran concurrently, 1 not exercised." in first


def test_gilsafe_lint_refuses_xdist_and_json_without_lint(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("--gilsafe-json", "x.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gilsafe-json writes what --gilsafe-lint found: give --gilsafe-lint too*"])
    pytest.importorskip("xdist")
    result = pytester.runpytest_subprocess("--gilsafe-lint", "-n", "2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--gilsafe-lint records which lines ran in threads in this process: run it without -n*"])


def test_a_test_that_races_on_its_own_state_runs_single_threaded_by_gilsafes_rules(pytester):
    """gilsafe's rules read the test's source: a body that updates its module's globals without a
    lock would race with itself (the test's fault, not the code's), so it runs once; a body whose
    state is its own runs threaded."""
    pytester.makepyfile(
        test_own_state=f"""
        import threading

        counter = 0


        def test_counts():
            global counter
            counter += 1
            {IN_MAIN_THREAD}


        def test_local_state():
            total = 0
            total += 1
            assert threading.current_thread() is not threading.main_thread()
        """
    )
    result = pytester.runpytest_subprocess("--gilsafe-threads", "4")
    assert result.parseoutcomes() == {"passed": 2}
    result.stdout.fnmatch_lines(["*= gilsafe ran single-threaded =*", "    1 test: gilsafe GS101 in the test itself (line 8): `counter += 1` is a read-modify-write of global `counter`*"])

"""gilsafe.pytest_plugin.lines: real threads run a module written to tmp_path while a
LineRecorder watches some of its lines. Imports nothing but the recorder, so it also runs on
interpreters without gilsafe's dependencies (3.12, 3.13t)."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from types import ModuleType
from typing import NamedTuple

import pytest

from gilsafe.pytest_plugin.lines import (
    LineEvidence,
    LineRecorder,
    LineStatus,
    finding_status,
    watched_lines,
)

TARGET = """\
def bump(box):
    box.append(1)  # BUMP
    return len(box)  # COUNT


def total(box):
    return sum(  # TOTAL
        box
    )  # TOTAL END


def never():
    return "unreached"  # NEVER
"""


class Target(NamedTuple):
    module: ModuleType
    path: str

    def line(self, marker: str) -> int:
        lines = TARGET.splitlines()
        return next(n for n, text in enumerate(lines, 1) if text.endswith(f"# {marker}"))


class FakeFinding(NamedTuple):
    """The three fields of gilsafe.lint.findings.Finding that lines.py reads."""

    path: str
    line: int
    end_line: int = 0


_loaded = 0


def load(path: str) -> ModuleType:
    global _loaded
    _loaded += 1
    spec = importlib.util.spec_from_file_location(f"lines_target_{_loaded}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def target(tmp_path) -> Target:
    path = tmp_path / "target.py"
    path.write_text(TARGET)
    return Target(load(str(path)), os.path.realpath(path))


def run_in_threads(function, count: int, calls: int = 200) -> None:
    """`count` threads start together and each call `function([])` `calls` times."""
    barrier = threading.Barrier(count)

    def body():
        barrier.wait()
        for _ in range(calls):
            function([])

    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def trial(recorder, nodeid, number, work, failed=False):
    recorder.begin_trial(nodeid, number)
    work()
    recorder.end_trial(nodeid, number, failed=failed)


def test_a_line_four_threads_run_in_one_trial_ran_concurrently(target):
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
    assert recorder.statuses()[target.path, line] == LineEvidence(
        LineStatus.CONCURRENT,
        tests=("t.py::test_a",),
        trials=1,
        concurrent_trials=(("t.py::test_a", 0),),
    )


def test_a_line_one_thread_runs_per_trial_is_not_exercised(target):
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        # Two different threads, the main one alive throughout, but never in the same trial.
        trial(recorder, "t.py::test_a", 0, lambda: target.module.bump([]))
        trial(recorder, "t.py::test_a", 1, lambda: run_in_threads(target.module.bump, 1))
    assert recorder.statuses()[target.path, line].status is LineStatus.NOT_EXERCISED


def test_a_failed_trial_makes_a_concurrent_line_a_confirmed_race(target):
    line = target.line("BUMP")
    work = lambda: run_in_threads(target.module.bump, 4)  # noqa: E731
    with LineRecorder({target.path: [line]}) as recorder:
        trial(recorder, "t.py::test_b", 0, work)
        trial(recorder, "t.py::test_a", 0, work, failed=True)
        trial(recorder, "t.py::test_a", 1, work)
    evidence = recorder.statuses()[target.path, line]
    assert evidence.status is LineStatus.CONFIRMED
    assert evidence.tests == ("t.py::test_a", "t.py::test_b")
    assert evidence.failing_tests == ("t.py::test_a",)
    assert evidence.trials == 3
    assert str(evidence.status) == "confirmed race"


def test_a_failed_trial_where_the_line_ran_in_one_thread_confirms_nothing(target):
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
        trial(recorder, "t.py::test_b", 0, lambda: target.module.bump([]), failed=True)
    evidence = recorder.statuses()[target.path, line]
    assert evidence.status is LineStatus.CONCURRENT
    assert evidence.failing_tests == ()


def test_a_line_settled_early_in_a_trial_does_not_hide_the_file_s_other_lines(target):
    bump, total = target.line("BUMP"), target.line("TOTAL")
    with LineRecorder({target.path: [bump, total]}) as recorder:

        def bump_then_total():
            run_in_threads(target.module.bump, 4)
            run_in_threads(target.module.total, 4)

        trial(recorder, "t.py::test_a", 0, bump_then_total)
    statuses = recorder.statuses()
    assert statuses[target.path, bump].status is LineStatus.CONCURRENT
    assert statuses[target.path, total].status is LineStatus.CONCURRENT


def test_every_watched_line_has_a_status_even_when_never_reached(target):
    bump, never = target.line("BUMP"), target.line("NEVER")
    with LineRecorder({target.path: [bump, never]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
    statuses = recorder.statuses()
    assert set(statuses) == {(target.path, bump), (target.path, never)}
    assert statuses[target.path, never] == LineEvidence(LineStatus.NOT_EXERCISED)
    assert statuses[target.path, bump].status is LineStatus.CONCURRENT


def test_lines_run_outside_trials_are_not_counted(target):
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        run_in_threads(target.module.bump, 4)  # before any trial
        trial(recorder, "t.py::test_a", 0, lambda: target.module.bump([]))
        run_in_threads(target.module.bump, 4)  # between trials
        recorder.begin_trial("t.py::test_a", 1)
        recorder.end_trial("t.py::test_a", 1, failed=True)
        run_in_threads(target.module.bump, 4)  # after the last trial
    assert recorder.statuses()[target.path, line].status is LineStatus.NOT_EXERCISED


def test_a_watched_path_given_through_a_symlink_still_matches(tmp_path, target):
    link = tmp_path / "linked"
    link.symlink_to(tmp_path, target_is_directory=True)
    line = target.line("BUMP")
    with LineRecorder({str(link / "target.py"): [line]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
    assert recorder.statuses()[target.path, line].status is LineStatus.CONCURRENT


def test_a_module_imported_through_a_symlink_matches_its_real_path(tmp_path, target):
    link = tmp_path / "linked"
    link.symlink_to(tmp_path, target_is_directory=True)
    module = load(str(link / "target.py"))
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(module.bump, 4))
    assert recorder.statuses()[target.path, line].status is LineStatus.CONCURRENT


def test_a_second_recorder_sees_lines_the_first_one_did_not_watch(target):
    """sys.monitoring's DISABLE outlives a tool id: the second recorder must undo the first's."""
    bump, count = target.line("BUMP"), target.line("COUNT")
    work = lambda: run_in_threads(target.module.bump, 4)  # noqa: E731
    with LineRecorder({target.path: [bump]}) as first:
        trial(first, "t.py::test_a", 0, work)
    with LineRecorder({target.path: [count]}) as second:
        trial(second, "t.py::test_a", 0, work)
    assert first.statuses()[target.path, bump].status is LineStatus.CONCURRENT
    assert second.statuses()[target.path, count].status is LineStatus.CONCURRENT


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is 3.12+")
def test_a_line_another_tool_disabled_before_freeing_its_id_is_recorded(target):
    """Tools that returned DISABLE and freed their ids without restart_events leave those
    locations disabled for each id's next user, which may be the recorder (it stays so while
    another line of the code object is still instrumented, here COUNT)."""
    bump, count = target.line("BUMP"), target.line("COUNT")

    def disable_all_but_count(code, line):
        return None if line == count else sys.monitoring.DISABLE

    free_ids = [tool_id for tool_id in range(6) if sys.monitoring.get_tool(tool_id) is None]
    for tool_id in free_ids:
        sys.monitoring.use_tool_id(tool_id, "test_pytest_lines")
        sys.monitoring.register_callback(tool_id, sys.monitoring.events.LINE, disable_all_but_count)
        sys.monitoring.set_events(tool_id, sys.monitoring.events.LINE)
    target.module.bump([])
    for tool_id in free_ids:
        sys.monitoring.set_events(tool_id, 0)
        sys.monitoring.register_callback(tool_id, sys.monitoring.events.LINE, None)
        sys.monitoring.free_tool_id(tool_id)
    with LineRecorder({target.path: [bump]}) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
    assert recorder.statuses()[target.path, bump].status is LineStatus.CONCURRENT


def test_stop_twice_is_harmless_and_start_twice_is_an_error(target):
    recorder = LineRecorder({target.path: [target.line("BUMP")]})
    recorder.start()
    with pytest.raises(RuntimeError):
        recorder.start()
    recorder.stop()
    recorder.stop()


@pytest.fixture
def counting_tracer():
    """A pre-existing sys.settrace function (a debugger, coverage.py's tracer on 3.11) that
    counts calls of `marker`; restored after the test whatever happens."""
    calls = []

    def marker():
        return None

    def tracer(frame, event, arg):
        if event == "call" and frame.f_code is marker.__code__:
            calls.append(threading.get_ident())
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield tracer, marker, calls
    finally:
        sys.settrace(previous)


def test_stop_puts_back_the_trace_function_that_was_there(target, counting_tracer):
    tracer, marker, calls = counting_tracer
    with LineRecorder({target.path: [target.line("BUMP")]}):
        pass
    assert sys.gettrace() is tracer
    marker()
    assert calls == [threading.get_ident()]


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is 3.12+")
def test_a_trace_function_keeps_running_beside_monitoring(target, counting_tracer):
    tracer, marker, calls = counting_tracer
    line = target.line("BUMP")
    with LineRecorder({target.path: [line]}) as recorder:
        assert recorder.uses_sys_monitoring
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
        marker()
    assert calls == [threading.get_ident()]
    assert recorder.statuses()[target.path, line].status is LineStatus.CONCURRENT


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is 3.12+")
def test_stop_frees_the_monitoring_tool_id(target):
    def tools():
        return [sys.monitoring.get_tool(tool_id) for tool_id in range(6)]

    before = tools()
    with LineRecorder({target.path: [target.line("BUMP")]}):
        during = tools()
    assert during != before
    assert tools() == before


@pytest.mark.skipif(not hasattr(sys, "monitoring"), reason="sys.monitoring is 3.12+")
def test_with_no_free_tool_id_it_records_through_settrace(target, counting_tracer):
    tracer, marker, calls = counting_tracer
    taken = [tool_id for tool_id in range(6) if sys.monitoring.get_tool(tool_id) is None]
    for tool_id in taken:
        sys.monitoring.use_tool_id(tool_id, "test_pytest_lines")
    try:
        line = target.line("BUMP")
        with LineRecorder({target.path: [line]}) as recorder:
            assert not recorder.uses_sys_monitoring
            trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.bump, 4))
        assert sys.gettrace() is tracer
        marker()
        assert calls == [threading.get_ident()]
        assert recorder.statuses()[target.path, line].status is LineStatus.CONCURRENT
    finally:
        for tool_id in taken:
            sys.monitoring.free_tool_id(tool_id)


def test_a_multi_line_finding_is_watched_and_graded_on_all_its_lines(target):
    first, last = target.line("TOTAL"), target.line("TOTAL END")
    finding = FakeFinding(target.path, first, last)
    watched = watched_lines([finding, FakeFinding(target.path, target.line("NEVER"))])
    assert watched == {target.path: {*range(first, last + 1), target.line("NEVER")}}
    with LineRecorder(watched) as recorder:
        trial(recorder, "t.py::test_a", 0, lambda: run_in_threads(target.module.total, 4))
    statuses = recorder.statuses()
    assert finding_status(finding, statuses) == LineEvidence(
        LineStatus.CONCURRENT,
        tests=("t.py::test_a",),
        trials=1,
        concurrent_trials=(("t.py::test_a", 0),),
    )
    never = FakeFinding(target.path, target.line("NEVER"))
    assert finding_status(never, statuses) == LineEvidence(LineStatus.NOT_EXERCISED)


def test_folding_keeps_the_strongest_status_and_counts_each_trial_once():
    path = os.path.realpath("/src/cache.py")
    statuses = {
        (path, 10): LineEvidence(
            LineStatus.CONCURRENT, ("t::a",), (), 1, (("t::a", 0),)
        ),
        (path, 11): LineEvidence(
            LineStatus.CONFIRMED, ("t::a", "t::b"), ("t::b",), 2, (("t::a", 0), ("t::b", 3))
        ),
        (path, 12): LineEvidence(LineStatus.NOT_EXERCISED),
        (path, 13): LineEvidence(LineStatus.CONCURRENT, ("t::c",), (), 1, (("t::c", 1),)),
    }
    assert finding_status(FakeFinding("/src/cache.py", 10, 12), statuses) == LineEvidence(
        LineStatus.CONFIRMED,
        tests=("t::a", "t::b"),
        failing_tests=("t::b",),
        trials=2,
        concurrent_trials=(("t::a", 0), ("t::b", 3)),
    )
    # end_line 0 (a finding without an end) means its line alone.
    assert finding_status(FakeFinding(path, 12), statuses).status is LineStatus.NOT_EXERCISED
    assert finding_status(FakeFinding(path, 12, 13), statuses).tests == ("t::c",)
    assert watched_lines([FakeFinding(path, 12)]) == {path: {12}}

"""What only a free-threaded interpreter shows. Runs in the free-threaded tier of `make test`
(scripts/free-threaded-tier); on a GIL build these tests skip, saying so."""

import sys

import pytest

from gilsafe.stress import experiments as ex
from gilsafe.stress.environment import capture, free_threaded_build, gil_enabled
from gilsafe.stress.model import Cell, Result
from gilsafe.stress.report import format_results

needs_free_threading = pytest.mark.skipif(gil_enabled(), reason="needs a free-threaded build with the GIL off")


@needs_free_threading
def test_environment_reports_the_build_and_the_gil():
    env = capture()
    assert env["free_threaded_build"] is True and env["gil_enabled"] is False


@needs_free_threading
def test_the_talks_call_free_form_loses_updates():
    # Under the GIL this form never loses an update since 3.10; free-threaded, it does.
    lost = 0
    for _ in range(20):
        observed = ex.run_e2(Cell("E2", "python", "talk", 2, 10, 100_000, 60.0))
        lost += observed.outcomes.counts["g != 0"]
        if lost:
            break
    assert lost >= 1


def test_report_flags_a_gil_turned_back_on():
    row = Result("E4", "numpy", "talk", 2, "ok", python="3.13.5t", gil_enabled=True)
    assert "the GIL was back on in this cell" in format_results([row])
    row = Result("E4", "numpy", "talk", 2, "ok", python="3.13.5t", gil_enabled=False)
    assert "the GIL was back on" not in format_results([row])


def test_report_does_not_flag_a_gil_build():
    # "current" ends in "t" too: on a GIL build its enabled GIL is no news (seen on a GPU machine)
    import sysconfig

    row = Result("E4", "numpy", "talk", 2, "ok", python="current", gil_enabled=True)
    flagged = "the GIL was back on" in format_results([row])
    assert flagged == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def test_build_detection_matches_sysconfig():
    import sysconfig

    assert free_threaded_build() == bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert gil_enabled() == getattr(sys, "_is_gil_enabled", lambda: True)()

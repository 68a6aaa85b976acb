"""gilsafe's pytest hooks: options, markers, the threaded call, race reports and the summary.

Registered as the pytest11 entry point `gilsafe` (`-p no:gilsafe` turns it off). Inert unless
`--gilsafe-threads N` (N > 1) is given or a test is marked `gilsafe`: until then every hook
returns at once, and the runner (which imports gilsafe.stress.model) is never imported.
"""

from __future__ import annotations

import functools
import inspect
import unittest
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from gilsafe.errors import ConfigError
from gilsafe.option_types import positive_int, positive_seconds

if TYPE_CHECKING:
    from gilsafe.pytest_plugin.confirm import RuntimeLint
    from gilsafe.pytest_plugin.single import ThreadUnsafeLists
    from gilsafe.pytest_plugin.threaded import ThreadedRun

MARKED_THREADS = 4  # threads for a test marked `gilsafe` without `threads=`, when the command line gives none
RACE = "race"  # the report category: "1 failed, 3 passed, 1 race"
SINGLE_THREADED = "gilsafe_single_threaded"  # the user property (and junitxml property) holding the reason
# pytest's control flow, not a test's outcome: re-raised as pytest would see it.
PYTEST_CONTROL = (pytest.skip.Exception, pytest.xfail.Exception, pytest.exit.Exception, KeyboardInterrupt)


@dataclass(frozen=True)
class ThreadSettings:
    """The command line's request; a `gilsafe` marker overrides it per test."""

    threads: int  # threads per trial; 1: off
    trials: int  # trials per threaded test
    switch_interval: float | None  # None: leave sys.getswitchinterval() alone


settings_key = pytest.StashKey[ThreadSettings]()
lists_key = pytest.StashKey["ThreadUnsafeLists"]()
race_key = pytest.StashKey["ThreadedRun"]()
runtime_lint_key = pytest.StashKey["RuntimeLint"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gilsafe", "gilsafe: run each test's body in many threads")
    group.addoption("--gilsafe-threads", type=positive_int, default=1, metavar="N", help="run each test's body in N threads at once (default 1: off)")
    group.addoption("--gilsafe-trials", type=positive_int, default=1, metavar="T", help="repeat the threaded run T times, a fresh barrier each time (default 1)")
    group.addoption(
        "--gilsafe-switch-interval",
        type=positive_seconds,
        default=None,
        metavar="SECONDS",
        help="sys.setswitchinterval while the threads run (restored after); small values make GIL-build races show",
    )
    group.addoption(
        "--gilsafe-lint",
        action="store_true",
        help="lint the modules the tests import and say, per finding, whether a threaded test ran its line in 2+ threads (and failed)",
    )
    group.addoption(
        "--gilsafe-json",
        type=Path,
        default=None,
        metavar="FILE",
        # pytest finds its root directory before it loads plugins: `--gilsafe-json out.json` would
        # read an existing out.json as a test path there.
        help="with --gilsafe-lint: write every finding and its runtime status to FILE (write --gilsafe-json=FILE)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gilsafe(threads=N, trials=T): run this test's body in N threads, T times (gilsafe)")
    config.addinivalue_line("markers", "gilsafe_single(reason=None): run this test once in one thread, even under --gilsafe-threads (gilsafe)")
    settings = ThreadSettings(
        config.getoption("gilsafe_threads"),
        config.getoption("gilsafe_trials"),
        config.getoption("gilsafe_switch_interval"),
    )
    config.stash[settings_key] = settings
    if settings.threads > 1:
        _thread_unsafe_lists(config)  # a bad [tool.gilsafe] is a usage error before anything runs
    json_path = config.getoption("gilsafe_json")
    if json_path is not None and not config.getoption("gilsafe_lint"):
        raise pytest.UsageError("--gilsafe-json writes what --gilsafe-lint found: give --gilsafe-lint too")
    if config.getoption("gilsafe_lint") and getattr(config.option, "numprocesses", None):
        # Each xdist worker would record its own share of the trials, and none would see them all.
        raise pytest.UsageError("--gilsafe-lint records which lines ran in threads in this process: run it without -n")
    if json_path is not None:
        from gilsafe.atomic import check_writable
        from gilsafe.errors import UsageError

        try:
            check_writable(json_path, "--gilsafe-json")
        except UsageError as error:
            raise pytest.UsageError(str(error)) from None


def pytest_collection_finish(session: pytest.Session) -> None:
    """With --gilsafe-lint: lint what the collected tests imported, and start watching the findings."""
    config = session.config
    if not config.getoption("gilsafe_lint") or session.config.option.collectonly:
        return
    from gilsafe.pytest_plugin.confirm import RuntimeLint, modules_under_test

    # Each threaded test by its function's name, or its class's: what the lint declares thread-safe.
    threaded = sorted({(Path(item.path), item.cls.__qualname__ if item.cls else item.originalname) for item in session.items if _runs_threaded(item)})
    sources = modules_under_test(config.rootpath, {Path(item.path) for item in session.items})
    cache = Path(config.rootpath, ".gilsafe_cache")
    runtime = RuntimeLint.lint(sources, threaded, cache)
    config.stash[runtime_lint_key] = runtime
    runtime.recorder.start()


def pytest_sessionfinish(session: pytest.Session) -> None:
    runtime = session.config.stash.get(runtime_lint_key, None)
    if runtime is None:
        return
    runtime.recorder.stop()
    json_path = session.config.getoption("gilsafe_json")
    if json_path is not None:
        runtime.write_json(json_path, session.config.rootpath)


def pytest_report_header(config: pytest.Config) -> str | None:
    settings = config.stash[settings_key]
    if settings.threads < 2:
        return None
    interval = "" if settings.switch_interval is None else f", switch interval {settings.switch_interval:g} s"
    return f"gilsafe: each test's body in {settings.threads} threads x {settings.trials} trials{interval}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if lists_key not in config.stash and any(item.get_closest_marker("gilsafe") for item in items):
        _thread_unsafe_lists(config)


def _thread_unsafe_lists(config: pytest.Config) -> ThreadUnsafeLists:
    """The thread-unsafe fixtures and calls, read once from the project's pyproject.toml."""
    if lists_key not in config.stash:
        from gilsafe.pytest_plugin.single import thread_unsafe_lists

        inipath = config.inipath
        pyproject = inipath if inipath is not None and inipath.name == "pyproject.toml" else Path(config.rootpath, "pyproject.toml")
        try:
            config.stash[lists_key] = thread_unsafe_lists(pyproject)
        except ConfigError as error:
            raise pytest.UsageError(str(error)) from None
    return config.stash[lists_key]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    plan = _threads_and_trials(pyfuncitem)
    if plan is None:
        return None  # pytest calls the test as usual
    from gilsafe.pytest_plugin.single import single_thread_reason
    from gilsafe.pytest_plugin.threaded import run_in_threads

    reason = single_thread_reason(pyfuncitem, _thread_unsafe_lists(pyfuncitem.config))
    if reason is not None:
        pyfuncitem.user_properties.append((SINGLE_THREADED, reason))
        return None
    threads, trials = plan
    funcargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run = run_in_threads(
        functools.partial(pyfuncitem.obj, **funcargs),
        threads=threads,
        trials=trials,
        nodeid=pyfuncitem.nodeid,
        switch_interval=pyfuncitem.config.stash[settings_key].switch_interval,
        observer=_recorder(pyfuncitem.config),
        stop_on=PYTEST_CONTROL,
    )
    recorder = _recorder(pyfuncitem.config)
    if recorder is not None and not run.is_race:
        recorder.not_a_race(pyfuncitem.nodeid)  # a failure in every thread, or a skip, confirms no race
    control = run.first_raised(PYTEST_CONTROL)
    if control is not None:
        raise control
    first = run.first_failure
    if first is None:
        return True
    if run.is_race:
        pyfuncitem.stash[race_key] = run  # pytest_runtest_makereport turns the failure into a race report
    raise first.error  # pytest renders its traceback as usual, cut to the test's own frames


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test threads were asked for but that the plugin cannot thread is counted as run
    single-threaded, with why: a silent ordinary run would read as a clean threaded pass."""
    reason = _cannot_thread(item)
    if reason is not None:
        item.user_properties.append((SINGLE_THREADED, reason))


def _cannot_thread(item: pytest.Item) -> str | None:
    settings = item.config.stash[settings_key]
    if settings.threads < 2 and item.get_closest_marker("gilsafe") is None:
        return None
    if not isinstance(item, pytest.Function):
        return f"not a test function ({type(item).__name__}): gilsafe threads test functions only"
    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, unittest.TestCase):
        return "a unittest.TestCase test: gilsafe threads plain test functions only"
    if _is_async(item.obj):
        return "an async test: it runs in its event-loop plugin's way"
    return None


def _runs_threaded(item: pytest.Item) -> bool:
    """Whether the test will run threaded; a bad marker is reported when the test runs, not here."""
    if not isinstance(item, pytest.Function) or _cannot_thread(item) is not None:
        return False
    try:
        if _threads_and_trials(item) is None:
            return False
    except pytest.fail.Exception:
        return False
    from gilsafe.pytest_plugin.single import single_thread_reason

    return single_thread_reason(item, _thread_unsafe_lists(item.config)) is None


def _recorder(config: pytest.Config):
    """The --gilsafe-lint line recorder, told about each trial; None without the option."""
    runtime = config.stash.get(runtime_lint_key, None)
    return runtime.recorder if runtime is not None else None


def _threads_and_trials(item: pytest.Function) -> tuple[int, int] | None:
    """(threads, trials) when this test runs threaded; None leaves it to pytest."""
    settings = item.config.stash[settings_key]
    marker = item.get_closest_marker("gilsafe")
    threads, trials = settings.threads, settings.trials
    if marker is not None:
        unknown = sorted(set(marker.kwargs) - {"threads", "trials"})
        if marker.args or unknown:
            pytest.fail(f"@pytest.mark.gilsafe takes threads= and trials= only, not {list(marker.args) + unknown}", pytrace=False)
        threads = marker.kwargs.get("threads", threads if threads > 1 else MARKED_THREADS)
        trials = marker.kwargs.get("trials", trials)
        for name, value in (("threads", threads), ("trials", trials)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                pytest.fail(f"@pytest.mark.gilsafe: {name} must be a whole number of 1 or more, not {value!r}", pytrace=False)
    if threads < 2 or _is_async(item.obj):
        return None
    return threads, trials


def _is_async(function: object) -> bool:
    """Async tests belong to their event-loop plugin; a sync wrapper of one still counts."""
    unwrapped = inspect.unwrap(function)
    return any(inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f) for f in (function, unwrapped))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    run = item.stash.get(race_key, None)
    if run is None or call.when != "call":
        return
    del item.stash[race_key]  # the threads' tracebacks hold the test's frames: let them go
    report = outcome.get_result()
    if report.failed:  # not when an xfail marker turned the failure into an expected one
        from gilsafe.pytest_plugin.threaded import race_report

        report.longrepr = race_report(run, str(report.longrepr))
        report.gilsafe_race = run.summary  # a plain string: it survives pytest-xdist's serialization


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple | None:
    if report.when == "call" and getattr(report, "gilsafe_race", None):
        return RACE, "R", ("RACE", {"red": True})
    return None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    races = terminalreporter.stats.get(RACE, [])
    if races:
        terminalreporter.write_sep("=", "gilsafe races", red=True, bold=True)
        if config.option.tbstyle != "no":
            for report in races:
                terminalreporter.write_sep("_", report.head_line or report.nodeid, red=True)
                terminalreporter.write_line(report.longreprtext)
                if config.option.showcapture != "no":
                    for title, content in report.sections:
                        terminalreporter.write_sep("-", title)
                        terminalreporter.write_line(content.rstrip("\n"))
        for report in races:
            terminalreporter.write_line(f"RACE {report.nodeid} - {report.gilsafe_race}")
    reasons = Counter(
        reason
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, reason in getattr(report, "user_properties", ())
        if name == SINGLE_THREADED
    )
    if reasons:
        terminalreporter.write_sep("=", "gilsafe ran single-threaded")
        for reason, count in reasons.most_common():
            terminalreporter.write_line(f"{count:>5} {'test' if count == 1 else 'tests'}: {reason}")
    runtime = config.stash.get(runtime_lint_key, None)
    if runtime is not None:
        terminalreporter.write_sep("=", "gilsafe findings at runtime")
        for line in runtime.summary_lines(config.rootpath):
            terminalreporter.write_line(line)

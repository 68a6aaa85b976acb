"""One test body run in N threads, T times (trials), and the typed record of what each thread saw.

Each trial starts its threads behind a fresh `threading.Barrier`, so they enter the body together;
a trial ends when all of them have returned. Nothing here knows pytest: the plugin passes the
body, and which exceptions (pytest's skip, say) end the run early.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gilsafe.stress.model import ACCEPTABLE, FORBIDDEN, DeclaredOutcome, Outcome, OutcomeTable

PASSED = "passed"
MESSAGE_LIMIT = 120  # characters of an exception's first line kept in its outcome
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")  # object addresses differ per thread; one outcome is one row

# A test's outcome table, declared before anything runs (jcstress's @Outcome): passing is the only
# acceptable outcome; any exception is a wrong result.
TEST_OUTCOMES = OutcomeTable(
    declared=(DeclaredOutcome(PASSED, ACCEPTABLE, "the thread's run of the test passed"),),
    unlisted=FORBIDDEN,
    unlisted_description="the thread's run raised this",
)


class TrialObserver(Protocol):
    """Told about each trial, in the main thread: all of a trial's threads run between the calls.
    `trial` is the 0-based index of the trial."""

    def begin_trial(self, nodeid: str, trial: int) -> None: ...

    def end_trial(self, nodeid: str, trial: int, failed: bool) -> None: ...


@dataclass(frozen=True)
class ThreadOutcome:
    """How one thread's run of the body ended."""

    outcome: str  # "passed", or "ExceptionType: first line of its message"
    error: BaseException | None = None  # what the thread raised, its traceback attached; None when it passed

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class FirstFailure:
    """The first thread run that raised, in trial order and then thread order."""

    trial: int  # 0-based
    thread: int  # 0-based
    error: BaseException


@dataclass(frozen=True)
class ThreadedRun:
    """Every trial's per-thread outcomes, and the conditions they ran under."""

    nodeid: str  # the test, as pytest names it
    threads: int  # threads per trial
    trials: tuple[tuple[ThreadOutcome, ...], ...]  # per trial (in order), per thread (by index)
    switch_interval: float  # sys.getswitchinterval() while the threads ran
    gil_enabled: bool  # False only on a free-threaded build with the GIL off

    @property
    def thread_runs(self) -> int:
        return sum(len(trial) for trial in self.trials)

    @property
    def failed_runs(self) -> int:
        return sum(outcome.failed for trial in self.trials for outcome in trial)

    @property
    def failed_trials(self) -> int:
        return sum(any(outcome.failed for outcome in trial) for trial in self.trials)

    @property
    def is_race(self) -> bool:
        """The same body both passed and failed: the answer depended on how threads interleaved."""
        return 0 < self.failed_runs < self.thread_runs

    @property
    def always_failed(self) -> bool:
        return self.thread_runs > 0 and self.failed_runs == self.thread_runs

    @property
    def first_failure(self) -> FirstFailure | None:
        for trial_index, trial in enumerate(self.trials):
            for thread_index, outcome in enumerate(trial):
                if outcome.error is not None:
                    return FirstFailure(trial_index, thread_index, outcome.error)
        return None

    def first_raised(self, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
        """The first exception of one of these kinds any thread raised (pytest's skip, say)."""
        for trial in self.trials:
            for outcome in trial:
                if isinstance(outcome.error, kinds):
                    return outcome.error
        return None

    def outcome_counts(self) -> Counter[str]:
        return Counter(outcome.outcome for trial in self.trials for outcome in trial)

    def graded(self) -> list[Outcome]:
        return TEST_OUTCOMES.grade(self.outcome_counts())

    @property
    def summary(self) -> str:
        return f"failed in {self.failed_trials} of {len(self.trials)} trials ({self.failed_runs} of {self.thread_runs} thread runs)"

    @property
    def conditions(self) -> str:
        gil = "GIL enabled" if self.gil_enabled else "GIL disabled (free-threaded)"
        return f"{self.threads} threads x {len(self.trials)} trials, switch interval {self.switch_interval:g} s, {gil}"


def outcome_of(error: BaseException) -> str:
    """`AssertionError: assert 19 == 20`: the type and the first line of the message, addresses blanked."""
    try:
        lines = str(error).strip().splitlines()
    except Exception:  # a broken __str__ must not hide the failure itself
        lines = ["<unprintable message>"]
    first = _ADDRESS.sub("0x...", lines[0])[:MESSAGE_LIMIT] if lines else ""
    name = type(error).__name__
    return f"{name}: {first}" if first else name


def run_in_threads(
    body: Callable[[], object],
    *,
    threads: int,
    trials: int,
    nodeid: str = "",
    switch_interval: float | None = None,
    observer: TrialObserver | None = None,
    stop_on: tuple[type[BaseException], ...] = (),
) -> ThreadedRun:
    """Run `body` in `threads` threads, `trials` times. A trial in which a thread raised one of
    `stop_on` is the last one. The switch interval, when given, is restored afterwards."""
    previous_interval = sys.getswitchinterval()
    if switch_interval is not None:
        sys.setswitchinterval(switch_interval)
    results: list[tuple[ThreadOutcome, ...]] = []
    try:
        for trial in range(trials):
            if observer is not None:
                observer.begin_trial(nodeid, trial)
            outcomes = _one_trial(body, threads)
            results.append(outcomes)
            if observer is not None:
                observer.end_trial(nodeid, trial, any(outcome.failed for outcome in outcomes))
            if any(isinstance(outcome.error, stop_on) for outcome in outcomes):
                break
        interval = sys.getswitchinterval()
    finally:
        sys.setswitchinterval(previous_interval)
    gil_enabled = getattr(sys, "_is_gil_enabled", lambda: True)()
    return ThreadedRun(nodeid, threads, tuple(results), interval, gil_enabled)


def _one_trial(body: Callable[[], object], threads: int) -> tuple[ThreadOutcome, ...]:
    barrier = threading.Barrier(threads)
    outcomes: list[ThreadOutcome] = [ThreadOutcome(PASSED)] * threads

    def thread_main(index: int) -> None:
        try:
            barrier.wait()
            body()
        except BaseException as error:  # every ending is an outcome, pytest's skip and exit included
            outcomes[index] = ThreadOutcome(outcome_of(error), error)

    # Daemon threads: a body that hangs must not keep the process alive after Ctrl-C.
    workers = [threading.Thread(target=thread_main, args=(i,), name=f"gilsafe-{i}", daemon=True) for i in range(threads)]
    started: list[threading.Thread] = []
    try:
        for worker in workers:
            worker.start()
            started.append(worker)
    except BaseException:
        barrier.abort()  # the started threads would wait for the missing ones forever
        for worker in started:
            worker.join()
        raise
    for worker in workers:
        worker.join()
    return tuple(outcomes)


def race_report(run: ThreadedRun, first_traceback: str) -> str:
    """A race's report: the summary line (it starts with "race:"), the conditions, the outcome
    table, and the first failing thread's traceback."""
    from gilsafe.stress.report import outcome_table_lines  # only when a race is reported: it is not small

    lines = [f"race: {run.summary}", run.conditions, "", *outcome_table_lines(run.graded(), "  ")]
    first = run.first_failure
    if first is not None:
        lines += ["", f"first failing thread (trial {first.trial + 1}, thread {first.thread + 1}):", first_traceback]
    return "\n".join(lines)

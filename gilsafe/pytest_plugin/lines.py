"""Which watched source lines ran in two or more threads within one trial of a threaded test.

The threaded runner calls `begin_trial` / `end_trial` around each trial (from the main thread,
while no worker runs); `statuses()` then grades every watched line: a confirmed race (it ran in
2+ threads in a trial that failed), ran concurrently, or not exercised. Python 3.12+ records with
`sys.monitoring` under a tool id of its own, beside coverage.py or a debugger; 3.10/3.11 (or
3.12+ with every free tool id taken) trace the threads started while recording (the trials'
threads) with `threading.settrace`, in place of any earlier one until `stop()` restores it; the
thread that started recording keeps its own trace function (coverage.py's, say).

Imports only the standard library: the plugin loads this in every pytest run.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import CodeType, FrameType
from typing import Any, Protocol

# (real path, line number) of one watched line.
LineKey = tuple[str, int]
# (test id, trial number) of one trial.
TrialKey = tuple[str, int]


class LineStatus(str, Enum):
    """What the trials showed about one line (or one finding's lines)."""

    NOT_EXERCISED = "not exercised"
    CONCURRENT = "ran concurrently"
    CONFIRMED = "confirmed race"

    def __str__(self) -> str:
        return self.value


# Weakest to strongest: folding a finding's lines keeps the strongest.
_STRENGTH = {LineStatus.NOT_EXERCISED: 0, LineStatus.CONCURRENT: 1, LineStatus.CONFIRMED: 2}


@dataclass(frozen=True)
class LineEvidence:
    status: LineStatus
    # Tests that ran the line in 2+ threads within one trial, sorted.
    tests: tuple[str, ...] = ()
    # Those of `tests` that did so in a trial that failed, sorted.
    failing_tests: tuple[str, ...] = ()
    # How many trials ran the line in 2+ threads.
    trials: int = 0
    # Those trials, sorted: lets a multi-line finding count a trial once, not once per line.
    concurrent_trials: tuple[TrialKey, ...] = ()


class LocatedFinding(Protocol):
    """What `watched_lines` / `finding_status` read of a lint finding (gilsafe.lint Finding)."""

    @property
    def path(self) -> str: ...

    @property
    def line(self) -> int: ...

    @property
    def end_line(self) -> int: ...


def finding_lines(finding: LocatedFinding) -> range:
    """A finding's lines; a multi-line statement's events may carry any of them."""
    return range(finding.line, max(finding.line, finding.end_line) + 1)


def watched_lines(findings: Iterable[LocatedFinding]) -> dict[str, set[int]]:
    """The `watched` argument of `LineRecorder` for these findings, keyed by real path."""
    watched: dict[str, set[int]] = {}
    for finding in findings:
        watched.setdefault(os.path.realpath(finding.path), set()).update(finding_lines(finding))
    return watched


def finding_status(
    finding: LocatedFinding, statuses: Mapping[LineKey, LineEvidence]
) -> LineEvidence:
    """One finding's evidence: the strongest status among its lines, their tests and trials."""
    path = os.path.realpath(finding.path)
    found = [statuses[path, line] for line in finding_lines(finding) if (path, line) in statuses]
    if not found:
        return LineEvidence(LineStatus.NOT_EXERCISED)
    trials = sorted({trial for evidence in found for trial in evidence.concurrent_trials})
    return LineEvidence(
        status=max((evidence.status for evidence in found), key=_STRENGTH.__getitem__),
        tests=tuple(sorted({test for evidence in found for test in evidence.tests})),
        failing_tests=tuple(sorted({test for e in found for test in e.failing_tests})),
        trials=len(trials),
        concurrent_trials=tuple(trials),
    )


@dataclass
class _LineTally:
    """The trials in which one line ran in 2+ threads, and which of them failed."""

    trials: set[TrialKey] = field(default_factory=set)
    failed_trials: set[TrialKey] = field(default_factory=set)

    def evidence(self) -> LineEvidence:
        if self.failed_trials:
            status = LineStatus.CONFIRMED
        elif self.trials:
            status = LineStatus.CONCURRENT
        else:
            status = LineStatus.NOT_EXERCISED
        return LineEvidence(
            status=status,
            tests=tuple(sorted({test for test, _ in self.trials})),
            failing_tests=tuple(sorted({test for test, _ in self.failed_trials})),
            trials=len(self.trials),
            concurrent_trials=tuple(sorted(self.trials)),
        )


class _WatchedFile:
    """One watched file: its real path and a key per watched line."""

    def __init__(self, path: str, lines: Collection[int]) -> None:
        self.path = path
        # line -> (path, line): the key is built once, not per event.
        self.keys: dict[int, LineKey] = {line: (path, line) for line in lines}


class _OpenTrial:
    """Per watched line, the threads that ran it in the trial under way.

    Filled with one empty set per line before any worker starts, so while they run threads
    only add to and discard from sets (atomic under the GIL, locked per set on 3.13t); no dict
    is resized and nothing is merged.
    """

    def __init__(self, files: Iterable[_WatchedFile]) -> None:
        self.threads: dict[LineKey, set[int]] = {}
        # Real path -> its lines not yet run by 2 threads: once empty, the file needs no events.
        self.undecided: dict[str, set[LineKey]] = {}
        for watched in files:
            self.undecided[watched.path] = set(watched.keys.values())
            self.threads.update((key, set()) for key in watched.keys.values())


class _ThreadsPerLine:
    """The state the recording callbacks share, in whatever thread they run."""

    def __init__(self, watched: Mapping[str, Collection[int]]) -> None:
        self.files = {path: _WatchedFile(path, lines) for path, lines in watched.items()}
        # co_filename as the interpreter spells it -> its watched file, or None: realpath costs
        # system calls, so it runs once per spelling.
        self.by_filename: dict[str, _WatchedFile | None] = {}
        # None between trials: nothing is recorded then.
        self.trial: _OpenTrial | None = None

    def watched_file(self, filename: str) -> _WatchedFile | None:
        try:
            return self.by_filename[filename]
        except KeyError:
            watched = self.files.get(os.path.realpath(filename))
            self.by_filename[filename] = watched
            return watched

    def record(self, filename: str, line: int) -> bool:
        """Note that this thread ran `line`. False when its events are no use until the next
        trial: the line is not watched, no trial is open, or 2 threads already ran it."""
        watched = self.watched_file(filename)
        key = watched.keys.get(line) if watched else None
        trial = self.trial
        if key is None or trial is None:
            return False
        threads = trial.threads[key]
        threads.add(threading.get_ident())
        if len(threads) < 2:
            return True
        trial.undecided[key[0]].discard(key)
        return False


# `by_filename.get` default for a file name not looked at yet.
_UNSEEN = _WatchedFile("", ())


# Tool ids 3 and 4 are free for any tool; 5 (the optimizer's) is unused by CPython. 0-2 stay
# free for a debugger, coverage.py and cProfile, which ask for theirs by number.
_TOOL_IDS = (3, 4, 5)
_TOOL_NAME = "gilsafe line recorder"


class _MonitoringRecording:
    """sys.monitoring (3.12+): LINE events for all code. Each location returns DISABLE once its
    events are no use (see `_ThreadsPerLine.record`), so from then on it runs at full speed;
    `begin_trial` re-enables them all."""

    def __init__(self, threads_per_line: _ThreadsPerLine, tool_id: int) -> None:
        self._record = threads_per_line.record
        self._tool_id = tool_id
        self._disable = sys.monitoring.DISABLE

    @staticmethod
    def claim_tool_id() -> int | None:
        for tool_id in _TOOL_IDS:
            if sys.monitoring.get_tool(tool_id) is not None:
                continue
            try:
                sys.monitoring.use_tool_id(tool_id, _TOOL_NAME)
            except ValueError:  # taken by another thread since get_tool looked
                continue
            return tool_id
        return None

    def start(self) -> None:
        # Another tool that used this id may have left locations disabled: DISABLE outlives
        # set_events(0) and free_tool_id.
        sys.monitoring.restart_events()
        sys.monitoring.register_callback(
            self._tool_id, sys.monitoring.events.LINE, self._on_line
        )
        sys.monitoring.set_events(self._tool_id, sys.monitoring.events.LINE)

    def begin_trial(self) -> None:
        # Re-enables the locations disabled in the last trial or since (for other tools too,
        # which then see each location once more: restart_events has no per-tool form).
        sys.monitoring.restart_events()

    def stop(self) -> None:
        sys.monitoring.set_events(self._tool_id, 0)
        sys.monitoring.register_callback(self._tool_id, sys.monitoring.events.LINE, None)
        sys.monitoring.free_tool_id(self._tool_id)
        # So the next user of this tool id does not inherit our disabled locations.
        sys.monitoring.restart_events()

    def _on_line(self, code: CodeType, line: int) -> Any:
        return None if self._record(code.co_filename, line) else self._disable


class _TraceRecording:
    """sys.settrace (3.10/3.11, or 3.12+ with no free tool id): every call reaches `_on_call`,
    but only frames of watched files get a line tracer, and none once all their file's lines
    ran in 2 threads this trial."""

    def __init__(self, threads_per_line: _ThreadsPerLine) -> None:
        self._threads_per_line = threads_per_line
        self._record = threads_per_line.record
        self._seen_files = threads_per_line.by_filename
        self._recording = False
        # The trace functions in place before start(): this thread's and new threads'.
        self._previous: tuple[Callable[..., Any] | None, Callable[..., Any] | None] = (None, None)

    def start(self) -> None:
        # Threads started from now on only: trials run their bodies in new threads, and tracing
        # this one (pytest's own machinery, between tests) would cost every call and show nothing.
        self._previous = (sys.gettrace(), threading.gettrace())
        self._recording = True
        threading.settrace(self._on_call)

    def begin_trial(self) -> None:
        # Nothing was switched off: `_on_call` reads the new trial as frames start.
        return None

    def stop(self) -> None:
        # Threads still alive keep `_on_call` until they end; it now traces nothing.
        self._recording = False
        _, new_threads = self._previous
        threading.settrace(new_threads)  # type: ignore[arg-type]  # None clears it

    def _decided(self, watched: _WatchedFile) -> bool:
        trial = self._threads_per_line.trial
        return trial is not None and not trial.undecided[watched.path]

    def _on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        # Runs on every call in every thread: a known unwatched file costs one dict lookup.
        filename = frame.f_code.co_filename
        watched = self._seen_files.get(filename, _UNSEEN)
        if watched is None:
            return None
        if watched is _UNSEEN:
            watched = self._threads_per_line.watched_file(filename)
        if not self._recording or watched is None or self._decided(watched):
            return None
        return self._on_line

    def _on_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line" and not self._record(frame.f_code.co_filename, frame.f_lineno):
            watched = self._threads_per_line.watched_file(frame.f_code.co_filename)
            if watched is not None and self._decided(watched):
                # Frames live within one trial (its threads start after begin_trial), so a
                # frame whose file is decided has nothing more to show.
                frame.f_trace_lines = False
        return self._on_line


class LineRecorder:
    """Records, per trial, which threads ran each watched line; grades the lines on request.

    `watched` maps a file path to the line numbers of interest; only those are recorded.
    """

    def __init__(self, watched: Mapping[str, Collection[int]]) -> None:
        real_watched: dict[str, set[int]] = {}
        for path, lines in watched.items():
            real_watched.setdefault(os.path.realpath(path), set()).update(lines)
        self._threads_per_line = _ThreadsPerLine(real_watched)
        self._tallies: dict[LineKey, _LineTally] = {
            (path, line): _LineTally() for path, lines in real_watched.items() for line in lines
        }
        self._recording: _MonitoringRecording | _TraceRecording | None = None

    @property
    def uses_sys_monitoring(self) -> bool:
        """True while recording through sys.monitoring rather than sys.settrace."""
        return isinstance(self._recording, _MonitoringRecording)

    def start(self) -> None:
        if self._recording is not None:
            raise RuntimeError("this LineRecorder is already recording")
        tool_id = _MonitoringRecording.claim_tool_id() if hasattr(sys, "monitoring") else None
        if tool_id is None:
            self._recording = _TraceRecording(self._threads_per_line)
        else:
            self._recording = _MonitoringRecording(self._threads_per_line, tool_id)
        self._recording.start()

    def stop(self) -> None:
        """Stop recording and put back what was there before; calling it again does nothing."""
        recording, self._recording = self._recording, None
        self._threads_per_line.trial = None
        if recording is not None:
            recording.stop()

    def __enter__(self) -> LineRecorder:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def begin_trial(self, nodeid: str, trial: int) -> None:
        # A trial left open (its end_trial never came) is dropped rather than merged into this one.
        self._threads_per_line.trial = _OpenTrial(self._threads_per_line.files.values())
        if self._recording is not None:
            self._recording.begin_trial()

    def end_trial(self, nodeid: str, trial: int, failed: bool) -> None:
        open_trial = self._threads_per_line.trial
        self._threads_per_line.trial = None
        if open_trial is None:
            return
        for key, threads in open_trial.threads.items():
            if len(threads) >= 2:
                tally = self._tallies[key]
                tally.trials.add((nodeid, trial))
                if failed:
                    tally.failed_trials.add((nodeid, trial))

    def not_a_race(self, nodeid: str) -> None:
        """The test's failures were not a race (it failed in every thread, or skipped): its
        failed trials confirm nothing, though its lines still ran concurrently."""
        for tally in self._tallies.values():
            tally.failed_trials = {key for key in tally.failed_trials if key[0] != nodeid}

    def statuses(self) -> dict[LineKey, LineEvidence]:
        """Every watched line's evidence so far, keyed by (real path, line)."""
        return {key: tally.evidence() for key, tally in self._tallies.items()}

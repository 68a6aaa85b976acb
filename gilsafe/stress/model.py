"""The records of a stress run: a cell to run, what it observed, and how outcomes are graded."""

from __future__ import annotations

import enum
import fnmatch
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from gilsafe.stress.stability import DEFAULT_MIN_TIME, DEFAULT_REPEATS, CellConditions, Spread, Stability


class Expect(str, enum.Enum):
    """What an outcome means (jcstress's Expect). A str, so JSON holds the name as before."""

    ACCEPTABLE = "ACCEPTABLE"
    INTERESTING = "INTERESTING"  # allowed, and what a demonstration of racy code exists to show
    FORBIDDEN = "FORBIDDEN"  # a wrong result: the run fails

    def __str__(self) -> str:
        return self.value


ACCEPTABLE, INTERESTING, FORBIDDEN = Expect.ACCEPTABLE, Expect.INTERESTING, Expect.FORBIDDEN


class Status(str, enum.Enum):
    """How a cell ended, ordered by severity (`max()` of a run's statuses is its worst)."""

    OK = "ok"
    SKIPPED = "skipped"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASH = "crash"

    def __str__(self) -> str:
        return self.value

    @property
    def severity(self) -> int:
        return list(Status).index(self)

    # By severity, not as strings ("crash" < "ok" alphabetically): all four, since str has its own.
    def __lt__(self, other: object) -> bool:
        return self.severity < other.severity if isinstance(other, Status) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.severity <= other.severity if isinstance(other, Status) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.severity > other.severity if isinstance(other, Status) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.severity >= other.severity if isinstance(other, Status) else NotImplemented

    __hash__ = str.__hash__

    @property
    def failed(self) -> bool:
        return self in (Status.ERROR, Status.TIMEOUT, Status.CRASH)


@dataclass(frozen=True)
class DeclaredOutcome:
    """One row of an experiment's outcome table; `outcome` may end in `*` for a family
    (`func raised *`)."""

    outcome: str
    expect: Expect
    description: str = ""

    def matches(self, outcome: str) -> bool:
        return outcome == self.outcome or ("*" in self.outcome and fnmatch.fnmatchcase(outcome, self.outcome))


DIFFERED = "results differed between trials: a race or other nondeterminism"


@dataclass(frozen=True)
class OutcomeTable:
    """An experiment's outcomes, declared before anything runs (jcstress's @Outcome), and what an
    outcome nobody listed means. With `differing` set, unlisted outcomes that differ from trial
    to trial are graded so (the same work giving two answers is a race), and a single unlisted
    outcome as `unlisted`."""

    declared: tuple[DeclaredOutcome, ...]
    unlisted: Expect = Expect.FORBIDDEN
    unlisted_description: str = "not in the experiment's table"
    differing: Expect | None = None

    def grade(self, counts: Mapping[str, int], notes: Mapping[str, str] | None = None) -> list[Outcome]:
        """The table for what was counted: every declared outcome (seen 0 times too, except
        families), then the unlisted ones seen, most frequent first."""
        notes = notes or {}
        if not any(counts.values()):
            return []  # a cell that counts no outcomes (a speed cell) has no table
        rows: list[Outcome] = []
        claimed: set[str] = set()
        for row in self.declared:
            seen = [o for o in counts if o not in claimed and row.matches(o)]
            claimed.update(seen)
            if "*" in row.outcome:
                rows += [Outcome(o, counts[o], row.expect, notes.get(o) or row.description) for o in sorted(seen, key=lambda o: -counts[o])]
            else:
                rows.append(Outcome(row.outcome, sum(counts[o] for o in seen), row.expect, notes.get(row.outcome) or row.description))
        others = sorted((o for o in counts if o not in claimed), key=lambda o: (-counts[o], o))
        expect, description = self.unlisted, self.unlisted_description
        if self.differing is not None and len(others) > 1:
            expect, description = self.differing, DIFFERED
        rows += [Outcome(o, counts[o], expect, notes.get(o) or description) for o in others]
        return rows


STATUSES = tuple(status.value for status in Status)


@dataclass(frozen=True)
class Cell:
    """One run of one experiment: backend x variant x threads, in its own process."""

    experiment: str
    backend: str
    variant: str
    threads: int
    trials: int
    size: int | None = None  # None: the experiment's default
    seconds: float = 60.0  # soft deadline inside the worker: stop starting new trials after it
    target: dict | None = None  # user targets: {"func": "mod:fn", "setup": ..., "check": ...}
    repeats: int = DEFAULT_REPEATS  # timed rounds of a speed cell (1 thread and N threads, interleaved)
    min_time: float = DEFAULT_MIN_TIME  # seconds of work per thread per timed run, when size is None

    def to_json(self) -> dict:
        return asdict(self)

    @property
    def label(self) -> str:
        return f"{self.experiment} {self.backend}/{self.variant} threads={self.threads}"


@dataclass
class Outcome:
    """One graded row: an outcome, how often it was seen, and what it means."""

    outcome: str
    count: int
    expect: Expect
    description: str = ""

    def to_json(self, total: int) -> dict:
        data = asdict(self)
        data["frequency"] = round(self.count / total, 6) if total else 0.0
        return data


@dataclass
class Result:
    experiment: str
    backend: str
    variant: str
    threads: int
    status: Status
    detail: str = ""
    outcomes: list[Outcome] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    python: str = ""  # the interpreter that ran it (label)
    gil_enabled: bool | None = None  # as observed at the end of the cell
    worker: str = "local"  # the Dask worker that ran it, with --scheduler
    spreads: dict[str, Spread] = field(default_factory=dict)  # figures timed in rounds: their range
    conditions: CellConditions | None = None  # load, governor, cores while the cell ran
    stability: Stability | None = None  # rounds run, unstable figures and their likely causes

    def to_json(self) -> dict:
        total = sum(o.count for o in self.outcomes)
        data = {
            "experiment": self.experiment,
            "backend": self.backend,
            "variant": self.variant,
            "threads": self.threads,
            "status": self.status,
            "detail": self.detail,
            "outcomes": [o.to_json(total) for o in self.outcomes],
            "timings": self.timings,
            "python": self.python,
            "gil_enabled": self.gil_enabled,
            "worker": self.worker,
        }
        if self.spreads:
            data["spreads"] = {name: spread.to_json() for name, spread in self.spreads.items()}
        if self.conditions is not None:
            data["conditions"] = self.conditions.to_json()
        if self.stability is not None:
            data["stability"] = self.stability.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict) -> Result:
        outcomes = [Outcome(o["outcome"], o["count"], Expect(o["expect"]), o.get("description", "")) for o in data.get("outcomes", [])]
        return cls(
            data["experiment"],
            data["backend"],
            data["variant"],
            data["threads"],
            Status(data["status"]),
            data.get("detail", ""),
            outcomes,
            data.get("timings", {}),
            data.get("python", ""),
            data.get("gil_enabled"),
            data.get("worker", "local"),
            {name: Spread.from_json(spread) for name, spread in data.get("spreads", {}).items()},
            CellConditions.from_json(data["conditions"]) if data.get("conditions") else None,
            Stability.from_json(data["stability"]) if data.get("stability") else None,
        )

    @property
    def forbidden(self) -> bool:
        return any(o.expect == FORBIDDEN and o.count for o in self.outcomes)

    @property
    def failed(self) -> bool:
        return self.forbidden or Status(self.status).failed

    @property
    def unstable(self) -> tuple[str, ...]:
        """The timings whose spread is too wide to trust."""
        return self.stability.unstable if self.stability else ()

    @property
    def key(self) -> tuple:
        return (self.experiment, self.backend, self.variant, self.threads, self.python)


class OutcomeCounts:
    """What trials produced, counted: experiments only count; `OutcomeTable.grade` says what each
    outcome means. A note (an exception's message, say) is kept from the first time an outcome is seen."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.notes: dict[str, str] = {}

    def saw(self, outcome: str, note: str = "") -> None:
        self.counts[outcome] += 1
        if note and outcome not in self.notes:
            self.notes[outcome] = note

    @property
    def total(self) -> int:
        return sum(self.counts.values())

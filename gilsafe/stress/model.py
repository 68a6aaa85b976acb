"""The records of a stress run: a cell to run, what it observed, and how outcomes are graded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from gilsafe.stress.stability import DEFAULT_MIN_TIME, DEFAULT_REPEATS, CellConditions, Spread, Stability

ACCEPTABLE = "ACCEPTABLE"
INTERESTING = "INTERESTING"  # allowed, and what a demonstration of racy code exists to show
FORBIDDEN = "FORBIDDEN"  # a wrong result: the run fails

STATUSES = ("ok", "crash", "timeout", "error", "skipped")


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
    outcome: str
    count: int
    expect: str
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
    status: str
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
        outcomes = [Outcome(o["outcome"], o["count"], o["expect"], o.get("description", "")) for o in data.get("outcomes", [])]
        return cls(
            data["experiment"],
            data["backend"],
            data["variant"],
            data["threads"],
            data["status"],
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
        return self.forbidden or self.status in ("crash", "timeout", "error")

    @property
    def unstable(self) -> tuple[str, ...]:
        """The timings whose spread is too wide to trust."""
        return self.stability.unstable if self.stability else ()

    @property
    def key(self) -> tuple:
        return (self.experiment, self.backend, self.variant, self.threads, self.python)


class OutcomeTally:
    """Counts outcomes as trials produce them (jcstress's table)."""

    def __init__(self) -> None:
        self._rows: dict[str, Outcome] = {}

    def add(self, outcome: str, expect: str, description: str = "") -> None:
        row = self._rows.get(outcome)
        if row is None:
            self._rows[outcome] = Outcome(outcome, 1, expect, description)
        else:
            row.count += 1

    def rows(self) -> list[Outcome]:
        return sorted(self._rows.values(), key=lambda o: (-o.count, o.outcome))

    @property
    def total(self) -> int:
        return sum(o.count for o in self._rows.values())

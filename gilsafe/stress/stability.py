"""How far a speed figure can be trusted: calibrated work, repeated rounds, median and spread, and
whether the spread is wide enough to call the figure unstable (with the likely cause).

The ideas are pyperf's (calibrate the work to a minimum time, repeat, warn when a benchmark "seems
unstable"); pyperf itself is not used: its Runner owns the command line and spawns its own worker
processes, while a gilsafe cell already runs in a worker of its own, and what a stress cell reports is
a ratio of two runs (1 thread against N) timed in pairs, which pyperf's one-function-per-benchmark
model does not pair up. Nothing here imports a heavy library or reads the machine: the clock and
the measurements are passed in, so the arithmetic is tested with a fake clock.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

DEFAULT_REPEATS = 5  # rounds of (1 thread, N threads) per cell: a median needs a few
DEFAULT_MIN_TIME = 0.15  # seconds of work per thread per timed run: thread start and one
# scheduler hiccup stay small against it
UNSTABLE_RELATIVE_WIDTH = 0.10  # (high - low) / median above this: unstable (pyperf warns at 10%)
SHORTEST_MIN_TIME = 0.005  # a tight budget shrinks the work, but never below timer noise
OTHER_LOAD_CORES = 0.25  # CPU used by other processes, in cores, worth naming as a cause


@dataclass(frozen=True)
class Spread:
    """A figure measured in several rounds: the median reported, and the range it came from."""

    median: float
    low: float  # the smallest round's value
    high: float  # the largest round's value
    samples: int  # rounds measured

    @property
    def relative_width(self) -> float:
        return (self.high - self.low) / abs(self.median) if self.median else 0.0

    @property
    def unstable(self) -> bool:
        return self.samples > 1 and self.relative_width > UNSTABLE_RELATIVE_WIDTH

    def overlaps(self, other: Spread) -> bool:
        """Whether the two ranges share a value: the difference is then within the noise."""
        return self.low <= other.high and other.low <= self.high

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> Spread:
        return cls(data["median"], data["low"], data["high"], data["samples"])


def spread_of(samples: Sequence[float]) -> Spread:
    return Spread(statistics.median(samples), min(samples), max(samples), len(samples))


def spreads_of(rounds: Sequence[Mapping[str, float]]) -> dict[str, Spread]:
    """Each figure's spread over the rounds (every round measures the same figures)."""
    return {name: spread_of([r[name] for r in rounds]) for name in rounds[0]} if rounds else {}


def calibrated_size(seconds_for: Callable[[int], float], min_time: float, start: int = 1000, limit: int = 1 << 40) -> int:
    """The work size (grown from `start`) whose run lasts at least `min_time` seconds.

    `seconds_for(n)` runs the work at size n and says how long it took. A run long enough to time
    (1 ms) scales n to the target in one step, with 20% to spare; a shorter one grows n tenfold.
    """
    n = start
    while n < limit:
        elapsed = seconds_for(n)
        if elapsed >= min_time:
            return n
        factor = min_time / elapsed * 1.2 if elapsed >= 1e-3 else 10.0
        n = min(limit, max(n + 1, int(n * factor)))
    return limit


def repeat_rounds(
    one_round: Callable[[], dict[str, float]], repeats: int, seconds: float, clock: Callable[[], float] = time.monotonic
) -> list[dict[str, float]]:
    """Run `one_round` up to `repeats` times, starting no new round after `seconds`; at least one."""
    deadline = clock() + seconds
    rounds = [one_round()]
    while len(rounds) < repeats and clock() < deadline:
        rounds.append(one_round())
    return rounds


def min_time_within(seconds: float, repeats: int, runs_per_round: float, wanted: float = DEFAULT_MIN_TIME) -> float:
    """The per-run work time that lets calibration and `repeats` rounds fit in `seconds`.

    `runs_per_round` counts a round's timed runs in units of one run of `min_time` (1 thread doing N
    threads' shots counts N). Calibration costs about one more round.
    """
    fits = 0.8 * seconds / ((repeats + 1) * runs_per_round)
    return max(SHORTEST_MIN_TIME, min(wanted, fits))


@dataclass(frozen=True)
class CellConditions:
    """What the machine was doing while a cell ran: what changes a speed figure besides the code."""

    load_average_start: float | None = None  # 1-minute load average before the worker started
    load_average_end: float | None = None  # and after it ended
    cpu_governor: str | None = None  # the CPU frequency governor, where /sys shows it
    usable_cores: int | None = None  # CPUs this process may run on
    distinct_cores: bool | None = None  # every timed N-thread run had each thread on its own CPU
    # (sampled as each thread started and ended its work); None: not measured, or 1 thread
    other_load_cores: float | None = None  # CPU used by other processes while the cell timed, in cores

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping) -> CellConditions:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Stability:
    """The verdict on a cell's speed figures."""

    repeats: int  # rounds that ran
    repeats_planned: int  # rounds asked for; fewer ran when the time budget cut them
    unstable: tuple[str, ...] = ()  # timings keys whose spread is wide
    causes: tuple[str, ...] = field(default=())  # what gilsafe saw that likely made them so

    def to_json(self) -> dict:
        return {"repeats": self.repeats, "repeats_planned": self.repeats_planned, "unstable": list(self.unstable), "causes": list(self.causes)}

    @classmethod
    def from_json(cls, data: Mapping) -> Stability:
        return cls(data["repeats"], data["repeats_planned"], tuple(data.get("unstable", ())), tuple(data.get("causes", ())))


def likely_causes(conditions: CellConditions, threads: int) -> list[str]:
    """What the recorded conditions say about a wide spread, most telling first."""
    causes = []
    cores = conditions.usable_cores
    if cores is not None and threads > cores:
        causes.append(f"fewer usable cores ({cores}) than threads ({threads})")
    if conditions.other_load_cores is not None:
        if conditions.other_load_cores >= OTHER_LOAD_CORES:
            causes.append(f"other load: other processes used {conditions.other_load_cores:.1f} cores while the cell timed")
    elif conditions.load_average_start is not None and conditions.load_average_start >= OTHER_LOAD_CORES + 0.25:
        causes.append(f"other load: load average {conditions.load_average_start:.2f} when the cell started")
    if conditions.distinct_cores is False and (cores is None or threads <= cores):
        causes.append("the threads shared a core in some runs")
    if conditions.cpu_governor and conditions.cpu_governor != "performance":
        causes.append(f"CPU frequency scaling (governor {conditions.cpu_governor})")
    return causes


def assess(spreads: Mapping[str, Spread], conditions: CellConditions, threads: int, repeats: int, repeats_planned: int) -> Stability:
    unstable = tuple(name for name, spread in spreads.items() if spread.unstable)
    causes = tuple(likely_causes(conditions, threads)) if unstable else ()
    return Stability(repeats, repeats_planned, unstable, causes)

"""What a stress run comes to, for a person: the races and wrong results seen (k of N trials),
crashes and hangs, and each backend's best speed-up against the ideal min(N threads, M cores).
The terminal summary and the report's first page both say it from these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gilsafe.stress.model import ACCEPTABLE, FORBIDDEN, Result, Status

SPEEDUP = "speedup_vs_1_thread"


@dataclass(frozen=True)
class BestSpeedup:
    """A backend's best threaded speed-up, and what the ideal was for that cell."""

    result: Result
    speedup: float
    ideal: int  # min(N threads, M usable cores)

    @property
    def efficiency(self) -> float:
        return self.speedup / self.ideal

    @property
    def stable(self) -> bool:
        return SPEEDUP not in self.result.unstable


def cell_name(result: Result) -> str:
    return f"{result.experiment} {result.backend}/{result.variant} x{result.threads}"


def bad_share(result: Result) -> tuple[int, int]:
    """(trials with an outcome that is not ACCEPTABLE, trials)."""
    total = sum(o.count for o in result.outcomes)
    return sum(o.count for o in result.outcomes if o.expect != ACCEPTABLE), total


def races_seen(results: Sequence[Result]) -> list[Result]:
    """Cells that showed a race or a wrong result, wrong results (FORBIDDEN) first, then by share."""
    seen = [r for r in results if bad_share(r)[0]]
    return sorted(seen, key=lambda r: (not r.forbidden, -bad_share(r)[0] / bad_share(r)[1]))


def worst_outcomes(result: Result, shown: int = 3) -> str:
    """The outcomes that made a cell a race, FORBIDDEN first: `FORBIDDEN: wrong sum x3`."""
    bad = sorted((o for o in result.outcomes if o.count and o.expect != ACCEPTABLE), key=lambda o: (o.expect != FORBIDDEN, -o.count))
    text = "; ".join(f"{o.expect}: {o.outcome} x{o.count}" for o in bad[:shown])
    return text + (f"; {len(bad) - shown} more" if len(bad) > shown else "")


def crashes_and_hangs(results: Sequence[Result]) -> list[Result]:
    return sorted((r for r in results if r.status.failed), key=lambda r: r.status, reverse=True)


def best_speedups(results: Sequence[Result], cores: int) -> dict[str, BestSpeedup]:
    """Per backend, the threaded cell with the best speed-up against one thread; a figure whose
    rounds spread wide only when the backend has no steady one (a noisy 6x must not win)."""
    best: dict[str, BestSpeedup] = {}
    for result in results:
        speedup = result.timings.get(SPEEDUP)
        if result.status != Status.OK or result.threads < 2 or not isinstance(speedup, (int, float)):
            continue
        candidate = BestSpeedup(result, float(speedup), min(result.threads, cores))
        held = best.get(result.backend)
        if held is None or (candidate.stable, candidate.speedup) > (held.stable, held.speedup):
            best[result.backend] = candidate
    return best


def verdict_lines(results: Sequence[Result], cores: int) -> list[str]:
    """The terminal's plain-words verdict: what went wrong where, and what threads bought."""
    lines = []
    races = races_seen(results)
    lines.append("races and wrong results: " + (", ".join(f"{cell_name(r)} {bad_share(r)[0]}/{bad_share(r)[1]} ({worst_outcomes(r, 1)})" for r in races) or "none seen"))
    broken = crashes_and_hangs(results)
    lines.append("crashes, hangs and errors: " + (", ".join(f"{cell_name(r)} {r.status}" for r in broken) or "none"))
    best = best_speedups(results, cores)
    if best:
        order = sorted(best, key=lambda b: (not best[b].stable, -best[b].efficiency))
        shown = [f"{b} {best[b].speedup:.2f}x at {best[b].result.threads} threads = {100 * best[b].efficiency:.0f}% of {best[b].ideal}" + ("" if best[b].stable else " (rounds spread wide)") for b in order]
        lines.append(f"best speed-up per backend, against the ideal min(N threads, {cores} cores): " + ", ".join(shown))
    return lines

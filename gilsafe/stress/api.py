"""Running stress without the command line: plan -> prepare -> run -> merge -> document.

`gilsafe stress` parses its arguments into a `StressPlan`, calls these and prints; tests, the
report and other tools call them the same way:

    plan = StressPlan(experiments=("E2",), backends=("python",), threads=(2,), trials=20)
    prepared = prepare(plan)
    merged = merge(run(plan, prepared))
    results = [result for result in merged.results if result.failed]

A problem the caller can fix (an unknown backend, an interpreter that cannot run the worker) is
a `UsageError` with a one-line message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gilsafe.errors import UsageError
from gilsafe.stress.model import Cell, Result
from gilsafe.stress.runner import (
    DEFAULT_CELL_TIMEOUT,
    Budget,
    Interpreter,
    Run,
    plan as plan_cells,
    results_document,
    run_all,
    run_on_cluster,
    user_target_cells,
)
from gilsafe.stress.stability import DEFAULT_MIN_TIME, DEFAULT_REPEATS

Progress = Callable[[int, int, Cell, Result | None], None]


@dataclass(frozen=True)
class StressPlan:
    """What to run. Empty `experiments` / `backends`: all of them. `target`: a user's callable
    (`{"func": "mod:fn", "setup": ..., "check": ..., "expect": [...], "cwd": ...}`) instead of
    the catalogue. `interpreters`: each runs the plan in turn (two: side by side)."""

    experiments: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    threads: tuple[int, ...] = (1, 2, 4)
    trials: int = 100
    size: int | None = None
    variants: tuple[str, ...] | None = None
    repeats: int = DEFAULT_REPEATS
    min_time: float = DEFAULT_MIN_TIME
    target: dict | None = None
    time_budget: float | None = None
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    scheduler: str | None = None  # a dask.distributed scheduler's address
    interpreters: tuple[Interpreter, ...] = field(default_factory=lambda: (Interpreter(),))

    def chosen_backends(self) -> list[str]:
        from gilsafe.kernels import BACKENDS

        chosen = list(self.backends) or list(BACKENDS)
        unknown = [b for b in chosen if b not in BACKENDS]
        if unknown:
            raise UsageError(f"unknown backend {unknown[0]!r} (known: {', '.join(BACKENDS)}, all)")
        return chosen

    def chosen_experiments(self) -> list[str]:
        from gilsafe.stress.experiments import EXPERIMENTS

        chosen = [e.upper() for e in self.experiments] or list(EXPERIMENTS)
        unknown = [e for e in chosen if e not in EXPERIMENTS]
        if unknown:
            raise UsageError(f"unknown experiment {unknown[0]!r} (known: {', '.join(EXPERIMENTS)})")
        return chosen

    def cells(self) -> list[Cell]:
        if self.target is not None:
            return user_target_cells(self.target, self.threads, self.trials)
        cells = plan_cells(self.chosen_experiments(), self.chosen_backends(), self.threads, self.trials, self.size, self.variants, self.repeats, self.min_time)
        if not cells:
            raise UsageError("no experiment applies to the chosen backends (see --list)")
        return cells


@dataclass
class Prepared:
    """Each interpreter with what it reported: its environment and which backends it can run."""

    interpreters: list[Interpreter]
    environments: list[dict]
    availabilities: list[dict]


def prepare(plan: StressPlan) -> Prepared:
    """Ask each interpreter about itself (in a worker, as cells will run), and check the plan."""
    if plan.scheduler and len(plan.interpreters) > 1:
        raise UsageError("--scheduler runs cells with each Dask worker's own Python; drop --python/--compare-interpreters")
    if plan.target is not None and len(plan.interpreters) > 1:
        raise UsageError("--compare-interpreters takes the place of --python, and runs built-in experiments only")
    if plan.target is not None and plan.target.get("expect") and not plan.target.get("check"):
        raise UsageError("--expect names values of --check: give --check MOD:FN too")
    backends = plan.chosen_backends()
    plan.chosen_experiments()
    prepared = Prepared(list(plan.interpreters), [], [])
    for interpreter in prepared.interpreters:
        try:
            prepared.environments.append(interpreter.ask("--environment"))
            prepared.availabilities.append(interpreter.ask("--availability", "python" if plan.target else ",".join(backends)))
        except RuntimeError as error:
            raise UsageError(str(error)) from None
        if interpreter.executable != sys.executable or len(prepared.interpreters) > 1:
            interpreter.describe(prepared.environments[-1])  # label its results by version and build
    return prepared


def run(plan: StressPlan, prepared: Prepared, progress: Progress | None = None) -> list[Run]:
    """One Run per interpreter, each in its own isolated cells, sharing the time budget fairly."""
    runs: list[Run] = []
    started = Budget(plan.time_budget)
    count = len(prepared.interpreters)
    for index, (interpreter, availability) in enumerate(zip(prepared.interpreters, prepared.availabilities)):
        left = None if plan.time_budget is None else started.remaining() / (count - index)
        budget = Budget(left)
        cells = plan.cells()
        if plan.scheduler:
            try:
                result = run_on_cluster(cells, plan.scheduler, budget=budget, cell_timeout=plan.cell_timeout, progress=progress)
            except RuntimeError as error:
                raise UsageError(str(error)) from None
        else:
            local_availability = None if plan.target else availability
            result = run_all(cells, interpreter, budget=budget, cell_timeout=plan.cell_timeout, availability=local_availability, progress=progress)
        runs.append(result)
        if result.interrupted:
            break
    return runs


def merge(runs: Sequence[Run]) -> Run:
    return Run(
        results=[r for one in runs for r in one.results],
        cut=[c for one in runs for c in one.cut],
        interrupted=any(one.interrupted for one in runs),
    )


def document(prepared: Prepared, merged: Run) -> dict:
    """The `--json` document: the first interpreter's environment, every result (and the second
    interpreter's environment when two ran side by side)."""
    data = results_document(prepared.environments[0], merged)
    if len(prepared.environments) > 1:
        data["compared_environment"] = prepared.environments[1]
    return data

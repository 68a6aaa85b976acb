"""`gilsafe stress`: argument parsing and printing only; the work is in runner and report."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from gilsafe.atomic import check_writable
from gilsafe.errors import UsageError
from gilsafe.option_types import positive_int, positive_seconds
from gilsafe.stress.stability import DEFAULT_MIN_TIME, DEFAULT_REPEATS

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _numbers(value: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number or a comma-separated list of numbers") from None
    if not numbers or any(n < 1 for n in numbers):
        raise argparse.ArgumentTypeError(f"{value!r}: give positive numbers")
    return numbers


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _backends_help() -> str:
    from gilsafe.kernels import BACKENDS

    return f"{', '.join(BACKENDS)}, a comma-separated list of them, or all (default)"


def add_stress_parser(commands) -> None:
    stress = commands.add_parser(
        "stress",
        help="run the talk's race and speed experiments, or hammer your own callable, under threads",
        description="Each cell (experiment x backend x variant x threads) runs in its own process.",
    )
    stress.add_argument("target", nargs="?", help="module:function to call from N threads at once (your own code)")
    stress.add_argument("--backend", type=_names, default=["all"], help=_backends_help())
    stress.add_argument("--threads", type=_numbers, default=[1, 2, 4], help="a number or a list such as 1,2,4,8")
    stress.add_argument("--experiment", type=_names, default=None, help="E1..E13, comma-separated (default: all)")
    stress.add_argument("--variant", type=_names, default=None, help="only these variants (as --list names them)")
    stress.add_argument("--trials", type=positive_int, default=100, help="trials per race/count cell (default 100)")
    stress.add_argument("--size", type=positive_int, default=None, help="problem size n (default: each experiment's own, or calibrated to --min-time)")
    stress.add_argument(
        "--repeats", type=positive_int, default=DEFAULT_REPEATS,
        help=f"timed rounds per speed cell, 1 thread and N threads interleaved; figures are their median (default {DEFAULT_REPEATS})",
    )
    stress.add_argument(
        "--min-time", type=positive_seconds, default=DEFAULT_MIN_TIME, metavar="SECONDS",
        help=f"calibrate each timed run to at least this much work per thread (default {DEFAULT_MIN_TIME}; --size overrides)",
    )
    stress.add_argument("--time-budget", type=positive_seconds, default=None, metavar="SECONDS", help="the whole run stays inside it")
    stress.add_argument("--cell-timeout", type=positive_seconds, default=300.0, metavar="SECONDS", help="a cell running longer is a hang")
    stress.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the results here (atomically)")
    stress.add_argument("--list", action="store_true", help="list experiments x backends and what is available here")
    stress.add_argument("--python", default=None, metavar="PATH", help="run the cells under this interpreter")
    stress.add_argument("--setup", default=None, metavar="MOD:FN", help="builds the shared state passed to the target")
    stress.add_argument("--check", default=None, metavar="MOD:FN", help="judges the state after each trial: raise or return False: FORBIDDEN; return a value: that value is the trial's outcome")
    stress.add_argument(
        "--expect", action="append", default=None, metavar="VALUE",
        help="an acceptable value of --check (repeatable); any other is FORBIDDEN. Without it, values that differ between trials are a race shown",
    )
    stress.add_argument(
        "--compare-interpreters", nargs=2, default=None, metavar=("PYTHON_A", "PYTHON_B"),
        help="run the same cells under two interpreters (say, python3.11 and a free-threaded 3.13t) side by side",
    )
    stress.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="send each cell to this dask.distributed scheduler (tcp://HOST:8786) as its own task",
    )
    stress.add_argument("--compare", nargs=2, type=Path, default=None, metavar=("OLD", "NEW"), help="print what changed between two result files")
    stress.set_defaults(run=run_stress)


def run_stress(args: argparse.Namespace) -> int:
    """Parse into a StressPlan, run it through gilsafe.stress.api, print."""
    from gilsafe.stress import api, report
    from gilsafe.stress.environment import cores_of

    if args.compare:
        from gilsafe.stress.results_file import read_document

        old, new = (read_document(path).results for path in args.compare)
        sys.stdout.write(report.compare(old, new))
        return EXIT_OK
    if args.scheduler and (args.python or args.compare_interpreters):
        raise UsageError("--scheduler runs cells with each Dask worker's own Python; drop --python/--compare-interpreters")
    if args.compare_interpreters and (args.python or args.target):
        raise UsageError("--compare-interpreters takes the place of --python, and runs built-in experiments only")
    if args.json is not None:
        check_writable(args.json, "--json")  # before any cell runs: a run is never lost to a bad --json path
    if args.scheduler:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError("--scheduler needs dask.distributed: pip install 'gilsafe[dask]'") from None
    interpreters = [_interpreter(p, "--compare-interpreters") for p in args.compare_interpreters] if args.compare_interpreters else [_interpreter(args.python)]
    target = None
    if args.target:
        target = {"func": args.target, "setup": args.setup, "check": args.check, "cwd": os.getcwd(), "expect": args.expect or []}
    plan = api.StressPlan(
        experiments=tuple(args.experiment or ()),
        backends=() if args.backend == ["all"] else tuple(args.backend),
        threads=tuple(args.threads),
        trials=args.trials,
        size=args.size,
        variants=tuple(args.variant) if args.variant else None,
        repeats=args.repeats,
        min_time=args.min_time,
        target=target,
        time_budget=args.time_budget,
        cell_timeout=args.cell_timeout,
        scheduler=args.scheduler,
        interpreters=tuple(interpreters),
    )
    prepared = api.prepare(plan)
    if args.list:
        sys.stdout.write(_listing(plan.chosen_experiments(), prepared.availabilities[0]))
        return EXIT_OK
    progress = _Progress(sys.stderr)
    runs = api.run(plan, prepared, progress)
    progress.done()
    merged = api.merge(runs)
    unwritten = _write_results(args.json, api.document(prepared, merged)) if args.json else None
    for environment in prepared.environments:
        sys.stdout.write(_environment_line(environment))
    sys.stdout.write(report.format_results(merged.results, [c.label for c in merged.cut], merged.interrupted, cores_of(prepared.environments[0])))
    if len(runs) == 2:
        columns = [_column(environment) for environment in prepared.environments]
        sys.stdout.write("\n" + report.side_by_side(runs[0].results, runs[1].results, *columns))
    if unwritten:
        sys.stdout.flush()  # the summary first, then why the file is missing
        print(f"gilsafe: error: {unwritten}", file=sys.stderr)
        return EXIT_USAGE
    if merged.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(r.failed for r in merged.results) else EXIT_OK


def _write_results(path: Path, document: dict) -> str | None:
    """Write the results; on failure say why (the caller still prints the summary)."""
    from gilsafe.atomic import write_atomically

    try:
        write_atomically(path, (json.dumps(document, indent=2) + "\n").encode())
    except OSError as error:
        return f"--json {path}: cannot write: {error.strerror or error} (the results are printed above)"
    return None


def _interpreter(path: str | None, flag: str = "--python"):
    from gilsafe.stress.runner import Interpreter

    if path is None:
        return Interpreter()
    # A bare name is looked up on PATH; a path (even without a slash, as a file here) is taken as given.
    found = shutil.which(path) or (shutil.which(Path(path).absolute()) if Path(path).exists() else None)
    if found is None:
        raise UsageError(f"{flag} {path}: {'not an executable' if Path(path).exists() else 'no such interpreter'}")
    return Interpreter(found)


def _column(environment: dict) -> str:
    gil = "GIL on" if environment.get("gil_enabled_after_imports", environment.get("gil_enabled")) else "GIL off"
    return f"{environment.get('python')}{'t' if environment.get('free_threaded_build') else ''} ({gil})"


def _environment_line(env: dict) -> str:
    gil = "GIL enabled" if env.get("gil_enabled_after_imports", env.get("gil_enabled")) else "GIL disabled"
    build = "free-threaded build" if env.get("free_threaded_build") else "GIL build"
    return f"Python {env.get('python')} ({build}, {gil}), {env.get('cpu_affinity')} usable cores, switch interval {env.get('switch_interval_s')} s\n"


def _listing(experiments: list[str], availability: dict) -> str:
    from gilsafe.stress.experiments import EXPERIMENTS

    lines = ["backends:"]
    for name, info in availability.items():
        lines.append(f"  {name:<10} {'available' if info['available'] else info['reason']}")
        lines.append(f"  {'':<10} releases the GIL for: {info.get('releases_gil', '?')}")
    lines.append("experiments:")
    for experiment_id in experiments:
        spec = EXPERIMENTS[experiment_id]
        lines.append(f"  {experiment_id:<4} {spec.title} (slides {spec.slides})")
        for backend, variants in spec.variants.items():
            state = "" if availability.get(backend, {}).get("available") else f"  [skipped: {availability.get(backend, {}).get('reason', 'unknown backend')}]"
            lines.append(f"       {backend:<10} {', '.join(variants)}{state}")
    return "\n".join(lines) + "\n"


class _Progress:
    """A one-line bar on a terminal; a plain line per finished cell otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()

    def __call__(self, done: int, total: int, cell, result) -> None:
        if self.tty:
            width = 24
            filled = int(width * done / max(total, 1))
            status = result.status if result else "running"
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {cell.label} {status}\033[K")
            self.stream.flush()
        elif result is not None:
            self.stream.write(f"[{done}/{total}] {cell.label}: {result.status}\n")

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")

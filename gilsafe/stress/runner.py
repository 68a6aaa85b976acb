"""Plans the matrix of cells and runs each one in its own subprocess, inside a time budget.

A crash (signal), a hang (timeout), an import failure and an exception each come back as a Result
with its status and detail; none of them stops the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import gilsafe
from gilsafe.stress.environment import cpu_governor, load_average
from gilsafe.stress.experiments import EXPERIMENTS
from gilsafe.cores import usable_cores
from gilsafe.stress.model import Cell, Result, Status
from gilsafe.stress.stability import DEFAULT_MIN_TIME, DEFAULT_REPEATS, CellConditions, assess
from gilsafe.stress.worker import PARENT_PID_VARIABLE

DEFAULT_CELL_TIMEOUT = 300.0
# Seconds a cell keeps for starting its interpreter, importing and compiling, beyond its trials.
CELL_OVERHEAD = 8.0
MIN_CELL_SECONDS = 3.0


@dataclass
class Interpreter:
    """The Python that runs the cells, and the label results carry."""

    executable: str = sys.executable
    label: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            self.label = Path(self.executable).name if self.executable != sys.executable else "current"

    def describe(self, environment: dict) -> None:
        """Label results by version and build: `3.13.5t` for a free-threaded build."""
        self.label = f"{environment.get('python')}{'t' if environment.get('free_threaded_build') else ''}"

    def environment_variables(self) -> dict:
        """Make gilsafe (and its kernels folder) importable however gilsafe was installed here."""
        import gilsafe.kernels

        env = dict(os.environ)
        package_parent = str(Path(gilsafe.__file__).resolve().parent.parent)
        kernels_parent = str(Path(gilsafe.kernels.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        env["GILSAFE_KERNELS_PARENT"] = kernels_parent
        env[PARENT_PID_VARIABLE] = str(os.getpid())
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def ask(self, flag: str, *arguments: str, timeout: float = 120.0) -> dict:
        """Run the worker in a query mode (--environment, --availability NAMES) and return its answer."""
        try:
            done = run_worker(self, [flag, *arguments], None, timeout)
        except OSError as error:
            raise RuntimeError(f"{self.executable}: {error.strerror or error}") from None
        if done.answer is not None:
            return done.answer
        why = f"no answer after {timeout:.0f} s" if done.timed_out else (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{self.executable}: the worker failed: {why}")


@dataclass
class WorkerRun:
    """What one worker process left behind."""

    answer: dict | None  # the JSON it wrote on its answer channel; None when it wrote none
    returncode: int  # negative: the signal that killed it
    stderr: str
    timed_out: bool


def run_worker(
    interpreter: Interpreter, arguments: Sequence[str], request: dict | None, timeout: float, on_process: Callable | None = None
) -> WorkerRun:
    """Run `python -m gilsafe.stress.worker` in a session of its own, and kill that session after.

    The answer comes back in a file of its own, never mixed with what the cell's code prints, and
    only the worker itself is waited for: a grandchild still holding stdout cannot make it a hang.
    Files, not pipes, so nothing blocks on a reader or waits for an end of file.
    """
    with tempfile.TemporaryFile() as request_file, tempfile.TemporaryFile() as answer_file, tempfile.TemporaryFile() as stderr_file:
        request_file.write(json.dumps(request or {}).encode())
        request_file.seek(0)
        process = subprocess.Popen(
            [interpreter.executable, "-m", "gilsafe.stress.worker", "--answer-fd", str(answer_file.fileno()), *arguments],
            stdin=request_file,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
            pass_fds=(answer_file.fileno(),),
            env=interpreter.environment_variables(),
            start_new_session=True,  # so the cell and every process it started can be killed together
        )
        if on_process:
            on_process(process)
        timed_out = False
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill_group(process)  # a timeout, or children the cell left behind
            process.wait()
        answer_file.seek(0)
        stderr_file.seek(0)
        stderr = stderr_file.read().decode(errors="replace")
        return WorkerRun(_first_json_line(answer_file.read()), process.returncode, stderr, timed_out)


def _first_json_line(data: bytes) -> dict | None:
    try:
        answer = json.loads(data.split(b"\n", 1)[0])
    except ValueError:  # nothing written, or cut off by a crash mid-write
        return None
    return answer if isinstance(answer, dict) else None


def plan(
    experiment_ids: Sequence[str],
    backends: Sequence[str],
    threads: Sequence[int],
    trials: int,
    size: int | None,
    variants: Sequence[str] | None = None,
    repeats: int = DEFAULT_REPEATS,
    min_time: float = DEFAULT_MIN_TIME,
) -> list[Cell]:
    """Every (experiment, backend, variant, threads) the selection applies to, in catalogue order."""
    cells = []
    for experiment_id in experiment_ids:
        spec = EXPERIMENTS[experiment_id]
        for backend in backends:
            for variant in spec.variants.get(backend, ()):
                if variants and variant not in variants:
                    continue
                if not spec.threaded:
                    counts = [spec.fixed_threads]
                elif spec.threaded_variants is not None and variant not in spec.threaded_variants:
                    counts = [1]
                else:
                    counts = threads
                for count in counts:
                    cells.append(Cell(experiment_id, backend, variant, count, trials, size, repeats=repeats, min_time=min_time))
    return cells


@dataclass
class Budget:
    """The whole run's wall-clock budget, shared fairly among the cells still to run."""

    seconds: float | None
    started: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        if self.seconds is None:
            return float("inf")
        return self.seconds - (time.monotonic() - self.started)

    def for_cell(self, cells_left: int, cell_timeout: float) -> tuple[float, float] | None:
        """(soft seconds for trials, hard timeout) for the next cell, or None when none fits."""
        remaining = self.remaining()
        if remaining < MIN_CELL_SECONDS:
            return None
        share = remaining / max(1, cells_left)
        hard = min(remaining, cell_timeout, max(share, MIN_CELL_SECONDS + CELL_OVERHEAD))
        soft = max(1.0, min(hard - CELL_OVERHEAD, share - CELL_OVERHEAD, cell_timeout / 2))
        return soft, hard


def run_cell(
    cell: Cell, interpreter: Interpreter, hard_timeout: float, on_process: Callable | None = None, budget_limited: bool = False
) -> Result:
    request = dict(cell.to_json(), hang_dump_after=max(1.0, hard_timeout - 2.0))
    load_at_start = load_average()
    started = time.monotonic()
    try:
        done = run_worker(interpreter, [], request, hard_timeout, on_process)
    except OSError as error:  # no such interpreter any more, too many open files: a row, not the end of the run
        return _result(cell, interpreter, Status.ERROR, f"cannot start the worker: {error}")
    elapsed = time.monotonic() - started
    if done.answer is not None:
        result = Result.from_json(done.answer)
        result.python = interpreter.label
        result.timings.setdefault("cell_wall_s", elapsed)
        measured = result.conditions or CellConditions(usable_cores=usable_cores())  # the worker inherits our affinity
        result.conditions = replace(measured, load_average_start=load_at_start, load_average_end=load_average(), cpu_governor=cpu_governor())
        repeats = done.answer.get("repeats")
        if repeats:
            result.stability = assess(result.spreads, result.conditions, cell.threads, repeats["done"], repeats["planned"])
        return result
    if done.timed_out:
        why = " (the time budget allowed no more: it may be slow rather than hung)" if budget_limited else ""
        return _result(cell, interpreter, Status.TIMEOUT, f"no result after {hard_timeout:.0f} s{why}; thread stacks:\n{_tail(done.stderr)}")
    if done.returncode < 0:
        name = _signal_name(-done.returncode)
        return _result(cell, interpreter, Status.CRASH, f"killed by {name}:\n{_tail(done.stderr)}")
    return _result(cell, interpreter, Status.ERROR, f"worker exited with {done.returncode}:\n{_tail(done.stderr)}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name
        return f"signal {number}"


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _result(cell: Cell, interpreter: Interpreter, status: Status, detail: str) -> Result:
    return Result(cell.experiment, cell.backend, cell.variant, cell.threads, status, detail, python=interpreter.label)


def skipped(cell: Cell, interpreter: Interpreter, reason: str) -> Result:
    return _result(cell, interpreter, Status.SKIPPED, f"skipped: {reason}")


@dataclass
class Run:
    results: list[Result] = field(default_factory=list)
    cut: list[Cell] = field(default_factory=list)  # cells the budget left no time for
    interrupted: bool = False


def run_all(
    cells: Iterable[Cell],
    interpreter: Interpreter,
    *,
    budget: Budget,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    availability: dict | None = None,
    progress: Callable[[int, int, Cell, Result | None], None] | None = None,
) -> Run:
    cells = list(cells)
    run = Run()
    current: list[subprocess.Popen] = []
    for index, cell in enumerate(cells):
        backend = (availability or {}).get(cell.backend)
        if backend is not None and not backend["available"]:
            run.results.append(skipped(cell, interpreter, backend["reason"]))
            if progress:
                progress(index + 1, len(cells), cell, run.results[-1])
            continue
        times = budget.for_cell(len(cells) - index, cell_timeout)
        if times is None:
            run.cut.append(cell)
            run.results.append(skipped(cell, interpreter, "time budget exhausted"))
            continue
        soft, hard = times
        if progress:
            progress(index, len(cells), cell, None)
        try:
            limited = hard < min(cell_timeout, 30.0)
            result = run_cell(Cell(**{**cell.to_json(), "seconds": soft}), interpreter, hard, current.append, limited)
        except KeyboardInterrupt:
            for process in current:
                _kill_group(process)
            run.interrupted = True
            break
        run.results.append(result)
        if progress:
            progress(index + 1, len(cells), cell, result)
    return run


def user_target_cells(target: dict, threads: Sequence[int], trials: int) -> list[Cell]:
    return [Cell("user", "python", target["func"], count, trials, None, 60.0, target) for count in threads]


# -- a Dask cluster ---------------------------------------------------------------------------------


def _run_on_dask_worker(cell_json: dict, hard_timeout: float, budget_limited: bool) -> dict:
    """Runs on a Dask worker: the cell still gets its own subprocess there (a crash kills only it)."""
    from distributed import get_worker

    result = run_cell(Cell(**cell_json), Interpreter(), hard_timeout, None, budget_limited)
    result.worker = get_worker().address
    return result.to_json()


def run_on_cluster(
    cells: Sequence[Cell],
    address: str,
    *,
    budget: Budget,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    progress: Callable[[int, int, Cell, Result | None], None] | None = None,
) -> Run:
    """Send each cell to an existing dask.distributed scheduler as its own task and gather the rows."""
    from distributed import Client, as_completed

    run = Run()
    try:
        client = Client(address, timeout=30)
    except Exception as error:
        raise RuntimeError(f"--scheduler {address}: cannot connect: {error}") from None
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        rounds = -(-len(cells) // workers)
        times = budget.for_cell(rounds, cell_timeout)
        if times is None:
            run.results = [skipped(c, Interpreter(), "time budget exhausted") for c in cells]
            run.cut = list(cells)
            return run
        soft, hard = times
        limited = hard < min(cell_timeout, 30.0)
        futures = {
            client.submit(_run_on_dask_worker, {**cell.to_json(), "seconds": soft}, hard, limited, pure=False): index
            for index, cell in enumerate(cells)
        }
        done: dict[int, Result] = {}
        try:
            left = budget.remaining()
            for future in as_completed(futures, timeout=None if left == float("inf") else max(1.0, left)):
                index = futures[future]
                try:
                    done[index] = Result.from_json(future.result())
                except Exception as error:  # the task itself failed (a lost worker, say)
                    done[index] = _result(cells[index], Interpreter(), Status.ERROR, f"the Dask task failed: {type(error).__name__}: {error}")
                if progress:
                    progress(len(done), len(cells), cells[index], done[index])
        except TimeoutError:
            pass
        except KeyboardInterrupt:
            run.interrupted = True
        for future, index in futures.items():
            if index not in done:
                future.cancel()
        for index, cell in enumerate(cells):
            if index in done:
                run.results.append(done[index])
            elif not run.interrupted:
                run.cut.append(cell)
                run.results.append(skipped(cell, Interpreter(), "time budget exhausted"))
    finally:
        client.close()
    return run


def results_document(environment: dict, run: Run) -> dict:
    return {
        "gilsafe": gilsafe.__version__,
        "environment": environment,
        "results": [r.to_json() for r in run.results],
        "cut_by_budget": [c.label for c in run.cut],
        "interrupted": run.interrupted,
    }

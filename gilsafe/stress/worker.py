"""The isolated process that runs one stress cell: `python -m gilsafe.stress.worker < cell.json`.

It writes one line of JSON to its answer channel (`--answer-fd N`, a file descriptor of its own, so
nothing the cell's code prints can corrupt it; stdout without the flag). A crash or a hang shows as
the absence of that line, and faulthandler's dump of every thread's stack on stderr says where it was.
"""

from __future__ import annotations

import ctypes
import faulthandler
import json
import os
import signal
import sys
import traceback

PARENT_PID_VARIABLE = "GILSAFE_PARENT_PID"  # set by the runner: the process this worker must not outlive
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _bootstrap_kernels() -> None:
    """Under another interpreter gilsafe comes from PYTHONPATH; map gilsafe.kernels as installed."""
    import importlib.util

    import gilsafe

    extra = os.environ.get("GILSAFE_KERNELS_PARENT")
    if extra and importlib.util.find_spec("gilsafe.kernels") is None:
        gilsafe.__path__.append(extra)


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the runner dies, even by SIGKILL.

    Elsewhere (no prctl) a killed runner can leave the worker running until its cell ends.
    """
    parent = os.environ.get(PARENT_PID_VARIABLE)
    if not parent or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    # The runner may have died before prctl took effect: then nobody is left to kill us.
    try:
        os.kill(int(parent), 0)
    except ProcessLookupError:
        os._exit(1)
    except (PermissionError, ValueError):
        pass


def _answer_channel(argv: list[str]) -> tuple[int, list[str]]:
    """The file descriptor to answer on (`--answer-fd N`, else stdout) and the remaining arguments."""
    if argv[:1] != ["--answer-fd"]:
        return sys.stdout.fileno(), argv
    fd = int(argv[1])
    os.set_inheritable(fd, False)  # programs the cell's code starts never get it
    return fd, argv[2:]


def _emit(channel: int, data: dict) -> None:
    payload = (json.dumps(data) + "\n").encode()
    while payload:
        payload = payload[os.write(channel, payload):]


def availability(names: list[str] | None = None) -> dict:
    """{backend: {available, reason}} for `--list` and the plan: packages are looked up, not imported."""
    from gilsafe.kernels import BACKENDS, load

    found = {}
    for name in names or BACKENDS:
        module = load(name)
        try:
            ok, reason = module.available()
        except Exception as error:
            ok, reason = False, f"{name}: {type(error).__name__}: {error}"
        found[name] = {"available": ok, "reason": reason, "releases_gil": module.RELEASES_GIL}
    return found


def execute_cell(cell_json: dict) -> dict:
    """The worker's side of a cell (the runner's is `runner.run_cell`): run it here and answer with
    the typed `Result`'s JSON, which the runner reads back with `Result.from_json`."""
    from gilsafe.kernels import load, missing
    from gilsafe.stress.environment import gil_enabled
    from gilsafe.stress.experiments import experiment, grade
    from gilsafe.stress.harness import Unavailable
    from gilsafe.stress.model import Cell, Result, Status

    cell = Cell(**cell_json)
    spec = experiment(cell.experiment)

    def ended(status: Status, detail: str) -> dict:
        return Result(cell.experiment, cell.backend, cell.variant, cell.threads, status, detail, gil_enabled=gil_enabled()).to_json()

    backend = load(cell.backend)
    # Import what the cell needs before asking the backend (`--list` only looked the packages up):
    # a broken install is a skip with its reason.
    ok, reason = True, ""
    for package in (*backend.PACKAGES, *spec.needs):
        if ok:
            ok, reason = missing(package)
    if ok:
        ok, reason = backend.available()
    if not ok:
        return ended(Status.SKIPPED, f"skipped: {reason}")
    if cell.target:
        # A user's module:function is found as from their project (the folder gilsafe ran in).
        sys.path.insert(0, cell.target.get("cwd") or os.getcwd())
    try:
        observed = spec.run(cell)
    except Unavailable as reason:
        return ended(Status.SKIPPED, f"skipped: {reason}")
    except ImportError as error:
        return ended(Status.ERROR, f"import failed: {error}")
    except (Exception, SystemExit) as error:  # a setup or check calling sys.exit() is an error of the cell
        tail = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
        return ended(Status.ERROR, f"{type(error).__name__}: {error}\n{tail}")
    result = Result(
        cell.experiment, cell.backend, cell.variant, cell.threads, Status.OK, observed.detail,
        outcomes=grade(cell, observed), timings=observed.timings, gil_enabled=gil_enabled(),
        spreads=observed.spreads, conditions=observed.conditions,
    )
    answer = result.to_json()
    if observed.repeats is not None:
        # The runner judges stability once it has added what only it sees (load before and after).
        answer["repeats"] = {"done": observed.repeats, "planned": observed.repeats_planned}
    return answer


def main(argv: list[str]) -> int:
    faulthandler.enable()  # a segfault prints the stacks of every thread before the process dies
    _die_with_parent()
    channel, argv = _answer_channel(argv)
    _bootstrap_kernels()
    if argv[:1] == ["--environment"]:
        from gilsafe.stress.environment import capture

        _emit(channel, capture(import_libraries=True))
        return 0
    if argv[:1] == ["--availability"]:
        _emit(channel, availability(argv[1].split(",") if len(argv) > 1 and argv[1] else None))
        return 0
    worker_pid = os.getpid()
    request = json.loads(sys.stdin.read())
    hang_dump_after = request.pop("hang_dump_after", None)
    if hang_dump_after:
        # Dump all thread stacks shortly before the parent's timeout, so a hang says where it hangs.
        faulthandler.dump_traceback_later(hang_dump_after, exit=False)
    answer = execute_cell(request)
    if os.getpid() != worker_pid:
        os._exit(0)  # a fork the cell's code made, come back out here: the answer is not its to give
    _emit(channel, answer)
    faulthandler.cancel_dump_traceback_later()
    # The answer is given: threads the cell's code left running, or its atexit hooks, must not hold us.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The isolated process that runs one stress cell: `python -m gilsafe.stress.worker < cell.json`.

It prints one line `GILSAFE-RESULT {json}`; a crash or a hang shows as the absence of that line,
and faulthandler's dump of every thread's stack on stderr says where it was.
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import traceback

RESULT_PREFIX = "GILSAFE-RESULT "


def _bootstrap_kernels() -> None:
    """Under another interpreter gilsafe comes from PYTHONPATH; map gilsafe.kernels as installed."""
    import importlib.util

    import gilsafe

    extra = os.environ.get("GILSAFE_KERNELS_PARENT")
    if extra and importlib.util.find_spec("gilsafe.kernels") is None:
        gilsafe.__path__.append(extra)


def _emit(data: dict) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(data) + "\n")
    sys.stdout.flush()


def availability(names: list[str] | None = None) -> dict:
    """{backend: {available, reason}}; importing a heavy library costs seconds, so only those asked."""
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


def run_cell(cell_json: dict) -> dict:
    from gilsafe.kernels import load, missing
    from gilsafe.stress.environment import gil_enabled
    from gilsafe.stress.experiments import experiment
    from gilsafe.stress.harness import Unavailable
    from gilsafe.stress.model import Cell

    cell = Cell(**cell_json)
    spec = experiment(cell.experiment)
    base = {"experiment": cell.experiment, "backend": cell.backend, "variant": cell.variant, "threads": cell.threads}
    ok, reason = load(cell.backend).available()
    for package in spec.needs:
        if ok:
            ok, reason = missing(package)
    if not ok:
        return {**base, "status": "skipped", "detail": f"skipped: {reason}", "gil_enabled": gil_enabled()}
    if cell.target:
        # A user's module:function is found as from their project (the folder gilsafe ran in).
        sys.path.insert(0, cell.target.get("cwd") or os.getcwd())
    try:
        observed = spec.run(cell)
    except Unavailable as reason:
        return {**base, "status": "skipped", "detail": f"skipped: {reason}", "gil_enabled": gil_enabled()}
    except ImportError as error:
        return {**base, "status": "error", "detail": f"import failed: {error}", "gil_enabled": gil_enabled()}
    except Exception as error:
        tail = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
        return {**base, "status": "error", "detail": f"{type(error).__name__}: {error}\n{tail}", "gil_enabled": gil_enabled()}
    total = observed.outcomes.total
    return {
        **base,
        "status": "ok",
        "detail": observed.detail,
        "outcomes": [o.to_json(total) for o in observed.outcomes.rows()],
        "timings": observed.timings,
        "gil_enabled": gil_enabled(),
    }


def main(argv: list[str]) -> int:
    faulthandler.enable()  # a segfault prints the stacks of every thread before the process dies
    _bootstrap_kernels()
    if argv[:1] == ["--environment"]:
        from gilsafe.stress.environment import capture

        _emit(capture(import_libraries=True))
        return 0
    if argv[:1] == ["--availability"]:
        _emit(availability(argv[1].split(",") if len(argv) > 1 and argv[1] else None))
        return 0
    request = json.loads(sys.stdin.read())
    hang_dump_after = request.pop("hang_dump_after", None)
    if hang_dump_after:
        # Dump all thread stacks shortly before the parent's timeout, so a hang says where it hangs.
        faulthandler.dump_traceback_later(hang_dump_after, exit=False)
    _emit(run_cell(request))
    faulthandler.cancel_dump_traceback_later()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

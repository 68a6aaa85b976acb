"""Static claims backed by runtime evidence: run a rule's racy driver and its fixed twin, many times,
under a chosen interpreter, and count the trials in which the problem showed.

A rule lists RuntimeChecks. Each driver is a small module of realistic thread code defining
`trial() -> bool` (True when the problem showed in that trial); gilsafe must report the racy one
and not the fixed one, and the runtime must show the problem in the racy one at least once in a
bounded number of trials (on the interpreters its `shows_under` names), and never in the fixed one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from gilsafe.lint.rule import BOTH, FREE_THREADED

HARNESS = '''

if __name__ == "__main__":
    import json as _json
    import sys as _sys
    import time as _time

    _limit, _seconds = int(_sys.argv[1]), float(_sys.argv[2])
    _deadline = _time.monotonic() + _seconds
    _shown = _done = 0
    while _done < _limit and (_done == 0 or _time.monotonic() < _deadline):
        _shown += bool(trial())
        _done += 1
        if _shown and _sys.argv[3:] == ["--until-shown"]:
            break
    _gil = getattr(_sys, "_is_gil_enabled", lambda: True)()
    print("GILSAFE-CROSSCHECK " + _json.dumps({"shown": _shown, "trials": _done, "gil_enabled": _gil}))
'''


@dataclass(frozen=True)
class RuntimeCheck:
    name: str
    racy: str  # module source defining trial() -> bool
    fixed: str
    shows_under: str  # BOTH, FREE_THREADED or UNDER_GIL: where the racy driver must show it
    why: str = ""  # for the docs: why it shows where it does
    example: int | None = None  # the INVALID example (index) this driver runs at scale
    needs: tuple[str, ...] = ()  # packages the drivers import

    @property
    def racy_source(self) -> str:
        return textwrap.dedent(self.racy).lstrip("\n")

    @property
    def fixed_source(self) -> str:
        return textwrap.dedent(self.fixed).lstrip("\n")

    def expected_on(self, gil_enabled: bool) -> bool:
        """Must the racy driver show the problem on an interpreter whose GIL is (not) enabled?"""
        if self.shows_under == BOTH:
            return True
        if self.shows_under == FREE_THREADED:
            return not gil_enabled
        return gil_enabled


@dataclass(frozen=True)
class Observation:
    shown: int
    trials: int
    gil_enabled: bool | None = None
    error: str = ""

    def __str__(self) -> str:
        return self.error or f"{self.shown}/{self.trials}"


def observe(source: str, python: str = sys.executable, trials: int = 50, seconds: float = 30.0, until_shown: bool = False) -> Observation:
    """Run a driver's trial() up to `trials` times (within `seconds`) in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="gilsafe-check-") as folder:
        script = Path(folder) / "driver.py"
        script.write_text(source + HARNESS)
        command = [python, str(script), str(trials), str(seconds)] + (["--until-shown"] if until_shown else [])
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, cwd=folder)
        except subprocess.TimeoutExpired:
            return Observation(0, 0, error="timeout")
    for line in done.stdout.splitlines():
        if line.startswith("GILSAFE-CROSSCHECK "):
            data = json.loads(line.split(" ", 1)[1])
            return Observation(data["shown"], data["trials"], data["gil_enabled"])
    last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    if "ModuleNotFoundError" in last:
        return Observation(0, 0, error=f"not run: {last.split(': ', 1)[-1]}")
    return Observation(0, 0, error=f"error: {last}")


def all_checks():
    """(rule code, check) for every rule that declares runtime checks."""
    from gilsafe.rules import ALL_RULES

    for code, rule in ALL_RULES.items():
        for check in getattr(rule, "RUNTIME_CHECKS", ()):
            yield code, check

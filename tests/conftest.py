import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_gilsafe():
    """Run the installed CLI in a subprocess, as a user would."""

    def run(*args, cwd=None, input=None, timeout=300):
        return subprocess.run(
            [sys.executable, "-m", "gilsafe", *map(str, args)],
            cwd=cwd,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )

    return run

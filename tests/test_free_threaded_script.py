"""scripts/free-threaded-python: idempotent, and one clear line when the source cannot be had."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "free-threaded-python"


def run(env_extra, tmp_path):
    env = dict(os.environ, GILSAFE_FREE_THREADED_HOME=str(tmp_path / "home"), **env_extra)
    return subprocess.run(["bash", str(SCRIPT), "3.13"], capture_output=True, text=True, env=env, timeout=120)


def test_finds_an_existing_interpreter_without_building(tmp_path):
    python = tmp_path / "home" / "3.13" / "bin" / "python3.13t"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho False\n")
    python.chmod(0o755)
    first = run({}, tmp_path)
    second = run({}, tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout == f"{python}\n"
    assert first.stderr == ""


def test_one_clear_line_when_the_source_cannot_be_had(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake = fake_bin / "apt-get"
    fake.write_text("#!/bin/sh\necho 'E: no network' >&2\nexit 100\n")
    fake.chmod(0o755)
    result = run({"PATH": f"{fake_bin}:{os.environ['PATH']}"}, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("free-threaded-python: could not download the source of python3.13")


def test_an_interpreter_with_the_gil_is_not_taken(tmp_path):
    python = tmp_path / "home" / "3.13" / "bin" / "python3.13t"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\necho True\n")
    python.chmod(0o755)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "apt-get").write_text("#!/bin/sh\nexit 100\n")
    (fake_bin / "apt-get").chmod(0o755)
    result = run({"PATH": f"{fake_bin}:{os.environ['PATH']}"}, tmp_path)
    assert result.returncode == 1, "a GIL build under the free-threaded name must be rebuilt, not returned"

"""Hostile input and misuse, case by case, for one or more gilsafe installs side by side.

    python benchmarks/hostile.py [--gilsafe PATH ...]

Each case builds its files in a scratch folder, runs the `gilsafe` executable(s) given (default:
the one next to this Python), and prints one row per case: what each install did, in a few
words, and how long it took. A case passes when the good file's finding is still reported, the
problem is one line (no traceback), nothing was lost or changed, and the run ended on its own.
Not a test: it runs hostile things (a 2 GB address-space cap keeps the endless-device case from
taking the machine down with an install that reads it).
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

RACY = "import threading\nn = 0\ndef work():\n    global n\n    n += 1\nfor _ in range(2):\n    threading.Thread(target=work).start()\n"
NUMBA = "from numba import jit\n@jit(nogil=True, forceobj=True)\ndef f(x):\n    return x\n"
GOOD = b"racy.py:5:5: GS101"
TIMEOUT = 120


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, resource.RLIM_INFINITY))


def run(gilsafe: str, args: list[str], cwd: Path, timeout: float = TIMEOUT, env: dict | None = None) -> tuple[int | str, bytes, bytes, float]:
    started = time.monotonic()
    try:
        done = subprocess.run([gilsafe, *args], cwd=cwd, capture_output=True, timeout=timeout, preexec_fn=_cap_memory, env=env)
    except subprocess.TimeoutExpired as expired:
        return "hang", expired.stdout or b"", expired.stderr or b"", time.monotonic() - started
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def verdict(code, out: bytes, err: bytes, seconds: float, *, want_good: bool = True) -> str:
    if code == "hang":
        return f"HANG (killed after {seconds:.0f} s)"
    if isinstance(code, int) and code < 0:
        return f"CRASH ({signal.Signals(-code).name}, {len(out)} bytes of output)"
    traceback = b"Traceback" in err or b"Traceback" in out
    good = GOOD in out
    words = [f"exit {code}"]
    if want_good:
        words.append("good finding kept" if good else "GOOD FINDING LOST")
    if traceback:
        words.append("TRACEBACK")
    problem = next((line for line in (err + out).decode("utf-8", "replace").splitlines() if "GS000" in line or ": error:" in line), "")
    if problem:
        words.append(repr(problem.split(": ", 1)[-1][:70]))
    return ", ".join(words)


def folder_with(tmp: Path, many: bool, extra: Callable[[Path], None]) -> Path:
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "racy.py").write_text(RACY)
    for i in range(20 if many else 0):
        (folder / f"clean{i:02d}.py").write_text("import threading\nx = 1\n")
    extra(folder)
    return folder


def lint_case(tmp: Path, gilsafe: str, extra: Callable[[Path], None], *, many: bool = True, args: tuple[str, ...] = ()) -> str:
    folder = folder_with(tmp, many, extra)
    return verdict(*run(gilsafe, ["lint", "--no-cache", "-j", "2", *args, "."], folder))


def case_deep_brackets(tmp, gilsafe):
    return lint_case(tmp, gilsafe, lambda f: (f / "deep.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"))


def case_deep_brackets_alone(tmp, gilsafe):
    folder = Path(tempfile.mkdtemp(dir=tmp))
    (folder / "deep.py").write_text("x = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    return verdict(*run(gilsafe, ["lint", "--no-cache", "deep.py"], folder), want_good=False)


def case_long_elif(tmp, gilsafe):
    chain = "def f(k):\n    if k == 0:\n        pass\n" + "".join(f"    elif k == {i}:\n        pass\n" for i in range(1, 500))
    return lint_case(tmp, gilsafe, lambda f: (f / "chain.py").write_text(chain))


def case_long_expression(tmp, gilsafe):
    return lint_case(tmp, gilsafe, lambda f: (f / "long.py").write_text("x = " + " + ".join(["1"] * 3000) + "\n"))


def case_fifo(tmp, gilsafe):
    return lint_case(tmp, gilsafe, lambda f: os.mkfifo(f / "x.py"), many=False)


def case_dev_zero(tmp, gilsafe):
    return lint_case(tmp, gilsafe, lambda f: os.symlink("/dev/zero", f / "z.py"), many=False)


def case_bad_name_cached(tmp, gilsafe):
    folder = folder_with(tmp, False, lambda f: (f / os.fsdecode(b"caf\xe9.py")).write_text(RACY))
    return verdict(*run(gilsafe, ["lint", "."], folder, env=dict(os.environ, PYTHONIOENCODING="utf-8:strict")))


def case_bad_name_json(tmp, gilsafe):
    folder = folder_with(tmp, False, lambda f: (f / os.fsdecode(b"caf\xe9.py")).write_text(RACY))
    code, out, err, seconds = run(gilsafe, ["lint", "--no-cache", "--format", "json", "."], folder)
    try:
        out.decode("utf-8")
        valid = b"\\udc" not in out
    except UnicodeDecodeError:
        valid = False
    return f"exit {code}, " + ("valid Unicode JSON" if valid else "LONE SURROGATES IN JSON")


def case_fix_read_only(tmp, gilsafe):
    def make(folder):
        (folder / "nb.py").write_text(NUMBA)
        os.chmod(folder / "nb.py", 0o444)

    folder = folder_with(tmp, False, make)
    code, out, err, seconds = run(gilsafe, ["lint", "--no-cache", "--fix", "."], folder)
    changed = (folder / "nb.py").read_text() != NUMBA
    return ("REWROTE THE READ-ONLY FILE" if changed else "left alone") + f"; {verdict(code, out, err, seconds)}"


def case_jobs_0(tmp, gilsafe):
    folder = folder_with(tmp, False, lambda f: None)
    return verdict(*run(gilsafe, ["lint", "--no-cache", "--jobs", "0", "."], folder), want_good=False)


def case_jobs_1000(tmp, gilsafe):
    folder = folder_with(tmp, True, lambda f: None)
    process = subprocess.Popen([gilsafe, "lint", "--no-cache", "--jobs", "1000", "."], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    most = 0
    while process.poll() is None:
        most = max(most, len(_descendants(process.pid)))
        time.sleep(0.02)
    return f"exit {process.returncode}, at most {most} worker processes seen"


def case_kill_9(tmp, gilsafe):
    def make(folder):
        body = "".join(f"def f{j}(x):\n    return [x + {j} for _ in range(3)]\n" for j in range(400))
        for i in range(40):
            (folder / f"m{i:02d}.py").write_text(RACY + body)

    folder = folder_with(tmp, False, make)
    process = subprocess.Popen([gilsafe, "lint", "--no-cache", "-j", "2", "."], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
        workers = _descendants(process.pid)
        time.sleep(0.05)
    process.kill()
    process.wait()
    time.sleep(3)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return f"{len(left)} of {len(workers)} workers ORPHANED" if left else f"all {len(workers)} workers gone"


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found.update(children)
            todo.extend(children)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


CASES = {
    "brackets 5,000 deep, among 20 files, -j 2": case_deep_brackets,
    "brackets 5,000 deep, alone": case_deep_brackets_alone,
    "500-branch elif": case_long_elif,
    "3,000-term expression": case_long_expression,
    "a FIFO named x.py": case_fifo,
    "z.py -> /dev/zero": case_dev_zero,
    "caf\\xe9.py, default cache, strict stdout": case_bad_name_cached,
    "caf\\xe9.py, --format json": case_bad_name_json,
    "--fix on a 0444 file": case_fix_read_only,
    "--jobs 0": case_jobs_0,
    "--jobs 1000": case_jobs_1000,
    "kill -9 of a -j 2 run": case_kill_9,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gilsafe", action="append", default=None, help="a gilsafe executable (repeat to compare)")
    args = parser.parse_args()
    installs = args.gilsafe or [str(Path(sys.executable).with_name("gilsafe"))]
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        for name, case in CASES.items():
            for gilsafe in installs:
                started = time.monotonic()
                try:
                    outcome = case(tmp, gilsafe)
                except Exception as error:  # the case itself failed: say so and go on
                    outcome = f"case failed: {type(error).__name__}: {error}"
                label = gilsafe if len(installs) > 1 else ""
                print(f"{name:<44} {label:<28} {time.monotonic() - started:6.1f} s  {outcome}", flush=True)
            for path in tmp.rglob("*"):  # read-only leftovers must not stop the cleanup
                try:
                    os.chmod(path, 0o755, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Runtime evidence for rules whose failure is a crash rather than a lost update (see each rule's
"Runtime evidence" docs section)."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gilsafe.lint.api import lint_source

REPO = Path(__file__).resolve().parents[1]

PARALLEL_FROM_THREADS = textwrap.dedent(
    """
    import threading
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True)
    def total(a):
        s = 0.0
        for i in prange(a.shape[0]):
            s += a[i]
        return s

    def work(a):
        for _ in range(200):
            total(a)

    a = np.ones(1_000_000)
    total(a)  # compile once, before the threads
    threads = [threading.Thread(target=work, args=(a,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("finished")
    """
)


def _run(layer):
    env = dict(os.environ, NUMBA_THREADING_LAYER=layer, NUMBA_NUM_THREADS="2")
    return subprocess.run([sys.executable, "-c", PARALLEL_FROM_THREADS], capture_output=True, text=True, env=env, timeout=300)


def test_gs202_reports_the_script():
    assert "GS202" in [f.code for f in lint_source(PARALLEL_FROM_THREADS, path="p.py").findings]


def test_gs202_workqueue_layer_aborts_on_calls_from_several_threads():
    pytest.importorskip("numba")
    done = _run("workqueue")
    assert done.returncode != 0 and "finished" not in done.stdout
    assert "Concurrent access has been detected" in done.stderr


def test_gs202_a_threadsafe_layer_finishes():
    pytest.importorskip("numba")
    done = _run("threadsafe")
    if "No threading layer could be loaded" in done.stderr or "threading layer" in done.stderr and done.returncode:
        pytest.skip(f"no TBB or OpenMP layer here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0 and "finished" in done.stdout, done.stderr


def _worst_of_five(folder, module, call):
    """max(module.call for 5 trials), run in a fresh interpreter from the repo's `folder`."""
    code = f"import sys; sys.path.insert(0, {folder!r}); import {module}; print(max({module}.{call} for _ in range(5)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_gs301_shared_numpy_accumulator_loses_updates_and_the_fix_does_not():
    pytest.importorskip("numpy")
    racy = {f.code for f in lint_source((REPO / "examples/numpy_accumulate_race.py").read_text(), path="r.py").findings}
    fixed = {f.code for f in lint_source((REPO / "examples/numpy_accumulate_fixed.py").read_text(), path="f.py").findings}
    assert {"GS301", "GS302"} <= racy and not fixed & {"GS301", "GS302"}
    # Four threads, 50 in-place adds of a million elements each: NumPy's loops overlap with the GIL
    # released, on GIL and free-threaded builds alike. The worst of five trials must lose some.
    assert _worst_of_five("examples", "numpy_accumulate_race", "trial()") > 0
    assert _worst_of_five("examples", "numpy_accumulate_fixed", "trial()") == 0


def test_gs303_torch_cpu_tensor_loses_in_place_updates():
    pytest.importorskip("torch")
    lost = _worst_of_five("benchmarks", "tensor_races", "CASES['torch cpu'](4, 50, 1_000_000)")
    assert lost > 0, "4 threads' add_ on one CPU tensor lost no update in 5 trials"

"""PyTorch, TensorFlow, CuPy, numba.cuda and Dask backends: CPU paths at small sizes, the skip paths
on a machine without a GPU, GPU paths that skip with the reason, and E10's crash/freeze survival."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gilsafe.kernels import load
from gilsafe.stress import accelerators as acc
from gilsafe.stress import experiments as ex
from gilsafe.stress.harness import Unavailable
from gilsafe.stress.model import Cell

REPO = Path(__file__).resolve().parents[1]


def cell(experiment, backend, variant, threads=1, size=20_000, trials=2):
    return Cell(experiment, backend, variant, threads, trials, size, 30.0)


def has_gpu():
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


needs_gpu = pytest.mark.skipif(not has_gpu(), reason="needs an NVIDIA GPU (none on this machine)")


@pytest.mark.parametrize("variant", ["cpu", "tuned-cpu"])
def test_e8_torch_cpu(variant):
    pytest.importorskip("torch")
    timings = acc.run_e8(cell("E8", "torch", variant)).timings
    assert timings["relative_error"] < 0.05 and timings["speedup_vs_numpy"] > 0


@pytest.mark.parametrize("variant", ["eager-cpu", "function-cpu", "while-cpu", "parallel-cpu"])
def test_e8_tensorflow_cpu(variant):
    pytest.importorskip("tensorflow")
    timings = acc.run_e8(cell("E8", "tensorflow", variant, size=40_000)).timings
    assert timings["relative_error"] < 0.05 and timings["ns_per_shot"] > 0


@pytest.mark.parametrize("backend, variant", [("torch", "cpu"), ("tensorflow", "cpu")])
def test_e9_copy_in_and_out(backend, variant):
    pytest.importorskip(backend)
    timings = acc.run_e9(cell("E9", backend, variant, size=200_000)).timings
    for n in (1_000, 100_000, 200_000):
        assert timings[f"copy_in_ns_per_element_{n}"] > 0 and timings[f"copy_out_ns_per_element_{n}"] > 0
    assert timings["copy_in_vs_numpy_copy"] > 0


@pytest.mark.parametrize(
    "variant", ["numpy/threads", "numba/threads", "cext/threads", "torch/threads", "tensorflow/threads", "numba/distributed-threads", "numpy/distributed-processes"]
)
def test_e10_dask_against_a_thread_pool(variant):
    pytest.importorskip("dask")
    kernel_backend, scheduler = variant.split("/")
    ok, reason = load(kernel_backend).available()
    if not ok:
        pytest.skip(reason)
    if scheduler.startswith("distributed"):
        pytest.importorskip("distributed")
    timings = acc.run_e10(cell("E10", "dask", variant, threads=2, size=200_000)).timings
    assert timings["dask_s"] > 0 and timings["thread_pool_s"] > 0
    assert timings["ideal"] == min(2, ex.usable_cores())
    if scheduler.startswith("distributed"):
        assert timings["cluster_launch_s"] > 0


def test_e12_torch_count():
    pytest.importorskip("torch")
    e12 = cell("E12", "torch", "count-cpu", threads=3, size=10_000)
    assert [(o.outcome, o.count > 0) for o in ex.grade(e12, ex.run_e12(e12))] == [("all counts == n", True), ("a count != n", False)]


def test_gpu_variants_skip_with_the_reason_without_a_gpu():
    if has_gpu():
        pytest.skip("this machine has a GPU")
    pytest.importorskip("torch")
    with pytest.raises(Unavailable, match="torch: no CUDA device"):
        acc.run_e8(cell("E8", "torch", "cuda"))
    with pytest.raises(Unavailable, match="torch: no CUDA device"):
        ex.run_e12(cell("E12", "torch", "count-cuda"))


def test_cupy_and_numba_cuda_say_why_they_are_unavailable():
    if has_gpu():
        pytest.skip("this machine has a GPU")
    ok, reason = load("cupy").available()
    assert not ok and reason in ("cupy: no CUDA device", "cupy: not installed (pip install cupy-cuda12x)")
    ok, reason = load("numba-cuda").available()
    assert not ok and reason in ("numba-cuda: no CUDA device", "numba: not installed")


def test_cupy_imports_without_a_gpu():
    cupy = pytest.importorskip("cupy", reason="cupy-cuda12x is installed by the test command")
    assert cupy.__version__


def test_device_of_variant():
    assert [acc.device_of(v) for v in ("cpu", "cuda", "eager-gpu", "count-cuda", "tuned-cpu", "talk")] == ["cpu", "cuda", "gpu", "cuda", "cpu", "cpu"]


@needs_gpu
@pytest.mark.gpu
def test_gpu_backends_estimate_pi():
    for backend, variant in (("torch", "cuda"), ("cupy", "talk")):
        timings = acc.run_e8(cell("E8", backend, variant, size=1_000_000)).timings
        assert timings["relative_error"] < 0.01
    timings = acc.run_e6_cuda(cell("E6", "numba-cuda", "cuda", size=1_000_000)).timings
    assert timings["first_call_s"] > 0 and timings["relative_error"] < 0.01


def stress(*args, env=None, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "gilsafe", "stress", *map(str, args)],
        cwd=REPO / "tests", capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )


def test_cli_reports_gpu_cells_as_skipped(tmp_path):
    pytest.importorskip("torch")
    if has_gpu():
        pytest.skip("this machine has a GPU")
    out = tmp_path / "e8.json"
    result = stress("--experiment", "E8", "--backend", "torch,cupy,numba-cuda", "--size", "20000", "--json", out)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {(r["backend"], r["variant"]): r for r in json.loads(out.read_text())["results"]}
    assert rows[("torch", "cpu")]["status"] == "ok"
    assert rows[("torch", "cuda")]["detail"] == "skipped: torch: no CUDA device"
    assert rows[("cupy", "talk")]["status"] == "skipped"
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("fault, status", [("segfault", "crash"), ("hang", "timeout")])
def test_e10_crash_or_freeze_under_dask_is_a_row_not_the_end_of_the_run(tmp_path, fault, status):
    pytest.importorskip("dask")
    out = tmp_path / "e10.json"
    result = stress(
        "--experiment", "E10,E2", "--backend", "dask,python", "--variant", "numpy/threads,talk", "--threads", "2",
        "--trials", "2", "--size", "2000",
        "--cell-timeout", "20", "--time-budget", "300", "--json", out, env={"GILSAFE_E10_FAULT": fault}, timeout=900,
    )
    rows = json.loads(out.read_text())["results"]
    e10 = [r for r in rows if r["experiment"] == "E10" and r["variant"] == "numpy/threads"]
    assert e10 and e10[0]["status"] == status, e10
    assert any(r["experiment"] == "E2" and r["status"] == "ok" for r in rows), "the run went on after it"
    assert result.returncode == 1


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None)
    yield local
    local.close()


def test_matrix_on_a_dask_cluster_with_a_crashing_cell(cluster, tmp_path):
    out = tmp_path / "cluster.json"
    result = stress("--scheduler", cluster.scheduler_address, "--experiment", "E2", "--backend", "python", "--trials", "2", "--size", "2000", "--json", out)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(out.read_text())["results"]
    workers = set(cluster.scheduler_info["workers"])
    assert len(rows) == 5 and all(r["status"] == "ok" and r["worker"] in workers for r in rows)
    crash = stress("stress_targets:segfault", "--scheduler", cluster.scheduler_address, "--threads", "1,2", "--trials", "1", "--json", out)
    assert crash.returncode == 1
    rows = json.loads(out.read_text())["results"]
    assert [r["status"] for r in rows] == ["crash", "crash"]
    assert all(r["worker"] in workers for r in rows), "the Dask workers survive a crashing cell"
    assert cluster.scheduler_info["workers"].keys() == workers

"""The talk's accelerator experiments: numba.cuda (E6), ML packages as NumPy accelerators (E8),
copy-in/copy-out (E9), Dask (E10), CuPy under threads (E11). Each runs inside an isolated worker;
a device the machine lacks makes the cell `skipped` with the reason."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from gilsafe.kernels import load
from gilsafe.cores import usable_cores
from gilsafe.stress.harness import (
    Observation,
    Unavailable,
    best_time,
    python_ns_per_shot,
    run_together,
    time_pi_kernel,
)
from gilsafe.stress.model import Cell

E9_SIZES = (1_000, 100_000)


def device_of(variant: str) -> str:
    """`cuda`/`gpu` when the variant names one (`cuda`, `eager-gpu`, `count-cuda`), else `cpu`."""
    for device in ("cuda", "gpu"):
        if variant == device or variant.endswith("-" + device):
            return device
    return "cpu"


def _require_device(backend, variant: str) -> str:
    device = device_of(variant)
    check = getattr(backend, "device_available", None)
    if check is not None:
        ok, reason = check(device)
        if not ok:
            raise Unavailable(reason)
    return device


def pi_kernel(backend_name: str, variant: str):
    """kernel(n, seed) for an accelerator backend's variant."""
    backend = load(backend_name)
    device = _require_device(backend, variant)
    if backend_name == "tensorflow":
        mode = variant.rsplit("-", 1)[0]
        return partial(backend.pi_hits, device=device, mode=mode)
    if backend_name == "torch":
        tuned = variant.startswith("tuned")
        return partial(backend.pi_hits_tuned if tuned else backend.pi_hits, device=device)
    return backend.pi_hits_tuned if variant == "tuned" else backend.pi_hits


def _numpy_ns_per_shot(n: int) -> float:
    numpy_pi = load("numpy").pi_hits
    numpy_pi(1000, 1)
    return best_time(lambda: numpy_pi(n, 1), 3) / n * 1e9


def run_e6_cuda(cell: Cell) -> Observation:
    """The talk's @cuda.jit pi: first call (compile and load) apart from the run."""
    backend = load("numba-cuda")
    n = cell.size or 10_000_000
    observed = Observation()
    observed.timings = time_pi_kernel(backend.pi_hits, n, seed=1)
    ns = observed.timings["ns_per_shot"]
    observed.timings["speedup_vs_python"] = python_ns_per_shot() / ns
    observed.timings["speedup_vs_numpy"] = _numpy_ns_per_shot(min(n, 4_000_000)) / ns
    return observed


def run_e8(cell: Cell) -> Observation:
    """Pi in an ML package, time per shot against NumPy's talk kernel measured in the same process."""
    kernel = pi_kernel(cell.backend, cell.variant)
    n = cell.size or 4_000_000
    observed = Observation()
    observed.timings = time_pi_kernel(kernel, n, seed=7)
    observed.timings["numpy_ns_per_shot"] = _numpy_ns_per_shot(n)
    observed.timings["speedup_vs_numpy"] = observed.timings["numpy_ns_per_shot"] / observed.timings["ns_per_shot"]
    return observed


def run_e9(cell: Cell) -> Observation:
    """Copy-in (NumPy -> device tensor) and copy-out, and a scalar result, per size, against a NumPy copy."""
    import numpy as np

    backend = load(cell.backend)
    device = _require_device(backend, cell.variant)
    sizes = (*E9_SIZES, cell.size or 10_000_000)
    copy_in = partial(backend.copy_in, device=device) if cell.backend != "cupy" else backend.copy_in
    observed = Observation()
    for n in sizes:
        array = np.random.default_rng(n).random(n)

        def into(array=array):
            tensor = copy_in(array)
            backend.synchronize(device)
            return tensor

        tensor = into()
        in_s = best_time(into, 5)
        out_s = best_time(lambda tensor=tensor: backend.copy_out(tensor), 5)
        numpy_s = best_time(array.copy, 5)
        observed.timings[f"copy_in_ns_per_element_{n}"] = in_s / n * 1e9
        observed.timings[f"copy_out_ns_per_element_{n}"] = out_s / n * 1e9
        observed.timings[f"numpy_copy_ns_per_element_{n}"] = numpy_s / n * 1e9
    largest = sizes[-1]
    observed.timings["n"] = largest
    observed.timings["copy_in_vs_numpy_copy"] = observed.timings[f"numpy_copy_ns_per_element_{largest}"] / observed.timings[f"copy_in_ns_per_element_{largest}"]
    observed.timings["copy_out_vs_numpy_copy"] = observed.timings[f"numpy_copy_ns_per_element_{largest}"] / observed.timings[f"copy_out_ns_per_element_{largest}"]
    small = sizes[0]
    shared = " torch.from_numpy(...).to('cpu') shares NumPy's memory: no copy is made." if (cell.backend, device) == ("torch", "cpu") else ""
    observed.detail = (
        f"{small} elements: copy in {observed.timings[f'copy_in_ns_per_element_{small}'] * small / 1e3:.1f} us, "
        f"copy out {observed.timings[f'copy_out_ns_per_element_{small}'] * small / 1e3:.1f} us (fixed costs dominate small work)."
        + shared
    )
    return observed


# -- E10: Dask --------------------------------------------------------------------------------------


def _faulty_kernel(kind: str):
    """The harness's self-test (GILSAFE_E10_FAULT): a kernel that crashes or freezes like the talk's
    PyTorch and TensorFlow did under Dask threads."""

    def segfault(n: int, seed: int) -> int:
        import ctypes

        return len(ctypes.string_at(0))

    def freeze(n: int, seed: int) -> int:
        time.sleep(3600)
        return 0

    return {"segfault": segfault, "hang": freeze}[kind]


def run_e10(cell: Cell) -> Observation:
    """`dask.delayed` over m chunks of a backend's kernel, against a ThreadPoolExecutor and 1 thread."""
    kernel_backend, scheduler = cell.variant.split("/")
    dask_backend = load("dask")
    if scheduler.startswith("distributed"):
        ok, reason = dask_backend.distributed_available()
        if not ok:
            raise Unavailable(reason)
    backend = load(kernel_backend)
    ok, reason = backend.available()
    if not ok:
        raise Unavailable(reason)
    fault = os.environ.get("GILSAFE_E10_FAULT")
    kernel = _faulty_kernel(fault) if fault else backend.pi_hits
    m = cell.threads
    total = cell.size or (400_000 if kernel_backend == "python" else 4_000_000)
    chunks = [total // m] * m
    seeds = list(range(1, m + 1))
    if not fault:
        kernel(1000, 1)
    observed = Observation()
    launch = 0.0
    client = cluster = None
    try:
        if scheduler.startswith("distributed"):
            start = time.perf_counter()
            cluster, client = dask_backend.local_cluster(m, processes=scheduler == "distributed-processes")
            launch = time.perf_counter() - start
            client.run(lambda: None)
        one = best_time(lambda: kernel(sum(chunks), 1), 3)
        with ThreadPoolExecutor(m) as pool:
            threads = best_time(lambda: sum(pool.map(kernel, chunks, seeds)), 3)
        dask_s = best_time(lambda: dask_backend.delayed_sum(kernel, chunks, seeds, scheduler, client), 3)
    finally:
        if client is not None:
            client.close()
            cluster.close()
    ideal = min(m, usable_cores())
    observed.timings = {
        "n": sum(chunks),
        "one_thread_s": one,
        "thread_pool_s": threads,
        "dask_s": dask_s,
        "speedup_vs_1_thread": one / dask_s,
        "thread_pool_speedup": one / threads,
        "dask_vs_thread_pool": threads / dask_s,
        "ideal": ideal,
        "efficiency": one / dask_s / ideal,
        "cluster_launch_s": launch,
    }
    return observed


# -- E11: CuPy under 1..N threads -------------------------------------------------------------------


def run_e11_cupy(cell: Cell) -> Observation:
    backend = load("cupy")
    n = cell.size or 4_000_000
    backend.pi_hits(1000, 1)
    one = best_time(lambda: (backend.pi_hits(n, 1), backend.synchronize()), 3)
    many = min(run_together([lambda: backend.pi_hits(n, 1)] * cell.threads)[0] for _ in range(3))
    observed = Observation()
    observed.timings = {
        "n": n,
        "one_thread_s": one,
        "n_threads_s": many,
        "slope": many / one,
        "ideal_slope": 1.0,  # the GPU is shared: flat only while it has room
        "per_thread_default_stream": backend.per_thread_default_stream(),
    }
    return observed

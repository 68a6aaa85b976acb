"""CuPy: NumPy's API on a CUDA GPU; kernels run on the device, the GIL is released while waiting."""

from __future__ import annotations

import os

from gilsafe.kernels import installed

NAME = "cupy"
RELEASES_GIL = "device work runs asynchronously; the GIL is released while synchronising with the GPU"
PACKAGES = ("cupy",)  # what its kernels import


def available() -> tuple[bool, str]:
    ok, reason = installed("cupy")
    if not ok:
        return ok, reason.replace("cupy: not installed", "cupy: not installed (pip install cupy-cuda12x)")
    import cupy

    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False, "cupy: no CUDA device"
    except Exception:  # no driver, no device: CuPy raises its CUDARuntimeError
        return False, "cupy: no CUDA device"
    return True, ""


def per_thread_default_stream() -> bool:
    return os.environ.get("CUPY_CUDA_PER_THREAD_DEFAULT_STREAM", "0") == "1"


def pi_hits(n: int, seed: int) -> int:
    """The talk's appendix form (slide 52) with cp in place of np."""
    import cupy as cp

    x = cp.random.rand(n, dtype=cp.float64)
    y = cp.random.rand(n, dtype=cp.float64)
    rs = cp.add(cp.multiply(x, x, dtype=cp.float64), cp.multiply(y, y, dtype=cp.float64), dtype=cp.float64)
    ones = cp.ones(n, dtype=cp.float64)
    lss = cp.less_equal(rs, ones)
    return int(cp.count_nonzero(lss))


def pi_hits_tuned(n: int, seed: int) -> int:
    """One generator per call, float32, a fused elementwise count."""
    import cupy as cp

    rng = cp.random.default_rng(seed)
    x = rng.random(n, dtype=cp.float32)
    y = rng.random(n, dtype=cp.float32)
    return int(cp.count_nonzero(x * x + y * y <= 1.0))


def count_ones(n: int) -> int:
    import cupy as cp

    return int(cp.count_nonzero(cp.ones(n, dtype=cp.float64)))


def copy_in(array):
    import cupy as cp

    return cp.asarray(array)


def copy_out(device_array):
    import cupy as cp

    return cp.asnumpy(device_array)


def synchronize(device: str = "cuda") -> None:
    import cupy as cp

    cp.cuda.Device().synchronize()

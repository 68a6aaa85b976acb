"""numba.cuda: the talk's @cuda.jit pi kernel with xoroshiro128p states (slide 51)."""

from __future__ import annotations

import functools

from gilsafe.kernels import installed

NAME = "numba-cuda"
RELEASES_GIL = "the kernel runs on the GPU; the GIL is released while the host waits for it"
PACKAGES = ("numba",)  # what its kernels import
THREADS_PER_BLOCK = 25  # the talk's launch configuration: 40 blocks of 25 threads
BLOCKS = 40


def available() -> tuple[bool, str]:
    ok, reason = installed("numba")
    if not ok:
        return ok, reason
    from numba import cuda

    try:
        if not cuda.is_available():
            return False, "numba-cuda: no CUDA device"
    except Exception as error:
        return False, f"numba-cuda: {error}"
    return True, ""


@functools.lru_cache(maxsize=None)
def _kernel():
    from numba import cuda
    from numba.cuda.random import xoroshiro128p_uniform_float64

    @cuda.jit
    def pi_per_thread(n, out, states):
        thread_id = cuda.grid(1)
        hit = 0
        for _ in range(n):
            x = xoroshiro128p_uniform_float64(states, thread_id)
            y = xoroshiro128p_uniform_float64(states, thread_id)
            if x * x + y * y <= 1.0:
                hit += 1
        out[thread_id] = hit

    return pi_per_thread


def pi_hits(n: int, seed: int) -> int:
    """n shots spread over BLOCKS x THREADS_PER_BLOCK GPU threads; returns the hits."""
    import numpy as np
    from numba import cuda
    from numba.cuda.random import create_xoroshiro128p_states

    threads = THREADS_PER_BLOCK * BLOCKS
    per_thread = max(1, n // threads)
    states = create_xoroshiro128p_states(threads, seed=seed)
    out = cuda.device_array(threads, dtype=np.int64)
    _kernel()[BLOCKS, THREADS_PER_BLOCK](per_thread, out, states)
    return int(out.copy_to_host().sum()) * n // (per_thread * threads)


pi_hits_tuned = pi_hits

"""Numba: nopython functions compiled with nogil=True run without the GIL; object mode holds it."""

from __future__ import annotations

import functools
import random

from gilsafe.kernels import installed

NAME = "numba"
RELEASES_GIL = "the whole call of a nopython function compiled with nogil=True; never in object mode"
PACKAGES = ("numba",)  # what its kernels import


def available() -> tuple[bool, str]:
    return installed("numba")


def _pi_loop(n):
    """The talk's pi (slide 51): module random inside the jitted loop."""
    hit = 0
    for _ in range(n):
        x = random.random()
        y = random.random()
        r = x * x + y * y
        if r <= 1.0:
            hit += 1
    return hit


def _count_loop(values):
    """E13: count_nonzero rewritten as a loop."""
    count = 0
    for i in range(values.shape[0]):
        if values[i] != 0.0:
            count += 1
    return count


@functools.lru_cache(maxsize=None)
def compiled():
    """Compile on first use, so importing this module costs nothing."""
    import numba
    import numpy as np

    def pi_numpy(n):
        """The NumPy form (slide 19), jitted: numba runs the same array calls (the talk's 1x)."""
        x = np.random.rand(n)
        y = np.random.rand(n)
        rs = np.add(np.multiply(x, x), np.multiply(y, y))
        ones = np.ones(n)
        lss = np.less_equal(rs, ones)
        return np.count_nonzero(lss)

    def parallel_pi(n):
        hit = 0
        for _ in numba.prange(n):
            x = np.random.random()
            y = np.random.random()
            if x * x + y * y <= 1.0:
                hit += 1
        return hit

    def xoroshiro_pi(n, seed):
        # splitmix64 seeding, then xoroshiro128+; uint64 arithmetic wraps as in C.
        mask = np.uint64(0xFFFFFFFFFFFFFFFF)
        sm = np.uint64(seed)
        states = np.empty(2, dtype=np.uint64)
        for k in range(2):
            sm = (sm + np.uint64(0x9E3779B97F4A7C15)) & mask
            z = sm
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            states[k] = z ^ (z >> np.uint64(31))
        s0 = states[0]
        s1 = states[1]
        scale = 1.0 / 9007199254740992.0
        hits = 0
        for _ in range(n):
            r = s0 + s1
            s1 ^= s0
            s0 = ((s0 << np.uint64(24)) | (s0 >> np.uint64(40))) ^ s1 ^ (s1 << np.uint64(16))
            s1 = (s1 << np.uint64(37)) | (s1 >> np.uint64(27))
            x = np.float64(r >> np.uint64(11)) * scale
            r = s0 + s1
            s1 ^= s0
            s0 = ((s0 << np.uint64(24)) | (s0 >> np.uint64(40))) ^ s1 ^ (s1 << np.uint64(16))
            s1 = (s1 << np.uint64(37)) | (s1 >> np.uint64(27))
            y = np.float64(r >> np.uint64(11)) * scale
            if x * x + y * y <= 1.0:
                hits += 1
        return hits

    return {
        "jit": numba.njit(nogil=True)(_pi_loop),
        "jit_numpy": numba.njit(nogil=True)(pi_numpy),
        "parallel": numba.njit(parallel=True)(parallel_pi),
        "tuned": numba.njit(nogil=True)(xoroshiro_pi),
        "count_loop": numba.njit(nogil=True)(_count_loop),
        # Object mode: nogil=True is accepted but cannot be honoured (the talk's E13; rule GS201).
        "objmode": numba.jit(nogil=True, forceobj=True, looplift=False)(_pi_loop),
    }


@functools.lru_cache(maxsize=None)
def _seeder():
    import numba

    @numba.njit(nogil=True)
    def seed(value):
        random.seed(value)

    return seed


def seed_thread(seed: int) -> None:
    """numba's random keeps one state per thread; seed the calling thread's."""
    _seeder()(seed)


def pi_hits(n: int, seed: int) -> int:
    return int(compiled()["jit"](n))


def pi_hits_tuned(n: int, seed: int) -> int:
    return int(compiled()["tuned"](n, seed))


def pi_hits_numpy_jit(n: int, seed: int) -> int:
    return int(compiled()["jit_numpy"](n))


def pi_hits_parallel(n: int, seed: int) -> int:
    return int(compiled()["parallel"](n))


def pi_hits_objmode(n: int, seed: int) -> int:
    return int(compiled()["objmode"](n))


def count_nonzero_loop(values) -> int:
    return int(compiled()["count_loop"](values))

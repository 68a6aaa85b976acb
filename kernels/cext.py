"""A C extension compiled with the package (kernels/cext.c): its loops run with the GIL released."""

from __future__ import annotations

NAME = "cext"
RELEASES_GIL = "the whole kernel loop (Py_BEGIN_ALLOW_THREADS around it)"
PACKAGES: tuple[str, ...] = ()  # no third-party package


def _module():
    from gilsafe.kernels import _cext

    return _cext


def available() -> tuple[bool, str]:
    try:
        _module()
    except ImportError as error:
        return False, f"cext: extension not built for this interpreter ({error})"
    return True, ""


def pi_hits(n: int, seed: int) -> int:
    """The talk's C kernel (slide 15): rand_r with a private seed."""
    return _module().pi_hits_rand_r(n, seed & 0xFFFFFFFF)


def pi_hits_shared_rng(n: int, seed: int) -> int:
    """E5: the same loop drawing from libc random(), one state shared by all threads."""
    return _module().pi_hits_shared_random(n, seed & 0xFFFFFFFF)


def pi_hits_tuned(n: int, seed: int) -> int:
    """xoroshiro128+ inlined, one private stream per seed."""
    return _module().pi_hits_xoroshiro(n, seed & 0xFFFFFFFFFFFFFFFF)


def count_ones(n: int) -> int:
    from array import array

    return _module().count_nonzero_f64(array("d", [1.0]) * n)

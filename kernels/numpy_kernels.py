"""NumPy: vectorised loops over large arrays run without the GIL; the Python glue between them holds it."""

from __future__ import annotations

from gilsafe.kernels import installed

NAME = "numpy"
RELEASES_GIL = "ufunc and most array loops over more than a few hundred elements; not the Python between calls"
PACKAGES = ("numpy",)  # what its kernels import
# Chunked so that the temporaries stay in cache: memory bandwidth, not arithmetic, bounds pi.
TUNED_CHUNK = 1 << 16


def available() -> tuple[bool, str]:
    return installed("numpy")


def pi_hits(n: int, seed: int) -> int:
    """The talk's appendix form (slide 19), with the legacy global np.random state."""
    import numpy as np

    x = np.random.rand(n).astype(np.float64)
    y = np.random.rand(n).astype(np.float64)
    rs = np.add(np.multiply(x, x, dtype=np.float64), np.multiply(y, y, dtype=np.float64), dtype=np.float64)
    ones = np.ones(n, dtype=np.float64)
    lss = np.less_equal(rs, ones)
    return int(np.count_nonzero(lss))


def pi_hits_tuned(n: int, seed: int) -> int:
    """A private Generator per call, in-place arithmetic on cache-sized chunks."""
    import numpy as np

    rng = np.random.default_rng(seed)
    size = min(n, TUNED_CHUNK)
    x = np.empty(size)
    y = np.empty(size)
    hits = 0
    done = 0
    while done < n:
        m = min(size, n - done)
        xs, ys = x[:m], y[:m]
        rng.random(out=xs)
        rng.random(out=ys)
        np.multiply(xs, xs, out=xs)
        np.multiply(ys, ys, out=ys)
        np.add(xs, ys, out=xs)
        hits += int(np.count_nonzero(xs <= 1.0))
        done += m
    return hits


def count_ones(n: int) -> int:
    """E12 (slide 55): count the non-zeros of n ones."""
    import numpy as np

    return int(np.count_nonzero(np.ones(n, dtype=np.float64)))


def rng_count_ones(n: int) -> int:
    """E12's variant that first draws n random numbers from the global state."""
    import numpy as np

    np.random.rand(n).astype(np.float64)
    return count_ones(n)

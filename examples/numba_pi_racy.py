"""The talk's slide 45-47 numba pi (E13): nogil=True, but object mode holds the GIL anyway.

`forceobj=True`: object mode, so threads run one at a time and np.random is NumPy's shared state.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import jit


@jit(nogil=True, forceobj=True)
def count_hits(n):
    x = np.random.rand(n)
    y = np.random.rand(n)
    return np.count_nonzero(x * x + y * y < 1.0)


def estimate_pi(n=1_000_000, threads=4):
    with ThreadPoolExecutor(threads) as pool:
        hits = sum(pool.map(count_hits, [n // threads] * threads))
    return 4 * hits / n

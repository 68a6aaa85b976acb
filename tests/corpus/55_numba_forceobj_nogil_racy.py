# gilsafe corpus 55: numba (racy)
import numpy as np
from concurrent.futures import ThreadPoolExecutor
from numba import jit

@jit(nogil=True, forceobj=True)  # expect: GS201
def count(a):
    total = 0
    for x in a:
        total += x > 0.5
    return total

with ThreadPoolExecutor(4) as pool:
    list(pool.map(count, [np.ones(10)] * 4))

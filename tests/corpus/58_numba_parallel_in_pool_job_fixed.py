# gilsafe corpus 58: numba (fixed)
import numba
import numpy as np
from concurrent.futures import ThreadPoolExecutor

@numba.jit(nopython=True, parallel=True)
def smooth(a):
    return a * 0.5

def job(chunk):
    return chunk.sum()

with ThreadPoolExecutor(4) as pool:
    parts = list(pool.map(job, [np.ones(100)] * 4))
smoothed = smooth(np.array(parts))

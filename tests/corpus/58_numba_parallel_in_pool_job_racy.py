# gilsafe corpus 58: numba (racy)
import numba
import numpy as np
from concurrent.futures import ThreadPoolExecutor

@numba.jit(nopython=True, parallel=True)
def smooth(a):
    return a * 0.5

def job(chunk):
    return smooth(chunk).sum()  # expect: GS202

with ThreadPoolExecutor(4) as pool:
    list(pool.map(job, [np.ones(100)] * 4))

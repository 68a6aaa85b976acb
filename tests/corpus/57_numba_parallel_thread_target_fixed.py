# gilsafe corpus 57: numba (fixed)
import threading
import numba
from numba import njit, prange

numba.config.THREADING_LAYER = "threadsafe"

@njit(parallel=True)
def total(a):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s

threading.Thread(target=total, args=([1.0],)).start()
threading.Thread(target=total, args=([2.0],)).start()

# gilsafe corpus 57: numba (racy)
import threading
from numba import njit, prange

@njit(parallel=True)  # expect: GS202
def total(a):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s

threading.Thread(target=total, args=([1.0],)).start()
threading.Thread(target=total, args=([2.0],)).start()

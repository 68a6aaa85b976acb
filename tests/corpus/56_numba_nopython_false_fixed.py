# gilsafe corpus 56: numba (fixed)
import threading
import numba

@numba.njit(nogil=True)
def step(a):
    return a * 2

threading.Thread(target=step, args=(1.0,)).start()

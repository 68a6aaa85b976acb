# gilsafe corpus 56: numba (racy)
import threading
import numba

@numba.jit(nopython=False, nogil=True)  # expect: GS201
def step(a):
    return a * 2

threading.Thread(target=step, args=(1.0,)).start()

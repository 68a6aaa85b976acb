# gilsafe corpus 46: numpy accumulator (fixed)
import threading
import numpy as np

def worker(acc: np.ndarray, data, lock):
    with lock:
        acc[:] = data

shared = np.zeros(3)
lock = threading.Lock()
for row in ([1, 2, 3], [4, 5, 6]):
    threading.Thread(target=worker, args=(shared, row, lock)).start()

# gilsafe corpus 46: numpy accumulator (racy)
import threading
import numpy as np

def worker(acc: np.ndarray, data):
    acc[:] = data  # expect: GS301

shared = np.zeros(3)
for row in ([1, 2, 3], [4, 5, 6]):
    threading.Thread(target=worker, args=(shared, row)).start()

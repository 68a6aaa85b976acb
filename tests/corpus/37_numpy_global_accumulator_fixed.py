# gilsafe corpus 37: numpy accumulator (fixed)
import threading
import numpy as np

partials = [np.zeros(1_000_000) for _ in range(4)]

def accumulate(i, chunk):
    partials[i] += chunk

for i in range(4):
    threading.Thread(target=accumulate, args=(i, np.ones(1_000_000))).start()

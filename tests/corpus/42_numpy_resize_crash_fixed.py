# gilsafe corpus 42: numpy accumulator (fixed)
import threading
import numpy as np

samples = np.zeros(16)

def grow(n):
    global samples
    samples = np.resize(samples, n)

for _ in range(2):
    threading.Thread(target=grow, args=(32,)).start()

# gilsafe corpus 42: numpy accumulator (racy)
import threading
import numpy as np

samples = np.zeros(16)

def grow(n):
    samples.resize(n, refcheck=False)  # expect: GS301

for _ in range(2):
    threading.Thread(target=grow, args=(32,)).start()

# gilsafe corpus 43: numpy accumulator (fixed)
import threading
import numpy as np

out = np.zeros(1000)

def fill(i):
    out[i * 250:(i + 1) * 250] = i

for i in range(4):
    threading.Thread(target=fill, args=(i,)).start()

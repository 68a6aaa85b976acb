# gilsafe corpus 43: numpy accumulator (racy)
import threading
import numpy as np

out = np.zeros(1000)

def fill(i):
    out[0:250] = i  # expect: GS301

for i in range(4):
    threading.Thread(target=fill, args=(i,)).start()

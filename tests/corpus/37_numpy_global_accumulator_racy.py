# gilsafe corpus 37: numpy accumulator (racy)
import threading
import numpy as np

total = np.zeros(1_000_000)

def accumulate(chunk):
    global total
    total += chunk  # expect: GS301

for _ in range(4):
    threading.Thread(target=accumulate, args=(np.ones(1_000_000),)).start()

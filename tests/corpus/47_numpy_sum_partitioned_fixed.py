# gilsafe corpus 47: numpy read/write (fixed)
import threading
import numpy as np

data = np.zeros(1000)

def produce(i):
    data[i * 100:(i + 1) * 100] = i

threads = [threading.Thread(target=produce, args=(i,)) for i in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
total = np.sum(data)  # after join(): no writer is left

# gilsafe corpus 47: numpy read/write (racy)
import threading
import numpy as np

data = np.zeros(1000)

def produce(i):
    data[i * 100:(i + 1) * 100] = i

def consume():
    return np.sum(data)  # expect: GS302

for i in range(10):
    threading.Thread(target=produce, args=(i,)).start()
threading.Thread(target=consume).start()

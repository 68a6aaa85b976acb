# gilsafe corpus 41: numpy accumulator (racy)
import threading
import numpy as np

buffer = np.zeros(4096)

def reset():
    buffer.fill(0.0)  # expect: GS301

def write(value):
    buffer[:] = value  # expect: GS301

threading.Thread(target=reset).start()
threading.Thread(target=write, args=(1.0,)).start()

# gilsafe corpus 41: numpy accumulator (fixed)
import threading
import numpy as np

buffer = np.zeros(4096)
buffer_lock = threading.Lock()

def reset():
    with buffer_lock:
        buffer.fill(0.0)

def write(value):
    with buffer_lock:
        buffer[:] = value

threading.Thread(target=reset).start()
threading.Thread(target=write, args=(1.0,)).start()

# gilsafe corpus 44: numpy read/write (fixed)
import threading
import numpy as np

field = np.zeros(1_000_000)
field_lock = threading.Lock()

def step(value):
    with field_lock:
        field[:] = value

def monitor():
    with field_lock:
        return field.mean()

threading.Thread(target=step, args=(1.0,)).start()
threading.Thread(target=monitor).start()

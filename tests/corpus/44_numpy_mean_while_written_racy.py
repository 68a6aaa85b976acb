# gilsafe corpus 44: numpy read/write (racy)
import threading
import numpy as np

field = np.zeros(1_000_000)

def step(value):
    field[:] = value  # expect: GS301

def monitor():
    return field.mean()  # expect: GS302

threading.Thread(target=step, args=(1.0,)).start()
threading.Thread(target=monitor).start()

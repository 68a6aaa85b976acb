# gilsafe corpus 52: rng (racy)
import threading
import numpy as np
np.random.seed(2018)  # runs are meant to repeat

def noise(n):
    return np.random.rand(n)  # expect: GS401

threading.Thread(target=noise, args=(10,)).start()

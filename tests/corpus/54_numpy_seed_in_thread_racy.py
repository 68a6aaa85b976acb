# gilsafe corpus 54: rng (racy)
import threading
import numpy as np

def simulate(seed):
    np.random.seed(seed)  # expect: GS401
    return np.random.normal(size=5)  # expect: GS401

threading.Thread(target=simulate, args=(1,)).start()

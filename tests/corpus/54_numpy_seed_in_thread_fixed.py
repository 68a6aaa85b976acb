# gilsafe corpus 54: rng (fixed)
import threading
import numpy as np

def simulate(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=5)

threading.Thread(target=simulate, args=(1,)).start()

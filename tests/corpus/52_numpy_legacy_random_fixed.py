# gilsafe corpus 52: rng (fixed)
import threading
import numpy as np
np.random.seed(2018)  # runs are meant to repeat

def noise(n, seed):
    return np.random.default_rng(seed).random(n)

for i, seed in enumerate(np.random.SeedSequence(42).spawn(2)):
    threading.Thread(target=noise, args=(10, seed)).start()

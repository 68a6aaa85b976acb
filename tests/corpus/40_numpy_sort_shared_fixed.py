# gilsafe corpus 40: numpy accumulator (fixed)
import threading
import numpy as np

scores = np.random.default_rng(0).random(100_000)

def rank():
    return np.sort(scores)[-10:]

threading.Thread(target=rank).start()
threading.Thread(target=rank).start()

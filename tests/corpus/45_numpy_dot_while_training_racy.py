# gilsafe corpus 45: numpy read/write (racy)
import numpy as np
from concurrent.futures import ThreadPoolExecutor

weights = np.ones(4096)

def train(grad):
    global weights
    weights -= 0.1 * grad  # expect: GS301

def predict(x):
    return np.dot(weights, x)  # expect: GS302

with ThreadPoolExecutor() as pool:
    pool.submit(train, np.ones(4096))
    pool.submit(predict, np.ones(4096))

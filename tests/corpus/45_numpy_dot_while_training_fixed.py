# gilsafe corpus 45: numpy read/write (fixed)
import threading
import numpy as np
from concurrent.futures import ThreadPoolExecutor

weights = np.ones(4096)
weights_lock = threading.Lock()

def train(grad):
    global weights
    with weights_lock:
        weights = weights - 0.1 * grad

def predict(x):
    with weights_lock:
        current = weights
    return np.dot(current, x)

with ThreadPoolExecutor() as pool:
    pool.submit(train, np.ones(4096))
    pool.submit(predict, np.ones(4096))

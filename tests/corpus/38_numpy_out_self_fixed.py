# gilsafe corpus 38: numpy accumulator (fixed)
import threading
import numpy as np
from concurrent.futures import ThreadPoolExecutor

class Canvas:
    def __init__(self):
        self.pixels = np.zeros((1024, 1024))
        self.lock = threading.Lock()

    def brighten(self, amount):
        with self.lock:
            np.add(self.pixels, amount, out=self.pixels)

canvas = Canvas()
with ThreadPoolExecutor() as pool:
    pool.map(canvas.brighten, [1, 2])

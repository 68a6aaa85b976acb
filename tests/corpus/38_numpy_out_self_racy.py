# gilsafe corpus 38: numpy accumulator (racy)
import numpy as np
from concurrent.futures import ThreadPoolExecutor

class Canvas:
    def __init__(self):
        self.pixels = np.zeros((1024, 1024))

    def brighten(self, amount):
        np.add(self.pixels, amount, out=self.pixels)  # expect: GS301

canvas = Canvas()
with ThreadPoolExecutor() as pool:
    pool.map(canvas.brighten, [1, 2])

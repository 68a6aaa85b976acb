# gilsafe corpus 66: lost update (racy)
import numpy as np
from concurrent.futures import ThreadPoolExecutor

class HitCounter:
    def __init__(self):
        self.hits = 0

    def shoot(self, n):
        rng = np.random.default_rng()
        for _ in range(n):
            if rng.random() < 0.5:
                self.hits = self.hits + 1  # expect: GS101

counter = HitCounter()
with ThreadPoolExecutor(4) as pool:
    for _ in range(4):
        pool.submit(counter.shoot, 1000)

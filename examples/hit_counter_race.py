"""The talk's slide 42-43 shared hit counter (E11): Monte Carlo pi, threads share one count.

Racy: `self.hits = self.hits + 1` from every worker of the pool.
"""

import random
from concurrent.futures import ThreadPoolExecutor


class HitCounter:
    def __init__(self):
        self.hits = 0

    def shoot(self, shots):
        rng = random.Random()
        for _ in range(shots):
            x, y = rng.random(), rng.random()
            if x * x + y * y < 1.0:
                self.hits = self.hits + 1


def estimate_pi(shots=400_000, threads=4):
    counter = HitCounter()
    per_thread = shots // threads
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for _ in range(threads):
            pool.submit(counter.shoot, per_thread)
    return 4 * counter.hits / (per_thread * threads)


if __name__ == "__main__":
    print("pi ~", estimate_pi())

# gilsafe corpus 51: rng (fixed)
import random
from concurrent.futures import ThreadPoolExecutor
random.seed(2018)  # runs are meant to repeat

def shots(n, seed):
    rng = random.Random(seed)
    hits = 0
    for _ in range(n):
        x, y = rng.random(), rng.random()
        hits += x * x + y * y <= 1
    return hits

with ThreadPoolExecutor(4) as pool:
    total = sum(pool.map(shots, [1000] * 4, range(4)))

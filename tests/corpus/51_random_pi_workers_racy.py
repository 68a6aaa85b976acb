# gilsafe corpus 51: rng (racy)
import random
from concurrent.futures import ThreadPoolExecutor
random.seed(2018)  # runs are meant to repeat

def shots(n):
    hits = 0
    for _ in range(n):
        x, y = random.random(), random.random()  # expect: GS401, GS401
        hits += x * x + y * y <= 1
    return hits

with ThreadPoolExecutor(4) as pool:
    total = sum(pool.map(shots, [1000] * 4))

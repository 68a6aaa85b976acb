# gilsafe corpus 53: rng (fixed)
from concurrent.futures import ThreadPoolExecutor
from random import Random
import random
random.seed(2018)  # runs are meant to repeat

def pick(options, seed):
    return Random(seed).choice(options)

with ThreadPoolExecutor() as pool:
    pool.map(pick, [[1, 2], [3, 4]], [1, 2])

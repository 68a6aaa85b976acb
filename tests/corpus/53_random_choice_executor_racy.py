# gilsafe corpus 53: rng (racy)
from concurrent.futures import ThreadPoolExecutor
from random import choice
import random
random.seed(2018)  # runs are meant to repeat

def pick(options):
    return choice(options)  # expect: GS401

with ThreadPoolExecutor() as pool:
    pool.map(pick, [[1, 2], [3, 4]])

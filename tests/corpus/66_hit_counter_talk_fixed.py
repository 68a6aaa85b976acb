# gilsafe corpus 66: lost update (fixed)
import numpy as np
from concurrent.futures import ThreadPoolExecutor

def shoot(n):
    rng = np.random.default_rng()
    return int((rng.random(n) < 0.5).sum())

with ThreadPoolExecutor(4) as pool:
    hits = sum(pool.map(shoot, [1000] * 4))

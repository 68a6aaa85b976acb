# gilsafe corpus 18: cache (fixed)
import functools
from concurrent.futures import ThreadPoolExecutor

@functools.lru_cache(maxsize=None)
def square(x):
    return x * x

with ThreadPoolExecutor() as pool:
    pool.submit(square, 3)

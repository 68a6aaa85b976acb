# gilsafe corpus 12: lost update (fixed)
from multiprocessing.pool import ThreadPool

def square(x):
    return x * x

with ThreadPool(4) as pool:
    total = sum(pool.map(square, range(100)))

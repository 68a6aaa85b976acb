# gilsafe corpus 12: lost update (racy)
from multiprocessing.pool import ThreadPool

total = 0

def add(x):
    global total
    total += x  # expect: GS101

with ThreadPool(4) as pool:
    pool.map(add, range(100))

# gilsafe corpus 60: warnings (fixed)
from concurrent.futures import ThreadPoolExecutor

def validate(x):
    return x, 0

with ThreadPoolExecutor() as pool:
    pool.map(validate, [1, 2])

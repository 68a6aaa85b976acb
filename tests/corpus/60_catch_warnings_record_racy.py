# gilsafe corpus 60: warnings (racy)
from concurrent.futures import ThreadPoolExecutor
from warnings import catch_warnings

def validate(x):
    with catch_warnings(record=True) as seen:  # expect: GS501
        return x, len(seen)

with ThreadPoolExecutor() as pool:
    pool.map(validate, [1, 2])

# gilsafe corpus 03: lost update (fixed)
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

def tally(line):
    local = Counter()
    for word in line.split():
        local[word] = local.get(word, 0) + 1
    return local

with ThreadPoolExecutor(4) as pool:
    counts = sum(pool.map(tally, ["a b", "b c"]), Counter())

# gilsafe corpus 03: lost update (racy)
from concurrent.futures import ThreadPoolExecutor

counts = {}

def tally(line):
    for word in line.split():
        counts[word] = counts.get(word, 0) + 1  # expect: GS101

with ThreadPoolExecutor(4) as pool:
    pool.map(tally, ["a b", "b c"])

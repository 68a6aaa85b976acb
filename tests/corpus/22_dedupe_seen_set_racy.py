# gilsafe corpus 22: check-then-act (racy)
from concurrent.futures import ThreadPoolExecutor

seen = set()
unique = []

def visit(url):
    if url not in seen:  # expect: GS103
        seen.add(url)
        unique.append(url)

with ThreadPoolExecutor(8) as pool:
    pool.map(visit, ["a", "b", "a"])

# gilsafe corpus 22: check-then-act (fixed)
import threading
from concurrent.futures import ThreadPoolExecutor

seen = set()
unique = []
seen_lock = threading.Lock()

def visit(url):
    with seen_lock:
        if url not in seen:
            seen.add(url)
            unique.append(url)

with ThreadPoolExecutor(8) as pool:
    pool.map(visit, ["a", "b", "a"])

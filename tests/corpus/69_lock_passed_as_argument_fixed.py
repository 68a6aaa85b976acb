# gilsafe corpus 69: lost update (fixed)
import threading

def worker(counter, lock):
    with lock:
        counter["n"] += 1

shared = {"n": 0}
lock = threading.Lock()
for _ in range(2):
    threading.Thread(target=worker, args=(shared, lock)).start()

# gilsafe corpus 69: lost update (racy)
import threading

def worker(counter, lock):
    counter["n"] += 1  # expect: GS101

shared = {"n": 0}
lock = threading.Lock()
for _ in range(2):
    threading.Thread(target=worker, args=(shared, lock)).start()

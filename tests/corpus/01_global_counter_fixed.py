# gilsafe corpus 01: lost update (fixed)
import threading

count = 0
count_lock = threading.Lock()

def work(n):
    global count
    for _ in range(n):
        with count_lock:
            count += 1

threads = [threading.Thread(target=work, args=(1000,)) for _ in range(4)]
for t in threads:
    t.start()

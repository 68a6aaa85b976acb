# gilsafe corpus 01: lost update (racy)
import threading

count = 0

def work(n):
    global count
    for _ in range(n):
        count += 1  # expect: GS101

threads = [threading.Thread(target=work, args=(1000,)) for _ in range(4)]
for t in threads:
    t.start()

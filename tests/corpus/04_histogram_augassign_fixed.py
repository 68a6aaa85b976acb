# gilsafe corpus 04: lost update (fixed)
import threading

histogram = {i: 0 for i in range(10)}
histogram_lock = threading.Lock()

def bucket(values):
    for v in values:
        with histogram_lock:
            histogram[v % 10] += 1

for chunk in ([1, 2], [3, 4]):
    threading.Thread(target=bucket, args=(chunk,)).start()

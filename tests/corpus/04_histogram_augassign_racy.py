# gilsafe corpus 04: lost update (racy)
import threading

histogram = {i: 0 for i in range(10)}

def bucket(values):
    for v in values:
        histogram[v % 10] += 1  # expect: GS101

for chunk in ([1, 2], [3, 4]):
    threading.Thread(target=bucket, args=(chunk,)).start()

# gilsafe corpus 31: module state (fixed)
import threading

results = [None] * 4

def compute(i):
    results[i] = i * i

for i in range(4):
    threading.Thread(target=compute, args=(i,)).start()

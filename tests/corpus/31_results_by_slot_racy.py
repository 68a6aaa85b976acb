# gilsafe corpus 31: module state (racy)
import threading

results = {}

def compute(i):
    results["latest"] = i * i  # expect: GS102

for i in range(4):
    threading.Thread(target=compute, args=(i,)).start()

# gilsafe corpus 19: check-then-act (fixed)
import queue
import threading

tasks = queue.SimpleQueue()
for i in range(100):
    tasks.put(i)

def drain():
    while True:
        try:
            tasks.get_nowait()
        except queue.Empty:
            break

threading.Thread(target=drain).start()
threading.Thread(target=drain).start()

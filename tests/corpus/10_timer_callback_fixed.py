# gilsafe corpus 10: lost update (fixed)
import threading

ticks = 0
ticks_lock = threading.Lock()

def tick():
    global ticks
    with ticks_lock:
        ticks += 1

for _ in range(3):
    threading.Timer(0.01, tick).start()

# gilsafe corpus 10: lost update (racy)
import threading

ticks = 0

def tick():
    global ticks
    ticks += 1  # expect: GS101

for _ in range(3):
    threading.Timer(0.01, tick).start()

# gilsafe corpus 34: iteration (fixed)
import threading

events = []

def produce(n):
    for i in range(n):
        events.append(i)

def monitor():
    errors = 0
    for event in list(events):
        errors += event < 0
    return errors

threading.Thread(target=produce, args=(100,)).start()
threading.Thread(target=monitor).start()

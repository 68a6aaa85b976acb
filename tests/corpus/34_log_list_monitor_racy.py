# gilsafe corpus 34: iteration (racy)
import threading

events = []

def produce(n):
    for i in range(n):
        events.append(i)
        if len(events) > 10:
            del events[0]  # keep the last ten: the list shrinks under a reader

def monitor():
    errors = 0
    for event in events:  # expect: GS104
        errors += event < 0
    return errors

threading.Thread(target=produce, args=(100,)).start()
threading.Thread(target=monitor).start()

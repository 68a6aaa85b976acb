# gilsafe corpus 70: check-then-act (fixed)
import threading

items = []
ready = threading.Condition()

def consume():
    with ready:
        while not items:
            ready.wait()
        return items.pop(0)

def produce(x):
    with ready:
        items.append(x)
        ready.notify()

threading.Thread(target=consume).start()
threading.Thread(target=produce, args=(1,)).start()

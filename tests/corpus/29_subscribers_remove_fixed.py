# gilsafe corpus 29: module state (fixed)
import threading

subscribers = ["a", "b"]
subscribers_lock = threading.Lock()

def unsubscribe(name):
    with subscribers_lock:
        if name in subscribers:
            subscribers.remove(name)

threading.Thread(target=unsubscribe, args=("a",)).start()

# gilsafe corpus 29: module state (racy)
import threading

subscribers = ["a", "b"]

def unsubscribe(name):
    subscribers.remove(name)  # expect: GS102

threading.Thread(target=unsubscribe, args=("a",)).start()

# gilsafe corpus 21: check-then-act (fixed)
import threading

registry = {}
registry_lock = threading.Lock()

def register(name, factory):
    with registry_lock:
        if name not in registry:
            registry[name] = factory()

threading.Thread(target=register, args=("csv", dict)).start()
threading.Thread(target=register, args=("csv", dict)).start()

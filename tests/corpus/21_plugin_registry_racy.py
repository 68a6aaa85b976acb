# gilsafe corpus 21: check-then-act (racy)
import threading

registry = {}

def register(name, factory):
    if name not in registry:  # expect: GS103
        registry[name] = factory()

threading.Thread(target=register, args=("csv", dict)).start()
threading.Thread(target=register, args=("csv", dict)).start()

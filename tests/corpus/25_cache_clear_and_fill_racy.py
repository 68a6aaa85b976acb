# gilsafe corpus 25: cache (racy)
import threading

CACHE = {}

def refresh(key, value):
    CACHE.clear()  # expect: GS102
    CACHE[key] = value  # expect: GS102

threading.Thread(target=refresh, args=("a", 1)).start()

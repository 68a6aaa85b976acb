# gilsafe corpus 25: cache (fixed)
import threading

CACHE = {}
CACHE_LOCK = threading.Lock()

def refresh(key, value):
    with CACHE_LOCK:
        CACHE.clear()
        CACHE[key] = value

threading.Thread(target=refresh, args=("a", 1)).start()

# gilsafe corpus 28: cache (fixed)
import threading

LRU = {}
LRU_LOCK = threading.Lock()

def evict(key):
    with LRU_LOCK:
        LRU.pop(key, None)

threading.Thread(target=evict, args=("k",)).start()

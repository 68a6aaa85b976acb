# gilsafe corpus 28: cache (racy)
import threading

LRU = {}

def evict(key):
    del LRU[key]  # expect: GS102

threading.Thread(target=evict, args=("k",)).start()

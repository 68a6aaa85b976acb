# gilsafe corpus 02: lost update (fixed)
import threading

hits = 0
hits_lock = threading.RLock()

def hit():
    global hits
    with hits_lock:
        hits = hits + 1

threading.Thread(target=hit).start()
threading.Thread(target=hit).start()

# gilsafe corpus 15: lost update (fixed)
import threading

lock = threading.Lock()
served = 0

def serve():
    global served
    lock.acquire()
    try:
        served += 1
    finally:
        lock.release()

threading.Thread(target=serve).start()

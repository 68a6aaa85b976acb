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

for _ in range(2):
    threading.Thread(target=serve).start()

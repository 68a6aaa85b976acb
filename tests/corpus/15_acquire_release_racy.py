# gilsafe corpus 15: lost update (racy)
import threading

lock = threading.Lock()
served = 0

def serve():
    global served
    lock.acquire()
    lock.release()
    served += 1  # expect: GS101

for _ in range(2):
    threading.Thread(target=serve).start()

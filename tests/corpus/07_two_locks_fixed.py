# gilsafe corpus 07: lost update (fixed)
import threading

version_lock = threading.Lock()
version = 0

def reader_bump():
    global version
    with version_lock:
        version += 1

def writer_bump():
    global version
    with version_lock:
        version += 1

threading.Thread(target=reader_bump).start()
threading.Thread(target=writer_bump).start()

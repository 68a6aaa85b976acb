# gilsafe corpus 07: lost update (racy)
import threading

read_lock = threading.Lock()
write_lock = threading.Lock()
version = 0

def reader_bump():
    global version
    with read_lock:
        version += 1  # expect: GS101

def writer_bump():
    global version
    with write_lock:
        version += 1  # expect: GS101

threading.Thread(target=reader_bump).start()
threading.Thread(target=writer_bump).start()

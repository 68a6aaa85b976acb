# gilsafe corpus 14: lost update (fixed)
import threading

bytes_sent = 0
bytes_lock = threading.Lock()

def send(chunk):
    global bytes_sent
    with bytes_lock:
        bytes_sent = bytes_sent + len(chunk)

for _ in range(2):
    threading.Thread(target=lambda: send(b"abc")).start()

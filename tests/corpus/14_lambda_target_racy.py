# gilsafe corpus 14: lost update (racy)
import threading

bytes_sent = 0

def send(chunk):
    global bytes_sent
    bytes_sent = bytes_sent + len(chunk)  # expect: GS101

for _ in range(2):
    threading.Thread(target=lambda: send(b"abc")).start()

# gilsafe corpus 02: lost update (racy)
import threading

hits = 0

def hit():
    global hits
    hits = hits + 1  # expect: GS101

threading.Thread(target=hit).start()
threading.Thread(target=hit).start()

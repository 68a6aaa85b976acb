# gilsafe corpus 63: annotation (racy)
import threading

parts = []

def build(n):
    for i in range(n):
        parts.insert(0, i)  # expect: GS102

threading.Thread(target=build, args=(3,)).start()

# gilsafe corpus 19: check-then-act (racy)
import threading

tasks = list(range(100))

def drain():
    while True:
        if tasks:  # expect: GS103
            tasks.pop()
        else:
            break

threading.Thread(target=drain).start()
threading.Thread(target=drain).start()

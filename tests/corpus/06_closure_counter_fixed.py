# gilsafe corpus 06: lost update (fixed)
import threading

def run(n):
    done = 0
    lock = threading.Lock()

    def step():
        nonlocal done
        with lock:
            done += 1

    threads = [threading.Thread(target=step) for _ in range(n)]
    for t in threads:
        t.start()
    return done

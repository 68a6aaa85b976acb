# gilsafe corpus 06: lost update (racy)
import threading

def run(n):
    done = 0

    def step():
        nonlocal done
        done += 1  # expect: GS101

    threads = [threading.Thread(target=step) for _ in range(n)]
    for t in threads:
        t.start()
    return done

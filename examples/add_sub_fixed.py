"""The add/sub race of add_sub_race.py, fixed: both updates take the same lock."""

import threading

g = 0
g_lock = threading.Lock()


def add(n):
    global g
    for _ in range(n):
        with g_lock:
            g += 1


def sub(n):
    global g
    for _ in range(n):
        with g_lock:
            g -= 1


def trial(n=100_000):
    global g
    g = 0
    threads = [threading.Thread(target=add, args=(n,)), threading.Thread(target=sub, args=(n,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return g


if __name__ == "__main__":
    print("g =", trial())

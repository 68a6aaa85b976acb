"""The talk's slide 9-11 race (E2): one thread adds 1, another subtracts 1, n times each.

Racy: `g += 1` is read, add, store; a switch between the read and the store loses an update.
"""

import threading

g = 0


def add(n):
    global g
    for _ in range(n):
        g += 1


def sub(n):
    global g
    for _ in range(n):
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
    print("g =", trial(), "(0 when no update was lost)")

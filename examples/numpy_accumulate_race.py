"""Four threads add into one shared NumPy array in place (GS301), while a fifth reads it (GS302).

NumPy gives the GIL up inside `total += chunk` for arrays this size, so the threads' loops run at
the same time: two of them load an element, both add, both store, and one addition is lost.
"""

import threading

import numpy as np

SIZE = 1_000_000
total = np.zeros(SIZE)
means = []


def accumulate(chunk, repeats):
    global total
    for _ in range(repeats):
        total += chunk


def monitor(samples):
    for _ in range(samples):
        means.append(total.mean())  # reads the array while the others write it


def trial(workers=4, repeats=50):
    """Elements that ended up short of workers * repeats: lost updates."""
    total[:] = 0
    threads = [threading.Thread(target=accumulate, args=(np.ones(SIZE), repeats)) for _ in range(workers)]
    threads.append(threading.Thread(target=monitor, args=(20,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return int((total < workers * repeats).sum())


if __name__ == "__main__":
    for _ in range(3):
        print(f"elements short of the expected total: {trial()}")

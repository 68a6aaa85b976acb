"""The fix for numpy_accumulate_race.py: each thread adds into its own array, and the partial
sums are added up after join(); the monitor reads only what the threads have finished."""

import threading

import numpy as np

SIZE = 1_000_000


def accumulate(partial, chunk, repeats):
    for _ in range(repeats):
        partial += chunk  # this thread's own array


def trial(workers=4, repeats=50):
    """Elements that ended up short of workers * repeats (always 0 here)."""
    partials = [np.zeros(SIZE) for _ in range(workers)]
    threads = [threading.Thread(target=accumulate, args=(partials[i], np.ones(SIZE), repeats)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = np.sum(partials, axis=0)
    return int((total < workers * repeats).sum())


if __name__ == "__main__":
    for _ in range(3):
        print(f"elements short of the expected total: {trial()}")

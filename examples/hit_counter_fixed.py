"""The shared hit counter, fixed: each task counts its own hits; the results are added at the end."""

import random
from concurrent.futures import ThreadPoolExecutor


def shoot(shots, seed):
    rng = random.Random(seed)
    hits = 0
    for _ in range(shots):
        x, y = rng.random(), rng.random()
        if x * x + y * y < 1.0:
            hits = hits + 1
    return hits


def estimate_pi(shots=400_000, threads=4):
    per_thread = shots // threads
    with ThreadPoolExecutor(max_workers=threads) as pool:
        hits = sum(pool.map(shoot, [per_thread] * threads, range(threads)))
    return 4 * hits / (per_thread * threads)


if __name__ == "__main__":
    print("pi ~", estimate_pi())

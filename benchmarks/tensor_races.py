"""Lost in-place updates on one shared tensor from several threads (what GS301/GS303 warn about),
per backend and, on a GPU, per stream arrangement.

    python benchmarks/tensor_races.py [--threads 4] [--repeats 50] [--size 1000000] [--trials 3]

Each trial: N threads each add 1 to every element of one shared array `repeats` times, in place.
Prints, per trial, how many elements ended short of N * repeats (0: no update lost). Backends
that are not installed, or have no GPU here, are printed as skipped.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable


def run_threads(threads: int, work: Callable[[int], None]) -> None:
    started = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()


def numpy_cpu(threads: int, repeats: int, size: int) -> int:
    import numpy as np

    shared, one = np.zeros(size), np.ones(size)

    def work(_):
        nonlocal shared
        for _ in range(repeats):
            shared += one

    run_threads(threads, work)
    return int((shared < threads * repeats).sum())


def torch_on(device: str, stream_per_thread: bool) -> Callable[[int, int, int], int]:
    def trial(threads: int, repeats: int, size: int) -> int:
        import torch

        shared = torch.zeros(size, device=device)
        one = torch.ones(size, device=device)
        if device == "cuda":
            torch.cuda.synchronize()

        def work(_):
            if stream_per_thread:
                with torch.cuda.stream(torch.cuda.Stream()):
                    for _ in range(repeats):
                        shared.add_(one)
                    torch.cuda.current_stream().synchronize()
            else:
                for _ in range(repeats):
                    shared.add_(one)

        run_threads(threads, work)
        if device == "cuda":
            torch.cuda.synchronize()
        return int((shared < threads * repeats).sum().item())

    return trial


def cupy_on(stream_per_thread: bool) -> Callable[[int, int, int], int]:
    def trial(threads: int, repeats: int, size: int) -> int:
        import cupy as cp

        shared, one = cp.zeros(size), cp.ones(size)
        cp.cuda.Device().synchronize()

        def work(_):
            if stream_per_thread:
                stream = cp.cuda.Stream(non_blocking=True)
                with stream:
                    for _ in range(repeats):
                        shared.__iadd__(one)
                stream.synchronize()
            else:
                for _ in range(repeats):
                    shared.__iadd__(one)

        run_threads(threads, work)
        cp.cuda.Device().synchronize()
        return int((shared < threads * repeats).sum())

    return trial


def availability(name: str) -> str:
    """Empty when the backend can run here, else why not."""
    try:
        if name.startswith("numpy"):
            import numpy  # noqa: F401
        elif name.startswith("torch"):
            import torch

            if "cuda" in name and not torch.cuda.is_available():
                return "no CUDA device"
        elif name.startswith("cupy"):
            import cupy

            if cupy.cuda.runtime.getDeviceCount() < 1:
                return "no CUDA device"
    except ImportError:
        return "not installed"
    except Exception as error:  # a CUDA runtime without a device raises its own errors
        return f"no CUDA device ({type(error).__name__})"
    return ""


CASES = {
    "numpy cpu": numpy_cpu,
    "torch cpu": torch_on("cpu", False),
    "torch cuda, default stream": torch_on("cuda", False),
    "torch cuda, a stream per thread": torch_on("cuda", True),
    "cupy, default stream": cupy_on(False),
    "cupy, a stream per thread": cupy_on(True),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.threads} threads x {args.repeats} in-place adds of 1 on one shared array of {args.size:,} elements")
    print(f"{'backend':<34} elements short of {args.threads * args.repeats}, per trial")
    for name, trial in CASES.items():
        why_not = availability(name)
        if why_not:
            print(f"{name:<34} skipped: {why_not}")
            continue
        shorts = [trial(args.threads, args.repeats, args.size) for _ in range(args.trials)]
        print(f"{name:<34} " + "  ".join(f"{short:,}" for short in shorts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

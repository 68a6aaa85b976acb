"""Does a callable release the GIL? Ask a ticker thread.

While the callable runs in this thread, a pure-Python ticker thread counts. With the switch interval
raised out of reach, the ticker can only run when this thread gives the GIL up by itself: ticks that
happen during a call mean the call released the GIL (numba's test_gil.py uses the same idea).

The ticker needs some microseconds to wake up, so a call that releases the GIL for less than that
(NumPy releases it for loops over 500 elements, a microsecond's work) can read as holding it: the
verdict is what was observed, and the table shows the time per call to judge by.
"""

from __future__ import annotations

import importlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

RELEASES = "releases the GIL"
HOLDS = "holds the GIL"
NO_GIL = "no GIL to release"


@dataclass(frozen=True)
class ProbeRow:
    size: float
    calls: int
    calls_with_ticks: int
    ticks: int
    seconds_per_call: float
    verdict: str

    def as_dict(self) -> dict:
        return asdict(self)


class _Ticker(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True, name="gilsafe-probe-ticker")
        self.ticks = 0
        self.stop = False
        self.started_ticking = threading.Event()

    def run(self) -> None:
        self.started_ticking.set()
        while not self.stop:
            self.ticks += 1
            time.sleep(0)  # hand the GIL back at once: the probed thread must never wait on us


def resolve(dotted: str) -> Callable:
    """`numpy.add`, `numpy.ndarray.sum`, `time.sleep`, `package.module:function`."""
    if ":" in dotted:
        module_name, _, attribute_path = dotted.partition(":")
        target = importlib.import_module(module_name)
        for part in attribute_path.split("."):
            target = getattr(target, part)
        return target
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            target = getattr(target, part)
        return target
    raise ImportError(f"cannot import {dotted!r}")


def array_arguments(dotted: str, function: Callable, size: int, dtype: str, count: int | None, device: str = "cpu") -> list:
    """`count` arrays of `size` elements made by the function's own library (NumPy, torch on
    `device`, CuPy on the current GPU)."""
    library = dotted.split(".")[0].split(":")[0]
    if count is None:
        count = getattr(function, "nin", 1)
    if library == "torch":
        import torch

        return [torch.rand(int(size), dtype=getattr(torch, dtype), device=device) for _ in range(count)]
    if library == "cupy":
        import cupy

        return [cupy.random.random(int(size)).astype(dtype) for _ in range(count)]
    import numpy

    rng = numpy.random.default_rng(0)
    return [(rng.random(int(size)) + 0.5).astype(dtype) for _ in range(count)]


def gil_is_enabled() -> bool:
    return getattr(sys, "_is_gil_enabled", lambda: True)()


def probe(function: Callable, arguments: Sequence, *, seconds: float = 0.2, max_calls: int = 2000, min_calls: int = 5) -> tuple[int, int, int, float]:
    """Call `function(*arguments)` repeatedly with the ticker running: (calls, calls with ticks,
    ticks during calls, seconds per call)."""
    function(*arguments)  # warm up: first-call costs (imports, compiling) are not the callable
    ticker = _Ticker()
    old_interval = sys.getswitchinterval()
    ticker.start()
    ticker.started_ticking.wait()
    sys.setswitchinterval(1000.0)  # this thread is never asked to hand the GIL over
    calls = with_ticks = ticks = 0
    spent = 0.0
    try:
        deadline = time.perf_counter() + seconds
        while calls < max_calls and (calls < min_calls or time.perf_counter() < deadline):
            before = ticker.ticks
            start = time.perf_counter()
            function(*arguments)
            spent += time.perf_counter() - start
            after = ticker.ticks
            calls += 1
            if after > before:
                with_ticks += 1
                ticks += after - before
    finally:
        sys.setswitchinterval(old_interval)
        ticker.stop = True
        ticker.join()
    return calls, with_ticks, ticks, spent / max(calls, 1)


def probe_sizes(
    dotted: str,
    sizes: Sequence[float],
    *,
    dtype: str = "float64",
    arguments: int | None = None,
    scalar: bool = False,
    seconds: float = 0.2,
    device: str = "cpu",
) -> list[ProbeRow]:
    function = resolve(dotted)
    rows = []
    for size in sizes:
        args = [size] if scalar else array_arguments(dotted, function, int(size), dtype, arguments, device)
        calls, with_ticks, ticks, per_call = probe(function, args, seconds=seconds)
        if not gil_is_enabled():
            verdict = NO_GIL
        else:
            verdict = RELEASES if with_ticks else HOLDS
        rows.append(ProbeRow(size, calls, with_ticks, ticks, per_call, verdict))
    return rows


def library_version(dotted: str) -> str:
    root = dotted.split(".")[0].split(":")[0]
    module = sys.modules.get(root)
    return getattr(module, "__version__", "") if module is not None else ""


def format_rows(dotted: str, rows: Sequence[ProbeRow], *, dtype: str, scalar: bool, device: str = "cpu") -> str:
    library = dotted.split(".")[0]
    version = library_version(dotted)
    described = "the size as its argument" if scalar else f"{dtype} arrays" + (f" on {device}" if device != "cpu" else "")
    gil = "GIL enabled" if gil_is_enabled() else "free-threaded, GIL disabled"
    context = [f"{library} {version}"] if version else []
    context += [f"Python {sys.version.split()[0]}", gil]
    lines = [
        f"gilsafe probe {dotted} ({described}; {', '.join(context)})",
        f"{'size':>12}  {'calls':>6}  {'calls with ticks':>16}  {'ticks':>7}  {'time/call':>11}  verdict",
    ]
    for row in rows:
        size = f"{row.size:,.0f}" if float(row.size).is_integer() else f"{row.size:g}"
        lines.append(
            f"{size:>12}  {row.calls:>6}  {row.calls_with_ticks:>16}  {row.ticks:>7}  {_duration(row.seconds_per_call):>11}  {row.verdict}"
        )
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"

"""Everything about the interpreter and machine that changes a stress result."""

from __future__ import annotations

import importlib
import os
import platform
import sys
import sysconfig

LIBRARIES = ("numpy", "numba", "llvmlite", "torch", "tensorflow", "cupy", "dask", "distributed")


def gil_enabled() -> bool:
    """False only on a free-threaded build whose GIL is really off (an extension can turn it back on)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def free_threaded_build() -> bool:
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _version(name: str) -> str | None:
    module = sys.modules.get(name)
    if module is None:
        try:
            from importlib.metadata import PackageNotFoundError, version
        except ImportError:  # pragma: no cover
            return None
        try:
            return version(name if name != "cupy" else "cupy-cuda12x")
        except PackageNotFoundError:
            return None
    return getattr(module, "__version__", None)


def capture(import_libraries: bool = False) -> dict:
    """The environment. With import_libraries, also facts that need an import (numba's layer, BLAS)."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    data = {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "switch_interval_s": sys.getswitchinterval(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "libraries": {name: _version(name) for name in LIBRARIES},
        "blas_threads_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ},
        "cupy_per_thread_default_stream": os.environ.get("CUPY_CUDA_PER_THREAD_DEFAULT_STREAM", "0") == "1",
        "gpus": gpus(),
    }
    if import_libraries:
        data.update(_imported_facts())
        data["gil_enabled_after_imports"] = gil_enabled()
    return data


def cores_of(environment: dict) -> int:
    """The usable cores a captured environment records (the M of min(N threads, M cores))."""
    return environment.get("cpu_affinity") or environment.get("cpu_count") or 1


def gpus() -> list[dict]:
    """NVIDIA devices with their driver and CUDA versions, from nvidia-smi (no library import)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=20,
        ).stdout
        header = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    cuda = header.split("CUDA Version:")[1].split()[0] if "CUDA Version:" in header else None
    found = []
    for line in listing.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            found.append({"name": parts[0], "driver": parts[1], "memory": parts[2], "cuda": cuda})
    return found


def _imported_facts() -> dict:
    facts: dict = {}
    try:
        import numba

        facts["numba_threading_layer_config"] = numba.config.THREADING_LAYER
        facts["numba_num_threads"] = numba.config.NUMBA_NUM_THREADS
    except Exception:
        pass
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
        import numpy  # noqa: F401  (loads the BLAS threadpoolctl reports on)

        facts["blas"] = [
            {"api": p.get("internal_api"), "num_threads": p.get("num_threads"), "version": p.get("version")}
            for p in threadpoolctl.threadpool_info()
        ]
    except Exception:
        pass
    return facts


# -- what the machine is doing: read at each cell, not once per run ---------------------------------


def load_average() -> float | None:
    """The 1-minute load average; None where the system does not say."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def cpu_governor() -> str | None:
    """The CPU frequency governor ("performance", "powersave", ...) where /sys shows it; several: joined."""
    from pathlib import Path

    found = set()
    for path in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor"):
        try:
            found.add(path.read_text().strip())
        except OSError:
            continue
    return ",".join(sorted(found)) or None


def busy_cpu_seconds() -> float | None:
    """CPU seconds every process on the machine has spent busy since boot (Linux /proc/stat), steal included."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(value) for value in fields[1:9]]  # user nice system idle iowait irq softirq steal
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")

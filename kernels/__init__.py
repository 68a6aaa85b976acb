"""Stress backends, one module each; installed as `gilsafe.kernels`.

Every backend module offers the same interface:

- `NAME`, and `RELEASES_GIL`: what it releases the GIL for (one line);
- `PACKAGES`: the third-party packages its kernels import;
- `available() -> (bool, reason)`: whether it can run here, and why not, without importing a heavy
  package where it can (the worker imports PACKAGES before a cell runs);
- `pi_hits(n, seed)`: the talk's pi kernel as its appendix writes it (hits in the unit circle);
- `pi_hits_tuned(n, seed)`: a kernel aiming at the machine's limit (independent stream per seed);
- `count_ones(n)`: E12's count kernel (`count_nonzero` of n ones), where the backend has one.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

BACKENDS = {
    "python": "pure_python",
    "numpy": "numpy_kernels",
    "numba": "numba_kernels",
    "cext": "cext",
    "torch": "torch_kernels",
    "tensorflow": "tensorflow_kernels",
    "cupy": "cupy_kernels",
    "numba-cuda": "numba_cuda_kernels",
    "dask": "dask_kernels",
}


def load(name: str) -> ModuleType:
    """The backend module for a name in BACKENDS (importing it imports no heavy library)."""
    return importlib.import_module(f"{__name__}.{BACKENDS[name]}")


def installed(package: str) -> tuple[bool, str]:
    """(available, reason) from the import system's finders alone: importing torch or tensorflow
    only to ask made `gilsafe stress --list` take 7-11 s instead of under 1 s."""
    try:
        found = importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        found = False
    return (True, "") if found else (False, f"{package}: not installed")


def missing(package: str) -> tuple[bool, str]:
    """(available, reason) for a backend that needs `package`, by importing it: a cell's last check."""
    try:
        importlib.import_module(package)
    except ImportError:
        return False, f"{package}: not installed"
    except Exception as error:  # a broken install is as unavailable as a missing one
        return False, f"{package}: import failed: {type(error).__name__}: {error}"
    return True, ""

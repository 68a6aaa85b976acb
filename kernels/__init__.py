"""Stress backends, one module each; installed as `gilsafe.kernels`.

Every backend module offers the same interface:

- `NAME`, and `RELEASES_GIL`: what it releases the GIL for (one line);
- `available() -> (bool, reason)`: whether it can run here, and why not;
- `pi_hits(n, seed)`: the talk's pi kernel as its appendix writes it (hits in the unit circle);
- `pi_hits_tuned(n, seed)`: a kernel aiming at the machine's limit (independent stream per seed);
- `count_ones(n)`: E12's count kernel (`count_nonzero` of n ones), where the backend has one.
"""

from __future__ import annotations

import importlib
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


def missing(package: str) -> tuple[bool, str]:
    """(available, reason) for a backend that needs `package`."""
    try:
        importlib.import_module(package)
    except ImportError:
        return False, f"{package}: not installed"
    except Exception as error:  # a broken install is as unavailable as a missing one
        return False, f"{package}: import failed: {type(error).__name__}: {error}"
    return True, ""

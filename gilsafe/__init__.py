"""gilsafe: is threaded Python code safe, and do threads make it faster?

`thread_safe`, `thread_confined` and `requires_lock` are annotations for `gilsafe lint`: they
return what they decorate unchanged, so they cost nothing at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__version__ = "0.1.0"

__all__ = ["__version__", "requires_lock", "thread_confined", "thread_safe"]

_T = TypeVar("_T")


def thread_safe(obj: _T) -> _T:
    """Declare a class (or function) as public API that many threads call at once: lint treats
    each public method as running in its own threads, concurrently with the others."""
    return obj


def thread_confined(obj: _T) -> _T:
    """Mark a function (or class) as run by one thread at a time: lint reports nothing inside it
    (for a class: its instances' attributes are not shared)."""
    return obj


def requires_lock(lock: str) -> Callable[[_T], _T]:
    """Mark a function as always called with `lock` held (e.g. "_lock" for `self._lock`): lint
    treats its body as guarded by that lock."""

    def mark(function: _T) -> _T:
        return function

    return mark

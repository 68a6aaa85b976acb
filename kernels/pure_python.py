"""Pure Python: every operation holds the GIL, so threads take turns."""

from __future__ import annotations

import random

NAME = "python"
RELEASES_GIL = "nothing: bytecode runs under the GIL (threads interleave, never overlap)"
PACKAGES: tuple[str, ...] = ()  # no third-party package


def available() -> tuple[bool, str]:
    return True, ""


def pi_hits(n: int, seed: int) -> int:
    """The talk's appendix form: the module-level random (one shared generator)."""
    h = 0
    for _ in range(n):
        x = random.random()
        y = random.random()
        r2 = x * x + y * y
        if r2 <= 1.0:
            h += 1
    return h


def pi_hits_tuned(n: int, seed: int) -> int:
    """A private generator with its method bound to a local: no shared state, fewer lookups."""
    draw = random.Random(seed).random
    hits = 0
    for _ in range(n):
        x = draw()
        y = draw()
        if x * x + y * y <= 1.0:
            hits += 1
    return hits


def count_nonzero_loop(values) -> int:
    """E13's rewrite of count_nonzero as a Python loop."""
    count = 0
    for value in values:
        if value != 0:
            count += 1
    return count

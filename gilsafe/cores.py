"""How many cores this process may run on: lint sizes its worker pool by it, stress holds
speed-ups against min(N threads, M cores) with it."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """This process's share (a container's or `taskset`'s), not the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)

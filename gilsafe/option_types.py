"""argparse types shared by every subcommand's options (lint's and probe's in gilsafe.arguments,
stress's in gilsafe.stress.cli): a bad number is one usage line, never a traceback."""

from __future__ import annotations

import argparse
import math


def positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of 1 or more")
    return number


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{value!r}: give a number of seconds above 0")
    return seconds

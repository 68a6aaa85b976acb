"""Targets for `gilsafe stress module:function` in the tests: racy, safe, crashing and hanging code."""

import ctypes
import threading
import time


INCREMENTS = 200_000  # long enough (tens of ms) that the GIL's 5 ms switch interval falls inside


class Counter:
    def __init__(self):
        self.n = 0
        self.lock = threading.Lock()


def make_counter():
    return Counter()


def _pause():
    """A Python call: the interpreter may switch threads on entering it."""


def racy_increment(counter):
    for _ in range(INCREMENTS):
        value = counter.n
        _pause()  # between the read and the write
        counter.n = value + 1


def locked_increment(counter):
    for _ in range(INCREMENTS):
        with counter.lock:
            value = counter.n
            _pause()
            counter.n = value + 1


def expect_all_increments(counter):
    expected = INCREMENTS * THREADS
    assert counter.n == expected, f"lost {expected - counter.n} increments"


THREADS = 4  # the tests run these targets with --threads 4


def final_count(counter):
    """A value check: the trial's outcome is the count itself."""
    return counter.n


def segfault(state=None):
    ctypes.string_at(0)


def hang(state=None):
    time.sleep(3600)


def raises(state=None):
    raise RuntimeError("boom")

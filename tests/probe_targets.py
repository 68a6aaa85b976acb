"""Callables for `gilsafe probe` tests: one that holds the GIL throughout."""


def spin(n):
    """A pure-Python loop: it never gives the GIL up by itself."""
    total = 0
    for i in range(int(n)):
        total += i
    return total

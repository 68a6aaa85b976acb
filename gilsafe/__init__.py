"""gilsafe: is threaded Python code safe, and do threads make it faster?"""

__version__ = "0.1.0"

__all__ = ["__version__"]

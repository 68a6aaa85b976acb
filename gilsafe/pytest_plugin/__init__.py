"""gilsafe's pytest plugin: run each test's body in many threads and report races apart from failures.

The entry point is `gilsafe.pytest_plugin.plugin` (pytest11 name `gilsafe`). This package imports
nothing on purpose: pytest loads the plugin in every run, and it must cost nothing until asked for.
The thread runner and its result record live in `gilsafe.pytest_plugin.threaded`, the
single-threaded fallbacks in `gilsafe.pytest_plugin.single`.
"""

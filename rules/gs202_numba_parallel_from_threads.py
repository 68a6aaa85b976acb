"""GS202: a numba `parallel=True` function called from thread-run code."""

from __future__ import annotations

import libcst as cst

from gilsafe.model import THREAD_MODULES
from gilsafe.rule import BOTH, Invalid, Rule, Valid
from gilsafe.rules.gs201_numba_nogil_not_guaranteed import JIT_DECORATORS

# Threading layers that are safe to enter from several threads at once.
THREADSAFE_LAYERS = frozenset({"tbb", "omp", "safe", "threadsafe"})


class NumbaParallelFromThreads(Rule):
    code = "GS202"
    name = "numba-parallel-from-threads"
    summary = "A numba parallel=True function is called from thread-run code: the workqueue layer aborts on concurrent use."
    when = BOTH
    interesting_modules = frozenset({"numba"})
    needs_thread_entries = True
    docs = """
    ## What it does
    Finds calls, from code that runs in a thread, of a function of the module compiled with
    `@jit(parallel=True)` / `@njit(parallel=True)` (or such a function started as the thread target),
    unless the module picks a thread-safe threading layer (`numba.config.THREADING_LAYER = "tbb"`,
    `"omp"`, `"safe"` or `"threadsafe"`, or sets `NUMBA_THREADING_LAYER` in `os.environ`).

    ## Why is this bad?
    A `parallel=True` function runs its loop on numba's own thread pool, the threading layer. numba
    picks TBB, then OpenMP, then its own `workqueue` layer, whichever is installed; `workqueue` is
    not thread-safe: when two Python threads enter parallel regions at once it prints
    "Numba workqueue threading layer is terminating: Concurrent access has been detected" and aborts
    the whole process. Whether a machine has TBB or OpenMP is a deployment accident, so the code works
    on one machine and kills the process on another.

    ## Example
    ```python
    import threading
    import numpy as np
    from numba import njit, prange

    @njit(parallel=True)
    def total(a):
        s = 0.0
        for i in prange(a.shape[0]):
            s += a[i]
        return s

    threading.Thread(target=total, args=(np.ones(10),)).start()
    ```

    ## Use instead
    ```python
    import numba
    numba.config.THREADING_LAYER = "threadsafe"  # TBB or OpenMP; an error at first use if neither
    ```
    or call parallel functions from one thread only (numba already spreads the loop over cores).

    ## Fix safety
    No automatic fix: which layer is installed is the deployment's choice.

    ## Runtime evidence
    tests/test_rule_evidence.py runs two Python threads calling a `parallel=True` function with
    `NUMBA_THREADING_LAYER=workqueue` and asserts the process aborts with numba's "Concurrent access
    has been detected" message, and that the same script with `omp` (where installed) finishes.
    """

    VALID = [
        Valid(
            """
            import threading
            import numba
            from numba import njit, prange
            numba.config.THREADING_LAYER = "threadsafe"
            @njit(parallel=True)
            def total(a):
                s = 0.0
                for i in prange(a.shape[0]):
                    s += a[i]
                return s
            threading.Thread(target=total, args=([1.0],)).start()
            """
        ),
        Valid(
            """
            import threading
            from numba import njit
            @njit(nogil=True)
            def total(a):
                return a.sum()  # not parallel: no threading layer involved
            threading.Thread(target=total, args=([1.0],)).start()
            """
        ),
        Valid(
            """
            from numba import njit, prange
            @njit(parallel=True)
            def total(a):
                s = 0.0
                for i in prange(a.shape[0]):
                    s += a[i]
                return s
            total([1.0])  # from the main thread only
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            from numba import njit, prange
            @njit(parallel=True)
            def total(a):
                s = 0.0
                for i in prange(a.shape[0]):
                    s += a[i]
                return s
            threading.Thread(target=total, args=([1.0],)).start()
            """,
            line=3,
        ),
        Invalid(
            """
            import numba
            from concurrent.futures import ThreadPoolExecutor
            @numba.jit(nopython=True, parallel=True)
            def smooth(a):
                return a * 2
            def job(chunk):
                return smooth(chunk).sum()
            with ThreadPoolExecutor(4) as pool:
                pool.map(job, [[1.0], [2.0]])
            """,
            line=7,
        ),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._parallel: dict[cst.FunctionDef, cst.Decorator] = {}
        self._calls: list[cst.Call] = []
        self._layer_chosen = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            call = decorator.decorator
            if (
                isinstance(call, cst.Call)
                and self.model.qualified_names(call.func) & JIT_DECORATORS
                and any(a.keyword is not None and a.keyword.value == "parallel" and _is_true(a.value) for a in call.args)
            ):
                self._parallel[node] = decorator

    def visit_Call(self, node: cst.Call) -> None:
        self._calls.append(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        # numba.config.THREADING_LAYER = "tbb" / os.environ["NUMBA_THREADING_LAYER"] = "omp"
        value = node.value
        if not (isinstance(value, cst.SimpleString) and value.evaluated_value in THREADSAFE_LAYERS):
            return
        for target in node.targets:
            code = self.model.code_for(target.target)
            if code.endswith("THREADING_LAYER") or "NUMBA_THREADING_LAYER" in code:
                self._layer_chosen = True

    def finish(self) -> None:
        if self._layer_chosen or not self._parallel:
            return
        for function, decorator in self._parallel.items():
            site = self.model.entries.get(function)
            if site is not None and function in self.model.started_directly:
                self.report(decorator, self._message(function), entry=self.model.describe(site))
        for call in self._calls:
            site = self.model.entry_site(call)
            if site is None:
                continue
            called = [f for f in self.model.callables(call.func) if f in self._parallel]
            if called:
                self.report(call, self._message(called[0]), entry=self.model.describe(site))

    @staticmethod
    def _message(function: cst.FunctionDef) -> str:
        return (
            f"`{function.name.value}` is compiled with parallel=True and runs in a thread: numba's `workqueue` "
            f"threading layer aborts the process when two threads enter parallel code at once; set "
            f"numba.config.THREADING_LAYER = \"threadsafe\" (TBB or OpenMP) or call it from one thread"
        )


def _is_true(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Name) and value.value == "True"

"""GS202: a numba `parallel=True` function called from thread-run code."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.calls import EventKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts

class NumbaParallelFromThreads(Rule):
    code = "GS202"
    name = "numba-parallel-from-threads"
    summary = "A numba parallel=True function is called from thread-run code: the workqueue layer aborts on concurrent use."
    when = BOTH
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

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        parallel = {f.id for f in module.functions if f.numba_parallel}
        if not parallel or self._layer_chosen(project, module):
            return
        for function in module.functions:
            if function.id in parallel and (contexts := project.contexts(function.id)):
                entry = min(contexts)
                if function.id in project.entries[entry].targets:
                    yield self.report(module, function.jit_anchor or function.anchor, self._message(function.name), trace=project.trace(function.id, entry))
        for site in module.calls:
            contexts = project.contexts(site.function)
            if not contexts:
                continue
            called = [f for f in project.callables(site.callee) if f in parallel]
            if called:
                yield self.report(module, site.anchor, self._message(project.functions[called[0]].name), trace=project.trace(site.function, min(contexts)))

    @staticmethod
    def _layer_chosen(project: ProjectFacts, module: ModuleSummary) -> bool:
        """A thread-safe layer chosen in this module, or in one that imports it or it imports."""
        return any(
            event.kind is EventKind.CHOOSES_THREADING_LAYER and project.imports_between(chooser, module)
            for chooser, event in project.events()
        )

    @staticmethod
    def _message(name: str) -> str:
        return (
            f"`{name}` is compiled with parallel=True and runs in a thread: numba's `workqueue` "
            f"threading layer aborts the process when two threads enter parallel code at once; set "
            f"numba.config.THREADING_LAYER = \"threadsafe\" (TBB or OpenMP) or call it from one thread"
        )

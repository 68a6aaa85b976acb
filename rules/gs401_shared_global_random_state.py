"""GS401: thread-run code drawing from the module-level random state (random.*, legacy np.random.*)."""

from __future__ import annotations

import libcst as cst

from gilsafe.model import THREAD_MODULES
from gilsafe.rule import BOTH, Invalid, Rule, Valid
from gilsafe.rules.gs201_numba_nogil_not_guaranteed import JIT_DECORATORS, compiles_in_object_mode

# Names in these modules that are not draws from the shared state: classes and per-instance makers.
NOT_SHARED = frozenset(
    {
        "random.Random",
        "random.SystemRandom",
        "numpy.random.default_rng",
        "numpy.random.Generator",
        "numpy.random.SeedSequence",
        "numpy.random.BitGenerator",
        "numpy.random.PCG64",
        "numpy.random.PCG64DXSM",
        "numpy.random.Philox",
        "numpy.random.SFC64",
        "numpy.random.MT19937",
        "numpy.random.RandomState",
    }
)
SHARED_MODULES = ("random.", "numpy.random.")


class SharedGlobalRandomState(Rule):
    code = "GS401"
    name = "shared-global-random-state"
    summary = "Thread-run code draws from the module-level random state (random.*, legacy np.random.*)."
    when = BOTH
    interesting_modules = THREAD_MODULES
    needs_thread_entries = True
    docs = """
    ## What it does
    Finds calls of the module-level functions of `random` (`random.random()`, `random.choice(...)`,
    `random.seed(...)`) and of NumPy's legacy `np.random` (`np.random.rand(n)`, `np.random.seed(...)`)
    in code that runs in a thread.

    ## Why is this bad?
    Those functions share one generator for the whole process. Threads take turns on its lock (or,
    free-threaded, contend for it), so the draws do not scale with threads; which thread gets which
    numbers depends on scheduling, so a seeded run is not reproducible; and one thread's `seed()`
    resets everybody's stream.

    ## Example
    ```python
    import random
    from concurrent.futures import ThreadPoolExecutor

    def shots(n):
        return sum(random.random() ** 2 + random.random() ** 2 <= 1 for _ in range(n))

    with ThreadPoolExecutor(4) as pool:
        hits = sum(pool.map(shots, [100_000] * 4))
    ```

    ## Use instead
    One generator per task, from independent seeds:
    ```python
    import random
    from concurrent.futures import ThreadPoolExecutor

    def shots(n, seed):
        draw = random.Random(seed).random
        return sum(draw() ** 2 + draw() ** 2 <= 1 for _ in range(n))

    with ThreadPoolExecutor(4) as pool:
        hits = sum(pool.map(shots, [100_000] * 4, range(4)))
    ```
    With NumPy: `np.random.default_rng(seed_sequence.spawn(n)[i])`.

    ## Fix safety
    No automatic fix: where the seeds come from is the program's decision.

    ## Runtime evidence
    Not a lost update, so no per-trial driver: `gilsafe stress --compare-interpreters` runs E4's
    pure-Python kernels, the talk's (module-level `random`) beside one with a private generator. On
    this project's 2-core machine, free-threaded 3.13t: 2 threads gave 1.02x with the shared state and
    1.89x with private generators, and the shared state cost twice as much per draw.
    """

    VALID = [
        Valid(
            """
            import numpy as np
            from concurrent.futures import ThreadPoolExecutor
            from numba import njit
            @njit(nogil=True)
            def noise(n):
                return np.random.rand(n)  # numba keeps one generator per thread
            with ThreadPoolExecutor() as pool:
                list(pool.map(noise, [5, 5]))
            """
        ),
        Valid(
            """
            import random
            import threading
            def worker(seed):
                rng = random.Random(seed)
                return rng.random()
            threading.Thread(target=worker, args=(1,)).start()
            """
        ),
        Valid(
            """
            import numpy as np
            from concurrent.futures import ThreadPoolExecutor
            def draw(seed):
                return np.random.default_rng(seed).random(10)
            with ThreadPoolExecutor() as pool:
                list(pool.map(draw, range(4)))
            """
        ),
        Valid(
            """
            import random
            def not_in_a_thread():
                return random.random()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random
            from concurrent.futures import ThreadPoolExecutor
            def shots(n):
                return sum(random.random() ** 2 + random.random() ** 2 <= 1 for _ in range(n))
            with ThreadPoolExecutor(4) as pool:
                pool.map(shots, [10] * 4)
            """,
            line=4,
        ),
        Invalid(
            """
            import threading
            import numpy as np
            def noise(n):
                np.random.seed(0)
                return np.random.rand(n)
            threading.Thread(target=noise, args=(5,)).start()
            """,
            line=4,
        ),
        Invalid(
            """
            import numpy as np
            from concurrent.futures import ThreadPoolExecutor
            from numba import jit
            @jit(nogil=True, forceobj=True)
            def noise(n):
                return np.random.rand(n)  # object mode calls NumPy's shared state
            with ThreadPoolExecutor() as pool:
                list(pool.map(noise, [5, 5]))
            """,
            line=6,
        ),
        Invalid(
            """
            import threading
            from random import choice
            def pick(items):
                return choice(items)
            threading.Thread(target=pick, args=([1, 2],)).start()
            """,
            line=4,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        names = self.model.qualified_names(node.func)
        shared = sorted(n for n in names if n.startswith(SHARED_MODULES) and n not in NOT_SHARED and n.count(".") == n.startswith("numpy.") + 1)
        if not shared:
            return
        site = self.model.entry_site(node)
        if site is None or self._in_nopython_numba(node):
            return
        called = self.model.code_for(node.func)
        instead = "`np.random.default_rng(seed)` per thread" if shared[0].startswith("numpy.") else "`random.Random(seed)` per thread"
        self.report(
            node,
            f"`{called}()` draws from the process-wide random state ({shared[0]}): threads serialise on it and "
            f"a seeded run is not reproducible; use {instead}",
            entry=self.model.describe(site),
        )

    def _in_nopython_numba(self, node: cst.CSTNode) -> bool:
        """numba's nopython code has its own generator per thread: np.random there is not shared."""
        function = self.model.enclosing_function(node)
        while function is not None:
            if isinstance(function, cst.FunctionDef):
                for decorator in function.decorators:
                    call = decorator.decorator
                    target = call.func if isinstance(call, cst.Call) else call
                    if self.model.qualified_names(target) & JIT_DECORATORS:
                        return not (isinstance(call, cst.Call) and compiles_in_object_mode(call))
            function = self.model.enclosing_function(function)
        return False

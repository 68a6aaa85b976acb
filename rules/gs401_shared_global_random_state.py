"""GS401: thread-run code drawing from the module-level random state (random.*, legacy np.random.*)."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint.rule import BOTH, Invalid, Quote, Report, Rule, Valid
from gilsafe.lint.summaries.calls import EventKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts

class SharedGlobalRandomState(Rule):
    code = "GS401"
    name = "shared-global-random-state"
    summary = "Thread-run code draws from the module-level random state (random.*, legacy np.random.*)."
    when = BOTH
    docs = """
    ## What it does
    Finds calls of the module-level functions of `random` (`random.random()`, `random.choice(...)`,
    `random.seed(...)`) and of NumPy's legacy `np.random` (`np.random.rand(n)`, `np.random.seed(...)`)
    in code that runs in a thread, in a program that asks for repeatable runs: it seeds the shared
    state with a value (`random.seed(42)`, `np.random.seed(args.seed)`), or its settings say
    `reproducible = true`. Jitter, sampling and test data in a program that never seeds, or that
    seeds from entropy (`random.seed()`, a seed made from `os.urandom`, the clock or the pid, as
    servers do after a fork), are fine and not reported.

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
        Valid(
            """
            import os
            import random
            import threading
            import time
            def reseed_after_fork():
                seed = int.from_bytes(os.urandom(16), "big") ^ int(time.time())
                random.seed(seed)  # entropy: the runs are meant to differ
            def backoff(delay):
                time.sleep(delay * (1 + random.random()))  # jitter
            reseed_after_fork()
            threading.Thread(target=backoff, args=(0.1,)).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import random
            from concurrent.futures import ThreadPoolExecutor
            random.seed(42)  # the program wants repeatable runs
            def shots(n):
                return sum(random.random() ** 2 + random.random() ** 2 <= 1 for _ in range(n))
            with ThreadPoolExecutor(4) as pool:
                pool.map(shots, [10] * 4)
            """,
            line=5,
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
            settings={"reproducible": True},
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
            settings={"reproducible": True},
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        if not (project.seeds_global_random(module) or project.settings.reproducible):
            return  # nobody asked for repeatable runs: jitter, test data and benchmarks are fine
        for event in module.events:
            if event.kind not in (EventKind.GLOBAL_RANDOM, EventKind.SEEDS_GLOBAL_RANDOM):
                continue
            contexts = project.contexts(event.function)
            if not contexts:
                continue
            facts = project.functions.get(event.function)
            if facts is not None and facts.numba_nopython:
                continue  # numba's nopython code keeps one generator per thread
            instead = "`np.random.default_rng(seed)` per thread" if event.detail.startswith("numpy.") else "`random.Random(seed)` per thread"
            yield self.report(
                module, event.anchor, "`", Quote(module.path, event.anchor, "code", 40), f"` uses the process-wide random state ({event.detail}) "
                f"in a program that seeds it for repeatable runs: threads take turns on it, so which thread gets which numbers "
                f"depends on scheduling and a seeded run does not repeat; use {instead}",
                trace=project.trace(event.function, min(contexts)),
            )

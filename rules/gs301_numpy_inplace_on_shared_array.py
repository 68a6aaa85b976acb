"""GS301: in-place NumPy work on a shared array from thread-run code outside a lock."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint import arrays
from gilsafe.lint.messages import code, state
from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts

LIBRARY = "numpy"


class NumpyInplaceOnSharedArray(Rule):
    code = "GS301"
    name = "numpy-inplace-on-shared-array"
    summary = "In-place NumPy work on a shared array in thread-run code outside a lock."
    when = BOTH
    docs = """
    ## What it does
    Finds in-place work on a NumPy array other threads can see, in code that runs in a thread and
    holds no lock: `a += b` (and every augmented operator), `a[i:j] = ...`, `out=a` arguments,
    `np.copyto(a, ...)`, `a.sort()`, `a.fill(...)`, `a.resize(...)`. gilsafe knows a name is an array
    when it was made by a NumPy constructor in the module (`np.zeros`, `np.empty`, `np.array`, ...) or is
    a parameter annotated `np.ndarray` / `NDArray[...]`.

    Not reported: slices chosen by the function's arguments (`a[lo:hi] += ...` with `lo`, `hi` from
    the thread's arguments), the usual way to give each thread its own part.

    ## Why is this bad?
    NumPy releases the GIL inside its loops over more than 500 elements (its source's threshold), so
    two threads' `a += b` run their loops at the same time: both read the old values of an element,
    both store, and one update is lost, on any build. `gilsafe probe numpy.add` measures it: the
    message quotes the data in `rules/gil_release.json`. `a.resize()` while another thread reads the
    array can crash the interpreter (the reader walks freed memory).

    ## Example
    ```python
    import threading
    import numpy as np

    total = np.zeros(1_000_000)

    def accumulate(chunk):
        global total
        total += chunk

    threading.Thread(target=accumulate, args=(np.ones(1_000_000),)).start()
    ```

    ## Use instead
    ```python
    total_lock = threading.Lock()

    def accumulate(chunk):
        with total_lock:
            np.add(total, chunk, out=total)
    ```
    or give each thread its own array (or its own slice) and sum them after `join()`.

    ## Fix safety
    No automatic fix.

    ## Options
    `lock-names`, `thread-entry-points`; `# gilsafe: guarded-by=LOCK` comments.

    ## Runtime evidence
    `gilsafe probe numpy.add --sizes 10,1000,1000000` shows the GIL released from 1,000 elements on;
    the data file records it for NumPy 2.2 and 2.4, and tests/test_probe.py re-probes a sample on every
    test run. `examples/numpy_accumulate_race.py` (four threads doing `total += chunk` on a shared
    million-element array) loses updates on hundreds of thousands of elements per trial on a 2-core
    machine, and tests/test_rule_evidence.py asserts it does while its fixed twin (one array per
    thread, summed after `join()`) never does.
    """

    VALID = [
        Valid(
            """
            import threading
            import numpy as np
            total = np.zeros(1_000_000)
            total_lock = threading.Lock()
            def accumulate(chunk):
                with total_lock:
                    np.add(total, chunk, out=total)
            threading.Thread(target=accumulate, args=(np.ones(1_000_000),)).start()
            """
        ),
        Valid(
            """
            import threading
            import numpy as np
            out = np.empty(1_000)
            def fill(lo, hi):
                out[lo:hi] = np.arange(lo, hi)  # each thread its own slice
            for i in range(4):
                threading.Thread(target=fill, args=(i * 250, (i + 1) * 250)).start()
            """
        ),
        Valid(
            """
            import threading
            import numpy as np
            def work(n):
                local = np.zeros(n)
                local += 1  # a fresh array: this thread's own
                return local.sum()
            threading.Thread(target=work, args=(10,)).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            import numpy as np
            total = np.zeros(1_000_000)
            def accumulate(chunk):
                global total
                total += chunk
            for _ in range(2):
                threading.Thread(target=accumulate, args=(np.ones(1_000_000),)).start()
            """,
            line=6,
        ),
        Invalid(
            """
            import numpy as np
            from concurrent.futures import ThreadPoolExecutor
            class Image:
                def __init__(self):
                    self.pixels = np.zeros((512, 512))
                def brighten(self, amount):
                    np.add(self.pixels, amount, out=self.pixels)
            img = Image()
            with ThreadPoolExecutor() as pool:
                pool.map(img.brighten, [1, 2])
            """,
            line=7,
        ),
        Invalid(
            """
            import threading
            import numpy as np
            buf = np.zeros(10)
            def grow():
                buf.resize(20, refcheck=False)
            def watch():
                return buf.sum()
            threading.Thread(target=grow).start()
            threading.Thread(target=watch).start()
            """,
            line=5,
        ),
        Invalid(
            """
            import threading
            import numpy as np
            def worker(acc: np.ndarray, data):
                acc[:] = data
            shared = np.zeros(3)
            threading.Thread(target=worker, args=(shared, [1, 2, 3])).start()
            threading.Thread(target=worker, args=(shared, [4, 5, 6])).start()
            """,
            line=4,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access, use, missing, trace in arrays.unguarded_writes(project, module, (LIBRARY,)):
            if use.how == ".resize()":
                why = "resizing frees the old buffer: a thread reading the array meanwhile reads freed memory and can crash the interpreter"
            else:
                why = (
                    f"NumPy releases the GIL inside loops over more than 500 elements "
                    f"(measured: {arrays.why_it_interleaves(use.call)}), so two threads' updates interleave and some are lost"
                )
            yield self.report(
                module, access.anchor, *code(module, access.anchor, 50), " changes the shared NumPy array ", *state(project, module, access),
                f" in place {missing}: {why}", trace=trace,
            )

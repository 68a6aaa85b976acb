"""GS302: a GIL-releasing NumPy call reads a shared array that other thread-run code writes."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint import arrays
from gilsafe.lint.messages import code, runner, state, trace_for, where
from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


class NumpyReadWhileWritten(Rule):
    code = "GS302"
    name = "numpy-read-while-written"
    summary = "A NumPy call that releases the GIL reads a shared array other thread-run code writes, with no common lock."
    when = BOTH
    docs = """
    ## What it does
    Finds, in thread-run code, NumPy calls and operators that read a shared array (`np.sum(a)`,
    `a.mean()`, `a @ b`, `np.sort(a)`, ...) while other thread-run code writes the same array in place
    (`a += ...`, `a[i:j] = ...`, `out=a`, `np.copyto(a, ...)`) and no lock is held by both. Only calls
    that the probe data (`rules/gil_release.json`) shows releasing the GIL are reported, and the
    message quotes what was measured.

    ## Why is this bad?
    The GIL does not order these two: the writer releases it inside its loop and so may the reader,
    so the reader sees part old, part new values (a sum of a half-updated array, a sort of a moving
    target). On a free-threaded build nothing orders them at all. Where a call holds the GIL (for
    example `np.count_nonzero` on float arrays from NumPy 2.3 on), it is not reported here.

    ## Example
    ```python
    import threading
    import numpy as np

    field = np.zeros(1_000_000)

    def step():
        field[:] = np.random.default_rng().random(field.size)

    def monitor():
        return field.mean()

    threading.Thread(target=step).start()
    threading.Thread(target=monitor).start()
    ```

    ## Use instead
    Take one lock around both the write and the read, or have the writer publish a new array with one
    assignment (`field = new`) and readers take a reference to whichever array is current.

    ## Fix safety
    No automatic fix.

    ## Options
    `lock-names`, `thread-entry-points`; `# gilsafe: guarded-by=LOCK` comments.

    ## Runtime evidence
    The verdicts come from `gilsafe probe` (ticker thread) and are re-probed on the installed NumPy
    by tests/test_probe.py; `numpy.count_nonzero` on float64 released the GIL with NumPy 2.2 and holds
    it with 2.4, which the data records and this rule follows.
    """

    VALID = [
        Valid(
            """
            import threading
            import numpy as np
            field = np.zeros(1_000_000)
            field_lock = threading.Lock()
            def step():
                with field_lock:
                    field[:] = 1.0
            def monitor():
                with field_lock:
                    return field.mean()
            threading.Thread(target=step).start()
            threading.Thread(target=monitor).start()
            """
        ),
        Valid(
            """
            import threading
            import numpy as np
            table = np.arange(1_000_000.0)
            def lookup():
                return table.sum()  # nothing running in a thread writes table
            threading.Thread(target=lookup).start()
            """
        ),
        Valid(
            """
            import threading
            import numpy as np
            field = np.zeros(1_000_000)
            def step():
                field[:] = 1.0
            def monitor():
                return np.count_nonzero(field)  # holds the GIL from NumPy 2.3 on (probed)
            threading.Thread(target=step).start()
            threading.Thread(target=monitor).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            import numpy as np
            field = np.zeros(1_000_000)
            def step():
                field[:] = 1.0
            def monitor():
                return field.mean()
            threading.Thread(target=step).start()
            threading.Thread(target=monitor).start()
            """,
            line=7,
        ),
        Invalid(
            """
            import numpy as np
            from concurrent.futures import ThreadPoolExecutor
            weights = np.ones(4096)
            def train(grad):
                global weights
                weights -= grad
            def predict(x):
                return np.dot(weights, x)
            with ThreadPoolExecutor() as pool:
                pool.submit(train, np.ones(4096))
                pool.submit(predict, np.ones(4096))
            """,
            line=8,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for access, use, (other_module, written), overlap in arrays.reads_while_written(project, module, ("numpy",)):
            yield self.report(
                module, access.anchor, *code(module, access.anchor), " reads ", *state(project, module, access), " while ",
                *code(other_module, written.anchor), " (", where(other_module.path, written.anchor),
                f", run by {runner(project, overlap.second)}) writes it, with no lock held by both: "
                f"{arrays.why_it_interleaves(use.call)}, so the read can see a half-done write",
                trace=trace_for(project, access, overlap),
            )

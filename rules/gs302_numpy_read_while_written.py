"""GS302: a GIL-releasing NumPy call reads a shared array that other thread-run code writes."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from gilsafe import arrays
from gilsafe.model import EntrySite, clip
from gilsafe.rule import BOTH, Invalid, Rule, Valid


@dataclass(frozen=True)
class _Site:
    access: arrays.ArrayAccess
    locks: frozenset[str]
    entry: EntrySite


class ArrayReadWhileWritten(Rule):
    """GS302 for NumPy; GS303 subclasses it for torch and CuPy."""

    code = "GS302"
    name = "numpy-read-while-written"
    summary = "A NumPy call that releases the GIL reads a shared array other thread-run code writes, with no common lock."
    when = BOTH
    interesting_modules = frozenset({"numpy"})
    needs_thread_entries = True
    libraries = frozenset({"numpy"})
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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._reads: list[_Site] = []
        self._writes: list[_Site] = []

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._note(node)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._note(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._note(node)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._note(node)

    def _note(self, node: cst.CSTNode) -> None:
        site = None
        for access in arrays.writes(self.model, node):
            if access.library in self.libraries:
                site = site or self.model.entry_site(node)
                if site is None:
                    return
                self._writes.append(_Site(access, self.model.guarding_locks(node), site))
        for access in arrays.reads(self.model, node):
            if access.library in self.libraries:
                site = site or self.model.entry_site(node)
                if site is None:
                    return
                self._reads.append(_Site(access, self.model.guarding_locks(node), site))

    def finish(self) -> None:
        reported = set()
        for read in self._reads:
            if read.access.node in reported:
                continue
            for write in self._writes:
                if write.access.state.key.removesuffix("[]") != read.access.state.key.removesuffix("[]"):
                    continue
                if write.access.node is read.access.node or read.locks & write.locks:
                    continue
                if read.access.partitioned and write.access.partitioned:
                    continue  # each thread reads and writes its own slice
                line = self.model.position(write.access.node).start.line
                self.report(
                    read.access.node,
                    f"`{clip(self.model.code_for(read.access.node), 40)}` reads {read.access.state.label} while "
                    f"`{clip(self.model.code_for(write.access.node), 40)}` (line {line}, run by {write.entry.description}) "
                    f"writes it, with no lock held by both: {arrays.why_it_interleaves(read.access.call)}, "
                    f"so the read can see a half-done write",
                    entry=self.model.describe(read.entry),
                )
                reported.add(read.access.node)
                break

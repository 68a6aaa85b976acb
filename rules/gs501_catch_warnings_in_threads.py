"""GS501: `warnings.catch_warnings()` in thread-run code."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.calls import EventKind
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts


class CatchWarningsInThreads(Rule):
    code = "GS501"
    name = "catch-warnings-in-threads"
    summary = "`warnings.catch_warnings()` in thread-run code changes the process-wide warning filters."
    when = BOTH
    docs = """
    ## What it does
    Finds `with warnings.catch_warnings():` (and calls of `warnings.catch_warnings`) in code that runs
    in a thread.

    ## Why is this bad?
    Before Python 3.14, `catch_warnings` saves the module-global `warnings.filters` (and
    `showwarning`) on entry and restores them on exit. Two threads doing it at once restore each other's
    saved state: filters one thread set leak into the other, or vanish, and `record=True` collects
    other threads' warnings. Python 3.14 adds context-aware warnings
    (`sys.flags.context_aware_warnings`, on by default only in free-threaded builds), which make the
    context manager thread-local; on GIL builds it stays off unless you pass `-X context_aware_warnings`.

    ## Example
    ```python
    import threading
    import warnings

    def load(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse(path)

    threading.Thread(target=load, args=("a.csv",)).start()
    ```

    ## Use instead
    Set the filters once, in the main thread, before starting threads
    (`warnings.filterwarnings("ignore", category=..., module=...)`), or run on 3.14 with
    `-X context_aware_warnings`.

    ## Fix safety
    No automatic fix.

    ## Runtime evidence
    The documented behaviour of `warnings.catch_warnings` ("not thread-safe" in the Python 3.13
    documentation) and the 3.14 context-aware-warnings change; no timing-dependent driver is kept
    because a lost filter shows only when two threads' enters and exits interleave in one order.
    """

    VALID = [
        Valid(
            """
            import threading
            import warnings
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            def load(path):
                return open(path).read()
            threading.Thread(target=load, args=("a.csv",)).start()
            """
        ),
        Valid(
            """
            import warnings
            def quiet():
                with warnings.catch_warnings():  # nothing runs this in a thread
                    warnings.simplefilter("ignore")
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            import warnings
            def load(path):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return open(path).read()
            for name in ("a.csv", "b.csv"):
                threading.Thread(target=load, args=(name,)).start()
            """,
            line=4,
        ),
        Invalid(
            """
            from concurrent.futures import ThreadPoolExecutor
            from warnings import catch_warnings
            def check(x):
                with catch_warnings(record=True) as seen:
                    return x, seen
            with ThreadPoolExecutor() as pool:
                pool.map(check, [1, 2])
            """,
            line=4,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        for event in module.events:
            if event.kind is not EventKind.CATCH_WARNINGS:
                continue
            contexts = project.contexts(event.function)
            if not contexts or not self._concurrent(project, event.function, contexts):
                continue
            yield self.report(
                module, event.anchor,
                "`warnings.catch_warnings()` saves and restores the process-wide warning filters: threads doing it at "
                "once undo each other's filters (thread-safe only with Python 3.14's context-aware warnings)",
                trace=project.trace(event.function, min(contexts)),
            )

    @staticmethod
    def _concurrent(project: ProjectFacts, function, contexts) -> bool:
        """Two threads can be inside catch_warnings at once: its code runs in several threads, or
        another thread entry reaches a catch_warnings too."""
        if any(project.entries[e].repeated for e in contexts) or len(contexts) > 1:
            return True
        mine = set(contexts)
        for _, other in project.events():
            if other.kind is EventKind.CATCH_WARNINGS and other.function != function and set(project.contexts(other.function)) - mine:
                return True
        return False

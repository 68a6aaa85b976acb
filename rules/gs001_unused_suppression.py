"""GS001: a suppression comment that suppresses nothing."""

from __future__ import annotations

from gilsafe.lint.rule import BOTH, Invalid, Rule, Valid


class UnusedSuppression(Rule):
    """Checked by the engine after every rule has run (gilsafe/engine.py: `unsuppressed`), since only
    then is it known which comments suppressed something; this class carries the docs and examples."""

    code = "GS001"
    name = "unused-suppression"
    summary = "A `# noqa: GS...` or `# gilsafe: ignore[...]` comment that suppresses nothing."
    when = BOTH
    docs = """
    ## What it does
    Finds `# noqa: GS101`, `# gilsafe: ignore[GS101]` and `# gilsafe: file-ignore[GS101]` comments
    naming an enabled gilsafe rule that reports nothing where the comment applies. A blanket `# noqa`
    is left alone (flake8, ruff and others read it too), and so are codes of rules not enabled in
    this run.

    ## Why is this bad?
    A stale suppression hides the next real finding on that line: the code was fixed, or moved, and
    the comment stayed. Removing it keeps suppressions meaning "I checked this one".

    ## Example
    ```python
    import threading
    import time

    def worker():
        time.sleep(1)  # noqa: GS101

    threading.Thread(target=worker).start()
    ```

    ## Use instead
    Delete the comment (or the code from it).

    ## Fix safety
    No automatic fix yet.

    ## Runtime evidence
    None needed: this rule is about gilsafe's own comments, not about threads.
    """

    VALID = [
        Valid(
            """
            import threading
            g = 0
            def worker():
                global g
                g += 1  # noqa: GS101
            for _ in range(2):
                threading.Thread(target=worker).start()
            """
        ),
        Valid(
            """
            import os  # noqa
            """
        ),
        Valid(
            """
            import threading
            import time
            def worker():
                time.sleep(1)  # noqa: GS101
            threading.Thread(target=worker).start()
            """,
            settings={"select": ["GS2"]},
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            import time
            def worker():
                time.sleep(1)  # noqa: GS101
            threading.Thread(target=worker).start()
            """,
            line=4,
        ),
        Invalid(
            """
            # gilsafe: file-ignore[GS401]
            import threading
            def worker():
                return 1
            threading.Thread(target=worker).start()
            """,
            line=1,
        ),
        Invalid(
            """
            total = 0  # gilsafe: ignore[GS101]
            """,
            line=1,
        ),
    ]

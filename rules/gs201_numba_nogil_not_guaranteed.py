"""GS201: numba `nogil=True` on a function that may compile in object mode, which holds the GIL."""

from __future__ import annotations

import libcst as cst

from gilsafe.lint.rule import BOTH, Invalid, SyntaxRule, Valid

JIT_DECORATORS = frozenset({"numba.jit", "numba.njit", "numba.core.decorators.jit", "numba.core.decorators.njit"})
# Before 0.59 a plain @jit fell back to object mode when nopython compilation failed.
FALLBACK_REMOVED_IN = (0, 59)
NO_SPACE = cst.SimpleWhitespace("")


class NumbaNogilNotGuaranteed(SyntaxRule):
    code = "GS201"
    name = "numba-nogil-not-guaranteed"
    summary = "numba `nogil=True` without a guaranteed nopython compile: object mode holds the GIL."
    when = BOTH
    interesting_imports = frozenset({"numba"})
    docs = """
    ## What it does
    Finds `@jit(nogil=True, ...)` (and `numba.jit(f, nogil=True, ...)`) that asks for object mode
    (`forceobj=True`, `nopython=False`) and, where the project targets numba older than 0.59
    (`numba-version` option), `@jit(nogil=True)` without `nopython=True`.

    ## Why is this bad?
    `nogil=True` only releases the GIL for code compiled in nopython mode. Object-mode code calls the
    CPython API and must hold the GIL, so threads that call the function run one at a time: the
    expected speed-up never comes (the talk's E13). Before numba 0.59, `@jit` silently fell back to
    object mode whenever nopython compilation failed, so the promise was not kept either.

    ## Example
    ```python
    from numba import jit

    @jit(nogil=True, forceobj=True)
    def count(a):
        return (a > 0).sum()
    ```

    ## Use instead
    ```python
    from numba import jit

    @jit(nogil=True, nopython=True)
    def count(a):
        return (a > 0).sum()
    ```

    ## Fix safety
    The fix drops `forceobj=True` and sets `nopython=True`, keeping the other arguments. It is unsafe
    when the function relies on object mode: compilation then fails loudly, at the first call, which
    is what you want to know.

    ## Options
    `numba-version` (default "0.59"): the oldest numba the project supports.

    ## Runtime evidence
    Not a race but a lost speed-up, so it has no per-trial driver: `gilsafe stress --experiment E13`
    (variant `objmode`) measures it, running the object-mode `nogil=True` kernel and its nopython twin
    on 1 and N threads side by side. Numba has free-threaded wheels for 3.14t only.
    """

    VALID = [
        Valid(
            """
            from numba import njit
            @njit(nogil=True)
            def f(x):
                return x + 1
            """
        ),
        Valid(
            """
            import numba
            @numba.jit(nogil=True, nopython=True)
            def f(x):
                return x + 1
            """,
            settings={"numba-version": "0.55"},
        ),
        Valid(
            """
            import numba
            @numba.jit(nogil=True)  # numba >= 0.59 never falls back to object mode
            def f(x):
                return x + 1
            """
        ),
        Valid(
            """
            from numba import jit
            @jit(forceobj=True)  # object mode, but nothing promises to release the GIL
            def f(x):
                return x + 1
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            from numba import jit
            @jit(nogil=True, forceobj=True)
            def f(x):
                return x + 1
            """,
            line=2,
            expected_fix="""
            from numba import jit
            @jit(nogil=True, nopython=True)
            def f(x):
                return x + 1
            """,
        ),
        Invalid(
            """
            import numba as nb
            @nb.jit(nopython=False, nogil=True, cache=True)
            def f(x):
                return x + 1
            """,
            line=2,
            expected_fix="""
            import numba as nb
            @nb.jit(nopython=True, nogil=True, cache=True)
            def f(x):
                return x + 1
            """,
        ),
        Invalid(
            """
            import numba
            @numba.jit(nogil=True)
            def f(x):
                return x + 1
            """,
            line=2,
            settings={"numba-version": "0.58"},
            expected_fix="""
            import numba
            @numba.jit(nogil=True, nopython=True)
            def f(x):
                return x + 1
            """,
        ),
        Invalid(
            """
            from numba import jit
            def f(x):
                return x + 1
            g = jit(f, forceobj=True,
                    nogil=True)
            """,
            line=4,
            expected_fix="""
            from numba import jit
            def f(x):
                return x + 1
            g = jit(f, nogil=True, nopython=True)
            """,
        ),
    ]

    def visit_Call(self, node: cst.Call) -> None:
        if self.bindings.qualified(node.func) not in JIT_DECORATORS:
            return
        options = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
        if not _is_true(options.get("nogil")):
            return
        jit = _code(node.func)
        if _is_true(options.get("forceobj")):
            reason = f"`{jit}(nogil=True)` with `forceobj=True` compiles in object mode, which holds the GIL"
        elif _is_false(options.get("nopython")):
            reason = f"`{jit}(nogil=True)` with `nopython=False` compiles in object mode, which holds the GIL"
        elif (
            self.settings.numba_version < FALLBACK_REMOVED_IN
            and not _is_true(options.get("nopython"))
            and not jit.endswith("njit")
        ):
            version = ".".join(map(str, self.settings.numba_version))
            reason = f"`{jit}(nogil=True)` without `nopython=True` may fall back to object mode on numba {version}, which holds the GIL"
        else:
            return
        self.report_node(
            node,
            f"{reason}: nogil is not guaranteed",
            replacement=_nopython_form(node),
            fix_description="compile in nopython mode (drop forceobj, set nopython=True)",
        )


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _is_true(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Name) and value.value == "True"


def _is_false(value: cst.BaseExpression | None) -> bool:
    return isinstance(value, cst.Name) and value.value == "False"


def _nopython_form(call: cst.Call) -> cst.Call:
    """The same call with `forceobj` dropped and `nopython=True`, other arguments untouched."""
    args: list[cst.Arg] = []
    has_nopython = False
    for arg in call.args:
        name = arg.keyword.value if arg.keyword is not None else None
        if name == "forceobj":
            continue
        if name == "nopython":
            arg = arg.with_changes(value=cst.Name("True"))
            has_nopython = True
        args.append(arg)
    if not has_nopython:
        args.append(
            cst.Arg(
                keyword=cst.Name("nopython"),
                value=cst.Name("True"),
                equal=cst.AssignEqual(whitespace_before=NO_SPACE, whitespace_after=NO_SPACE),
            )
        )
    # Keep each argument's own comma (and so its line breaks); add ", " only where one is missing,
    # and end the list the way the original ended.
    last_comma = call.args[-1].comma if call.args else cst.MaybeSentinel.DEFAULT
    spaced = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    head = [a if a.comma is not cst.MaybeSentinel.DEFAULT else a.with_changes(comma=spaced) for a in args[:-1]]
    return call.with_changes(args=[*head, args[-1].with_changes(comma=last_comma)])

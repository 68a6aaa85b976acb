"""The base class of every rule, and the example records its tests and docs are built from."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from gilsafe.findings import Finding, Fix, ThreadEntry

if TYPE_CHECKING:
    from gilsafe.config import Settings
    from gilsafe.model import ModuleModel

UNDER_GIL = "under the GIL"
FREE_THREADED = "free-threaded"
BOTH = "both"


@dataclass(frozen=True)
class Valid:
    """Code the rule must not report."""

    code: str
    settings: dict | None = None  # `[tool.gilsafe]` keys applied for this example only

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")


@dataclass(frozen=True)
class Invalid:
    """Code the rule must report, on `line` when given, and fixed to `expected_fix` when given."""

    code: str
    line: int | None = None
    expected_fix: str | None = None
    settings: dict | None = None

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def fixed_source(self) -> str | None:
        if self.expected_fix is None:
            return None
        return textwrap.dedent(self.expected_fix).lstrip("\n")


class Rule(cst.BatchableCSTVisitor):
    """One check. Subclasses visit nodes and call `report`; the engine runs all rules in one pass."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    when: ClassVar[str]  # UNDER_GIL, FREE_THREADED or BOTH
    # Top-level packages whose import makes this rule worth running on a file.
    interesting_modules: ClassVar[frozenset[str]]
    # True for rules that only report code running in a thread: skipped when nothing in the module
    # starts one, without a traversal.
    needs_thread_entries: ClassVar[bool] = False
    docs: ClassVar[str]
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    METADATA_DEPENDENCIES = ()  # positions are resolved lazily through the model, on report

    def __init__(self, model: ModuleModel, settings: Settings, path: str) -> None:
        super().__init__()
        self.model = model
        self.settings = settings
        self.path = path
        self.findings: list[Finding] = []
        # finding -> (node, its replacement); the engine applies the ones not suppressed
        self.fixes: dict[Finding, tuple[cst.CSTNode, cst.CSTNode]] = {}

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        *,
        entry: ThreadEntry | None = None,
        replacement: cst.CSTNode | None = None,
        fix_description: str = "",
        when: str | None = None,
    ) -> None:
        """Record a finding. `when` narrows the rule's own `when` for this one pattern; a finding
        that matters only under the GIL, or only without it, is dropped for the other target."""
        when = when or self.when
        target = UNDER_GIL if self.settings.target == "gil" else FREE_THREADED
        if when != BOTH and when != target:
            return
        span = self.model.position(node)
        fix = None
        if replacement is not None:
            fix = Fix(fix_description or "apply the suggested rewrite", self.model.code_for(replacement))
        finding = Finding(
                path=self.path,
                line=span.start.line,
                column=span.start.column + 1,
                end_line=span.end.line,
                end_column=span.end.column + 1,
                code=self.code,
                message=message,
                entry=entry,
                fix=fix,
            )
        self.findings.append(finding)
        if replacement is not None:
            self.fixes[finding] = (node, replacement)

    def finish(self) -> None:
        """Called once after the traversal, for rules that decide on the whole module."""

    @classmethod
    def documentation(cls) -> str:
        """The rule's page: its docs, then its examples (the same ones the tests run)."""
        parts = [f"# {cls.code} {cls.name}", "", cls.summary, "", f"When it matters: {cls.when}.", ""]
        parts.append(textwrap.dedent(cls.docs).strip())
        return "\n".join(parts) + "\n"

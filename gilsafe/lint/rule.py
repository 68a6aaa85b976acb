"""The base classes of every rule, the records they report, and the examples their tests and docs
are built from.

Most rules are `Rule`s: they read the linked facts of the whole project (`ProjectFacts`) and filter
the classified accesses of one module at a time. A `SyntaxRule` looks at one file's syntax tree,
in the per-file pass, and may offer a fix (Fixit style: the node and its replacement).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, NamedTuple

import libcst as cst

from gilsafe.lint.summaries.keys import Anchor

if TYPE_CHECKING:
    from gilsafe.lint.config import Settings
    from gilsafe.lint.summaries.bindings import Bindings
    from gilsafe.lint.summaries.module import ModuleSummary
    from gilsafe.lint.summaries.project import Link, ProjectFacts

UNDER_GIL = "under the GIL"
FREE_THREADED = "free-threaded"
BOTH = "both"


@dataclass(frozen=True)
class Valid:
    """Code the rule must not report. `files` adds modules beside it (path -> source) for examples
    that need a project; the main code is `example.py`."""

    code: str
    settings: dict | None = None  # `[tool.gilsafe]` keys applied for this example only
    files: dict[str, str] | None = None

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
    files: dict[str, str] | None = None

    @property
    def source(self) -> str:
        return textwrap.dedent(self.code).lstrip("\n")

    @property
    def fixed_source(self) -> str | None:
        if self.expected_fix is None:
            return None
        return textwrap.dedent(self.expected_fix).lstrip("\n")


class Quote(NamedTuple):
    """A place a message quotes: its source text (`code`), its line (`line`), or `line 12` /
    `other.py:12` relative to the finding (`where`)."""

    path: str
    anchor: Anchor
    form: str = "code"
    width: int = 40


class Trace(NamedTuple):
    """Why the reported code runs in a thread: the entry, and the calls from it to the code."""

    description: str
    path: str  # where the entry is
    anchor: Anchor
    links: tuple[Link, ...] = ()  # calls from the entry's target down to the reported function


@dataclass(frozen=True)
class Report:
    """A finding before positions and quotes are filled in (they need the file's tree again)."""

    code: str
    path: str
    anchor: Anchor
    message: tuple[str | Quote, ...]
    trace: Trace | None = None
    when: str = BOTH


class Rule:
    """A check over the linked project: `check` yields the reports for one module."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    when: ClassVar[str]  # UNDER_GIL, FREE_THREADED or BOTH
    docs: ClassVar[str]
    VALID: ClassVar[list[Valid]] = []
    INVALID: ClassVar[list[Invalid]] = []

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        return iter(())

    def report(self, module: ModuleSummary, anchor: Anchor, *message: str | Quote, trace: Trace | None = None, when: str | None = None) -> Report:
        return Report(self.code, module.path, anchor, tuple(message), trace, when or self.when)

    @classmethod
    def documentation(cls) -> str:
        """The rule's page: its docs, then its examples (the same ones the tests run)."""
        parts = [f"# {cls.code} {cls.name}", "", cls.summary, "", f"When it matters: {cls.when}.", ""]
        parts.append(textwrap.dedent(cls.docs).strip())
        return "\n".join(parts) + "\n"


@dataclass
class SyntaxFinding:
    node: cst.CSTNode
    message: str
    replacement: cst.CSTNode | None = None
    fix_description: str = ""


class SyntaxRule(Rule, cst.BatchableCSTVisitor):
    """A check of one file's syntax tree, run in the per-file pass; it may offer fixes."""

    # Top-level packages a module must import for the rule to look at it (a cheap skip).
    interesting_imports: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, settings: Settings, bindings: Bindings) -> None:
        Rule.__init__(self, settings)
        cst.BatchableCSTVisitor.__init__(self)
        self.bindings = bindings
        self.found: list[SyntaxFinding] = []

    def report_node(self, node: cst.CSTNode, message: str, *, replacement: cst.CSTNode | None = None, fix_description: str = "") -> None:
        self.found.append(SyntaxFinding(node, message, replacement, fix_description))

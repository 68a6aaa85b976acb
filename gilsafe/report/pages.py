"""Docutils node builders and rule pages: what every directive renders with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

PLOTS_FOLDER = "_gilsafe"


def inline_code_text(text: str) -> list[nodes.Node]:
    """`a` in our messages and docs becomes a literal node; the rest stays text."""
    parts: list[nodes.Node] = []
    for index, piece in enumerate(re.split(r"`([^`]+)`", text)):
        if not piece:
            continue
        parts.append(nodes.literal(piece, piece) if index % 2 else nodes.Text(piece))
    return parts


def table(headers: list[str], rows: list[list[str | nodes.Node]], classes: tuple[str, ...] = ()) -> nodes.table:
    result = nodes.table(classes=["gilsafe-table", *classes])
    group = nodes.tgroup(cols=len(headers))
    result += group
    group += [nodes.colspec(colwidth=1) for _ in headers]
    head = nodes.thead()
    group += head
    head += _row(headers)
    body = nodes.tbody()
    group += body
    for row in rows:
        body += _row(row)
    return result


def _row(cells: list[str | nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", cell) if isinstance(cell, nodes.Node) else nodes.paragraph("", "", *inline_code_text(str(cell)))
        row += entry
    return row


def rule_label(code: str) -> str:
    return f"gilsafe-rule-{code.lower()}"


def worst_first(counts: Mapping[str, int]) -> list[str]:
    """Rule codes, worst first: files that could not be linted, then rules whose races show under
    the GIL today, then free-threaded only; more findings first within each."""
    from gilsafe.lint.rule import FREE_THREADED
    from gilsafe.rules import ALL_RULES

    def rank(code: str) -> tuple:
        rule = ALL_RULES.get(code)
        return (rule is not None, rule is not None and rule.when == FREE_THREADED, -counts[code], code)

    return sorted(counts, key=rank)


def findings_label(code: str) -> str:
    """Where the findings page lists a rule's findings."""
    return f"gilsafe-findings-{code.lower()}"


def reference(label: str, text: str) -> addnodes.pending_xref:
    """A link to a label anywhere in the build, resolved once every page is read."""
    node = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=label, refexplicit=True, refwarn=True)
    node += nodes.inline("", text)
    return node


def markdown_to_rst(text: str) -> str:
    """The markdown subset rule docs use (## headings, ```python fences, `code`) as reST."""
    out: list[str] = []
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            if in_code:
                language = line[3:].strip() or "text"
                out += [f".. code-block:: {language}", ""]
            else:
                out.append("")
            continue
        if in_code:
            out.append("   " + line if line else "")
            continue
        if line.startswith("## "):
            title = line[3:].strip()
            out += [title, "-" * len(title)]
            continue
        out.append(_inline_rst(line))
    return "\n".join(out)


def _inline_rst(line: str) -> str:
    """`code` as ``code``; reST literals must not touch word characters, so escape a space there."""
    pieces = re.split(r"`([^`]+)`", line)
    for index in range(1, len(pieces), 2):
        if pieces[index - 1][-1:].isalnum():
            pieces[index - 1] += "\\ "
        if pieces[index + 1][:1].isalnum():
            pieces[index + 1] = "\\ " + pieces[index + 1]
        pieces[index] = f"``{pieces[index]}``"
    return "".join(pieces)


def rule_page_rst(code: str) -> str:
    from gilsafe.lint.rule import Rule
    from gilsafe.rules import ALL_RULES

    rule: type[Rule] = ALL_RULES[code]
    title = f"{rule.code} {rule.name}"
    lines = [f".. _{rule_label(code)}:", "", title, "=" * len(title), "", _inline_rst(rule.summary), "", f"**When it matters:** {rule.when}.", ""]
    lines.append(markdown_to_rst(_dedent(rule.docs)))
    checks = getattr(rule, "RUNTIME_CHECKS", ())
    if checks:
        lines += ["", "Runtime evidence", "-" * 16, "", "Each check runs a racy driver and its fixed twin many times (``benchmarks/crosscheck.py``); the test suite requires the race where the check says it shows, and never in the fixed driver.", ""]
        for check in checks:
            lines.append(f"- {_inline_rst(check.name)}: shows {check.shows_under}; {_inline_rst(check.why)}.")
    lines += ["", "Examples from the test suite", "-" * 28, ""]
    for kind, examples in (("Not reported", rule.VALID), ("Reported", rule.INVALID)):
        for example in examples:
            settings = f" (with ``{example.settings}``)" if example.settings else ""
            lines += [f"{kind}{settings}:", "", ".. code-block:: python", ""]
            lines += ["   " + line if line else "" for line in example.source.splitlines()]
            lines.append("")
    return "\n".join(lines) + "\n"


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip()


def write_rule_pages(folder: Path) -> list[str]:
    """One reST page per rule, generated from the rule modules (for a docs build or a report)."""
    from gilsafe.rules import ALL_RULES

    folder.mkdir(parents=True, exist_ok=True)
    for code in ALL_RULES:
        page = folder / f"{code}.rst"
        text = f".. gilsafe-rule:: {code}\n"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)
    return list(ALL_RULES)

"""`# noqa`, `# noqa: GS101`, `# gilsafe: ignore[GS101]` and `# gilsafe: file-ignore[GS101]`."""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

ALL = frozenset({"*"})
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
NOQA_CODES = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_IGNORE = re.compile(r"#\s*gilsafe:\s*(?P<kind>ignore|file-ignore)(?:\[(?P<codes>[^\]]*)\])?")


def _codes(text: str | None) -> frozenset[str]:
    if not text:
        return ALL
    return frozenset(code.strip().upper() for code in re.split(r"[\s,]+", text) if code.strip())


@dataclass
class Suppressions:
    by_line: dict[int, frozenset[str]] = field(default_factory=dict)
    whole_file: frozenset[str] = frozenset()

    def covers(self, code: str, lines: range) -> bool:
        if "*" in self.whole_file or code in self.whole_file:
            return True
        for line in (lines.start, lines.stop - 1):
            codes = self.by_line.get(line, frozenset())
            if "*" in codes or code in codes:
                return True
        return False


def comments(text: str) -> dict[int, str]:
    """Real comments by line (not `#` inside strings)."""
    found: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def read_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    whole: set[str] = set()
    for line, comment in comments(text).items():
        codes: set[str] = set()
        noqa = _NOQA.search(comment)
        if noqa:
            codes |= _codes(noqa.group("codes"))
        for match in _IGNORE.finditer(comment):
            if match.group("kind") == "file-ignore":
                whole |= _codes(match.group("codes"))
            else:
                codes |= _codes(match.group("codes"))
        if codes:
            result.by_line[line] = frozenset(codes)
    result.whole_file = frozenset(whole)
    return result

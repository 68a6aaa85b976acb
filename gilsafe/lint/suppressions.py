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
    whole_file_lines: dict[str, int] = field(default_factory=dict)  # file-ignore code -> its line
    columns: dict[int, int] = field(default_factory=dict)  # line -> the column its comment starts at (1-based)

    def covers(self, code: str, lines: range) -> bool:
        return self.covering(code, lines) is not None

    def covering(self, code: str, lines: range) -> tuple[int, str] | None:
        """The (line, code) entry that suppresses `code` on `lines`, or None."""
        for key in (code, "*"):
            if key in self.whole_file:
                return self.whole_file_lines.get(key, 0), key
        for line in (lines.start, lines.stop - 1):
            codes = self.by_line.get(line, frozenset())
            for key in (code, "*"):
                if key in codes:
                    return line, key
        return None

    def entries(self):
        """Every (line, code) the comments name; "*" for a blanket one."""
        for line, codes in self.by_line.items():
            for code in codes:
                yield line, code
        for code in self.whole_file:
            yield self.whole_file_lines.get(code, 0), code


def comments(text: str) -> dict[int, str]:
    """Real comments by line (not `#` inside strings)."""
    return {line: comment for line, (_, comment) in _comment_tokens(text).items()}


def _comment_tokens(text: str) -> dict[int, tuple[int, str]]:
    found: dict[int, tuple[int, str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = (token.start[1] + 1, token.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return found


def read_suppressions(text: str) -> Suppressions:
    result = Suppressions()
    whole: set[str] = set()
    for line, (column, comment) in _comment_tokens(text).items():
        codes: set[str] = set()
        noqa = _NOQA.search(comment)
        if noqa:
            codes |= _codes(noqa.group("codes"))
        for match in _IGNORE.finditer(comment):
            if match.group("kind") == "file-ignore":
                named = _codes(match.group("codes"))
                whole |= named
                for code in named:
                    result.whole_file_lines.setdefault(code, line)
            else:
                codes |= _codes(match.group("codes"))
        if codes:
            result.by_line[line] = frozenset(codes)
        if codes or line in result.whole_file_lines.values():
            result.columns[line] = column
    result.whole_file = frozenset(whole)
    return result

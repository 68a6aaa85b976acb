"""Turning a file's bytes into a LibCST tree, with one clear message when that is not possible."""

from __future__ import annotations

import ast
import io
import tokenize
import warnings
from itertools import accumulate

import libcst as cst


class SourceError(Exception):
    """The file is not Python gilsafe can read; reported as GS000 at (line, column)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def decode(source: bytes) -> str:
    if b"\0" in source:
        line = source[: source.index(b"\0")].count(b"\n") + 1
        raise SourceError("source contains a NUL byte", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error):
            raise SourceError(f"bad encoding declaration: {error.msg}") from None
        encoding = "utf-8"  # undecodable bytes in the first lines: let decoding say where
    try:
        return source.decode(encoding)
    except UnicodeDecodeError as error:
        line = source[: error.start].count(b"\n") + 1
        raise SourceError(f"cannot decode as {encoding}: byte 0x{source[error.start]:02x} is invalid", line) from None


# CPython's tokenizer refuses brackets nested deeper than this (its MAXLEVEL); LibCST's native
# parser has no such check and overflows its stack a few thousand levels down (exit 139).
MAX_BRACKET_NESTING = 200
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"()[]{}")
_DEPTH_STEP = [1 if byte in b"([{" else -1 if byte in b")]}" else 0 for byte in range(256)]


def bracket_nesting(source: bytes) -> int:
    """How deep brackets nest, counting those in strings and comments too (an estimate, exact
    for code): cheap enough to run before every parse."""
    brackets = source.translate(None, _NOT_BRACKETS)
    if len(brackets) <= MAX_BRACKET_NESTING:
        return len(brackets)  # fewer brackets than the limit cannot nest past it
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=0))


def check_nesting(source: bytes, text: str, path: str) -> None:
    """Raise CPython's own syntax error for brackets nested past its limit, before LibCST sees them.
    Brackets that only look deep (inside strings) pass: CPython parses the file."""
    depth = bracket_nesting(source)
    if depth > MAX_BRACKET_NESTING:
        error = python_syntax_error(text, path)
        if error is not None:
            raise SourceError(f"{error} (brackets nested {depth:,} deep; Python allows {MAX_BRACKET_NESTING})", error.line, error.column)


def encoding_of(source: bytes) -> str:
    return tokenize.detect_encoding(io.BytesIO(source).readline)[0]


def parse(text: str, path: str) -> cst.Module:
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise python_syntax_error(text, path) or SourceError(
            f"syntax error: {error.message}", error.editor_line, error.editor_column
        ) from None
    except (RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {type(error).__name__}") from None


def python_syntax_error(text: str, path: str) -> SourceError | None:
    """CPython's own words and position for a syntax error (clearer than libcst's)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            ast.parse(text, filename=path)
    except SyntaxError as error:
        return SourceError(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1)
    except (ValueError, RecursionError, MemoryError) as error:
        return SourceError(f"cannot parse: {error}")
    return None

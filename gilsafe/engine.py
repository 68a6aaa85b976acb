"""Lint one file: decode, skip cheaply when nothing relevant is imported, parse, build the module
model once, run every enabled rule in one batched traversal, apply suppressions and fixes."""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings

import libcst as cst

from gilsafe.config import ALWAYS_ON, Settings
from gilsafe.findings import Finding
from gilsafe.model import THREAD_MODULES, ModuleModel
from gilsafe.rule import Rule
from gilsafe.rules import ALL_RULES
from gilsafe.suppressions import read_suppressions

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(?P<from>[\w.]+)[ \t]+import\b|import[ \t]+(?P<names>[^#;\n]+))", re.MULTILINE)


class SourceError(Exception):
    """The file is not Python gilsafe can read; reported as GS000 at (line, column)."""

    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def imported_roots(text: str) -> frozenset[str]:
    """Top-level packages a module imports, read off its import lines without parsing."""
    roots = set()
    for match in _IMPORT.finditer(text):
        if match.group("from"):
            roots.add(match.group("from").split(".")[0])
        else:
            for name in match.group("names").replace("(", " ").replace("\\", " ").split(","):
                words = name.split()
                if words:
                    roots.add(words[0].split(".")[0])
    return frozenset(roots)


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


def _syntax_check(text: str, path: str) -> None:
    """Cheap check for files no rule needs to analyse, so that broken files are still reported."""
    error = _python_syntax_error(text, path)
    if error is not None:
        # The running interpreter may be older than the code; libcst knows newer grammars.
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            raise error from None


def _python_syntax_error(text: str, path: str) -> SourceError | None:
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


def rules_for(settings: Settings) -> list[type[Rule]]:
    enabled = settings.enabled_codes(ALL_RULES)
    return [rule for code, rule in ALL_RULES.items() if code in enabled]


def lint_text(path: str, text: str, settings: Settings, rules: list[type[Rule]]) -> tuple[list[Finding], cst.Module | None, dict]:
    """Findings for one decoded file, its tree (None when skipped) and each fixable finding's
    (node, replacement)."""
    imports = imported_roots(text)
    # A configured entry point (`mylib.spawn`) is a concurrency signal like `threading` is.
    if imports & {name.split(".")[0] for name in settings.thread_entry_points}:
        imports |= THREAD_MODULES
    # Rules about thread-run code need a thread to be started, which takes a concurrency import.
    threaded = bool(imports & THREAD_MODULES)
    wanted = [rule for rule in rules if rule.interesting_modules & imports and (threaded or not rule.needs_thread_entries)]
    if not wanted:
        _syntax_check(text, path)
        return [], None, {}
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _python_syntax_error(text, path) or SourceError(
            f"syntax error: {error.message}", error.editor_line, error.editor_column
        ) from None
    except (RecursionError, MemoryError) as error:
        raise SourceError(f"cannot parse: {type(error).__name__}") from None
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    model = ModuleModel(wrapper, lock_names=settings.lock_names, extra_entry_points=settings.thread_entry_points, source=text)
    wrapper.visit(model)
    instances = [rule(model, settings, path) for rule in wanted if model.entries or not rule.needs_thread_entries]
    if instances:
        wrapper.visit_batched(instances)
    findings: list[Finding] = []
    fixes: dict = {}
    for rule in instances:
        rule.finish()
        findings.extend(rule.findings)
        fixes.update(rule.fixes)
    return findings, module, fixes


def parse_failure(path: str, error: SourceError) -> Finding:
    return Finding(path, error.line, error.column, ALWAYS_ON, str(error), error.line, error.column)


UNUSED_SUPPRESSION = "GS001"
# A cheap look for comments that could be unused gilsafe suppressions, so that files without any
# (most files, including those with a bare `# noqa`) are never tokenized for GS001.
_NAMES_GS_CODES = re.compile(r"(?i)noqa\s*:[^\n]*\bGS\d|gilsafe:\s*(?:file-)?ignore")


def unsuppressed(findings: list[Finding], text: str, enabled: frozenset[str] = frozenset(), path: str = "") -> list[Finding]:
    """The findings no suppression comment covers, plus GS001 for each comment that names an enabled
    gilsafe code and covered nothing (blanket `# noqa` is left alone: other tools read it too)."""
    check_unused = (
        UNUSED_SUPPRESSION in enabled
        and ("gilsafe:" in text or ("noqa" in text and ("GS" in text or "gs" in text)))
        and _NAMES_GS_CODES.search(text) is not None
    )
    if not findings and not check_unused:
        return findings
    suppressions = read_suppressions(text)
    kept, used = [], set()
    for finding in findings:
        hit = suppressions.covering(finding.code, range(finding.line, max(finding.end_line, finding.line) + 1))
        if hit is None:
            kept.append(finding)
        else:
            used.add(hit)
    if check_unused:
        lines = text.splitlines()
        for line, code in sorted(suppressions.entries()):
            if (line, code) in used or code == "*" or code not in enabled or code == UNUSED_SUPPRESSION:
                continue
            column = lines[line - 1].find("#") + 1 if 0 < line <= len(lines) else 1
            message = f"the suppression of {code} is unused: {code} reports nothing {'in this file' if code in suppressions.whole_file else 'on this line'}"
            kept.append(Finding(path, line, column, UNUSED_SUPPRESSION, message, line, column))
    return kept


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict) -> None:
        super().__init__()
        self.replacements = replacements

    def on_leave(self, original_node, updated_node):
        return self.replacements.get(original_node, updated_node)


def apply_fixes(module: cst.Module, replacements: dict) -> str:
    """All replacements in one pass over the tree."""
    return module.visit(_Replace(replacements)).code

"""Findings to text: the human format, JSON, SARIF 2.1.0 and GitHub workflow commands."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath
from urllib.parse import quote

from gilsafe import __version__
from gilsafe.lint.config import ALWAYS_ON
from gilsafe.lint.findings import Finding
from gilsafe.rules import ALL_RULES

FORMATS = ("text", "json", "sarif", "github")
PARSE_FAILURE_SUMMARY = "The file could not be read or parsed as Python; nothing else in it was checked."


def format_text(findings: Sequence[Finding]) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.full_message}" for f in findings]
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_json() for f in findings], indent=2) + "\n"


def _rule_descriptor(code: str) -> dict:
    rule = ALL_RULES.get(code)
    if rule is None:
        return {"id": code, "name": "parse-failure", "shortDescription": {"text": PARSE_FAILURE_SUMMARY}}
    return {
        "id": code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "help": {"text": rule.documentation()},
        "properties": {"whenItMatters": rule.when},
    }


def _uri(path: str) -> str:
    """A relative URI reference, as SARIF wants: the name's exact bytes, percent-encoded where a
    URI may not hold them (spaces, non-ASCII, bytes that are not UTF-8)."""
    return quote(os.fsencode(PurePath(path).as_posix()), safe="/")


def format_sarif(findings: Sequence[Finding]) -> str:
    codes = sorted({*ALL_RULES, ALWAYS_ON})
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in findings:
        region = {"startLine": f.line, "startColumn": f.column}
        if f.end_line:
            region.update(endLine=f.end_line, endColumn=max(f.end_column, 1))
        result = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error" if f.code == ALWAYS_ON else "warning",
            "message": {"text": f.full_message},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(f.path)}, "region": region}}],
        }
        if f.entry is not None:
            result["properties"] = {"threadEntry": f.entry.description, "threadEntryLine": f.entry.line}
        if f.fix is not None:
            result.setdefault("properties", {})["fix"] = f.fix.replacement
        results.append(result)
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "gilsafe", "version": __version__, "rules": [_rule_descriptor(c) for c in codes]}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    lines = []
    for f in findings:
        props = f"file={_escape_property(f.path)},line={f.line},col={f.column}"
        if f.end_line:
            props += f",endLine={f.end_line},endColumn={f.end_column}"
        level = "error" if f.code == ALWAYS_ON else "warning"
        lines.append(f"::{level} {props},title={f.code}::{_escape_data(f.code + ' ' + f.full_message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_findings(findings: Sequence[Finding], style: str) -> str:
    return {"text": format_text, "json": format_json, "sarif": format_sarif, "github": format_github}[style](findings)


def format_statistics(findings: Sequence[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    rows = []
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        name = ALL_RULES[code].name if code in ALL_RULES else "parse-failure"
        rows.append(f"{count:>5}  {code}  {name}")
    return "\n".join(rows) + ("\n" if rows else "")

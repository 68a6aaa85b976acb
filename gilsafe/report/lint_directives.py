"""The lint side of the docs: a rule's page, findings linted at build time, and the GIL-release data."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from gilsafe import __version__
from gilsafe.report.pages import findings_label, inline_code_text, rule_label, rule_page_rst, table, worst_first


class RuleDirective(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from sphinx.util.nodes import nested_parse_with_titles
        from docutils.statemachine import StringList

        code = self.arguments[0].upper()
        from gilsafe.rules import ALL_RULES

        if code not in ALL_RULES:
            raise self.error(f"gilsafe-rule: unknown rule {code}")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(rule_page_rst(code).splitlines(), source=f"<gilsafe rule {code}>"), container)
        return container.children


_LINT_REPORTS: dict[Path, object] = {}  # one lint per build: the summary and the findings page share it


def lint_once(target: Path):
    """Lint a path once per process: the summary and the findings page share the result."""
    from gilsafe.lint.api import lint_paths

    if target not in _LINT_REPORTS:
        _LINT_REPORTS[target] = lint_paths([str(target)], jobs=1, cache_folder=None)
    return _LINT_REPORTS[target]


@dataclass(frozen=True)
class LintFindings:
    """What a page shows for a linted path: the findings, each one's runtime record (pytest
    --gilsafe-lint), and the files that could not be linted."""

    findings: list
    statuses: dict
    errors: list


def findings_under(target: Path, runtime: Path | None) -> LintFindings:
    """The findings to show for `target`, and each one's runtime record (`gilsafe report --runtime`):
    lint's own, and those the pytest plugin's lint found with the threaded tests as entries."""
    report = lint_once(target)
    findings = list(report.findings)
    statuses: dict = {}
    if runtime is not None:
        from gilsafe.pytest_plugin.confirm import read_confirmed

        known = {(f.path, f.line, f.code) for f in findings}
        for finding, record in read_confirmed(runtime):
            inside = Path(finding.path).resolve().is_relative_to(target) if target.is_dir() else Path(finding.path).resolve() == target
            if not inside:
                continue
            statuses[(finding.path, finding.line, finding.code)] = record
            if (finding.path, finding.line, finding.code) not in known:
                findings.append(finding)
        findings.sort()
    return LintFindings(findings, statuses, list(report.errors))


class LintDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"context": directives.nonnegative_int, "display": directives.unchanged, "runtime": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gilsafe.rules import ALL_RULES

        folder = Path(self.env.doc2path(self.env.docname)).parent
        target = (folder / self.arguments[0]).resolve()
        if target.is_file():
            self.env.note_dependency(str(target))
        runtime = (folder / self.options["runtime"]).resolve() if "runtime" in self.options else None
        if runtime is not None:
            self.env.note_dependency(str(runtime))
        report = findings_under(target, runtime)
        findings, statuses = report.findings, report.statuses
        shown_as = self.options.get("display", self.arguments[0])
        context = self.options.get("context", 2)
        result: list[nodes.Node] = []
        files = {f.path for f in findings}
        summary = nodes.paragraph("", f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''} under {shown_as} (gilsafe {__version__}).")
        result.append(summary)
        for error in report.errors:
            result.append(nodes.paragraph("", f"not linted: {error}", classes=["gilsafe-error"]))
        by_rule: dict[str, list] = defaultdict(list)
        for finding in findings:
            by_rule[finding.code].append(finding)
        for code in worst_first(Counter({code: len(found) for code, found in by_rule.items()})):
            rule = ALL_RULES.get(code)
            name = rule.name if rule else "parse-failure"
            label = findings_label(code)
            std = self.env.get_domain("std")
            if label not in std.labels:  # several linted folders on one page: the first is the target
                std.note_hyperlink_target(label, self.env.docname, nodes.make_id(label), f"{code} findings")
                result.append(nodes.target("", "", ids=[nodes.make_id(label)]))
            result.append(nodes.rubric("", f"{code} {name}: {len(by_rule[code])}"))
            for finding in by_rule[code]:
                result += self._finding(finding, rule is not None, context, target, shown_as, statuses.get((finding.path, finding.line, finding.code)))
        return result

    def _finding(self, finding, has_page: bool, context: int, target: Path, shown_as: str, runtime: dict | None) -> list[nodes.Node]:
        shown = _display_path(finding.path, target, shown_as)
        paragraph = nodes.paragraph(classes=["gilsafe-finding"])
        paragraph += nodes.strong("", f"{shown}:{finding.line}:{finding.column}")
        paragraph += nodes.Text(" ")
        if runtime is not None:
            # What the user's threaded tests showed about this line (pytest --gilsafe-lint).
            paragraph += nodes.inline("", f"[{runtime['status']}]", classes=["gilsafe-runtime", runtime["status"].replace(" ", "-")])
            paragraph += nodes.Text(" ")
        paragraph += inline_code_text(finding.message)
        paragraph += nodes.Text(".")
        if finding.entry is not None:
            paragraph += nodes.Text(" Runs in a thread via ")
            paragraph += nodes.literal("", finding.entry.description)
            paragraph += nodes.Text(f" at line {finding.entry.line}.")
        if runtime is not None and (runtime["failing_tests"] or runtime["tests"]):
            tests = runtime["failing_tests"] or runtime["tests"]
            paragraph += nodes.Text(f" Ran in 2+ threads in {runtime['trials']} trial{'s' * (runtime['trials'] != 1)} of ")
            paragraph += inline_code_text(", ".join(f"`{t}`" for t in tests[:3]) + (" and more" if len(tests) > 3 else ""))
            paragraph += nodes.Text(".")
        if has_page and self.config.gilsafe_link_rules:
            paragraph += nodes.Text(" See ")
            reference = addnodes.pending_xref("", refdomain="std", reftype="ref", reftarget=rule_label(finding.code), refexplicit=True, refwarn=True)
            reference += nodes.inline("", finding.code)
            paragraph += reference
            paragraph += nodes.Text(".")
        out: list[nodes.Node] = [paragraph]
        try:
            lines = Path(finding.path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return out
        start = max(1, finding.line - context)
        end = min(len(lines), max(finding.end_line, finding.line) + context)
        code = "\n".join(lines[start - 1 : end])
        # A file lint could not parse (GS000) may not be Python at all: Pygments would fail on it.
        block = nodes.literal_block(code, code, language="python" if has_page else "text", linenos=True)
        block["highlight_args"] = {"linenostart": start, "hl_lines": list(range(finding.line - start + 1, max(finding.end_line, finding.line) - start + 2))}
        out.append(block)
        return out


def _display_path(path: str, target: Path, given: str) -> str:
    """The finding's path as the author of the directive wrote the folder."""
    try:
        relative = Path(path).resolve().relative_to(target if target.is_dir() else target.parent)
    except ValueError:
        return path
    base = given if target.is_dir() else str(Path(given).parent)
    return str(Path(base) / relative) if base not in ("", ".") else str(relative)


class GilDataDirective(SphinxDirective):
    """The probe data the rules cite (rules/gil_release.json): one table per library, a column per
    probed version, each cell the verdicts by size."""

    def run(self) -> list[nodes.Node]:
        from gilsafe.lint import gil_data

        self.env.note_dependency(str(gil_data.DATA_FILE))
        data = gil_data.load()
        sizes = [str(size) for size in data.get("sizes", gil_data.SIZES)]
        out: list[nodes.Node] = []
        for library, versions in data.get("libraries", {}).items():
            names = sorted(versions, key=lambda v: [int(p) for p in v.split(".")])
            out.append(nodes.rubric("", f"{library}: " + ", ".join(f"{versions[v]['version']} (Python {versions[v]['python']})" for v in names)))
            rows: dict[tuple[str, str], dict[str, str]] = {}
            for version in names:
                for entry in versions[version]["entries"]:
                    marks = " ".join("R" if entry["verdicts"].get(size) == "releases" else "h" for size in sizes)
                    where = entry.get("device", "cpu")
                    label = entry["callable"] + (f" ({where})" if where != "cpu" else "")
                    rows.setdefault((label, entry["dtype"]), {})[version] = marks
            body = [[name, dtype, *[cells.get(v, "-") for v in names]] for (name, dtype), cells in sorted(rows.items())]
            out.append(table(["callable", "dtype", *names], body))
        out.append(
            nodes.paragraph(
                "", f"R: released the GIL, h: held it, at {', '.join(f'{int(s):,}' for s in sizes)} elements (left to right)."
            )
        )
        return out

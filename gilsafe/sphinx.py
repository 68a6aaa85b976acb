"""gilsafe's Sphinx extension: lint findings and stress results rendered at build time.

In conf.py: ``extensions = ["gilsafe.sphinx"]``. Directives:

- ``.. gilsafe-lint:: PATH`` lints PATH (relative to the document) and renders the findings grouped
  by rule, each with its source lines, the finding marked, and the thread entry that makes it run.
- ``.. gilsafe-stress:: RESULTS.json`` renders a stress run: outcome tables, timings, and one
  speed-up-vs-threads plot (against the ideal min(N, M)) per experiment and backend.
- ``.. gilsafe-rule:: GS101`` renders a rule's page from the rule module itself.
- ``.. gilsafe-experiment:: E4`` renders an experiment's page: the talk's figures, and measured
  ones when ``:results: FILE`` is given.

Config: ``gilsafe_link_rules`` (default True): link findings to the rule pages (label
``gilsafe-rule-<code>``); turn it off when the pages are not part of the project.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from gilsafe import __version__

PLOTS_FOLDER = "_gilsafe"


# -- small node builders ----------------------------------------------------------------------------


def inline_code_text(text: str) -> list[nodes.Node]:
    """`a` in our messages and docs becomes a literal node; the rest stays text."""
    parts: list[nodes.Node] = []
    for index, piece in enumerate(re.split(r"`([^`]+)`", text)):
        if not piece:
            continue
        parts.append(nodes.literal(piece, piece) if index % 2 else nodes.Text(piece))
    return parts


def table(headers: list[str], rows: list[list[str]], classes: tuple[str, ...] = ()) -> nodes.table:
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


def _row(cells: list[str]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", *inline_code_text(str(cell)))
        row += entry
    return row


def rule_label(code: str) -> str:
    return f"gilsafe-rule-{code.lower()}"


# -- rule pages -----------------------------------------------------------------------------------


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


# -- lint findings ---------------------------------------------------------------------------------


_LINT_REPORTS: dict[Path, object] = {}


def lint_once(target: Path):
    """Lint a path once per process: the summary and the findings page share the result."""
    from gilsafe.lint.api import lint_paths

    if target not in _LINT_REPORTS:
        _LINT_REPORTS[target] = lint_paths([str(target)], jobs=1, cache_folder=None)
    return _LINT_REPORTS[target]


class LintDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"context": directives.nonnegative_int, "display": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gilsafe.rules import ALL_RULES

        folder = Path(self.env.doc2path(self.env.docname)).parent
        target = (folder / self.arguments[0]).resolve()
        if target.is_file():
            self.env.note_dependency(str(target))
        report = lint_once(target)
        findings = report.findings
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
        for code in sorted(by_rule):
            rule = ALL_RULES.get(code)
            name = rule.name if rule else "parse-failure"
            rubric = nodes.rubric("", f"{code} {name}: {len(by_rule[code])}")
            result.append(rubric)
            for finding in by_rule[code]:
                result += self._finding(finding, rule is not None, context, target, shown_as)
        return result

    def _finding(self, finding, has_page: bool, context: int, target: Path, shown_as: str) -> list[nodes.Node]:
        shown = _display_path(finding.path, target, shown_as)
        paragraph = nodes.paragraph(classes=["gilsafe-finding"])
        paragraph += nodes.strong("", f"{shown}:{finding.line}:{finding.column}")
        paragraph += nodes.Text(" ")
        paragraph += inline_code_text(finding.message)
        paragraph += nodes.Text(".")
        if finding.entry is not None:
            paragraph += nodes.Text(" Runs in a thread via ")
            paragraph += nodes.literal("", finding.entry.description)
            paragraph += nodes.Text(f" at line {finding.entry.line}.")
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


# -- stress results ---------------------------------------------------------------------------------


def load_stress(path: Path) -> dict:
    return json.loads(path.read_text())


def speedup_series(results: list[dict]) -> dict[tuple[str, str], dict[str, list[tuple[int, float]]]]:
    """(experiment, backend) -> variant -> [(threads, speed-up vs 1 thread)] for threaded speed rows."""
    series: dict[tuple[str, str], dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for row in results:
        speedup = row.get("timings", {}).get("speedup_vs_1_thread")
        if row.get("status") == "ok" and isinstance(speedup, (int, float)):
            series[(row["experiment"], row["backend"])][row["variant"]].append((row["threads"], speedup))
    return series


def plot_speedups(results: list[dict], cores: int, folder: Path) -> dict[tuple[str, str], Path]:
    """One PNG per experiment and backend: speed-up vs threads, with the ideal min(N, M)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for (experiment, backend), variants in sorted(speedup_series(results).items()):
        figure, axes = plt.subplots(figsize=(4.8, 3.2), dpi=100)
        top = max(t for points in variants.values() for t, _ in points)
        xs = list(range(1, top + 1))
        axes.plot(xs, [min(x, cores) for x in xs], "k--", label=f"ideal min(N, {cores})")
        for variant, points in sorted(variants.items()):
            points.sort()
            axes.plot([t for t, _ in points], [s for _, s in points], "o-", label=variant)
        axes.set_xticks(xs)
        axes.set_xlabel("threads")
        axes.set_ylabel("speed-up vs 1 thread")
        axes.set_title(f"{experiment} {backend}")
        axes.legend(fontsize="small")
        figure.tight_layout()
        path = folder / f"{experiment}-{backend}.png"
        figure.savefig(path)
        plt.close(figure)
        made[(experiment, backend)] = path
    return made


class StressDirective(SphinxDirective):
    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from gilsafe.stress.experiments import EXPERIMENTS
        from gilsafe.stress.report import row_timing_line

        folder = Path(self.env.doc2path(self.env.docname)).parent
        source = (folder / self.arguments[0]).resolve()
        self.env.note_dependency(str(source))
        try:
            document = load_stress(source)
        except (OSError, ValueError) as error:
            raise self.error(f"gilsafe-stress: cannot read {self.arguments[0]}: {error}") from None
        env = document.get("environment", {})
        cores = env.get("cpu_affinity") or env.get("cpu_count") or 1
        out: list[nodes.Node] = [
            nodes.paragraph(
                "",
                f"Python {env.get('python')} ({'free-threaded' if env.get('free_threaded_build') else 'GIL'} build, "
                f"GIL {'enabled' if env.get('gil_enabled') else 'disabled'}), {cores} usable cores; "
                + ", ".join(f"{k} {v}" for k, v in sorted(env.get("libraries", {}).items()) if v),
            )
        ]
        plots_dir = Path(self.env.srcdir) / PLOTS_FOLDER / Path(self.env.docname).name
        plots = plot_speedups(document["results"], cores, plots_dir)
        by_experiment: dict[str, list[dict]] = defaultdict(list)
        for row in document["results"]:
            by_experiment[row["experiment"]].append(row)
        for experiment, rows in by_experiment.items():
            spec = EXPERIMENTS.get(experiment)
            title = f"{experiment}: {spec.title}" if spec else experiment
            out.append(nodes.rubric("", title))
            if spec:
                out.append(nodes.paragraph("", f"Observed: {spec.observes}. The talk: {spec.talk}."))
            table_rows = []
            for row in rows:
                detail = row["detail"].splitlines()[0] if row["detail"] else ""
                table_rows.append([f"{row['backend']}/{row['variant']}", str(row["threads"]), row["status"], row_timing_line(row) or detail])
            out.append(table(["backend/variant", "threads", "status", "timings or detail"], table_rows))
            for row in rows:
                if row.get("outcomes"):
                    total = sum(o["count"] for o in row["outcomes"])
                    out.append(nodes.paragraph("", "", nodes.strong("", f"{row['backend']}/{row['variant']}, {row['threads']} threads"), nodes.Text(f" - {row['detail'].splitlines()[0] if row['detail'] else ''}")))
                    out.append(
                        table(
                            ["outcome", "count", "frequency", "expect", "description"],
                            [[o["outcome"], str(o["count"]), f"{100 * o['count'] / total:.1f}%" if total else "-", o["expect"], o.get("description", "")] for o in row["outcomes"]],
                            classes=("gilsafe-outcomes",),
                        )
                    )
            for (plot_experiment, backend), path in plots.items():
                if plot_experiment == experiment:
                    uri = "/" + path.relative_to(Path(self.env.srcdir)).as_posix()
                    out.append(nodes.image(uri=uri, alt=f"{experiment} {backend}: speed-up vs threads", candidates={"*": uri}))
        return out


class ExperimentDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"results": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gilsafe.stress.experiments import EXPERIMENTS
        from gilsafe.stress.report import row_timing_line

        spec = EXPERIMENTS.get(self.arguments[0].upper())
        if spec is None:
            raise self.error(f"gilsafe-experiment: unknown experiment {self.arguments[0]}")
        out: list[nodes.Node] = [
            table(
                ["", ""],
                [
                    ["experiment", f"{spec.id}: {spec.title}"],
                    ["talk slides", spec.slides],
                    ["observed", spec.observes],
                    ["the talk's figures", spec.talk],
                    ["backends (variants)", "; ".join(f"{b} ({', '.join(v)})" for b, v in spec.variants.items())],
                ],
            )
        ]
        outcomes = spec.outcomes if not callable(spec.outcomes) else None
        if outcomes is not None and outcomes.declared:
            # The outcome table is declared before anything runs, so it can be read here.
            out.append(nodes.paragraph("", "Outcomes each trial is graded by:"))
            rows = [[row.outcome, str(row.expect), row.description] for row in outcomes.declared]
            rows.append(["anything else", str(outcomes.unlisted), outcomes.unlisted_description])
            out.append(table(["outcome", "expect", "meaning"], rows))
        if "results" in self.options:
            source = (Path(self.env.doc2path(self.env.docname)).parent / self.options["results"]).resolve()
            self.env.note_dependency(str(source))
            document = load_stress(source)
            env = document.get("environment", {})
            rows = [r for r in document["results"] if r["experiment"] == spec.id]
            out.append(nodes.paragraph("", f"Measured by this project: Python {env.get('python')}, {env.get('cpu_affinity')} cores ({env.get('machine', '')})."))
            out.append(
                table(
                    ["backend/variant", "threads", "status", "measured"],
                    [[f"{r['backend']}/{r['variant']}", str(r["threads"]), r["status"], row_timing_line(r) or (r["detail"].splitlines() or [""])[0]] for r in rows],
                )
            )
        return out


class SummaryDirective(SphinxDirective):
    """The report's first page: findings per rule, races seen, crashes and hangs, best speed-ups."""

    option_spec = {"lint": directives.unchanged, "stress": directives.unchanged, "display": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gilsafe.rules import ALL_RULES

        folder = Path(self.env.doc2path(self.env.docname)).parent
        out: list[nodes.Node] = []
        if "lint" in self.options:
            report = lint_once((folder / self.options["lint"]).resolve())
            counts: dict[str, int] = defaultdict(int)
            for finding in report.findings:
                counts[finding.code] += 1
            out.append(nodes.rubric("", f"Lint: {len(report.findings)} findings under {self.options.get('display', self.options['lint'])}"))
            rows = [[code, ALL_RULES[code].name if code in ALL_RULES else "parse-failure", str(n)] for code, n in sorted(counts.items())]
            out.append(table(["rule", "name", "findings"], rows or [["-", "no findings", "0"]]))
            if report.errors:
                out.append(nodes.paragraph("", f"{len(report.errors)} files could not be linted (see the findings page)."))
        if "stress" in self.options:
            source = (folder / self.options["stress"]).resolve()
            self.env.note_dependency(str(source))
            results = load_stress(source)["results"]
            races = [r for r in results if any(o["expect"] != "ACCEPTABLE" and o["count"] for o in r.get("outcomes", []))]
            broken = [r for r in results if r["status"] in ("crash", "timeout", "error")]
            out.append(nodes.rubric("", f"Stress: {len(results)} cells"))
            out.append(
                table(
                    ["what", "cells"],
                    [
                        ["races or wrong results observed", ", ".join(_cell_name(r) + f" ({_bad_share(r)})" for r in races) or "none"],
                        ["crashes and hangs", ", ".join(f"{_cell_name(r)}: {r['status']}" for r in broken) or "none"],
                        ["skipped", str(sum(r["status"] == "skipped" for r in results))],
                    ],
                )
            )
            best: dict[str, tuple[float, str]] = {}
            for row in results:
                speedup = row.get("timings", {}).get("speedup_vs_1_thread")
                if row["status"] == "ok" and isinstance(speedup, (int, float)) and speedup > best.get(row["backend"], (0.0, ""))[0]:
                    best[row["backend"]] = (speedup, _cell_name(row))
            if best:
                out.append(table(["backend", "best speed-up vs 1 thread", "cell"], [[b, f"{s:.2f}x", c] for b, (s, c) in sorted(best.items())]))
        return out


def _cell_name(row: dict) -> str:
    return f"{row['experiment']} {row['backend']}/{row['variant']} x{row['threads']}"


def _bad_share(row: dict) -> str:
    total = sum(o["count"] for o in row["outcomes"])
    bad = sum(o["count"] for o in row["outcomes"] if o["expect"] != "ACCEPTABLE")
    return f"{bad}/{total}"


class CliDirective(SphinxDirective):
    """``.. gilsafe-cli:: lint`` renders `gilsafe lint --help`: the reference cannot drift from the code."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        import contextlib
        import io

        from gilsafe.cli import build_parser

        parser = build_parser()
        command = self.arguments[0]
        sub = parser if command == "gilsafe" else parser._subparsers._group_actions[0].choices[command]
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            sub.print_help()
        text = buffer.getvalue()
        return [nodes.literal_block(text, text, language="text")]


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


def setup(app) -> dict:
    app.add_config_value("gilsafe_link_rules", True, "env")
    app.add_directive("gilsafe-lint", LintDirective)
    app.add_directive("gilsafe-stress", StressDirective)
    app.add_directive("gilsafe-rule", RuleDirective)
    app.add_directive("gilsafe-experiment", ExperimentDirective)
    app.add_directive("gilsafe-summary", SummaryDirective)
    app.add_directive("gilsafe-cli", CliDirective)
    app.add_directive("gilsafe-gil-data", GilDataDirective)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}

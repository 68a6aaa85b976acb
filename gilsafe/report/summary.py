"""The report's first page: findings per rule, races seen, crashes and hangs, best speed-ups."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from gilsafe.report.lint_directives import lint_once
from gilsafe.report.pages import table
from gilsafe.report.stress_directives import load_stress


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

"""The report's first page, a verdict before the detail: is the code safe (findings, races, wrong
results, crashes and hangs), and do threads help (the best speed-up per backend against the ideal
min(N, M)). Every number links to where it comes from."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from gilsafe.lint.rule import BOTH, FREE_THREADED, UNDER_GIL
from gilsafe.report.lint_directives import LintFindings, findings_under
from gilsafe.report.pages import PLOTS_FOLDER, findings_label, inline_code_text, reference, rule_label, table, worst_first
from gilsafe.report.stress_directives import cell_label, image, load_stress
from gilsafe.stress.model import Status
from gilsafe.stress.results_file import StressDocument
from gilsafe.stress.verdict import BestSpeedup, bad_share, best_speedups, cell_name, crashes_and_hangs, races_seen, worst_outcomes


WHEN_IT_MATTERS = {BOTH: "under the GIL and free-threaded", UNDER_GIL: "under the GIL", FREE_THREADED: "free-threaded only"}


def plot_best_speedups(best: dict[str, BestSpeedup], path: Path) -> Path:
    """A small bar chart: each backend's best speed-up, and the ideal it is held against."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    names = sorted(best, key=lambda b: best[b].efficiency)
    figure, axes = plt.subplots(figsize=(4.8, 0.45 * len(names) + 1.3), dpi=100)
    rows = range(len(names))
    axes.barh(rows, [best[n].speedup for n in names], color="#4c72b0", label="best speed-up")
    axes.scatter([best[n].ideal for n in names], rows, marker="|", s=300, color="black", label="ideal min(N, M)", zorder=3)
    axes.set_yticks(list(rows), names)
    axes.set_xlabel("speed-up vs 1 thread")
    axes.set_xlim(0, max(max(b.ideal, b.speedup) for b in best.values()) * 1.1)
    # Below the axes: inside, it would cover the bars it explains.
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.32), ncol=2, frameon=False)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


class SummaryDirective(SphinxDirective):
    option_spec = {"lint": directives.unchanged, "stress": directives.unchanged, "display": directives.unchanged, "runtime": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.doc2path(self.env.docname)).parent
        report = None
        if "lint" in self.options:
            runtime = (folder / self.options["runtime"]).resolve() if "runtime" in self.options else None
            report = findings_under((folder / self.options["lint"]).resolve(), runtime)
        document = load_stress(self, self.options["stress"]) if "stress" in self.options else None
        out: list[nodes.Node] = [self._verdict(report, document)]
        if report is not None:
            out += self._findings(report)
        if document is not None:
            out += self._stress(document)
        return out

    def _verdict(self, report: LintFindings | None, document: StressDocument | None) -> nodes.Node:
        """One sentence: what needs looking at, or that nothing was seen (and what that does not prove)."""
        parts = []
        trouble = False
        if report is not None:
            rules = len({f.code for f in report.findings})
            parts.append(f"{len(report.findings)} lint finding{'s' * (len(report.findings) != 1)}" + (f" from {rules} rule{'s' * (rules != 1)}" if rules else ""))
            trouble = bool(report.findings)
        if document is not None:
            races, broken = races_seen(document.results), crashes_and_hangs(document.results)
            parts.append(f"races or wrong results in {len(races)} of {len(document.results)} stress cells")
            parts.append(f"{len(broken)} cell{'s' * (len(broken) != 1)} crashed, hung or failed to run")
            trouble = trouble or bool(races or broken)
        head = "Needs attention: " if trouble else "Nothing seen: "
        paragraph = nodes.paragraph(classes=["gilsafe-verdict"])
        paragraph += nodes.strong("", head)
        paragraph += nodes.Text("; ".join(parts) + ".")
        if not trouble:
            paragraph += nodes.Text(" That is evidence, not proof: a race that needs other timing, another build or other input stays hidden.")
        return paragraph

    def _findings(self, report: LintFindings) -> list[nodes.Node]:
        from gilsafe.rules import ALL_RULES

        counts = Counter(f.code for f in report.findings)
        out: list[nodes.Node] = [nodes.rubric("", f"Lint: {len(report.findings)} findings under {self.options.get('display', self.options['lint'])}")]
        rows: list[list] = []
        for code in worst_first(counts):
            rule = ALL_RULES.get(code)
            rows.append([
                reference(rule_label(code), code) if rule and self.config.gilsafe_link_rules else code,
                rule.name if rule else "could not be linted",
                WHEN_IT_MATTERS.get(rule.when, rule.when) if rule else "-",
                reference(findings_label(code), str(counts[code])),
            ])
        out.append(table(["rule", "name", "when it matters", "findings"], rows or [["-", "no findings", "-", "0"]]))
        if report.statuses:
            seen = Counter(record["status"] for record in report.statuses.values())
            text = "Under the threaded tests (`pytest --gilsafe-lint`): " + ", ".join(f"{seen[s]} {s}" for s in ("confirmed race", "ran concurrently", "not exercised")) + "."
            out.append(nodes.paragraph("", "", *inline_code_text(text)))
        if report.errors:
            out.append(nodes.paragraph("", f"{len(report.errors)} files could not be linted (see the findings page)."))
        return out

    def _stress(self, document: StressDocument) -> list[nodes.Node]:
        from gilsafe.stress.report import quiet_under_the_gil

        results = document.results
        out: list[nodes.Node] = [nodes.rubric("", f"Stress: {len(results)} cells, {'free-threaded' if not document.environment.get('gil_enabled', True) else 'GIL'} build, {document.usable_cores} usable cores")]
        rows: list[list] = []
        for result in races_seen(results):
            bad, total = bad_share(result)
            rows.append([reference(cell_label(result), cell_name(result)), reference(cell_label(result), f"{bad}/{total} trials"), worst_outcomes(result)])
        out.append(nodes.paragraph("", "Races and wrong results seen:"))
        out.append(table(["cell", "not ACCEPTABLE", "outcomes"], rows or [["none", "-", "-"]]))
        broken = crashes_and_hangs(results)
        out.append(nodes.paragraph("", "Crashes, hangs and errors:"))
        out.append(table(["cell", "status", "detail"], [[reference(cell_label(r), cell_name(r)), str(r.status), (r.detail.splitlines() or [""])[0]] for r in broken] or [["none", "-", "-"]]))
        skipped = sum(r.status == Status.SKIPPED for r in results)
        if skipped:
            out.append(nodes.paragraph("", f"{skipped} cells skipped (a backend not installed or no device; the stress page says which)."))
        quiet = " ".join(line.strip() for line in quiet_under_the_gil(results) if line.strip())
        if quiet:
            note = nodes.admonition(classes=["warning"])
            note += nodes.title("", "No race seen is not safe")
            sentence = quiet.removeprefix("note: ")
            note += nodes.paragraph("", "", *inline_code_text(sentence[:1].upper() + sentence[1:]))
            out.append(note)
        best = best_speedups(results, document.usable_cores)
        if best:
            out.append(nodes.rubric("", "Do threads help? The best speed-up per backend"))
            order = sorted(best, key=lambda b: (not best[b].stable, -best[b].efficiency))
            out.append(table(
                ["backend", "best speed-up", "threads", "ideal min(N, M)", "of ideal", "rounds", "cell"],
                [[b, reference(cell_label(best[b].result), f"{best[b].speedup:.2f}x"), str(best[b].result.threads), str(best[b].ideal), f"{100 * best[b].efficiency:.0f}%", "steady" if best[b].stable else "spread wide: do not trust", reference(cell_label(best[b].result), cell_name(best[b].result))] for b in order],
            ))
            plot = plot_best_speedups(best, Path(self.env.srcdir) / PLOTS_FOLDER / Path(self.env.docname).name / "best-speedups.png")
            out.append(image(self, plot, "each backend's best speed-up against the ideal min(N, M)"))
        return out

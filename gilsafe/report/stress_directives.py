"""The stress side of the docs: a results file's tables and plots, and an experiment's page."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from gilsafe.report.pages import PLOTS_FOLDER, table
from gilsafe.stress.model import Result
from gilsafe.stress.results_file import ResultsFileError, StressDocument, read_document
from gilsafe.stress.verdict import cell_name


def load_stress(directive: SphinxDirective, given: str) -> StressDocument:
    """The results file a directive names (relative to its page), as records; a wrong file is the
    directive's one-line error."""
    source = (Path(directive.env.doc2path(directive.env.docname)).parent / given).resolve()
    directive.env.note_dependency(str(source))
    try:
        return read_document(source)
    except ResultsFileError as error:
        raise directive.error(f"{directive.name}: {error}") from None


def cell_label(result: Result) -> str:
    """The cross-reference label of a cell's detail on the stress page."""
    where = f"-{result.python}" if result.python not in ("", "current") else ""
    return "gilsafe-cell-" + re.sub(r"[^a-z0-9]+", "-", f"{result.experiment}-{result.backend}-{result.variant}-{result.threads}{where}".lower()).strip("-")


def speedup_series(results: list[Result]) -> dict[tuple[str, str], dict[str, list[tuple[int, float]]]]:
    """(experiment, backend) -> variant -> [(threads, speed-up vs 1 thread)] for threaded speed rows."""
    series: dict[tuple[str, str], dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for result in results:
        speedup = result.timings.get("speedup_vs_1_thread")
        if result.status == "ok" and isinstance(speedup, (int, float)):
            series[(result.experiment, result.backend)][result.variant].append((result.threads, speedup))
    return series


def plot_speedups(results: list[Result], cores: int, folder: Path) -> dict[tuple[str, str], Path]:
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


def image(directive: SphinxDirective, path: Path, alt: str) -> nodes.image:
    uri = "/" + path.relative_to(Path(directive.env.srcdir)).as_posix()
    return nodes.image(uri=uri, alt=alt, candidates={"*": uri})


def outcome_rows(result: Result) -> list[list[str]]:
    total = sum(o.count for o in result.outcomes)
    return [[o.outcome, str(o.count), f"{100 * o.count / total:.1f}%" if total else "-", str(o.expect), o.description] for o in result.outcomes]


def has_detail(result: Result) -> bool:
    """An outcome table or a failure to show below the experiment's table."""
    return bool(result.outcomes) or result.status.failed


def measured_line(result: Result) -> str:
    from gilsafe.stress.report import report_timing_line

    return report_timing_line(result) or (result.detail.splitlines() or [""])[0]


def environment_line(document: StressDocument) -> str:
    env = document.environment
    return (
        f"Python {env.get('python')} ({'free-threaded' if env.get('free_threaded_build') else 'GIL'} build, "
        f"GIL {'enabled' if env.get('gil_enabled') else 'disabled'}), {document.usable_cores} usable cores; "
        + ", ".join(f"{k} {v}" for k, v in sorted(env.get("libraries", {}).items()) if v)
    )


class StressDirective(SphinxDirective):
    """Every cell of a results file: a table per experiment, each cell's detail (outcome table,
    timings) under a label the report's first page links to, and speed-up plots."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from gilsafe.stress.experiments import EXPERIMENTS

        document = load_stress(self, self.arguments[0])
        out: list[nodes.Node] = [nodes.paragraph("", environment_line(document))]
        plots_dir = Path(self.env.srcdir) / PLOTS_FOLDER / Path(self.env.docname).name
        plots = plot_speedups(document.results, document.usable_cores, plots_dir)
        by_experiment: dict[str, list[Result]] = defaultdict(list)
        for result in document.results:
            by_experiment[result.experiment].append(result)
        for experiment, results in by_experiment.items():
            spec = EXPERIMENTS.get(experiment)
            out.append(nodes.rubric("", f"{experiment}: {spec.title}" if spec else experiment))
            if spec:
                out.append(nodes.paragraph("", f"Observed: {spec.observes}. The talk: {spec.talk}."))
            # A speed cell's detail is its row: the summary's links land on the table.
            out += [self._target(r) for r in results if not has_detail(r)]
            out.append(table(["backend/variant", "threads", "status", "timings or detail"], [[f"{r.backend}/{r.variant}", str(r.threads), str(r.status), measured_line(r)] for r in results]))
            for result in results:
                if has_detail(result):
                    out += self._cell_detail(result)
            for (plot_experiment, backend), path in plots.items():
                if plot_experiment == experiment:
                    out.append(image(self, path, f"{experiment} {backend}: speed-up vs threads"))
        return out

    def _cell_detail(self, result: Result) -> list[nodes.Node]:
        """A cell with something to show gets its own labelled block."""
        heading = nodes.paragraph("", "", nodes.strong("", f"{result.backend}/{result.variant}, {result.threads} threads: {result.status}"))
        first_line = (result.detail.splitlines() or [""])[0]
        if first_line:
            heading += nodes.Text(f" - {first_line}")
        out: list[nodes.Node] = [self._target(result), heading]
        if result.outcomes:
            out.append(table(["outcome", "count", "frequency", "expect", "description"], outcome_rows(result), classes=("gilsafe-outcomes",)))
        elif result.detail.strip():
            out.append(nodes.literal_block(result.detail, result.detail))
        return out

    def _target(self, result: Result) -> nodes.target:
        label = cell_label(result)
        node_id = nodes.make_id(label)
        std = self.env.get_domain("std")
        if label not in std.labels:  # the same results file shown twice keeps its first place
            std.note_hyperlink_target(label, self.env.docname, node_id, cell_name(result))
        return nodes.target("", "", ids=[node_id])


class ExperimentDirective(SphinxDirective):
    required_arguments = 1
    option_spec = {"results": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        from gilsafe.stress.experiments import EXPERIMENTS

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
            document = load_stress(self, self.options["results"])
            results = [r for r in document.results if r.experiment == spec.id]
            env = document.environment
            out.append(nodes.paragraph("", f"Measured by this project: Python {env.get('python')}, {env.get('cpu_affinity')} cores ({env.get('machine', '')})."))
            out.append(table(["backend/variant", "threads", "status", "measured"], [[f"{r.backend}/{r.variant}", str(r.threads), str(r.status), measured_line(r)] for r in results]))
        return out

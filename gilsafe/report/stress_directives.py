"""The stress side of the docs: a results file's tables and plots, and an experiment's page."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from gilsafe.report.pages import PLOTS_FOLDER, table


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

"""Sphinx configuration of gilsafe's own docs. Rule and experiment pages are generated from the code."""

from pathlib import Path

project = "gilsafe"
author = "the gilsafe developers"
extensions = ["gilsafe.sphinx"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1100px"}
exclude_patterns = ["_build"]

HERE = Path(__file__).parent


def _generate_pages(app) -> None:
    from gilsafe.report.pages import write_rule_pages
    from gilsafe.stress.experiments import EXPERIMENTS

    write_rule_pages(HERE / "rules")
    folder = HERE / "experiments"
    folder.mkdir(exist_ok=True)
    for experiment_id, spec in EXPERIMENTS.items():
        title = f"{experiment_id}: {spec.title}"
        text = f"{title}\n{'=' * len(title)}\n\n.. gilsafe-experiment:: {experiment_id}\n   :results: ../measured/cpu-2core.json\n"
        page = folder / f"{experiment_id}.rst"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


def setup(app):
    app.connect("builder-inited", _generate_pages)

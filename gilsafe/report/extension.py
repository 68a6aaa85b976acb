"""gilsafe's Sphinx extension: lint findings and stress results rendered at build time.

In conf.py: ``extensions = ["gilsafe.sphinx"]`` (which loads this module). Directives:

- ``.. gilsafe-lint:: PATH`` lints PATH (relative to the document) and renders the findings grouped
  by rule, each with its source lines, the finding marked, and the thread entry that makes it run.
- ``.. gilsafe-stress:: RESULTS.json`` renders a stress run: outcome tables, timings, and one
  speed-up-vs-threads plot (against the ideal min(N, M)) per experiment and backend.
- ``.. gilsafe-rule:: GS101`` renders a rule's page from the rule module itself.
- ``.. gilsafe-summary::`` with ``:lint: PATH`` and/or ``:stress: RESULTS.json``: the verdict
  first (findings by rule worst first, races and wrong results k/N, crashes and hangs, the best
  speed-up per backend against min(N, M)), each number linking to the pages the two directives above
  make in the same project.
- ``.. gilsafe-experiment:: E4`` renders an experiment's page: the talk's figures, and measured
  ones when ``:results: FILE`` is given.

Config: ``gilsafe_link_rules`` (default True): link findings to the rule pages (label
``gilsafe-rule-<code>``); turn it off when the pages are not part of the project.
"""

from __future__ import annotations

from gilsafe import __version__
from gilsafe.report.cli_directive import CliDirective
from gilsafe.report.lint_directives import GilDataDirective, LintDirective, RuleDirective
from gilsafe.report.stress_directives import ExperimentDirective, StressDirective
from gilsafe.report.summary import SummaryDirective


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

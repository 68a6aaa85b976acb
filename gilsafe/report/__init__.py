"""`gilsafe report`: a standalone HTML report of lint findings and stress results, built with the
Sphinx extension, with no conf.py of the user's."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from gilsafe.errors import UsageError

CONF = '''project = "gilsafe report"
extensions = ["gilsafe.report.extension"]
html_title = "gilsafe report"
html_theme = "alabaster"
html_theme_options = {"page_width": "1100px"}
html_static_path = ["_static"]
html_css_files = ["gilsafe.css"]
'''

# Tables sit under the text they belong to (alabaster centres them), and the verdict stands out.
CSS = """table.gilsafe-table { margin-left: 0; }
p.gilsafe-verdict { font-size: 1.25em; }
span.gilsafe-runtime { font-weight: bold; }
span.gilsafe-runtime.confirmed-race { color: #b00020; }
span.gilsafe-runtime.ran-concurrently { color: #8a5a00; }
span.gilsafe-runtime.not-exercised { color: #666; }
"""


def _page(title: str, body: str) -> str:
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"


def build_report(lint: list[str], stress: Path | None, out: Path, runtime: Path | None = None) -> Path:
    """Build the report into `out` (replaced whole only once the build succeeded)."""
    import importlib.util

    if importlib.util.find_spec("sphinx") is None:
        raise UsageError("gilsafe report needs Sphinx: pip install 'gilsafe[docs]'")
    from gilsafe.report.pages import write_rule_pages

    if not lint and stress is None:
        raise UsageError("give --lint PATH and/or --stress RESULTS.json")
    for path in lint:
        if not Path(path).exists():
            raise UsageError(f"--lint {path}: no such file or directory")
    if runtime is not None:
        if not lint:
            raise UsageError("--runtime marks lint findings: give --lint PATH too")
        from gilsafe.pytest_plugin.confirm import read_confirmed

        read_confirmed(runtime)  # one line here, not a crash inside Sphinx
    if stress is not None:
        from gilsafe.stress.results_file import read_document

        read_document(stress)  # a wrong file is one line here, not a crash inside Sphinx
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="gilsafe-report-") as work:
        source = Path(work) / "source"
        source.mkdir()
        (source / "conf.py").write_text(CONF)
        (source / "_static").mkdir()
        (source / "_static" / "gilsafe.css").write_text(CSS)
        pages = []
        marks = f"   :runtime: {runtime.resolve()}\n" if runtime is not None else ""
        options = "".join(f"   :lint: {Path(p).resolve()}\n   :display: {p}\n" for p in lint[:1]) + marks
        if stress is not None:
            options += f"   :stress: {stress.resolve()}\n"
        if lint:
            body = "\n".join(f".. gilsafe-lint:: {Path(p).resolve()}\n   :display: {p}\n{marks}" for p in lint)
            (source / "findings.rst").write_text(_page("Findings", body))
            pages.append("findings")
            write_rule_pages(source / "rules")
            (source / "rules.rst").write_text(_page("Rules", ".. toctree::\n   :glob:\n   :maxdepth: 1\n\n   rules/*\n"))
        if stress is not None:
            (source / "stress.rst").write_text(_page("Stress results", f".. gilsafe-stress:: {stress.resolve()}\n"))
            pages.append("stress")
        if lint:
            pages.append("rules")
        # The verdict page links to the detail itself; the toctree only orders the sidebar.
        toctree = ".. toctree::\n   :hidden:\n\n" + "".join(f"   {p}\n" for p in pages)
        detail = "Detail: " + ", ".join(f":doc:`{p}`" for p in pages) + "."
        (source / "index.rst").write_text(_page("gilsafe report", f".. gilsafe-summary::\n{options}\n{detail}\n\n{toctree}"))
        html = Path(work) / "html"
        # Its own process: Sphinx keeps state between builds in one process (a second report built by
        # the same program crashed in the toctree), and the lint it runs must see the files as they are now.
        done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", "-d", str(Path(work) / "doctrees"), str(source), str(html)])
        if done.returncode != 0:
            raise UsageError("the report did not build (Sphinx printed why above)")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(html, out)
    return out / "index.html"

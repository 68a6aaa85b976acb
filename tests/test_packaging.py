"""rules/ and kernels/ install as gilsafe.rules and gilsafe.kernels, in a wheel and editable."""

import importlib.util
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import gilsafe.kernels
import gilsafe.rules

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return next(out.glob("gilsafe-*.whl"))


def test_wheel_has_no_top_level_rules_or_kernels(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert "rules" not in top and "kernels" not in top
    assert top <= {"gilsafe", next(n.split("/")[0] for n in names if ".dist-info/" in n)}
    assert "gilsafe/rules/gs101_shared_read_modify_write.py" in names
    assert "gilsafe/kernels/__init__.py" in names
    assert "gilsafe/rules/gil_release.json" in names, "the probe data the array rules cite"


@pytest.mark.slow
def test_wheel_installs_and_runs(wheel, tmp_path):
    env = tmp_path / "env"
    venv.create(env, with_pip=True, system_site_packages=False)
    python = env / "bin" / "python"
    # Binary wheels only: on a free-threaded build the newest libcst has none and would build from source.
    subprocess.run([python, "-m", "pip", "install", "-q", "--only-binary=:all:", str(wheel)], check=True, capture_output=True, timeout=600)
    result = subprocess.run([env / "bin" / "gilsafe", "rules"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and "GS101" in result.stdout
    # the installed rules find their probe data (it is package data, not a file of the checkout)
    claim = "from gilsafe.lint import gil_data; print(gil_data.claim('numpy.add').releases, gil_data.DATA_FILE)"
    out = subprocess.run([python, "-c", claim], capture_output=True, text=True, cwd=tmp_path).stdout.split()
    assert out[0] == "True" and str(env) in out[1]
    probe = "import importlib.util as u; print(u.find_spec('rules'), u.find_spec('kernels'))"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=tmp_path).stdout
    assert out.strip() == "None None"


def test_editable_install_maps_the_folders():
    assert Path(gilsafe.rules.__file__).resolve() == REPO / "rules" / "__init__.py"
    assert Path(gilsafe.kernels.__file__).resolve() == REPO / "kernels" / "__init__.py"
    assert importlib.util.find_spec("gilsafe.rules.gs101_shared_read_modify_write") is not None


@pytest.mark.parametrize("package", ["gilsafe.lint", "gilsafe.stress", "gilsafe.report", "gilsafe.pytest_plugin.plugin", "gilsafe.cli"])
def test_each_package_imports_alone(package):
    """No import cycle: each package imports in a fresh interpreter on its own."""
    done = subprocess.run([sys.executable, "-c", f"import {package}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_layout_lint_and_stress_never_import_report_or_the_cli():
    """The architecture, as imports: lint and stress are independent; report uses both; the CLI
    sits on top. Checked statically, function-local imports included."""
    import ast

    def imported_groups(folder: Path) -> set[str]:
        groups = set()
        for file in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                groups.update(name.split(".")[1] for name in names if name.startswith("gilsafe.") and name.count(".") >= 1)
        return groups

    package = REPO / "gilsafe"
    assert not imported_groups(package / "lint") & {"stress", "report", "cli", "arguments", "sphinx"}
    assert not imported_groups(package / "stress") & {"lint", "report", "cli", "sphinx"}
    assert "cli" not in imported_groups(package / "report")
    # The pytest plugin uses lint and stress; nothing below it knows it exists.
    assert not imported_groups(package / "pytest_plugin") & {"report", "cli", "arguments", "sphinx"}
    assert "pytest_plugin" not in imported_groups(package / "lint") | imported_groups(package / "stress")


def test_the_pytest_plugin_loads_light():
    """pytest loads the plugin in every run of every project that installs gilsafe: loading it
    must not import the linter (libcst) or the stress harness."""
    probe = "import sys, gilsafe.pytest_plugin.plugin; print(sorted(m for m in sys.modules if m == 'libcst' or m.startswith(('gilsafe.lint', 'gilsafe.stress', 'numpy'))))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

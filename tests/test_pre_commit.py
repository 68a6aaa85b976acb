"""The pre-commit hook, for real: `pre-commit try-repo <this repo> gilsafe-lint --all-files`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RACY = """import threading

n = 0


def work():
    global n
    n += 1


for _ in range(2):
    threading.Thread(target=work).start()
"""


def pre_commit():
    candidate = Path(sys.executable).with_name("pre-commit")
    if candidate.exists():
        return str(candidate)
    return shutil.which("pre-commit")


@pytest.mark.slow
@pytest.mark.skipif(pre_commit() is None, reason="pre-commit is not installed (the test extra installs it)")
def test_hook_fails_on_racy_code_and_passes_once_fixed(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    env.pop("PYTHONPATH", None)

    def git(*args):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True, env=env)

    git("init", "-q")
    (project / "racy.py").write_text(RACY)
    (project / "clean.py").write_text("x = 1\n")
    git("add", ".")

    def hook():
        return subprocess.run(
            [pre_commit(), "try-repo", str(REPO), "gilsafe-lint", "--all-files"],
            cwd=project, capture_output=True, text=True, env=env, timeout=900,
        )

    failed = hook()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "racy.py:8:5: GS101 `n += 1` is a read-modify-write of global `n` outside any lock" in failed.stdout
    assert "clean.py" not in failed.stdout.split("gilsafe lint")[-1]

    (project / "racy.py").write_text(RACY.replace("n += 1", "n += 1  # noqa: GS101"))
    git("add", ".")
    suppressed = hook()
    assert suppressed.returncode == 0, suppressed.stdout

    (project / "racy.py").write_text(RACY)  # racy again, but switched off in the config
    (project / "pyproject.toml").write_text('[tool.gilsafe]\nignore = ["GS101"]\n')
    git("add", ".")
    configured = hook()
    assert configured.returncode == 0, "the hook honours [tool.gilsafe]\n" + configured.stdout


@pytest.mark.slow
@pytest.mark.skipif(pre_commit() is None, reason="pre-commit is not installed (the test extra installs it)")
@pytest.mark.parametrize("document", ["README.md", "docs/integrations.rst"])
def test_the_documented_snippet_works_as_printed(tmp_path, document):
    """The `.pre-commit-config.yaml` the docs print, copied as it stands, with gilsafe installed
    in the environment (as the docs say)."""
    import textwrap

    text = (REPO / document).read_text()
    if document.endswith(".md"):
        snippet = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    else:
        block = text.split(".. code-block:: yaml\n\n", 1)[1]
        snippet = textwrap.dedent("".join(block.splitlines(keepends=True)[: block.count("\n")]).split("\n\n", 1)[0]) + "\n"
    assert "repo: local" in snippet
    project = tmp_path / "project"
    project.mkdir()
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    subprocess.run(["git", "init", "-q"], cwd=project, check=True, env=env)
    (project / ".pre-commit-config.yaml").write_text(snippet)
    (project / "racy.py").write_text(RACY)
    subprocess.run(["git", "add", "."], cwd=project, check=True, env=env)
    done = subprocess.run([pre_commit(), "run", "--all-files"], cwd=project, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "racy.py:8:5: GS101" in done.stdout

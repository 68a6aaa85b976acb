"""`gilsafe probe` and the GIL-release data the rules cite."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gilsafe.lint import gil_data
from gilsafe.probe import HOLDS, NO_GIL, RELEASES, gil_is_enabled, probe_sizes

HERE = Path(__file__).parent
needs_gil = pytest.mark.skipif(not gil_is_enabled(), reason="the probe needs a GIL to observe: this interpreter runs without one")


def _probe_cli(*args, cwd=HERE):
    return subprocess.run([sys.executable, "-m", "gilsafe", "probe", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@needs_gil
def test_pure_python_loop_holds_the_gil():
    sys.path.insert(0, str(HERE))
    try:
        rows = probe_sizes("probe_targets:spin", [20_000], scalar=True, seconds=0.2)
    finally:
        sys.path.remove(str(HERE))
    assert rows[0].verdict == HOLDS and rows[0].calls_with_ticks == 0 and rows[0].calls >= 5


@needs_gil
def test_sleep_releases_the_gil():
    rows = probe_sizes("time.sleep", [0.002], scalar=True, seconds=0.1)
    assert rows[0].verdict == RELEASES
    assert rows[0].calls_with_ticks == rows[0].calls


@needs_gil
def test_large_numpy_add_releases_the_gil_and_a_tiny_one_does_not():
    pytest.importorskip("numpy")
    tiny, large = probe_sizes("numpy.add", [10, 1_000_000], seconds=0.2)
    assert tiny.verdict == HOLDS  # NumPy keeps the GIL for loops under 500 elements
    assert large.verdict == RELEASES


def test_probe_cli_prints_a_verdict_per_size_and_writes_json(tmp_path):
    out = tmp_path / "probe.json"
    done = _probe_cli("probe_targets:spin", "--scalar", "--sizes", "1000,20000", "--seconds", "0.05", "--json", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gilsafe probe probe_targets:spin")
    expected = HOLDS if gil_is_enabled() else NO_GIL
    assert [line.rstrip().endswith(expected) for line in lines[2:]] == [True, True]
    document = json.loads(out.read_text())
    assert [row["size"] for row in document["rows"]] == [1000, 20000]
    assert document["gil_enabled"] == gil_is_enabled()


def test_probe_cli_bad_callable_is_one_line_and_exit_2():
    done = _probe_cli("no_such_module_xyz.f")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no_such_module_xyz.f" in done.stderr


def test_data_records_the_count_nonzero_change_between_numpy_versions():
    found = gil_data.claim("numpy.count_nonzero", "float64")
    assert found is not None
    assert "2.2" in found.releases_in and "2.4" in found.holds_in
    assert not found.releases
    assert "released the GIL with numpy 2.2" in found.sentence()
    added = gil_data.claim("numpy.add")
    assert added.releases and added.smallest_release is not None


# Sizes whose verdict does not depend on timing luck: 10 elements stay under NumPy's 500-element
# threshold, a million take hundreds of microseconds.
SAMPLE = [
    ("numpy.add", "float64", 2, 10),
    ("numpy.add", "float64", 2, 1_000_000),
    ("numpy.sum", "float64", 1, 1_000_000),
    ("numpy.sort", "float64", 1, 1_000_000),
    ("numpy.count_nonzero", "float64", 1, 1_000_000),
    ("numpy.count_nonzero", "bool", 1, 1_000_000),
]


@needs_gil
@pytest.mark.parametrize("dotted, dtype, arguments, size", SAMPLE)
def test_data_agrees_with_this_machine(dotted, dtype, arguments, size):
    numpy = pytest.importorskip("numpy")
    minor = ".".join(numpy.__version__.split(".")[:2])
    versions = gil_data.load()["libraries"]["numpy"]
    if minor not in versions:
        pytest.skip(f"no probe data for NumPy {minor}: run `PYTHONPATH=. python scripts/gil-release-data numpy`")
    entry = next(e for e in versions[minor]["entries"] if e["callable"] == dotted and e["dtype"] == dtype)
    (row,) = probe_sizes(dotted, [size], dtype=dtype, arguments=arguments, seconds=0.2)
    measured = "releases" if row.verdict == RELEASES else "holds"
    assert measured == entry["verdicts"][str(size)], f"{dotted} {dtype} at {size}: data says {entry['verdicts'][str(size)]}, this machine {measured}"

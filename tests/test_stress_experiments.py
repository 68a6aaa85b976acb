"""Each experiment's logic, in-process at small sizes (the CLI tests run them isolated)."""

import json

import pytest

from gilsafe.stress import experiments as ex
from gilsafe.stress.model import ACCEPTABLE, FORBIDDEN, INTERESTING, Cell, DeclaredOutcome, Outcome, OutcomeCounts, OutcomeTable, Result, Status


def cell(experiment, backend, variant, threads=2, trials=3, size=None, seconds=30.0, repeats=2, min_time=0.01):
    # Short calibrated runs: these tests check each experiment's logic, not its speed.
    return Cell(experiment, backend, variant, threads, trials, size, seconds, repeats=repeats, min_time=min_time)


def test_run_together_starts_behind_a_barrier_and_returns_results():
    seconds, results = ex.run_together([lambda i=i: i * i for i in range(4)])
    assert results == [0, 1, 4, 9] and seconds >= 0


def test_run_together_surfaces_an_actor_exception():
    with pytest.raises(ZeroDivisionError):
        ex.run_together([lambda: 1 / 0, lambda: 1])


def test_e1_measures_series_threads_processes_and_launch_costs():
    timings = ex.run_e1(cell("E1", "python", "series-threads-processes", size=20_000, trials=1)).timings
    for key in ("series_s", "threads_s", "processes_s", "thread_launch_ms", "process_launch_ms"):
        assert timings[key] > 0
    assert timings["threads_speedup"] == pytest.approx(timings["series_s"] / timings["threads_s"])


@pytest.mark.parametrize("variant", ex.E2_VARIANTS)
def test_e2_outcomes_are_graded(variant):
    e2 = cell("E2", "python", variant, trials=4, size=2_000)
    observed = ex.run_e2(e2)
    rows = {o.outcome: o for o in ex.grade(e2, observed)}
    assert sum(o.count for o in rows.values()) == 4
    assert set(rows) <= {"g == 0", "g != 0"}
    assert rows["g != 0"].expect == INTERESTING and rows["g == 0"].expect == ACCEPTABLE, "both declared rows, seen or not"
    assert "of 4 trials" in observed.detail


def test_e2_property_variant_shows_the_race_under_the_gil():
    observed = ex.run_e2(cell("E2", "python", "property", trials=30, size=100_000))
    assert observed.outcomes.counts["g != 0"], observed.detail


def test_e2_restores_the_switch_interval():
    import sys

    before = sys.getswitchinterval()
    ex.run_e2(cell("E2", "python", "switchinterval", trials=1, size=100))
    assert sys.getswitchinterval() == before


def test_soft_deadline_stops_trials_and_says_so():
    observed = ex.run_e2(cell("E2", "python", "talk", trials=10_000, size=50_000, seconds=0.2))
    done = observed.timings["trials"]
    assert 1 <= done < 10_000
    assert f"time budget: {done} of 10000 trials ran" in observed.detail


@pytest.mark.parametrize("backend", ["python", "numpy", "cext", "numba"])
def test_e3_pi_kernels_estimate_pi(backend):
    pytest.importorskip({"python": "random", "numpy": "numpy", "cext": "gilsafe.kernels._cext", "numba": "numba"}[backend])
    for variant in ("talk", "tuned"):
        timings = ex.run_pi_single(cell("E3", backend, variant, size=200_000)).timings
        assert timings["relative_error"] < 0.02
        assert timings["ns_per_shot"] > 0 and timings["speedup_vs_python"] > 0


def test_e4_reports_speedup_against_the_ideal():
    pytest.importorskip("gilsafe.kernels._cext")
    timings = ex.run_pi_threads(cell("E4", "cext", "tuned", threads=2, size=400_000)).timings
    assert timings["ideal"] == min(2, ex.usable_cores())
    assert timings["efficiency"] == pytest.approx(timings["speedup_vs_1_thread"] / timings["ideal"])
    assert timings["relative_error"] < 0.02


def test_e5_both_c_rngs_estimate_pi():
    pytest.importorskip("gilsafe.kernels._cext")
    for variant in ("rand_r", "random"):
        timings = ex.run_pi_threads(cell("E5", "cext", variant, threads=2, size=200_000)).timings
        assert timings["relative_error"] < 0.02


@pytest.mark.parametrize("variant", ["jit", "jit-numpy", "parallel", "nogil-threads", "tuned"])
def test_e6_numba_variants(variant):
    pytest.importorskip("numba")
    timings = ex.run_e6(cell("E6", "numba", variant, size=200_000)).timings
    assert timings["relative_error"] < 0.02 and timings["speedup_vs_python"] > 0


@pytest.mark.parametrize(
    "backend, variant",
    [("python", "list-loop"), ("python", "ndarray-loop"), ("numpy", "add-list"), ("numpy", "add-ndarray"), ("numba", "jit-loop-ndarray")],
)
def test_e7_indexing(backend, variant):
    pytest.importorskip("numba" if backend == "numba" else "numpy")
    timings = ex.run_e7(cell("E7", backend, variant, size=20_000)).timings
    assert timings["ns_per_element"] > 0
    if variant == "list-loop":
        assert timings["speedup_vs_list_loop"] == 1.0


def test_e11_threads_slope_and_shared_hits():
    pytest.importorskip("numpy")
    slope = ex.run_e11(cell("E11", "numpy", "threads", threads=2, size=100_000)).timings
    assert slope["slope"] > 0 and slope["ideal_slope"] == 2 / min(2, ex.usable_cores())
    shared = cell("E11", "numpy", "shared-hits", threads=2, size=10_000, trials=3)
    rows = ex.grade(shared, ex.run_e11(shared))
    assert sum(o.count for o in rows) == 3
    assert {o.expect for o in rows} <= {ACCEPTABLE, INTERESTING}


@pytest.mark.parametrize("backend, variant", [("numpy", "count"), ("numpy", "rng-count"), ("cext", "count")])
def test_e12_counts_are_checked(backend, variant):
    pytest.importorskip("numpy" if backend == "numpy" else "gilsafe.kernels._cext")
    e12 = cell("E12", backend, variant, threads=3, size=50_000, trials=3)
    observed = ex.run_e12(e12)
    rows = ex.grade(e12, observed)
    assert sum(o.count for o in rows) == 3
    assert all(o.expect == (FORBIDDEN if o.outcome == "a count != n" else ACCEPTABLE) for o in rows)
    if backend == "numpy":
        import numpy

        assert observed.timings["numpy"] == numpy.__version__


def test_e12_a_wrong_count_is_forbidden(monkeypatch):
    pytest.importorskip("numpy")
    from gilsafe.kernels import numpy_kernels

    monkeypatch.setattr(numpy_kernels, "count_ones", lambda n: n - 1)
    e12 = cell("E12", "numpy", "count", threads=2, size=10, trials=2)
    rows = ex.grade(e12, ex.run_e12(e12))
    assert [(o.outcome, o.count, o.expect) for o in rows] == [("all counts == n", 0, ACCEPTABLE), ("a count != n", 2, FORBIDDEN)]


def test_e13_variants():
    pytest.importorskip("numba")
    nopython = ex.run_e13(cell("E13", "numba", "nopython", threads=2, size=200_000)).timings
    assert nopython["numba_loop_vs_numpy"] > 0 and nopython["python_loop_vs_numpy"] < 1
    objmode = ex.run_e13(cell("E13", "numba", "objmode", threads=2, size=20_000))
    assert "object mode, nogil=True" in objmode.detail
    assert objmode.timings["relative_error"] < 0.05


def test_grading_declared_unlisted_and_families():
    table = OutcomeTable(
        (
            DeclaredOutcome("ok", ACCEPTABLE, "fine"),
            DeclaredOutcome("lost", INTERESTING, "the race"),
            DeclaredOutcome("raised *", FORBIDDEN, "an exception"),
        )
    )
    counts = OutcomeCounts()
    for outcome in ("ok", "ok", "raised KeyError", "weird"):
        counts.saw(outcome, "note" if outcome == "raised KeyError" else "")
    rows = table.grade(counts.counts, counts.notes)
    assert [(o.outcome, o.count, o.expect) for o in rows] == [
        ("ok", 2, ACCEPTABLE), ("lost", 0, INTERESTING), ("raised KeyError", 1, FORBIDDEN), ("weird", 1, FORBIDDEN),
    ], "declared rows seen 0 times are listed; a family row per member seen; unlisted as the table says"
    assert rows[2].description == "note" and rows[3].description == "not in the experiment's table"
    assert table.grade({}) == [], "a cell that counted nothing has no table"


def test_grading_values_that_differ_between_trials():
    table = OutcomeTable((), ACCEPTABLE, "the value", differing=INTERESTING)
    assert [o.expect for o in table.grade({"400000": 18, "381023": 1, "200000": 1})] == [INTERESTING] * 3
    assert [o.expect for o in table.grade({"400000": 20})] == [ACCEPTABLE]


def test_status_is_ordered_by_severity_and_results_round_trip():
    assert max(Status.OK, Status.CRASH, Status.SKIPPED) is Status.CRASH
    assert sorted(Status) == [Status.OK, Status.SKIPPED, Status.ERROR, Status.TIMEOUT, Status.CRASH]
    for status in Status:
        result = Result("E12", "numpy", "count", 2, status, outcomes=[Outcome("a", 2, ACCEPTABLE), Outcome("b", 1, FORBIDDEN)])
        again = Result.from_json(json.loads(json.dumps(result.to_json())))
        assert again.status is status and again.outcomes[1].expect is FORBIDDEN
        assert again.to_json() == result.to_json()
    result = Result("E12", "numpy", "count", 2, Status.OK, outcomes=[Outcome("a", 2, ACCEPTABLE), Outcome("b", 1, FORBIDDEN)])
    assert result.forbidden and result.failed
    assert result.to_json()["outcomes"][0]["frequency"] == pytest.approx(2 / 3, abs=1e-6)
    interesting = Result("E2", "python", "talk", 2, Status.OK, outcomes=[Outcome("g != 0", 3, INTERESTING)])
    assert not interesting.failed, "showing the race an experiment exists to show is not a failure"
    assert Result("E4", "numpy", "talk", 2, Status.TIMEOUT).failed
    assert not Result("E4", "numpy", "talk", 2, Status.SKIPPED).failed


def test_every_experiment_that_counts_outcomes_declares_them():
    """The tables can be read before a run: the racy experiments list what each outcome means."""
    for experiment_id in ("E2", "E11", "E12"):
        table = ex.EXPERIMENTS[experiment_id].outcome_table(cell(experiment_id, "numpy", "count"))
        assert table.declared and {row.expect for row in table.declared} >= {ACCEPTABLE}
def test_catalogue_covers_the_issue():
    assert set(ex.EXPERIMENTS) == {f"E{i}" for i in range(1, 14)}
    for spec in ex.EXPERIMENTS.values():
        assert spec.variants and spec.talk and spec.slides
    assert ex.usable_cores() >= 1


def test_no_race_under_the_gil_never_reads_as_safe(monkeypatch, tmp_path):
    from gilsafe.stress import report

    monkeypatch.setenv("GILSAFE_FREE_THREADED_HOME", str(tmp_path))
    quiet = Result("E2", "python", "talk", 2, Status.OK, outcomes=[Outcome("g == 0", 30, ACCEPTABLE), Outcome("g != 0", 0, INTERESTING)], gil_enabled=True)
    text = report.format_results([quiet])
    assert 'note: no race showed in 1 cell on a GIL build (E2 python/talk x2). That is not "safe"' in text
    assert "`--python PATH` (scripts/free-threaded-python builds one)" in text
    (tmp_path / "3.13" / "bin").mkdir(parents=True)
    (tmp_path / "3.13" / "bin" / "python3.13t").touch()
    assert f"one is built here: `{tmp_path / '3.13' / 'bin' / 'python3.13t'}`" in report.format_results([quiet])
    raced = Result("E2", "python", "talk", 2, Status.OK, outcomes=[Outcome("g == 0", 29, ACCEPTABLE), Outcome("g != 0", 1, INTERESTING)], gil_enabled=True)
    free = Result("E2", "python", "talk", 2, Status.OK, outcomes=[Outcome("g == 0", 30, ACCEPTABLE)], gil_enabled=False)
    speed = Result("E4", "numpy", "talk", 2, Status.OK, gil_enabled=True)
    for result in (raced, free, speed):
        assert "no race showed" not in report.format_results([result]), result


def test_terminal_verdict_says_what_the_report_first_page_says():
    from gilsafe.stress import report
    from gilsafe.stress.stability import Stability

    results = [
        Result("E2", "python", "property", 2, Status.OK, outcomes=[Outcome("g == 0", 9, ACCEPTABLE), Outcome("g != 0", 11, INTERESTING)], gil_enabled=True),
        Result("E12", "numpy", "inplace", 2, Status.OK, outcomes=[Outcome("correct", 19, ACCEPTABLE), Outcome("wrong sum", 1, FORBIDDEN)]),
        Result("E4", "numba", "talk", 2, Status.TIMEOUT),
        Result("E4", "cext", "talk", 2, Status.CRASH),
        Result("E4", "numpy", "tuned", 2, Status.OK, timings={"speedup_vs_1_thread": 1.9}),
        Result("E4", "numpy", "talk", 2, Status.OK, timings={"speedup_vs_1_thread": 6.3}, stability=Stability(2, 5, ("speedup_vs_1_thread",))),
        Result("E4", "python", "tuned", 2, Status.OK, timings={"speedup_vs_1_thread": 1.0}),
    ]
    text = report.format_results(results, cores=2)
    assert "races and wrong results: E12 numpy/inplace x2 1/20 (FORBIDDEN: wrong sum x1), E2 python/property x2 11/20 (INTERESTING: g != 0 x11)" in text
    assert "crashes, hangs and errors: E4 cext/talk x2 crash, E4 numba/talk x2 timeout" in text
    assert "best speed-up per backend, against the ideal min(N threads, 2 cores): numpy 1.90x at 2 threads = 95% of 2, python 1.00x at 2 threads = 50% of 2" in text
    quiet = report.format_results([Result("E4", "python", "tuned", 2, Status.OK, timings={"speedup_vs_1_thread": 0.9})], cores=2)
    assert "races and wrong results: none seen" in quiet and "crashes, hangs and errors: none" in quiet

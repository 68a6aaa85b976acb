"""Calibration, median and spread, unstable marking and --compare significance, on fake clocks."""

import pytest

from gilsafe.stress import experiments as ex
from gilsafe.stress import report
from gilsafe.stress.harness import ThreadPlacement, current_cpu, on_distinct_cores
from gilsafe.stress.model import Cell, Result
from gilsafe.stress.stability import (
    SHORTEST_MIN_TIME,
    CellConditions,
    Spread,
    Stability,
    assess,
    calibrated_size,
    likely_causes,
    min_time_within,
    repeat_rounds,
    spread_of,
    spreads_of,
)


class FakeClock:
    """A clock that moves only when told: each round of work advances it by its own length."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_spread_is_the_median_and_the_range_of_the_rounds():
    assert spread_of([0.91, 0.99, 0.95, 0.60, 0.97]) == Spread(0.95, 0.60, 0.99, 5)
    assert spread_of([2.0, 4.0]).median == 3.0
    rounds = [{"efficiency": 0.9, "ns_per_shot": 2.0}, {"efficiency": 1.0, "ns_per_shot": 1.0}, {"efficiency": 0.95, "ns_per_shot": 1.5}]
    assert spreads_of(rounds) == {"efficiency": Spread(0.95, 0.9, 1.0, 3), "ns_per_shot": Spread(1.5, 1.0, 2.0, 3)}
    assert spreads_of([]) == {}


def test_a_range_wider_than_a_tenth_of_the_median_is_unstable():
    assert Spread(1.0, 0.96, 1.05, 5).relative_width == pytest.approx(0.09)
    assert not Spread(1.0, 0.96, 1.05, 5).unstable
    assert Spread(1.0, 0.94, 1.05, 5).unstable
    assert not Spread(1.0, 0.5, 1.5, 1).unstable, "one round has no spread to judge"
    assert Spread(0.0, 0.0, 0.0, 3).relative_width == 0.0


def test_calibration_grows_the_work_until_a_run_lasts_the_minimum_time():
    sizes = []

    def seconds_for(n):  # 2 ns per unit of work, and a record of every size tried
        sizes.append(n)
        return n * 2e-9

    n = calibrated_size(seconds_for, 0.15, start=1000)
    assert n * 2e-9 >= 0.15
    assert n * 2e-9 < 0.15 * 1.25, "one scaling step lands just above the target, not far beyond it"
    assert sizes[:3] == [1000, 10_000, 100_000], "runs too short to time grow tenfold"
    assert len(sizes) <= 6


def test_calibration_takes_a_first_run_that_is_already_long_enough():
    assert calibrated_size(lambda n: 0.5, 0.15, start=1234) == 1234


def test_calibration_recovers_from_a_hiccup_and_stops_at_the_limit():
    measured = iter([0.002, 0.2])  # a first run slowed by the scheduler, then the real speed
    assert calibrated_size(lambda n: next(measured), 0.15, start=1000) == int(1000 * 0.15 / 0.002 * 1.2)
    assert calibrated_size(lambda n: 1e-9, 0.15, start=1000, limit=50_000) == 50_000


def test_rounds_stop_at_the_deadline_and_at_least_one_runs():
    clock = FakeClock()

    def one_round():
        clock.now += 1.0  # each round takes a second
        return {"efficiency": 0.9}

    assert len(repeat_rounds(one_round, repeats=5, seconds=2.5, clock=clock)) == 3
    assert len(repeat_rounds(one_round, repeats=5, seconds=100, clock=clock)) == 5
    assert len(repeat_rounds(one_round, repeats=5, seconds=0, clock=clock)) == 1


def test_a_tight_budget_shrinks_the_work_per_run():
    assert min_time_within(60.0, 5, 4) == 0.15, "plenty of time: the default minimum"
    assert min_time_within(2.0, 5, 4) == pytest.approx(0.8 * 2.0 / (6 * 4))
    assert min_time_within(0.01, 5, 4) == SHORTEST_MIN_TIME


def test_causes_name_what_the_conditions_show():
    idle = CellConditions(load_average_start=0.1, usable_cores=2, distinct_cores=True, other_load_cores=0.02)
    assert likely_causes(idle, 2) == []
    assert likely_causes(CellConditions(usable_cores=2), 4) == ["fewer usable cores (2) than threads (4)"]
    busy = CellConditions(usable_cores=2, distinct_cores=False, other_load_cores=0.97, cpu_governor="powersave")
    assert likely_causes(busy, 2) == [
        "other load: other processes used 1.0 cores while the cell timed",
        "the threads shared a core in some runs",
        "CPU frequency scaling (governor powersave)",
    ]
    assert likely_causes(CellConditions(load_average_start=1.8), 2) == ["other load: load average 1.80 when the cell started"]
    assert likely_causes(CellConditions(cpu_governor="performance"), 1) == []


def test_assess_marks_the_wide_figures_and_gives_causes_only_for_them():
    busy = CellConditions(usable_cores=2, other_load_cores=1.0)
    spreads = {"efficiency": Spread(0.6, 0.48, 0.99, 5), "ns_per_shot": Spread(1.5, 1.49, 1.52, 5)}
    assert assess(spreads, busy, 2, 5, 5) == Stability(5, 5, ("efficiency",), ("other load: other processes used 1.0 cores while the cell timed",))
    assert assess({"ns_per_shot": Spread(1.5, 1.49, 1.52, 5)}, busy, 2, 3, 5) == Stability(3, 5, (), ())


def test_threads_on_distinct_cores():
    apart = [ThreadPlacement(0, 0), ThreadPlacement(1, 1)]
    together = [ThreadPlacement(0, 1), ThreadPlacement(0, 0)]
    assert on_distinct_cores([apart, apart]) is True
    assert on_distinct_cores([apart, together]) is False
    assert on_distinct_cores([[ThreadPlacement(None, None)]]) is None
    assert on_distinct_cores([]) is None


def test_run_together_records_where_each_thread_ran():
    placements = []
    ex.run_together([lambda: None, lambda: None], placements)
    assert len(placements) == 2
    if current_cpu() is not None:
        assert all(p.cpu_at_start is not None and p.cpu_at_end is not None for p in placements)


def test_a_budget_cut_cell_says_how_many_repeats_it_got():
    pytest.importorskip("gilsafe.kernels._cext")
    cell = Cell("E4", "cext", "tuned", 2, 3, None, 0.001, repeats=5, min_time=0.01)
    observed = ex.run_pi_threads(cell)
    assert (observed.repeats, observed.repeats_planned) == (1, 5)
    assert observed.detail == "time budget: 1 of 5 repeats ran"
    assert observed.spreads["efficiency"].samples == 1


def test_speed_cells_report_the_median_of_their_rounds():
    pytest.importorskip("gilsafe.kernels._cext")
    observed = ex.run_pi_threads(Cell("E4", "cext", "tuned", 2, 3, None, 30.0, repeats=3, min_time=0.01))
    spread = observed.spreads["efficiency"]
    assert spread.samples == 3 and spread.low <= observed.timings["efficiency"] == spread.median <= spread.high
    assert observed.conditions.usable_cores == ex.usable_cores()


def speed_row(efficiency: Spread, python: str = "current") -> Result:
    return Result(
        "E4", "cext", "tuned", 2, "ok",
        timings={"efficiency": efficiency.median, "speedup_vs_1_thread": 2 * efficiency.median},
        spreads={"efficiency": efficiency, "speedup_vs_1_thread": Spread(2 * efficiency.median, 2 * efficiency.low, 2 * efficiency.high, efficiency.samples)},
        python=python,
    )


def test_compare_calls_a_move_within_the_spread_no_significant_change():
    before = speed_row(Spread(0.80, 0.60, 0.95, 5))
    within = speed_row(Spread(0.90, 0.85, 0.97, 5))
    beyond = speed_row(Spread(0.98, 0.97, 0.99, 5))
    assert report.compare([before], [within]) == (
        "E4 cext/tuned threads=2: vs 1 thread 1.6 -> 1.8 (no significant change); efficiency 0.8 -> 0.9 (no significant change)\n"
    )
    assert report.compare([before], [beyond]) == (
        "E4 cext/tuned threads=2: vs 1 thread 1.6 -> 1.96 (1.22x); efficiency 0.8 -> 0.98 (1.22x)\n"
    )
    assert report.compare([before], [speed_row(Spread(0.81, 0.6, 0.95, 5))]) == "E4 cext/tuned threads=2: unchanged\n"


def test_compare_of_files_without_spreads_keeps_the_five_percent_rule():
    old = Result("E4", "cext", "tuned", 2, "ok", timings={"efficiency": 0.80})
    new = Result("E4", "cext", "tuned", 2, "ok", timings={"efficiency": 0.90})
    assert report.compare([old], [new]) == "E4 cext/tuned threads=2: efficiency 0.8 -> 0.9 (1.12x)\n"


def test_side_by_side_says_whether_the_interpreters_differ_beyond_the_spread():
    a = [speed_row(Spread(0.95, 0.93, 0.97, 5))]
    table = report.side_by_side(a, [speed_row(Spread(0.96, 0.94, 0.98, 5))], "3.11", "3.13t")
    assert table.splitlines()[0].split() == ["cell", "3.11", "3.13t", "change"]
    assert table.splitlines()[2].endswith("no significant change")
    table = report.side_by_side(a, [speed_row(Spread(0.50, 0.48, 0.52, 5))], "3.11", "3.13t")
    assert table.splitlines()[2].endswith("0.53x")


def test_text_marks_unstable_figures_with_their_range_and_cause():
    row = speed_row(Spread(0.60, 0.48, 0.99, 5))
    row.stability = Stability(5, 5, ("efficiency",), ("other load: other processes used 1.0 cores while the cell timed",))
    text = report.format_results([row])
    assert "efficiency 0.60 [0.48-0.99] unstable" in text
    assert "vs 1 thread 1.20x [0.96x-1.98x] |" in text, "only the figures judged unstable say so"
    assert "    unstable: efficiency varied over 5 repeats by more than 10% of the median" in text
    assert "    likely cause: other load: other processes used 1.0 cores while the cell timed" in text
    assert text.endswith("FORBIDDEN outcomes in 0; unstable speed figures in 1\n")
    assert report.report_timing_line(Result.from_json(row.to_json())).endswith("(likely cause: other load: other processes used 1.0 cores while the cell timed)")


def test_results_with_spreads_round_trip_through_json():
    row = speed_row(Spread(0.95, 0.93, 0.97, 5))
    row.conditions = CellConditions(0.5, 0.7, None, 2, True, 0.03)
    row.stability = Stability(4, 5)
    assert Result.from_json(row.to_json()) == row
    assert "spreads" not in Result("E2", "python", "talk", 2, "ok").to_json(), "race cells carry no empty fields"

"""Stress results as text: outcome tables (jcstress style), timing lines, and run-to-run changes."""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping, Sequence

from gilsafe.stress.experiments import EXPERIMENTS
from gilsafe.stress.model import ACCEPTABLE, INTERESTING, Outcome, Result, Status
from gilsafe.stress.stability import UNSTABLE_RELATIVE_WIDTH, Spread
from gilsafe.stress.verdict import verdict_lines

# The timings worth a column, in the order a reader wants them.
HEADLINE_TIMINGS = (
    ("ns_per_shot", "ns/shot", "{:.1f}"),
    ("ns_per_element", "ns/elem", "{:.2f}"),
    ("speedup_vs_python", "vs python", "{:.1f}x"),
    ("speedup_vs_1_thread", "vs 1 thread", "{:.2f}x"),
    ("ideal", "ideal", "{}"),
    ("efficiency", "efficiency", "{:.2f}"),
    ("speedup_vs_list_loop", "vs list loop", "{:.2f}x"),
    ("threads_speedup", "threads vs series", "{:.2f}x"),
    ("processes_speedup", "processes vs series", "{:.2f}x"),
    ("thread_launch_ms", "thread launch", "{:.3f} ms"),
    ("process_launch_ms", "process launch", "{:.1f} ms"),
    ("slope", "time(N)/time(1)", "{:.2f}"),
    ("ideal_slope", "ideal slope", "{:.2f}"),
    ("python_loop_vs_numpy", "loop vs numpy", "{:.3f}x"),
    ("numba_loop_vs_numpy", "numba loop vs numpy", "{:.2f}x"),
    ("numba_threads_vs_numba", "threads vs numba", "{:.2f}x"),
    ("numba_threads_vs_numpy", "threads vs numpy", "{:.2f}x"),
    ("nopython_speedup_vs_1_thread", "nopython vs 1 thread", "{:.2f}x"),
    ("first_call_s", "first call", "{:.2f} s"),
    ("relative_error", "error", "{:.1e}"),
)


def timing_line(timings: dict, spreads: Mapping[str, Spread] | None = None, unstable: Sequence[str] = ()) -> str:
    """The headline figures; a figure timed in rounds shows its range, and `unstable` when wide."""
    parts = [_figure(key, label, fmt, timings, spreads or {}, unstable) for key, label, fmt in HEADLINE_TIMINGS if key in timings]
    return " | ".join(parts)


def result_timing_line(result: Result) -> str:
    return timing_line(result.timings, result.spreads, result.unstable)


def report_timing_line(result: Result) -> str:
    """The timings for the report: ranges, unstable marks, and the likely cause of a wide spread."""
    line = result_timing_line(result)
    if line and result.unstable:
        line += " (likely cause: " + ("; ".join(result.stability.causes) or "none visible") + ")"
    return line


def _figure(key: str, label: str, fmt: str, timings: dict, spreads: Mapping[str, Spread], unstable: Sequence[str]) -> str:
    text = f"{label} {fmt.format(timings[key])}"
    spread = spreads.get(key)
    if spread is not None and spread.samples > 1:
        text += f" [{fmt.format(spread.low)}-{fmt.format(spread.high)}]"
    return text + (" unstable" if key in unstable else "")


def stability_lines(result: Result, indent: str = "    ") -> list[str]:
    """Why a row's figures should not be trusted, when they should not."""
    stability = result.stability
    if stability is None or not stability.unstable:
        return []
    labels = {key: label for key, label, _ in HEADLINE_TIMINGS}
    names = ", ".join(labels.get(key, key.replace("_", " ")) for key in stability.unstable)
    line = f"{indent}unstable: {names} varied over {stability.repeats} repeats by more than {UNSTABLE_RELATIVE_WIDTH:.0%} of the median"
    cause = "; ".join(stability.causes) if stability.causes else "no cause visible (try --repeats, --min-time, or an idle machine)"
    return [line, f"{indent}likely cause: {cause}"]


def outcome_table(result: Result, indent: str = "    ") -> list[str]:
    return outcome_table_lines(result.outcomes, indent)


def outcome_table_lines(rows: Sequence[Outcome], indent: str = "    ") -> list[str]:
    """A jcstress-style outcome table as text (stress cells and the pytest plugin's races)."""
    total = sum(o.count for o in rows)
    width = max([22] + [len(o.outcome) for o in rows])
    lines = [f"{indent}{'outcome':<{width}} {'count':>6} {'frequency':>9}  {'expect':<11}  description"]
    for o in rows:
        frequency = f"{100 * o.count / total:.1f}%" if total else "-"
        lines.append(f"{indent}{o.outcome:<{width}} {o.count:>6} {frequency:>9}  {o.expect:<11}  {o.description}")
    return lines


def format_results(results: Sequence[Result], cut: Sequence[str] = (), interrupted: bool = False, cores: int | None = None) -> str:
    lines: list[str] = []
    current = None
    for result in results:
        if result.experiment != current:
            current = result.experiment
            spec = EXPERIMENTS.get(current)
            title = f"{current}: {spec.title} (slides {spec.slides}); talk: {spec.talk}" if spec else current
            lines += ["", title]
        where = f" [{result.python}]" if result.python not in ("", "current") else ""
        head = f"  {result.backend}/{result.variant} threads={result.threads}{where}: {result.status}"
        detail_lines = result.detail.strip().splitlines()
        if detail_lines and result.status == Status.OK:
            head += f" - {detail_lines[0]}"
        lines.append(head)
        if result.status != Status.OK:
            lines += [f"    {line}" for line in detail_lines[:12]]
        if result.gil_enabled and _free_threaded_interpreter(result.python):
            lines.append("    note: the GIL was back on in this cell: an imported extension does not support free-threading")
        if result.timings and timing_line(result.timings):
            lines.append(f"    {result_timing_line(result)}")
            lines += stability_lines(result)
        if result.outcomes:
            lines += outcome_table(result)
    if cut:
        lines += ["", f"cut by the time budget ({len(cut)} cells): " + ", ".join(cut)]
    if interrupted:
        lines += ["", "interrupted: the results above are partial"]
    lines += ["", summary_line(results)]
    if cores is not None:
        lines += verdict_lines(results, cores)
    lines += quiet_under_the_gil(results)
    return "\n".join(lines).lstrip("\n") + "\n"


# Experiments whose trials can show a race (the others time or count without a race to show).
RACE_EXPERIMENTS = ("E2", "E11", "E12", "user")


def quiet_under_the_gil(results: Sequence[Result]) -> list[str]:
    """"0 races" on a GIL build must not read as "safe": say which cells were quiet under the GIL
    and how to run them without it."""
    quiet = [
        r for r in results
        if r.status == Status.OK and r.gil_enabled and r.experiment in RACE_EXPERIMENTS
        and any(o.count and o.outcome != "completed" for o in r.outcomes)  # a user target without --check shows nothing either way
        and not any(o.count and o.expect != ACCEPTABLE for o in r.outcomes)
    ]
    if not quiet:
        return []
    built = built_free_threaded_python()
    where = f" (one is built here: `{built}`)" if built else " (scripts/free-threaded-python builds one)"
    names = ", ".join(f"{r.experiment} {r.backend}/{r.variant} x{r.threads}" for r in quiet[:4]) + (", ..." if len(quiet) > 4 else "")
    return [
        "",
        f"note: no race showed in {len(quiet)} cell{'s' if len(quiet) != 1 else ''} on a GIL build ({names}). That is not \"safe\":",
        "the GIL hides races that free-threaded Python shows (the talk's unlocked `+=` form lost updates in",
        f"0 of 30 trials under the GIL, 30 of 30 on 3.13t). Run them there with `--python PATH`{where}.",
    ]


def built_free_threaded_python() -> str | None:
    """The interpreter scripts/free-threaded-python builds, if it has (same cache folder)."""
    home = os.environ.get("GILSAFE_FREE_THREADED_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gilsafe", "free-threaded")
    found = sorted(glob.glob(os.path.join(home, "*", "bin", "python*t")))
    return found[-1] if found else None


def summary_line(results: Sequence[Result]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    forbidden = sum(1 for r in results if r.forbidden)
    races = sum(1 for r in results if any(o.expect == INTERESTING and o.count for o in r.outcomes))
    parts = [f"{n} {status}" for status, n in sorted(counts.items(), key=lambda item: Status(item[0]), reverse=True)]  # worst first
    unstable = sum(1 for r in results if r.unstable)
    shaky = f"; unstable speed figures in {unstable}" if unstable else ""
    return f"{len(results)} cells: " + ", ".join(parts) + f"; races shown in {races}; FORBIDDEN outcomes in {forbidden}{shaky}"


# What a reader compares across interpreters: scaling first, then raw speed.
SUMMARY_FIGURES = ("speedup_vs_1_thread", "slope", "threads_speedup", "speedup_vs_python", "ns_per_shot", "ns_per_element")


def summary_figure(result: Result) -> str | None:
    """The timings key a one-phrase summary of this row shows, if any."""
    return next((key for key in SUMMARY_FIGURES if key in result.timings), None)


def cell_summary(result: Result) -> str:
    """One short phrase for a side-by-side table: what went wrong how often, or the speed-up."""
    if result.status != Status.OK:
        return result.status
    total = sum(o.count for o in result.outcomes)
    if total:
        bad = [o for o in result.outcomes if o.expect != ACCEPTABLE]
        if not bad:
            return f"0/{total} races"
        return f"{sum(o.count for o in bad)}/{total} {bad[0].expect}"
    key = summary_figure(result)
    if key is None:
        return "ok"
    label, fmt = next((label, fmt) for name, label, fmt in HEADLINE_TIMINGS if name == key)
    extra = f" ({result.timings['ns_per_shot']:.1f} ns/shot)" if key == "speedup_vs_1_thread" and "ns_per_shot" in result.timings else ""
    return _figure(key, label, fmt, result.timings, result.spreads, result.unstable) + extra


def figure_change(key: str, a: Result, b: Result, threshold: float = 0.05) -> str | None:
    """How figure `key` moved from a to b, in words; None when it did not move.

    With a spread on both sides, ranges that overlap are "no significant change" however far the
    medians moved; without one (an older file), a move under `threshold` counts as none.
    """
    va, vb = a.timings.get(key), b.timings.get(key)
    if not (isinstance(va, (int, float)) and isinstance(vb, (int, float)) and va):
        return None
    spread_a, spread_b = a.spreads.get(key), b.spreads.get(key)
    if spread_a is not None and spread_b is not None and spread_a.samples > 1 and spread_b.samples > 1:
        if spread_a.overlaps(spread_b):
            return "no significant change" if abs(vb / va - 1) >= threshold else None
        return f"{vb / va:.2f}x"
    return f"{vb / va:.2f}x" if abs(vb / va - 1) >= threshold else None


def side_by_side(a: Sequence[Result], b: Sequence[Result], label_a: str, label_b: str) -> str:
    """The same cells under two interpreters, one row each: the table to read before moving."""
    right = {(r.experiment, r.backend, r.variant, r.threads): r for r in b}
    rows = [("cell", label_a, label_b, "change")]
    for result in a:
        key = (result.experiment, result.backend, result.variant, result.threads)
        other = right.get(key)
        figure = summary_figure(result)
        change = ""
        if other is not None and figure is not None and result.status == other.status == Status.OK:
            change = figure_change(figure, result, other, threshold=0.0) or "no significant change"
        rows.append((f"{key[0]} {key[1]}/{key[2]} x{key[3]}", cell_summary(result), cell_summary(other) if other else "-", change))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def compare(old: Sequence[Result], new: Sequence[Result]) -> str:
    """What changed between two runs, row by row."""
    before = {r.key: r for r in old}
    after = {r.key: r for r in new}
    lines = []
    for key in sorted(set(before) | set(after), key=lambda k: tuple(map(str, k))):
        label = f"{key[0]} {key[1]}/{key[2]} threads={key[3]}" + (f" [{key[4]}]" if key[4] not in ("", "current") else "")
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            lines.append(f"{label}: {'new' if a is None else 'gone'}")
            continue
        changes = []
        if a.status != b.status:
            changes.append(f"status {a.status} -> {b.status}")
        for outcome in sorted({o.outcome for o in a.outcomes + b.outcomes}):
            fa, fb = _frequency(a, outcome), _frequency(b, outcome)
            if abs(fa - fb) >= 0.005:
                changes.append(f"{outcome} {100 * fa:.1f}% -> {100 * fb:.1f}%")
        for key_name, name, _ in HEADLINE_TIMINGS:
            change = figure_change(key_name, a, b)
            if change is not None:
                changes.append(f"{name} {a.timings[key_name]:.3g} -> {b.timings[key_name]:.3g} ({change})")
        lines.append(f"{label}: " + ("; ".join(changes) if changes else "unchanged"))
    return "\n".join(lines) + "\n"


def _frequency(result: Result, outcome: str) -> float:
    total = sum(o.count for o in result.outcomes)
    return sum(o.count for o in result.outcomes if o.outcome == outcome) / total if total else 0.0


def _free_threaded_interpreter(label: str) -> bool:
    """Whether the row's interpreter is a free-threaded build: this one for "current" (a label that
    ends in "t" is not evidence of that), else a `python3.13t`-style name given with --python."""
    if label in ("", "current"):
        import sysconfig

        return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    return label.rstrip("/").endswith("t")

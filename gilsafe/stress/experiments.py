"""The talk's experiments (shared/seed/EXPERIMENTS.md), each a function run inside an isolated worker.

An experiment gets its Cell and returns what it observed: outcome rows (race/count experiments,
in the manner of jcstress) and/or timings. Nothing here imports a heavy library at import time:
the backends load their packages when a kernel first runs.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from functools import partial

from gilsafe.kernels import load
from gilsafe.stress import accelerators
from gilsafe.cores import usable_cores  # noqa: F401  (the tests read it here too)
from gilsafe.stress.harness import (  # noqa: F401  (run_together is used by the tests too)
    Experiment,
    Observation,
    OtherLoad,
    ThreadPlacement,
    Unavailable,
    best_time,
    on_distinct_cores,
    run_together,
    seconds_of,
    trials_note,
    trials_until,
)
from gilsafe.stress.model import ACCEPTABLE, FORBIDDEN, INTERESTING, Cell, DeclaredOutcome, Outcome, OutcomeTable
from gilsafe.stress.stability import CellConditions, calibrated_size, min_time_within, repeat_rounds, spreads_of


# -- E1: series vs threads vs processes ------------------------------------------------------------


def _add_local(n: int) -> None:
    a = 0
    for _ in range(n):
        a += 1


def _nothing() -> None:
    pass


def run_e1(cell: Cell) -> Observation:
    import multiprocessing

    n = cell.size or 2_000_000
    repeat = max(1, min(cell.trials, 5))
    series = best_time(lambda: (_add_local(n), _add_local(n)), repeat)

    def in_threads() -> None:
        threads = [threading.Thread(target=_add_local, args=(n,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def in_processes() -> None:
        processes = [multiprocessing.Process(target=_add_local, args=(n,)) for _ in range(2)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()

    threads = best_time(in_threads, repeat)
    processes = best_time(in_processes, repeat)

    def launch_thread() -> None:
        t = threading.Thread(target=_nothing)
        t.start()
        t.join()

    def launch_process() -> None:
        p = multiprocessing.Process(target=_nothing)
        p.start()
        p.join()

    thread_launch = best_time(launch_thread, 20)
    process_launch = best_time(launch_process, 5)
    observed = Observation()
    observed.timings = {
        "n": n,
        "series_s": series,
        "threads_s": threads,
        "processes_s": processes,
        "threads_speedup": series / threads,
        "processes_speedup": series / processes,
        "ideal": min(2, usable_cores()),
        "thread_launch_ms": thread_launch * 1e3,
        "process_launch_ms": process_launch * 1e3,
        "start_method": multiprocessing.get_start_method(),
    }
    return observed


# -- E2: the add/sub race on a shared global, in forms that race under the GIL or not ---------------

_g = 0


def _add_talk(n: int) -> None:
    global _g
    for _ in range(n):
        _g += 1


def _sub_talk(n: int) -> None:
    global _g
    for _ in range(n):
        _g -= 1


def _touch() -> None:
    """A Python call: since 3.10 the interpreter may switch threads on entering it."""


def _add_call(n: int) -> None:
    global _g
    for _ in range(n):
        value = _g
        _touch()
        _g = value + 1


def _sub_call(n: int) -> None:
    global _g
    for _ in range(n):
        value = _g
        _touch()
        _g = value - 1


class _Box:
    """`box.n += 1` through a property: the getter and the setter are Python calls."""

    def __init__(self) -> None:
        self._n = 0

    @property
    def n(self) -> int:
        return self._n

    @n.setter
    def n(self, value: int) -> None:
        self._n = value


class _Key:
    """A dict key whose __hash__ and __eq__ are Python code, run inside `d[k] += 1`."""

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        return other is self


E2_VARIANTS = ("talk", "call-between", "property", "dict-python-hash", "switchinterval")


def _e2_trial(variant: str, n: int) -> int:
    global _g
    if variant in ("talk", "switchinterval"):
        _g = 0
        run_together([lambda: _add_talk(n), lambda: _sub_talk(n)])
        return _g
    if variant == "call-between":
        _g = 0
        run_together([lambda: _add_call(n), lambda: _sub_call(n)])
        return _g
    if variant == "property":
        box = _Box()

        def add_box() -> None:
            for _ in range(n):
                box.n += 1

        def sub_box() -> None:
            for _ in range(n):
                box.n -= 1

        run_together([add_box, sub_box])
        return box.n
    if variant == "dict-python-hash":
        key = _Key()
        counts = {key: 0}

        def add_dict() -> None:
            for _ in range(n):
                counts[key] += 1

        def sub_dict() -> None:
            for _ in range(n):
                counts[key] -= 1

        run_together([add_dict, sub_dict])
        return counts[key]
    raise ValueError(f"unknown E2 variant {variant!r}")


def run_e2(cell: Cell) -> Observation:
    n = cell.size or 100_000
    observed = Observation()
    previous = sys.getswitchinterval()
    if cell.variant == "switchinterval":
        sys.setswitchinterval(1e-6)
    more = trials_until(cell)
    done, extremes = 0, []
    try:
        while more(done):
            g = _e2_trial(cell.variant, n)
            done += 1
            if g == 0:
                observed.outcomes.saw("g == 0")
            else:
                extremes.append(g)
                observed.outcomes.saw("g != 0")
    finally:
        sys.setswitchinterval(previous)
    lost = len(extremes)
    observed.detail = f"n={n}: lost updates in {lost} of {done} trials" + (
        f", g from {min(extremes)} to {max(extremes)}" if extremes else ""
    ) + trials_note(done, cell)
    observed.timings = {"n": n, "trials": done, "switch_interval_s": 1e-6 if cell.variant == "switchinterval" else previous}
    return observed


# -- E3, E6: pi per backend, against pure Python measured in the same process ------------------------

PI_KERNELS = {
    "talk": "pi_hits",
    "tuned": "pi_hits_tuned",
    "jit": "pi_hits",
    "jit-numpy": "pi_hits_numpy_jit",
    "parallel": "pi_hits_parallel",
    "objmode": "pi_hits_objmode",
    "rand_r": "pi_hits",
    "random": "pi_hits_shared_rng",
}


def _kernel(backend: str, variant: str) -> Callable[[int, int], int]:
    module = load(backend)
    return getattr(module, PI_KERNELS[variant])


def _given_shots(cell: Cell, size: int) -> int:
    """--size as given; pure Python, ~100x slower per shot, at most 2e6."""
    return min(size, 2_000_000) if cell.backend == "python" else size


def _python_baseline(cell: Cell) -> Callable[[int, int], int] | None:
    """The pure-Python kernel every "vs python" divides by; None when the cell is that kernel."""
    return None if (cell.backend, cell.variant) == ("python", "talk") else load("python").pi_hits


def _machine_conditions(other_load: OtherLoad, placements: list[list[ThreadPlacement]], threads: int) -> CellConditions:
    return CellConditions(
        usable_cores=usable_cores(),
        distinct_cores=on_distinct_cores(placements) if threads > 1 else None,
        other_load_cores=other_load.cores(),
    )


def _repeats_note(rounds: int, cell: Cell) -> str:
    return "" if rounds >= cell.repeats else f"time budget: {rounds} of {cell.repeats} repeats ran"


def run_pi_single(cell: Cell) -> Observation:
    """E3 and E6's single-thread variants: time per shot, error, speed-up over pure Python.

    The shots are calibrated to `cell.min_time` (unless --size), then each round times the kernel and
    the pure-Python baseline back to back; the figures are the rounds' medians.
    """
    deadline = time.monotonic() + cell.seconds
    kernel = _kernel(cell.backend, cell.variant)
    if cell.variant == "parallel":
        import numba

        numba.set_num_threads(min(cell.threads, numba.config.NUMBA_NUM_THREADS))
    start = time.perf_counter()
    kernel(1000, 1)  # compile, trace, warm up: timed apart
    first_call = time.perf_counter() - start
    python = load("python").pi_hits  # for python/talk too: "1.0x" says the baseline is the kernel
    min_time = min_time_within(cell.seconds, cell.repeats, 2, cell.min_time)
    n = _given_shots(cell, cell.size) if cell.size else calibrated_size(lambda size: seconds_of(kernel, size, 12345), min_time)
    python_n = calibrated_size(lambda size: seconds_of(python, size, 1), min_time)
    hits = [0]

    def one_round() -> dict[str, float]:
        start = time.perf_counter()
        hits[0] = kernel(n, 12345)
        figures = {"ns_per_shot": (time.perf_counter() - start) / n * 1e9}
        figures["python_ns_per_shot"] = seconds_of(python, python_n, 1) / python_n * 1e9
        figures["speedup_vs_python"] = figures["python_ns_per_shot"] / figures["ns_per_shot"]
        return figures

    other_load = OtherLoad()
    rounds = repeat_rounds(one_round, cell.repeats, deadline - time.monotonic())
    estimate = 4.0 * hits[0] / n
    observed = Observation(repeats=len(rounds), repeats_planned=cell.repeats)
    observed.spreads = spreads_of(rounds)
    observed.conditions = _machine_conditions(other_load, [], 1)
    observed.timings = {
        "n": n,
        **{name: spread.median for name, spread in observed.spreads.items()},
        "first_call_s": first_call,
        "pi_estimate": estimate,
        "relative_error": abs(estimate - math.pi) / math.pi,
    }
    observed.detail = _repeats_note(len(rounds), cell)
    if cell.variant == "parallel":
        import numba

        observed.timings["numba_threading_layer"] = numba.threading_layer()
        observed.timings["numba_threads"] = numba.get_num_threads()
    return observed


def run_pi_threads(cell: Cell) -> Observation:
    """E4, E5 and E6's nogil variant: the same shots on 1 thread and split over N, side by side.

    Each thread's share is calibrated to `cell.min_time` (unless --size); each round times the
    1-thread run, the N-thread run and the pure-Python baseline back to back, so drift on a shared
    machine hits all of them alike, and every ratio is taken within its round. The figures are the
    rounds' medians, with their range in `spreads`.
    """
    deadline = time.monotonic() + cell.seconds
    kernel = _kernel(cell.backend, cell.variant)
    n_threads = cell.threads
    kernel(1000, 1)
    python = _python_baseline(cell)
    # A round: 1 thread doing all N threads' shots, N threads at once, and the baseline.
    min_time = min_time_within(cell.seconds, cell.repeats, n_threads + 1 + (1 if python else 0), cell.min_time)
    if cell.size:
        per_thread = max(1, _given_shots(cell, cell.size) // n_threads)
    else:
        per_thread = calibrated_size(lambda size: seconds_of(kernel, size, 7), min_time)
    python_n = calibrated_size(lambda size: seconds_of(python, size, 1), min_time) if python else 0
    shots = per_thread * n_threads
    seeds = [1000 + i for i in range(n_threads)]
    ideal = min(n_threads, usable_cores())
    estimates: list[float] = []
    placements: list[list[ThreadPlacement]] = []

    def one_round() -> dict[str, float]:
        one = seconds_of(kernel, shots, 7)
        placed: list[ThreadPlacement] = []
        many, hits = run_together([lambda s=s: kernel(per_thread, s) for s in seeds], placed)
        placements.append(placed)
        estimates.append(4.0 * sum(hits) / shots)
        figures = {
            "ns_per_shot_1_thread": one / shots * 1e9,
            "ns_per_shot": many / shots * 1e9,
            "speedup_vs_1_thread": one / many,
            "efficiency": one / many / ideal,
        }
        if python:
            figures["python_ns_per_shot"] = seconds_of(python, python_n, 1) / python_n * 1e9
            figures["speedup_vs_python"] = figures["python_ns_per_shot"] / figures["ns_per_shot"]
        return figures

    other_load = OtherLoad()
    rounds = repeat_rounds(one_round, cell.repeats, deadline - time.monotonic())
    estimate = estimates[-1]
    observed = Observation(repeats=len(rounds), repeats_planned=cell.repeats)
    observed.spreads = spreads_of(rounds)
    observed.conditions = _machine_conditions(other_load, placements, n_threads)
    observed.timings = {
        "n": shots,
        **{name: spread.median for name, spread in observed.spreads.items()},
        "ideal": ideal,
        "cores": usable_cores(),
        "pi_estimate": estimate,
        "relative_error": abs(estimate - math.pi) / math.pi,
    }
    observed.detail = _repeats_note(len(rounds), cell)
    return observed


def run_e6(cell: Cell) -> Observation:
    if cell.backend == "numba-cuda":
        return accelerators.run_e6_cuda(cell)
    if cell.variant in ("nogil-threads", "objmode-threads"):
        variant = "jit" if cell.variant == "nogil-threads" else "objmode"
        return run_pi_threads(Cell(**{**cell.to_json(), "variant": variant}))
    return run_pi_single(cell)


# -- E7: indexing --------------------------------------------------------------------------------


def _loop_add(values) -> None:
    for i in range(len(values)):
        values[i] += 1


def run_e7(cell: Cell) -> Observation:
    n = cell.size or 1_000_000
    observed = Observation()
    baseline_values = [0.0] * n
    baseline = best_time(lambda: _loop_add(baseline_values), 3)
    if cell.variant == "list-loop":
        seconds = baseline
    elif cell.variant == "ndarray-loop":
        import numpy as np

        values = np.zeros(n)
        seconds = best_time(lambda: _loop_add(values), 3)
    elif cell.variant in ("add-list", "add-ndarray"):
        import numpy as np

        values = [0.0] * n if cell.variant == "add-list" else np.zeros(n)
        seconds = best_time(lambda: np.add(values, 1), 3)
    elif cell.variant == "jit-loop-ndarray":
        import numba
        import numpy as np

        jitted = numba.njit(_loop_add)
        values = np.zeros(n)
        jitted(values)
        seconds = best_time(lambda: jitted(values), 3)
    else:
        raise ValueError(f"unknown E7 variant {cell.variant!r}")
    observed.timings = {
        "n": n,
        "ns_per_element": seconds / n * 1e9,
        "list_loop_ns_per_element": baseline / n * 1e9,
        "speedup_vs_list_loop": baseline / seconds,
    }
    return observed


# -- E11: NumPy under 1..N threads, and a Python hit counter shared by them ---------------------------

_h = 0


def _count_hits_shared(flags) -> None:
    global _h
    for v in flags:
        if v == 1:
            _h = _h + 1


def run_e11(cell: Cell) -> Observation:
    if cell.backend == "cupy":
        return accelerators.run_e11_cupy(cell)
    import numpy as np

    observed = Observation()
    if cell.variant == "threads":
        kernel = load("numpy").pi_hits
        n = cell.size or 1_000_000
        kernel(1000, 1)
        one = best_time(lambda: kernel(n, 1), 3)
        many = min(run_together([lambda: kernel(n, 1)] * cell.threads)[0] for _ in range(3))
        observed.timings = {
            "n": n,
            "one_thread_s": one,
            "n_threads_s": many,
            "slope": many / one,  # 1.0: fully parallel; N: fully serialised
            "ideal_slope": cell.threads / min(cell.threads, usable_cores()),
        }
        return observed
    if cell.variant != "shared-hits":
        raise ValueError(f"unknown E11 variant {cell.variant!r}")
    global _h
    n = cell.size or 200_000
    rng = np.random.default_rng(11)
    x, y = rng.random(n), rng.random(n)
    flags = np.less_equal(x * x + y * y, 1.0).astype(np.int64)
    expected = int(np.count_nonzero(flags))
    chunks = np.array_split(flags, cell.threads)
    more = trials_until(cell)
    done, wrong = 0, []
    while more(done):
        _h = 0
        run_together([lambda c=c: _count_hits_shared(c) for c in chunks])
        done += 1
        if _h == expected:
            observed.outcomes.saw("h == hits")
        else:
            wrong.append(expected - _h)
            observed.outcomes.saw("h != hits")
    observed.detail = f"n={n}, {expected} hits: wrong count in {len(wrong)} of {done} trials" + (
        f", up to {max(wrong)} hits lost" if wrong else ""
    ) + trials_note(done, cell)
    observed.timings = {"n": n, "trials": done}
    return observed


# -- E12: "GIL-safe prediction": N threads each count n ones ------------------------------------------


def run_e12(cell: Cell) -> Observation:
    backend = load(cell.backend)
    kernel = backend.rng_count_ones if cell.variant == "rng-count" else backend.count_ones
    if cell.backend in ("torch", "tensorflow"):
        device = accelerators.device_of(cell.variant)
        ok, reason = backend.device_available(device)
        if not ok:
            raise Unavailable(reason)
        kernel = partial(kernel, device=device)
    n = cell.size or 7_000_000
    observed = Observation()
    more = trials_until(cell)
    done, wrong = 0, []
    while more(done):
        _, counts = run_together([lambda: kernel(n)] * cell.threads)
        done += 1
        bad = [c for c in counts if c != n]
        if bad:
            wrong.extend(bad)
            observed.outcomes.saw("a count != n")
        else:
            observed.outcomes.saw("all counts == n")
    observed.detail = f"n={n}: {len(wrong)} wrong counts in {done} trials of {cell.threads} threads" + trials_note(done, cell)
    observed.timings = {"n": n, "trials": done}
    if cell.backend == "numpy":
        import numpy as np

        observed.timings["numpy"] = np.__version__  # 2.3 changed whether count_nonzero releases the GIL
    return observed


# -- E13: numba nogil with and without nopython; count_nonzero rewritten as a loop ------------------


def run_e13(cell: Cell) -> Observation:
    import numpy as np

    numba_kernels = load("numba")
    observed = Observation()
    cores = usable_cores()
    ideal = min(cell.threads, cores)
    if cell.variant == "nopython":
        n = cell.size or 10_000_000
        values = np.ones(n)
        numba_kernels.count_nonzero_loop(values[:10])
        numpy_s = best_time(lambda: np.count_nonzero(values), 5)
        small = values[: min(n, 500_000)]
        loop_s = best_time(lambda: load("python").count_nonzero_loop(small), 1) * (n / len(small))
        numba_s = best_time(lambda: numba_kernels.count_nonzero_loop(values), 5)
        chunks = np.array_split(values, cell.threads)
        threads_s = min(run_together([lambda c=c: numba_kernels.count_nonzero_loop(c) for c in chunks])[0] for _ in range(5))
        observed.timings = {
            "n": n,
            "numpy_count_nonzero_s": numpy_s,
            "python_loop_vs_numpy": numpy_s / loop_s,
            "numba_loop_vs_numpy": numpy_s / numba_s,
            "numba_threads_vs_numba": numba_s / threads_s,
            "numba_threads_vs_numpy": numpy_s / threads_s,
            "ideal": ideal,
        }
        return observed
    if cell.variant == "objmode":
        n = cell.size or 200_000
        half = cell.seconds / 2  # two timed runs share the cell's time
        observed = run_pi_threads(Cell(**{**cell.to_json(), "backend": "numba", "variant": "objmode", "size": n, "seconds": half}))
        nopython = run_pi_threads(Cell(**{**cell.to_json(), "backend": "numba", "variant": "jit", "size": n * 20, "seconds": half}))
        observed.timings["nopython_speedup_vs_1_thread"] = nopython.timings["speedup_vs_1_thread"]
        observed.spreads["nopython_speedup_vs_1_thread"] = nopython.spreads["speedup_vs_1_thread"]
        observed.repeats = min(observed.repeats or 0, nopython.repeats or 0)
        observed.detail = (
            f"object mode, nogil=True: {observed.timings['speedup_vs_1_thread']:.2f}x on {cell.threads} threads; "
            f"nopython, nogil=True: {nopython.timings['speedup_vs_1_thread']:.2f}x (ideal {ideal})"
        ) + "".join(f"; {note}" for note in {observed.detail, nopython.detail} if note)
        return observed
    raise ValueError(f"unknown E13 variant {cell.variant!r}")


# -- a user's own callable ------------------------------------------------------------------------


def _resolve(spec: str) -> Callable:
    import importlib

    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"{spec!r} is not of the form module:function")
    target = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target


def run_user(cell: Cell) -> Observation:
    """Hammer a user's callable: setup() -> state; N threads call func(state); check(state).
    Counts what each trial gave; `user_outcomes` says what it means."""
    spec = cell.target or {}
    func = _resolve(spec["func"])
    setup = _resolve(spec["setup"]) if spec.get("setup") else None
    check = _resolve(spec["check"]) if spec.get("check") else None
    expected = set(spec.get("expect") or ())
    observed = Observation()
    more = trials_until(cell)
    done = 0
    while more(done):
        state = setup() if setup else None
        call = (lambda shared=state: func(shared)) if setup else func
        try:
            run_together([call] * cell.threads)
        except (Exception, SystemExit) as error:  # sys.exit() in a thread ends only that thread's call
            observed.outcomes.saw(f"func raised {type(error).__name__}", str(error)[:200])
            done += 1
            continue
        done += 1
        if check is None:
            observed.outcomes.saw("completed")
            continue
        try:
            verdict = check(state) if setup else check()
        except Exception as error:
            observed.outcomes.saw(f"check raised {type(error).__name__}", str(error)[:200])
            continue
        if verdict is None or verdict is True:
            observed.outcomes.saw("check passed")
        elif verdict is False:
            observed.outcomes.saw("check returned False")
        else:
            # The value itself is the outcome; `--expect 400000` names it as str() does.
            observed.outcomes.saw(str(verdict) if str(verdict) in expected else repr(verdict)[:80])
    observed.detail = f"{done} trials of {cell.threads} threads" + trials_note(done, cell)
    return observed


USER_FAILURES = (
    DeclaredOutcome("func raised *", FORBIDDEN, "the target raised in a thread"),
    DeclaredOutcome("check raised *", FORBIDDEN, "the check raised"),
    DeclaredOutcome("check returned False", FORBIDDEN, "the check said the state is wrong"),
)


def user_outcomes(cell: Cell) -> OutcomeTable:
    """A user target's table: with --expect, those values are acceptable and any other is
    forbidden; with a check that returns a bool, True passes; with neither, a value that differs
    from trial to trial is a race shown (INTERESTING), one value every time is acceptable."""
    spec = cell.target or {}
    if not spec.get("check"):
        return OutcomeTable((DeclaredOutcome("completed", ACCEPTABLE, "no exception (no --check given)"), USER_FAILURES[0]))
    expected = tuple(DeclaredOutcome(value, ACCEPTABLE, "a value given with --expect") for value in spec.get("expect") or ())
    if expected:
        return OutcomeTable((*expected, *USER_FAILURES), FORBIDDEN, "a value not given with --expect")
    passed = DeclaredOutcome("check passed", ACCEPTABLE, "the check returned True (or None)")
    return OutcomeTable((passed, *USER_FAILURES), ACCEPTABLE, "the value the check returned, the same in every trial", differing=INTERESTING)


# -- the catalogue ---------------------------------------------------------------------------------

ALL_PI_BACKENDS = {"python": ("talk", "tuned"), "numpy": ("talk", "tuned"), "cext": ("talk", "tuned"), "numba": ("talk", "tuned")}

EXPERIMENTS: dict[str, Experiment] = {
    e.id: e
    for e in (
        Experiment(
            "E1", "series vs threads vs processes", "7-8", "wall time per variant; launch cost",
            "threads = 1x series; processes 1.8x; process launch ~6 ms each, thread ~0",
            {"python": ("series-threads-processes",)}, run_e1, threaded=False, fixed_threads=2,
        ),
        Experiment(
            "E2", "race on a shared global (add/sub)", "9-11", "trials that end with g != 0",
            "not thread-safe once a run lasts >= ~8 ms (switch interval 5 ms)",
            {"python": E2_VARIANTS}, run_e2, threaded=False, fixed_threads=2,
            outcomes=OutcomeTable((
                DeclaredOutcome("g == 0", ACCEPTABLE, "both threads' updates all landed"),
                DeclaredOutcome("g != 0", INTERESTING, "an update was lost: the race the talk shows"),
            )),
        ),
        Experiment(
            "E3", "Monte Carlo pi per backend", "13-19", "time per shot; error",
            "NumPy 7.7x pure Python; C extension 23x",
            ALL_PI_BACKENDS, run_pi_single, threaded=False,
        ),
        Experiment(
            "E4", "map-reduce pi over threads", "14, 16, 24, 39", "speed-up vs threads against min(N, M)",
            "ideal min(N, M) minus overhead; 3x at 3 threads",
            ALL_PI_BACKENDS, run_pi_threads,
        ),
        Experiment(
            "E5", "thread-safe vs shared-state C RNG in threads", "17", "speed-up and estimate quality",
            "random_r slows down under threads",
            {"cext": ("rand_r", "random")}, run_pi_threads,
        ),
        Experiment(
            "E6", "Numba pi: jit, jit of NumPy code, parallel, nogil threads", "20-26", "speed-up vs pure Python",
            "jit 21x; jit of NumPy code 1x; parallel 89x; CUDA 1160x (152x NumPy), 1.8 s first-call compile",
            {"numba": ("jit", "jit-numpy", "parallel", "nogil-threads", "tuned"), "numba-cuda": ("cuda",)}, run_e6,
            threaded_variants=("parallel", "nogil-threads"),
        ),
        Experiment(
            "E7", "indexing: list vs ndarray, np.add, jitted loop", "23", "time per element",
            "ndarray indexing 3.8x slower than list; jitted loop ~100x",
            {"python": ("list-loop", "ndarray-loop"), "numpy": ("add-list", "add-ndarray"), "numba": ("jit-loop-ndarray",)},
            run_e7, threaded=False,
        ),
        Experiment(
            "E8", "ML packages as NumPy accelerators: pi per shot", "27-31, 35", "time per shot against NumPy",
            "TF CPU 2.4-3.8x NumPy; PyTorch CPU 0.7x NumPy; TF graph slower than PyTorch; CuPy 152x NumPy (GPU)",
            {
                "torch": ("cpu", "tuned-cpu", "cuda", "tuned-cuda"),
                "tensorflow": ("eager-cpu", "function-cpu", "while-cpu", "parallel-cpu", "eager-gpu", "function-gpu", "while-gpu", "parallel-gpu"),
                "cupy": ("talk", "tuned"),
            },
            accelerators.run_e8, threaded=False, needs=("numpy",),
        ),
        Experiment(
            "E9", "copy-in / copy-out overheads", "32-34", "time per element vs size, against a NumPy copy",
            "transfer dominates small work",
            {"torch": ("cpu", "cuda"), "tensorflow": ("cpu", "gpu"), "cupy": ("gpu",)},
            accelerators.run_e9, threaded=False, needs=("numpy",),
        ),
        Experiment(
            "E10", "Dask delayed over m chunks vs ThreadPoolExecutor", "36-40", "speed-up at m threads; launch cost",
            "nogil kernels 3x; NumPy little; PyTorch froze, TensorFlow CPU segfaulted under Dask threads",
            {
                "dask": (
                    "numpy/threads", "numba/threads", "cext/threads", "torch/threads", "tensorflow/threads",
                    "numba/distributed-threads", "numba/distributed-processes", "numpy/distributed-processes",
                )
            },
            accelerators.run_e10, needs=("numpy",),
        ),
        Experiment(
            "E11", "NumPy under 1..N threads; a shared Python hit counter", "42-43", "slope of time vs threads; wrong counts",
            "NumPy partly GIL-free; GIL errors in the shared loop",
            {"numpy": ("threads", "shared-hits"), "cupy": ("threads",)}, run_e11,
            outcomes=OutcomeTable((
                DeclaredOutcome("h == hits", ACCEPTABLE, "every thread's `h = h + 1` landed"),
                DeclaredOutcome("h != hits", INTERESTING, "`h = h + 1` lost updates between threads"),
            )),
        ),
        Experiment(
            "E12", "GIL-safe prediction: N threads count n ones", "44, 55", "wrong counts",
            "14 errors on the talk's bench with 9 threads; none with 2-4; the RNG variant never erred",
            {"numpy": ("count", "rng-count"), "cext": ("count",), "torch": ("count-cpu", "count-cuda"), "cupy": ("count",)},
            run_e12,
            outcomes=OutcomeTable((
                DeclaredOutcome("all counts == n", ACCEPTABLE, "every thread counted n"),
                DeclaredOutcome("a count != n", FORBIDDEN, "a GIL-free count returned a wrong result"),
            )),
        ),
        Experiment(
            "E13", "Numba nogil with and without nopython; count_nonzero as a loop", "45-47",
            "GIL-free or not; speed", "loop rewrite 0.02x; Numba 1.6x; 6 threads 3.2x, 5x the original",
            {"numba": ("nopython", "objmode")}, run_e13, needs=("numpy",),
        ),
    )
}

USER_EXPERIMENT = Experiment("user", "a user's callable", "-", "outcomes of check", "-", {"python": ("target",)}, run_user, outcomes=user_outcomes)


def experiment(experiment_id: str) -> Experiment:
    return USER_EXPERIMENT if experiment_id == "user" else EXPERIMENTS[experiment_id]


def grade(cell: Cell, observed: Observation) -> list[Outcome]:
    """What the cell's trials gave, graded by its experiment's declared table."""
    return experiment(cell.experiment).outcome_table(cell).grade(observed.outcomes.counts, observed.outcomes.notes)

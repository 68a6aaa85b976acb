"""The talk's speed experiments on this machine, as ratios measured side by side in one run.

    python benchmarks/stress.py [--threads 1,2] [--size N] [--json FILE]

Runs E3 (pi per backend), E4 (pi over threads), E6 (numba variants) and E13 (nogil with and
without nopython) through the same isolated runner as `gilsafe stress`, then prints one table
beside the talk's figures. Compare ratios, not seconds: the talk's bench was a 2011 4-core i7.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gilsafe.stress.environment import capture  # noqa: E402
from gilsafe.stress.model import Cell  # noqa: E402
from gilsafe.stress.runner import Budget, Interpreter, plan, results_document, run_all  # noqa: E402

TALK = {
    ("E3", "numpy", "talk"): "7.7x python",
    ("E3", "cext", "talk"): "23x python",
    ("E3", "numba", "talk"): "21x python (jit)",
    ("E6", "numba", "jit"): "21x python",
    ("E6", "numba", "jit-numpy"): "1x numpy (7.7x python)",
    ("E6", "numba", "parallel"): "89x python (4 cores + HT)",
    ("E6", "numba", "nogil-threads"): "close to min(N, M)",
    ("E4", "cext", "talk"): "3x at 3 threads",
    ("E4", "numba", "talk"): "close to min(N, M)",
    ("E13", "numba", "nopython"): "loop 0.02x; numba 1.6x; 6 threads 3.2x",
    ("E13", "numba", "objmode"): "object mode: no guarantee",
}


def _cell(value, fmt):
    return fmt.format(value) if isinstance(value, (int, float)) else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--size", type=int, default=None, help="shots per cell (default: calibrated to 0.15 s a run; pure Python: at most 2e6)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    cells = plan(["E3", "E4", "E6", "E13"], ["python", "numpy", "cext", "numba"], threads, 5, args.size)
    # E4 on pure Python is the GIL-bound contrast; E13 needs N > 1 to say anything.
    cells = [c for c in cells if not (c.experiment == "E13" and c.threads == 1)]
    # E13's own sizes: n elements for the count loop, n/40 shots for the object-mode pi.
    cells = [Cell(**{**c.to_json(), "size": None}) if c.experiment == "E13" else c for c in cells]
    interpreter = Interpreter()
    availability = interpreter.ask("--availability")  # every backend: the accelerator table needs them too
    run = run_all(cells, interpreter, budget=Budget(None), cell_timeout=600, availability=availability)
    env = capture()
    print(f"Python {env['python']}, {env['cpu_affinity']} usable cores, numpy {env['libraries']['numpy']}, numba {env['libraries']['numba']}")
    header = f"{'cell':<34} {'status':<7} {'ns/shot':>8} {'vs python':>10} {'vs 1 thr':>9} {'eff.':>5}  talk"
    print(header)
    print("-" * len(header))
    for r in run.results:
        t = r.timings
        label = f"{r.experiment} {r.backend}/{r.variant} x{r.threads}"
        extra = ""
        if r.experiment == "E13" and r.variant == "nopython":
            extra = f"loop {_cell(t.get('python_loop_vs_numpy'), '{:.3f}x')}, numba {_cell(t.get('numba_loop_vs_numpy'), '{:.2f}x')}, threads {_cell(t.get('numba_threads_vs_numba'), '{:.2f}x')} (vs numpy {_cell(t.get('numba_threads_vs_numpy'), '{:.2f}x')}); "
        if r.experiment == "E13" and r.variant == "objmode":
            extra = f"nopython x{r.threads}: {_cell(t.get('nopython_speedup_vs_1_thread'), '{:.2f}x')}; "
        print(
            f"{label:<34} {r.status:<7} {_cell(t.get('ns_per_shot'), '{:.1f}'):>8} {_cell(t.get('speedup_vs_python'), '{:.1f}x'):>10} "
            f"{_cell(t.get('speedup_vs_1_thread'), '{:.2f}x'):>9} {_cell(t.get('efficiency'), '{:.2f}'):>5}  {extra}{TALK.get((r.experiment, r.backend, r.variant), '')}"
        )
    accelerators = _accelerator_table(interpreter, availability, max(threads))
    if args.json:
        run.results.extend(accelerators.results)
        args.json.write_text(json.dumps(results_document(env, run), indent=2))
    return 0


def _accelerator_table(interpreter, availability, threads: int):
    """E8, E9, E10: ratios against NumPy (and, for Dask, against a thread pool), measured side by side."""
    cells = plan(["E8", "E9"], ["torch", "tensorflow", "cupy"], [1], 3, None)
    cells += plan(["E10"], ["dask"], [threads], 3, None)
    run = run_all(cells, interpreter, budget=Budget(None), cell_timeout=600, availability=availability)
    print()
    header = f"{'cell':<40} {'status':<8} {'ns/shot':>8} {'vs numpy':>9}  other"
    print(header)
    print("-" * len(header))
    for r in run.results:
        t = r.timings
        other = ""
        if r.experiment == "E9" and r.status == "ok":
            n = t["n"]
            other = (
                f"copy in {t[f'copy_in_ns_per_element_{n}']:.2f} ns/elem ({t['copy_in_vs_numpy_copy']:.2f}x a NumPy copy), "
                f"copy out {t[f'copy_out_ns_per_element_{n}']:.2f} ns/elem ({t['copy_out_vs_numpy_copy']:.2f}x); "
                f"1e3 elements: in {t['copy_in_ns_per_element_1000']:.0f} ns/elem"
            )
        elif r.experiment == "E10" and r.status == "ok":
            other = (
                f"dask {t['speedup_vs_1_thread']:.2f}x vs 1 thread (eff. {t['efficiency']:.2f}), thread pool {t['thread_pool_speedup']:.2f}x, "
                f"dask/pool {t['dask_vs_thread_pool']:.2f}, cluster start {t['cluster_launch_s']:.2f} s"
            )
        elif r.experiment == "E8" and r.status == "ok":
            other = f"first call {t['first_call_s']:.2f} s"
        elif r.status != "ok":
            other = r.detail.splitlines()[0] if r.detail else ""
        print(
            f"{r.experiment + ' ' + r.backend + '/' + r.variant:<40} {r.status:<8} {_cell(t.get('ns_per_shot'), '{:.1f}'):>8} "
            f"{_cell(t.get('speedup_vs_numpy'), '{:.2f}x'):>9}  {other}"
        )
    return run


if __name__ == "__main__":
    raise SystemExit(main())

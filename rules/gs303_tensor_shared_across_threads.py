"""GS303: torch / CuPy tensors changed in place, or read while changed, across threads without a lock."""

from __future__ import annotations

from collections.abc import Iterator

from gilsafe.lint import arrays
from gilsafe.lint.messages import code, runner, state, trace_for, where
from gilsafe.lint.rule import BOTH, Invalid, Report, Rule, Valid
from gilsafe.lint.summaries.module import ModuleSummary
from gilsafe.lint.summaries.project import ProjectFacts

LIBRARIES = ("torch", "cupy")


class TensorSharedAcrossThreads(Rule):
    code = "GS303"
    name = "tensor-shared-across-threads"
    summary = "A torch / CuPy tensor is changed in place, or read while changed, by thread-run code without a common lock."
    when = BOTH
    docs = """
    ## What it does
    The torch and CuPy counterpart of GS301 and GS302. Finds, in thread-run code, in-place work on a
    tensor other threads can see, outside a lock (`t += x`, `t[i:j] = ...`, `t.add_(...)`,
    `t.copy_(...)`, `t.zero_()`, any `*_` method, `out=t`), and calls that read a tensor while other
    thread-run code changes it in place with no lock held by both (`t.sum()`, `torch.dot(t, x)`, ...).
    Tensors are recognised when made by `torch.zeros`, `torch.tensor`, `cupy.zeros`, ... in the module,
    or as parameters annotated `torch.Tensor` / `cupy.ndarray`.

    ## Why is this bad?
    torch's operators give the GIL up while they run, on CPU and while CUDA work is launched, and
    CuPy's calls give it up too (the probe data in `rules/gil_release.json`: `torch.add`,
    `Tensor.add_`, `Tensor.copy_` on CPU and CUDA tensors, `cupy.add`, `cupy.sum`, ... on an H200),
    so two threads' in-place updates of one tensor interleave and a reader sees a half-written
    tensor. On CPU that loses updates outright. On a GPU, threads that share the default stream
    have their kernels run one after another, but a thread that uses its own stream (a common way
    to overlap work) runs its kernels at the same time as the others'.

    ## Example
    ```python
    import threading
    import torch

    grad = torch.zeros(1_000_000)

    def backward(g):
        grad.add_(g)

    threading.Thread(target=backward, args=(torch.ones(1_000_000),)).start()
    ```

    ## Use instead
    ```python
    grad_lock = threading.Lock()

    def backward(g):
        with grad_lock:
            grad.add_(g)
    ```
    or give each thread its own tensor and reduce them after `join()`.

    ## Fix safety
    No automatic fix.

    ## Options
    `lock-names`, `thread-entry-points`; `# gilsafe: guarded-by=LOCK` comments.

    ## Runtime evidence
    `python benchmarks/tensor_races.py`: 4 threads each doing 50 in-place adds of 1 on one shared
    million-element tensor. torch on CPU left 8-482,016 elements short per trial on a 2-core machine
    and 18,104-29,488 on a 16-core one; on an H200, torch CUDA with the shared default stream lost
    none, and with a stream per thread 989,696-1,000,000 elements ended short; CuPy lost none in
    either arrangement in 3 trials each. tests/test_rule_evidence.py asserts the CPU torch case.
    The probe verdicts come from `gilsafe probe torch.add --dtype float32 [--device cuda]` and
    `gilsafe probe cupy.add` (scripts/gpu-checks).
    """

    VALID = [
        Valid(
            """
            import threading
            import torch
            grad = torch.zeros(1_000_000)
            grad_lock = threading.Lock()
            def backward(g):
                with grad_lock:
                    grad.add_(g)
            threading.Thread(target=backward, args=(torch.ones(1_000_000),)).start()
            """
        ),
        Valid(
            """
            import threading
            import torch
            def work(n):
                t = torch.zeros(n)
                t.add_(1)  # a fresh tensor: this thread's own
                return t.sum()
            threading.Thread(target=work, args=(10,)).start()
            """
        ),
    ]
    INVALID = [
        Invalid(
            """
            import threading
            import torch
            grad = torch.zeros(1_000_000)
            def backward(g):
                grad.add_(g)
            for _ in range(2):
                threading.Thread(target=backward, args=(torch.ones(1_000_000),)).start()
            """,
            line=5,
        ),
        Invalid(
            """
            import threading
            import cupy as cp
            hist = cp.zeros(256)
            def update(values):
                global hist
                hist += values
            for _ in range(2):
                threading.Thread(target=update, args=(cp.ones(256),)).start()
            """,
            line=6,
        ),
        Invalid(
            """
            import threading
            import torch
            state = torch.zeros(4096)
            def writer():
                state.copy_(torch.ones(4096))
            def reader():
                return state.sum()
            threading.Thread(target=writer).start()
            threading.Thread(target=reader).start()
            """,
            line=7,
        ),
    ]

    def check(self, project: ProjectFacts, module: ModuleSummary) -> Iterator[Report]:
        reported = set()
        for access, use, missing, trace in arrays.unguarded_writes(project, module, LIBRARIES):
            reported.add(access.anchor)
            library = "torch" if use.library == "torch" else "CuPy"
            yield self.report(
                module, access.anchor, *code(module, access.anchor, 50), f" changes the shared {library} tensor ", *state(project, module, access),
                f" in place {missing}: {arrays.why_it_interleaves(use.call)}, so two threads' updates interleave", trace=trace,
            )
        for access, use, (other_module, written), overlap in arrays.reads_while_written(project, module, LIBRARIES):
            if access.anchor in reported:
                continue
            yield self.report(
                module, access.anchor, *code(module, access.anchor), " reads ", *state(project, module, access), " while ",
                *code(other_module, written.anchor), " (", where(other_module.path, written.anchor),
                f", run by {runner(project, overlap.second)}) writes it, with no lock held by both: "
                f"{arrays.why_it_interleaves(use.call)}, so the read can see a half-done write",
                trace=trace_for(project, access, overlap),
            )

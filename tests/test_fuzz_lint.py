"""Fuzzing `gilsafe lint`: whatever valid Python it is given, it answers with findings, never with
an internal error, and its fixes compile and are idempotent.

Programs come from hypothesmith (any Python the grammar allows, made thread-relevant by running it
as a thread's target) and from a hand-written strategy of thread-shaped snippets (shared counters,
locks, check-then-act, Thread subclasses, executors, numba decorators), because hypothesmith alone
almost never writes threading code and the deep analysis would not run.

The default run is small (well under a minute); `GILSAFE_FUZZ_EXAMPLES=2000` runs that many examples
per test for a long fuzzing session."""

import os

import pytest

hypothesmith = pytest.importorskip("hypothesmith", reason="the fuzz tests need hypothesmith: pip install -e '.[test]'")

import libcst as cst  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gilsafe.lint.api import lint_source, lint_sources  # noqa: E402
from gilsafe.lint.config import ALWAYS_ON, Settings  # noqa: E402

LONG_RUN_EXAMPLES = int(os.environ.get("GILSAFE_FUZZ_EXAMPLES", "0"))
# Generated code such as `1()` is valid Python that CPython warns about when compiling it.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


def fuzz(default_examples: int):
    """Hypothesis settings for one fuzz test: `default_examples` unless a long run asks for more."""
    return settings(
        max_examples=LONG_RUN_EXAMPLES or default_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        derandomize=True,
    )


def compiles(source: str) -> bool:
    """CPython accepts it: hypothesmith follows the grammar, which allows some programs compile() refuses."""
    try:
        compile(source, "f.py", "exec")
    except (SyntaxError, ValueError):  # ValueError: NUL bytes
        return False
    return True


def assert_linted_cleanly(result, source: str) -> None:
    """No GS000 but a syntax error (LibCST may refuse what CPython accepts), and every finding
    placed inside its file."""
    broken = [f.message for f in result.findings if f.code == ALWAYS_ON and not f.message.startswith("syntax error")]
    assert not broken, broken
    last_line = len(source.splitlines()) + 1  # splitlines breaks on more than Python does: an upper bound
    for finding in result.findings:
        assert 1 <= finding.line <= last_line, finding


def assert_fix_is_stable(source: str, settings: Settings) -> None:
    """A fixed file still compiles, and fixing it again changes nothing."""
    result = lint_source(source, settings, path="m.py", fix=True)
    assert_linted_cleanly(result, source)
    if result.fixed_source is None:
        return
    fixed = result.fixed_source.decode()
    assert compiles(fixed), fixed
    again = lint_source(fixed, settings, path="m.py", fix=True)
    assert_linted_cleanly(again, fixed)
    assert again.fixed_source in (None, result.fixed_source), f"fixing twice changed it again:\n{fixed}"


# -- the thread-shaped world every program lives in --------------------------------------------------

PRELUDE = """\
import _thread
import asyncio
import queue
import random
import threading
import types
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor

import numba
import numba as nb
import numpy as np
import torch
from numba import jit, njit, prange

from . import b

lock = threading.Lock()
other_lock = threading.RLock()
counter = 0
total = 0
items = []
cache = {}
key = "k"
arr = np.zeros(8)
grad = torch.zeros(8)
state = types.SimpleNamespace(value=0)
jobs = queue.Queue()
done = threading.Event()
"""

# Starts threads on the functions the generated code defines (hypothesmith's are wrapped in `work`).
THREAD_STARTS = """\
for _ in range(2):
    threading.Thread(target=work).start()
with ThreadPoolExecutor(2) as pool:
    pool.submit(work)
"""


# -- programs from hypothesmith ---------------------------------------------------------------------


def as_thread_target(generated: str) -> str:
    """The generated statements as the body of `work()`, which two threads run; a `global` line
    makes the shared names in the prelude shared. LibCST re-indents the body, whatever its
    indentation and line endings were."""
    try:
        module = cst.parse_module(generated)
    except cst.ParserSyntaxError:
        return ""
    shared = cst.parse_statement("global counter, total, items, cache\n")
    touch = cst.parse_statement("counter += 1\n")
    body = [shared, *module.body, touch]
    work = cst.FunctionDef(name=cst.Name("work"), params=cst.Parameters(), body=cst.IndentedBlock(body=body))
    return PRELUDE + cst.Module(body=[work]).code + THREAD_STARTS


@fuzz(default_examples=100)
@given(hypothesmith.from_grammar("file_input"))
def test_generated_module_runs_alongside_threads(generated):
    source = PRELUDE + generated + "\n" + THREAD_STARTS
    assume(compiles(source))
    assert_linted_cleanly(lint_source(source, path="m.py"), source)


@fuzz(default_examples=100)
@given(hypothesmith.from_grammar("file_input"))
def test_generated_statements_as_a_thread_target(generated):
    source = as_thread_target(generated)
    assume(source and compiles(source))
    assert_linted_cleanly(lint_source(source, path="m.py"), source)


@fuzz(default_examples=30)  # from_node is slow, and may be drawn only once per example (its target() labels)
@given(hypothesmith.from_node(cst.SimpleStatementLine))
def test_generated_statement_line_as_a_thread_target(line):
    source = as_thread_target(line)
    assume(source and compiles(source))
    assert_linted_cleanly(lint_source(source, path="m.py"), source)


# -- thread-shaped programs from snippets -----------------------------------------------------------

SIMPLE_STATEMENTS = st.sampled_from(
    [
        "counter += 1",
        "counter = counter + 1",
        "total += counter",
        "counter, total = counter + 1, total",
        "items.append(counter)",
        "items.pop()",
        "items[0] += 1",
        "items[:] = []",
        "cache[key] = cache.get(key, 0) + 1",
        "cache.setdefault(key, []).append(1)",
        "if key not in cache: cache[key] = []",
        "value = cache[key]",
        "del cache[key]",
        "cache.clear()",
        "total = sum(items)",
        "state.value += 1",
        "self.count += 1",
        "self.items.append(1)",
        "self.balance -= amount",
        "arr += 1",
        "arr[0] = 1",
        "arr[key] *= 2",
        "np.add(arr, 1, out=arr)",
        "arr.mean()",
        "grad.add_(1)",
        "grad += 1",
        "fast(arr)",
        "random.shuffle(items)",
        "np.random.seed(0)",
        "lock.acquire()",
        "lock.release()",
        "helper()",
        "work()",
        "b.work()",
        "b.counter += 1",
        "jobs.put(counter)",
        "done.set()",
        "local = []",
        "local.append(1)",
        "kernel(arr)",
        "print(*items)",
        "pass",
        "return counter",
    ]
)

BLOCK_HEADERS = st.sampled_from(
    [
        "with lock:",
        "with other_lock:",
        "with lock, other_lock:",
        "with self.lock:",
        "with warnings.catch_warnings():",
        "if key in cache:",
        "if counter > 0:",
        "for item in items:",
        "for k in cache:",
        "for k, v in cache.items():",
        "while not done.is_set():",
    ]
)


def indented(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def bodies(statements, headers) -> st.SearchStrategy[list[str]]:
    """Blocks of lines (indented relative to the block): simple statements, headers over nested
    blocks, and `acquire()` / try / `finally: release()`."""

    def block(inner):
        nested = st.tuples(headers, inner).map(lambda pair: [pair[0], *indented(pair[1])])
        try_finally = inner.map(lambda body: ["lock.acquire()", "try:", *indented(body), "finally:", "    lock.release()"])
        return st.one_of(statements.map(lambda line: [line]), nested, try_finally)

    return st.recursive(
        st.lists(statements, min_size=1, max_size=3),
        lambda inner: st.lists(block(inner), min_size=1, max_size=4).map(lambda parts: [line for part in parts for line in part]),
        max_leaves=12,
    )


BODIES = bodies(SIMPLE_STATEMENTS, BLOCK_HEADERS)
# A class's methods mostly touch their own fields, under their own lock or not (GS105's ground).
METHOD_BODIES = bodies(
    st.one_of(
        SIMPLE_STATEMENTS,
        st.sampled_from(["self.count += 1", "self.items.append(amount)", "self.items.clear()", "self.balance += amount", "self.cache = {}", "for item in self.items: pass"]),
    ),
    st.one_of(BLOCK_HEADERS, st.just("with self.lock:")),
)


@st.composite
def functions(draw) -> list[str]:
    name = draw(st.sampled_from(["work", "worker", "helper", "update"]))
    params = draw(st.sampled_from(["", "key", "self", "*args"]))
    shared = ["global counter, total, items, cache, arr, grad"] if draw(st.booleans()) else []
    return [f"def {name}({params}):", *indented(shared + draw(BODIES))]


@st.composite
def classes(draw) -> list[str]:
    """A Thread subclass, or a class that takes a lock (it is meant to be shared)."""
    if draw(st.booleans()):
        head = ["class Worker(threading.Thread):", "    def __init__(self):", "        super().__init__()"]
        methods = ["run"]
    else:
        head = ["class Account:", "    def __init__(self):"]
        methods = ["deposit", "withdraw"]
    head += ["        self.lock = threading.Lock()", "        self.count = 0", "        self.items = []", "        self.balance = 0"]
    for method in methods:
        head += [f"    def {method}(self, amount=1):", *indented(indented(draw(METHOD_BODIES)))]
    return head


NUMBA_CALLEES = st.sampled_from(["jit", "njit", "numba.jit", "nb.jit", "numba.njit"])


@st.composite
def numba_arguments(draw) -> str:
    """Keyword arguments a jit call might take, each at most once, in any order and layout."""
    options = []
    for keyword in ["nogil", "forceobj", "nopython", "cache", "parallel"]:
        value = draw(st.sampled_from([None, "True", "True", "False"]))
        if value is not None:
            options.append(f"{keyword}={value}")
    options = draw(st.permutations(options))
    if draw(st.booleans()):
        options.append("**options")
    separator = draw(st.sampled_from([", ", ",\n    ", " ,  "]))
    trailing = "," if options and draw(st.booleans()) else ""
    return separator.join(options) + trailing


@st.composite
def numba_kernels(draw) -> list[str]:
    """A jitted function, as a decorator, a call, a jit call applied to another's result, or a jit
    call of a jit call (`jit(jit(f, ...), ...)`: a fix inside a fix)."""
    jit_call = st.builds(lambda callee, arguments: f"{callee}({arguments})", NUMBA_CALLEES, numba_arguments())
    shape = draw(st.sampled_from(["decorator", "call", "chained", "nested"]))
    kernel = ["def kernel(a):", *draw(st.sampled_from([["    return a + 1"], ["    for i in prange(a.shape[0]):", "        a[i] += 1"]]))]
    if shape == "decorator":
        return ["@" + draw(jit_call), *kernel]
    if shape == "call":
        callee, arguments = draw(NUMBA_CALLEES), draw(numba_arguments())
        return [*kernel, f"fast = {callee}(kernel{', ' + arguments if arguments else ''})"]
    if shape == "chained":
        return [*kernel, f"fast = {draw(jit_call)}({draw(jit_call)}(kernel))"]
    inner, outer = (draw(numba_arguments()) for _ in range(2))
    return [*kernel, f"fast = {draw(NUMBA_CALLEES)}({draw(NUMBA_CALLEES)}(kernel{', ' + inner if inner else ''}){', ' + outer if outer else ''})"]


ENTRY_SITES = st.sampled_from(
    [
        ["threading.Thread(target=work).start()"],
        ["threading.Thread(target=worker, args=(key,)).start()"],
        ["t = threading.Thread(target=helper)", "t.start()", "t.join()"],
        ["threading.Timer(1.0, update).start()"],
        ["Worker().start()"],
        ["account = Account()", "threading.Thread(target=account.deposit, args=(1,)).start()"],
        ["with ThreadPoolExecutor(2) as pool:", "    pool.submit(work)", "    list(pool.map(worker, items))"],
        ["executor = ThreadPoolExecutor()", "executor.submit(update, 1)"],
        ["_thread.start_new_thread(work, ())"],
        ["asyncio.run(asyncio.to_thread(helper))"],
        ["weakref.finalize(state, helper)"],
        ["threading.Thread(target=b.work).start()"],
        ["threading.Thread(target=lambda: work()).start()"],
        ["threads = [threading.Thread(target=work) for _ in range(4)]", "for t in threads:", "    t.start()"],
        ["threading.Thread(target=kernel, args=(arr,)).start()"],
        ["threading.Thread(target=fast, args=(arr,)).start()"],
        ["items.append(1)"],
        ["counter += 1"],
    ]
)


@st.composite
def thread_programs(draw) -> str:
    """The prelude, then functions, classes, numba kernels and thread starts in any order."""
    parts = draw(st.lists(st.one_of(functions(), classes(), numba_kernels(), ENTRY_SITES), min_size=1, max_size=8))
    return PRELUDE + "".join(line + "\n" for part in parts for line in part)


LINT_SETTINGS = st.builds(
    Settings,
    target=st.sampled_from(["gil", "free-threaded"]),
    preview=st.booleans(),
    reproducible=st.booleans(),
    numba_version=st.sampled_from([(0, 58), (0, 59)]),
)


@fuzz(default_examples=300)
@given(thread_programs(), LINT_SETTINGS)
def test_thread_shaped_programs(source, lint_settings):
    assert compiles(source), source  # the snippets are meant to be valid Python: a broken one is a test bug
    assert_linted_cleanly(lint_source(source, lint_settings, path="m.py"), source)


@fuzz(default_examples=100)
@given(
    st.one_of(thread_programs(), hypothesmith.from_grammar("file_input").map(as_thread_target)),
    thread_programs(),
    st.sampled_from(["", "from .a import *\n", "from . import a, b\nfrom .b import work\n"]),
)
def test_project_of_generated_modules(module_a, module_b, package_init):
    """Two modules of one package that import and start each other's functions: the project pass
    links them."""
    assume(module_a and compiles(module_a))
    files = {"pkg/__init__.py": package_init, "pkg/a.py": module_a, "pkg/b.py": module_b.replace("from . import b", "from . import a as b")}
    report = lint_sources(files)
    assert [result.path for result in report.results] == sorted(files)
    for result in report.results:
        assert_linted_cleanly(result, files[result.path])


@fuzz(default_examples=200)
@given(thread_programs(), LINT_SETTINGS)
def test_fixes_compile_and_are_idempotent(source, lint_settings):
    """GS201's fix (numba object mode -> nopython) is the fixable rule; the programs are full of jit calls."""
    assert_fix_is_stable(source, lint_settings)


@pytest.mark.parametrize(
    "jitted",
    [
        "jit(nogil=True, forceobj=True)(jit(nogil=True, forceobj=True)(kernel))",
        # Found while writing the fix test: the outer replacement was built from the original
        # node, which still held the unfixed inner call, so a second --fix changed the file again.
        "jit(jit(kernel, nogil=True, forceobj=True), nogil=True, forceobj=True)",
    ],
)
def test_nested_jit_fixes_take_one_pass(jitted):
    assert_fix_is_stable(PRELUDE + f"def kernel(a):\n    return a\nfast = {jitted}\n", Settings())

"""Which tests must run once, in one thread, and why: the `gilsafe_single` marker, a thread-unsafe
fixture, a hypothesis test, a thread-unsafe call in the test's own source, or a finding of
gilsafe's own rules inside the test function.

Calls are found by walking the test function's source with `ast`, its names resolved through the
test module's imports (`import numpy as np`, `from os import environ`). This is cheap on purpose
(no libcst): it runs once per test function of a threaded run.
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import tokenize
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gilsafe.errors import ConfigError
from gilsafe.pyproject import load_toml


# Fixtures are set up once and shared by every thread of a test; these hold process-wide or
# per-test state that threads would trample.
THREAD_UNSAFE_FIXTURES = (
    "monkeypatch",  # patches process-wide state and undoes it at teardown, once
    "capsys",  # one capture for every thread: their output interleaves in it
    "capsysbinary",
    "capfd",
    "capfdbinary",
    "capteesys",
    "recwarn",  # warnings.catch_warnings underneath: process-wide filters
    "caplog",  # set_level changes a process-wide logger; one list of records for all threads
    "tmp_path",  # one folder for all threads: the test's own files would collide, not the code's
    "tmpdir",
)

# Dotted names, after the test module's imports are resolved. `X.__setitem__` / `X.__delitem__`
# stand for `X[key] = value` / `del X[key]`, and `X.__assign__` for `X = value` (a module's
# attribute, such as sys.stderr).
THREAD_UNSAFE_CALLS = (
    # the warnings filters are process-wide (before 3.14's context-aware warnings)
    "warnings.catch_warnings",
    "warnings.simplefilter",
    "warnings.filterwarnings",
    "warnings.resetwarnings",
    "pytest.warns",
    "pytest.deprecated_call",
    # a seeded global generator promises one sequence; threads would share it
    "random.seed",
    "numpy.random.seed",
    # the process's working directory, environment and interpreter settings
    "os.chdir",
    "contextlib.chdir",
    "os.putenv",
    "os.unsetenv",
    "os.environ.__setitem__",
    "os.environ.__delitem__",
    "os.environ.update",
    "os.environ.pop",
    "os.environ.popitem",
    "os.environ.clear",
    "os.environ.setdefault",
    "os.umask",
    "locale.setlocale",
    "sys.setrecursionlimit",
    "sys.setswitchinterval",
    "sys.settrace",
    "sys.setprofile",
    "threading.settrace",
    "threading.setprofile",
    "signal.signal",  # raises ValueError outside the main thread
    "socket.setdefaulttimeout",
    "contextlib.redirect_stdout",  # swap sys.stdout for every thread
    "contextlib.redirect_stderr",
    "sys.stdout.__assign__",  # the same, by hand (boltons' tests swap sys.stderr so)
    "sys.stderr.__assign__",
    "sys.stdin.__assign__",
    "sys.excepthook.__assign__",
    "sys.displayhook.__assign__",
    "gc.disable",  # the collector is the process's: one thread's disable is every thread's
    "gc.enable",
    "gc.freeze",
    # patching replaces a module attribute for every thread, and restores it once
    "unittest.mock.patch",
    "unittest.mock.patch.object",
    "unittest.mock.patch.dict",
    "unittest.mock.patch.multiple",
    "mock.patch",
    "mock.patch.object",
    "mock.patch.dict",
    "mock.patch.multiple",
)

FIXTURES_KEY = "thread-unsafe-fixtures"
CALLS_KEY = "thread-unsafe-calls"
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class ThreadUnsafeLists:
    """What makes a test run single-threaded: gilsafe's defaults plus the project's additions."""

    fixtures: frozenset[str]  # fixture names, anywhere in the test's fixture closure
    calls: frozenset[str]  # dotted names of calls in the test's source


DEFAULT_LISTS = ThreadUnsafeLists(frozenset(THREAD_UNSAFE_FIXTURES), frozenset(THREAD_UNSAFE_CALLS))


def thread_unsafe_lists(pyproject: Path) -> ThreadUnsafeLists:
    """The defaults extended by `[tool.gilsafe]` `thread-unsafe-fixtures` / `thread-unsafe-calls`
    in `pyproject` (when it exists). Raises ConfigError naming the file and the key."""
    if not pyproject.is_file():
        return DEFAULT_LISTS
    data = load_toml(pyproject)
    table = data.get("tool", {}).get("gilsafe", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.gilsafe] must be a table")
    fixtures = _names(table, FIXTURES_KEY, _IDENTIFIER, "a fixture name", pyproject)
    calls = _names(table, CALLS_KEY, _DOTTED, "a dotted name such as `mylib.reset_cache`", pyproject)
    return ThreadUnsafeLists(DEFAULT_LISTS.fixtures | fixtures, DEFAULT_LISTS.calls | calls)


def _names(table: Mapping[str, Any], key: str, pattern: re.Pattern[str], kind: str, where: Path) -> frozenset[str]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: [tool.gilsafe] `{key}` must be a list of strings, not {value!r}")
    for item in value:
        if pattern.fullmatch(item) is None:
            raise ConfigError(f"{where}: [tool.gilsafe] `{key}`: {item!r} is not {kind}")
    return frozenset(value)


def single_thread_reason(item: Any, lists: ThreadUnsafeLists) -> str | None:
    """Why this pytest Function must run once in one thread, or None when threads may run it."""
    marker = item.get_closest_marker("gilsafe_single")
    if marker is not None:
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        return f"marked gilsafe_single: {reason}" if reason else "marked gilsafe_single"
    for name in item.fixturenames:  # the closure: a fixture that uses monkeypatch counts too
        if name in lists.fixtures:
            return f"uses fixture {name!r}"
    if getattr(item.obj, "is_hypothesis_test", False):
        return "uses hypothesis (@given runs its own examples, not made for threads)"
    call = thread_unsafe_call(item.obj, lists.calls)
    if call is not None:
        return _describe_call(call)
    return thread_unsafe_body(item.obj)


# What gilsafe's own rules say makes a test body unfit to run in threads: it races on state of
# its own (module globals of the test file), seeds or shares a random generator, or changes the
# process's warning filters. Lint sees the test module with its functions as an API many
# threads call at once, which is what the plugin makes of them.
TEST_BODY_CODES = frozenset({"GS101", "GS102", "GS103", "GS104", "GS105", "GS401", "GS501"})


def thread_unsafe_body(function: Any) -> str | None:
    """The first finding of gilsafe's rules inside this test function's own lines, as a reason."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return None
    module = _module_tree(code.co_filename)
    node = next((n for n in ast.walk(module) if _starts_at(n, code.co_firstlineno)), None) if module is not None else None
    if node is None:
        return None
    for finding in _lint_test_module(code.co_filename):
        if finding.code in TEST_BODY_CODES and code.co_firstlineno <= finding.line <= (node.end_lineno or node.lineno):
            message = finding.message if len(finding.message) <= 100 else finding.message[:97] + "..."
            return f"gilsafe {finding.code} in the test itself (line {finding.line}): {message}"
    return None


@functools.lru_cache(maxsize=256)
def _lint_test_module(path: str) -> tuple:
    """The test module's findings, linted alone, every function of it declared thread-safe.
    Imports the linter (libcst): only ever called when a test is about to run in threads."""
    from gilsafe.lint.api import lint_paths, module_name_of

    try:
        report = lint_paths([path], overrides={"thread_safe": [f"{module_name_of(Path(path))[0]}:*"]}, jobs=1, cache_folder=None)
    except Exception:  # a linter bug must not stop the user's tests: the test just runs threaded
        return ()
    return tuple(report.findings)


def _describe_call(dotted: str) -> str:
    target, _, method = dotted.rpartition(".")
    if method == "__setitem__":
        return f"writes {target}[...]"
    if method == "__delitem__":
        return f"deletes {target}[...]"
    if method == "__assign__":
        return f"assigns {target}"
    return f"calls {dotted}"


def thread_unsafe_call(function: Any, calls: frozenset[str]) -> str | None:
    """The first listed call in `function`'s source (its decorators included), by position."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    if code is None:
        return None
    return _first_listed_call(code.co_filename, code.co_firstlineno, calls)


@functools.lru_cache(maxsize=1024)  # parametrized tests share one function: walk it once
def _first_listed_call(path: str, first_line: int, calls: frozenset[str]) -> str | None:
    module = _module_tree(path)
    if module is None:
        return None
    function = next((node for node in ast.walk(module) if _starts_at(node, first_line)), None)
    if function is None:
        return None
    aliases = _import_aliases(module)  # every import in the module, a function's local ones too
    found = [(node.lineno, node.col_offset, name) for node, name in _written_or_called(function) if _resolve(name, aliases) in calls]
    return _resolve(min(found)[2], aliases) if found else None


@functools.lru_cache(maxsize=256)
def _module_tree(path: str) -> ast.Module | None:
    try:
        with tokenize.open(path) as handle:
            return ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None  # no source to read: nothing is detected, the test runs in threads


def _starts_at(node: ast.AST, first_line: int) -> bool:
    """co_firstlineno is the first decorator's line for a decorated function."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return min([node.lineno] + [decorator.lineno for decorator in node.decorator_list]) == first_line


def _import_aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name it stands for: `np` -> `numpy`, `environ` -> `os.environ`."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _written_or_called(function: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    """Every call by dotted name, every `X[key] =` / `del X[key]` as X.__setitem__ / X.__delitem__,
    and every `X.attr =` as X.attr.__assign__."""
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name:
                yield node, name
        targets: list[ast.expr] = []
        method = "__setitem__"
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets, method = node.targets, "__delitem__"
        for target in targets:
            if isinstance(target, ast.Subscript):
                name = _dotted(target.value)
                if name:
                    yield target, f"{name}.{method}"
            elif isinstance(target, ast.Attribute) and isinstance(node, (ast.Assign, ast.AnnAssign)):
                name = _dotted(target)
                if name:
                    yield target, f"{name}.__assign__"


def _dotted(expression: ast.expr) -> str | None:
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        base = _dotted(expression.value)
        return f"{base}.{expression.attr}" if base else None
    return None


def _resolve(dotted: str, aliases: Mapping[str, str]) -> str:
    head, dot, rest = dotted.partition(".")
    return f"{aliases[head]}{dot}{rest}" if head in aliases else dotted

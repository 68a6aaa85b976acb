"""The public API: lint paths (a whole project), one source, or an in-memory project. The CLI is a
thin layer over this."""

from __future__ import annotations

import difflib
import gc
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gilsafe.atomic import ChangedMeanwhile, write_atomically
from gilsafe.cores import usable_cores
from gilsafe.lint.cache import AnalysisCache, cache_key, run_key
from gilsafe.lint.config import ALWAYS_ON, Settings, SettingsResolver, ignored_codes
from gilsafe.lint.discovery import discover
from gilsafe.lint.engine import FileAnalysis, analyse_file, check_project, digest_of, internal_error, place, unsuppressed
from gilsafe.lint.findings import FileError, FileResult, Finding
from gilsafe.lint.rule import Rule, SyntaxRule
from gilsafe.lint.source import encoding_of
from gilsafe.lint.suppressions import NOQA_CODES, comments
from gilsafe.lint.workers import Failure, IsolatedPool, run_deep

MAX_FILE_BYTES = 5 * 1024 * 1024  # larger files are generated code; parsing them would stall a run
# Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 16
UNUSED_SUPPRESSION = "GS001"


@dataclass
class LintReport:
    results: list[FileResult] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return sorted(f for result in self.results for f in result.findings)

    @property
    def fixed(self) -> list[FileResult]:
        return [r for r in self.results if r.fixed_source is not None]


def _rules() -> tuple[list[type[SyntaxRule]], list[type[Rule]]]:
    from gilsafe.rules import ALL_RULES

    syntax = [rule for rule in ALL_RULES.values() if issubclass(rule, SyntaxRule)]
    project = [rule for rule in ALL_RULES.values() if not issubclass(rule, SyntaxRule) and rule.code != UNUSED_SUPPRESSION]
    return syntax, project


def module_name_of(path: Path) -> tuple[str, bool]:
    """The dotted name a file is imported by: its folders up to the last one holding `__init__.py`."""
    path = path.absolute()
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    name = ".".join(parts) or path.parent.name
    return (name + "@stub" if path.suffix == ".pyi" else name), is_package


def _unique_names(paths: Sequence[Path]) -> dict[Path, tuple[str, bool]]:
    """Module names, made unique: two scripts both called `utils.py` in unrelated folders are
    different modules, and neither can be imported by the other's name."""
    names: dict[Path, tuple[str, bool]] = {}
    seen: dict[str, int] = {}
    for path in paths:
        name, is_package = module_name_of(path)
        count = seen.get(name, 0)
        seen[name] = count + 1
        names[path] = (f"{name}@{count + 1}" if count else name, is_package)
    return names


# -- one source, or an in-memory project ----------------------------------------------------------


def lint_source(source: bytes | str, settings: Settings | None = None, *, path: str = "<string>", fix: bool = False) -> FileResult:
    """Lint one module's source as a project of one file. With `fix`, `fixed_source` holds the fixed
    bytes if anything changed."""
    report = lint_sources({path: source}, settings, fix=fix)
    return report.results[0]


def lint_sources(files: Mapping[str, bytes | str], settings: Settings | None = None, *, fix: bool = False) -> LintReport:
    """Lint an in-memory project: path -> source. Module names come from the paths
    (`pkg/__init__.py` and `pkg/mod.py` make `pkg` and `pkg.mod`)."""
    settings = settings or Settings()
    data = {path: source.encode() if isinstance(source, str) else source for path, source in files.items()}
    packages = {str(Path(p).parent) for p in data if Path(p).name == "__init__.py"}
    syntax_rules, project_rules = _rules()
    analyses = []
    for path, source in data.items():
        name, is_package = _memory_module_name(path, packages)
        analysis = run_deep(analyse_file, path, source, settings, syntax_rules, module_name=name, is_package=is_package, fix=fix)
        analyses.append(_failed(Path(path), analysis) if isinstance(analysis, Failure) else analysis)
    return _finish(analyses, lambda _: settings, project_rules, data.get)


def _memory_module_name(path: str, packages: set[str]) -> tuple[str, bool]:
    pure = Path(path)
    is_package = pure.name == "__init__.py"
    parts = [] if is_package else [pure.stem]
    folder = pure.parent
    while str(folder) in packages and str(folder) not in (".", ""):
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or pure.stem, is_package


# -- paths -----------------------------------------------------------------------------------------


_worker_cache: AnalysisCache | None = None


def _warm_worker(cache_folder: str | None) -> None:
    """Runs once per worker process: load the rules and the parser before the first file."""
    global _worker_cache
    import libcst

    libcst.parse_module("import threading\n")
    _rules()
    _worker_cache = AnalysisCache(Path(cache_folder)) if cache_folder else None


def _analyse_in_worker(job: tuple[Path, Settings, str, bool, bool]) -> FileAnalysis:
    path, settings, name, is_package, fix = job
    return analyse_path(path, settings, module_name=name, is_package=is_package, fix=fix, cache=_worker_cache)


_NOT_REGULAR = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


def read_source(path: Path) -> bytes | FileError:
    """A regular file's bytes, at most MAX_FILE_BYTES of them. Anything else (a FIFO would block
    for ever, `/dev/zero` never ends) is one line saying what it is, checked before reading."""
    name = str(path)
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not block; it is refused just below.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        return FileError(name, f"cannot read: {error.strerror or error}")
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = next((words for test, words in _NOT_REGULAR if test(info.st_mode)), "not a regular file")
            return FileError(name, f"skipped: {kind}, not a source file")
        if info.st_size > MAX_FILE_BYTES:
            return FileError(name, f"skipped: {info.st_size / 1e6:.1f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit for a source file")
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_BYTES + 1)  # a file growing as we read stops at the limit too
        if len(data) > MAX_FILE_BYTES:
            return FileError(name, f"skipped: over the {MAX_FILE_BYTES / 1e6:.0f} MB limit for a source file")
        return data
    except OSError as error:
        return FileError(name, f"cannot read: {error.strerror or error}")
    finally:
        os.close(descriptor)


OVER_TIME_LIMIT = "(a limit on each file's analysis; nothing else in it was checked)"


def _failed(path: Path, failure: Failure) -> FileAnalysis:
    """A file whose analysis never came back: its worker died (a fault, worded as an internal
    error), or it ran past the time limit (a huge generated file, say: worded as a skip)."""
    name = str(path)
    message = f"{failure.reason} {OVER_TIME_LIMIT}" if failure.over_limit else f"gilsafe could not analyse this file: {failure.reason}"
    return FileAnalysis(name, "", None, [Finding(name, 1, 1, ALWAYS_ON, message, 1, 1)])


def analyse_path(path: Path, settings: Settings, *, module_name: str, is_package: bool, fix: bool = False, cache: AnalysisCache | None = None) -> FileAnalysis:
    name = str(path)
    source = read_source(path)
    if isinstance(source, FileError):
        return FileAnalysis(name, "", None, error=source)
    digest = digest_of(source)
    key = cache_key(name, digest, settings.fingerprint(), module_name)
    if cache is not None and not fix:
        cached = cache.get(key)
        if cached is not None:
            return cached
    syntax_rules, _ = _rules()
    try:
        analysis = analyse_file(name, source, settings, syntax_rules, module_name=module_name, is_package=is_package, fix=fix)
    except Exception as error:  # analyse_file reports its own failures; this is the last guard
        return FileAnalysis(name, digest, None, [internal_error(name, error)])
    if cache is not None and analysis.fixed_source is None and not _internal_errors([analysis]):
        cache.put(key, analysis)
    return analysis


def lint_paths(
    paths: Sequence[str],
    *,
    config: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    fix: bool = False,
    jobs: int | None = None,
    cache_folder: Path | None = None,
) -> LintReport:
    """Lint files and folders as one project. Results come back in path order."""
    from gilsafe.rules import ALL_RULES

    resolver = SettingsResolver(ALL_RULES, config, overrides)
    first = resolver.for_path(Path(paths[0]) if paths else Path.cwd())
    found = discover(paths, first.exclude, Path(first.root))
    report = LintReport(errors=list(found.errors))
    names = _unique_names(found.files)
    jobs_list = [(path, resolver.for_path(path), *names[path], fix) for path in found.files]
    cache = AnalysisCache(cache_folder) if cache_folder is not None else None
    analyses: dict[int, FileAnalysis] = {}
    whole_run = None
    if cache is not None and not fix:
        # A warm run is answered from the cache here, without paying for worker processes: all
        # of it when no file changed, else every file but the changed ones.
        keys = []
        for path, settings, name, is_package, _ in jobs_list:
            source = read_source(path)
            keys.append(cache_key(str(path), digest_of(source), settings.fingerprint(), name) if isinstance(source, bytes) else f"unreadable {path}")
        whole_run = run_key(keys, "")
        results = cache.get_results(whole_run)
        if isinstance(results, list) and all(isinstance(r, FileResult) for r in results):
            report.results = results
            report.errors.extend(r.error for r in results if r.error is not None)
            return report
        with _no_gc():  # a heap of small records: the collector's passes would cost more than the loads
            for index, key in enumerate(keys):
                cached = cache.get(key) if not key.startswith("unreadable ") else None
                if cached is not None:
                    analyses[index] = cached
    todo = [index for index in range(len(jobs_list)) if index not in analyses]
    workers = max(1, min(jobs or usable_cores(), usable_cores()))
    if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
        folder = str(cache_folder) if cache_folder is not None else None
        pool = IsolatedPool(workers, _analyse_in_worker, _warm_worker, (folder,))
        for position, analysis in pool.map([jobs_list[i] for i in todo]):
            index = todo[position]
            analyses[index] = _failed(jobs_list[index][0], analysis) if isinstance(analysis, Failure) else analysis
    else:
        for index in todo:
            path, settings, name, is_package, _ = jobs_list[index]
            try:
                analysis = run_deep(analyse_path, path, settings, module_name=name, is_package=is_package, fix=fix, cache=cache)
            except Exception as error:  # analyse_path reports its own failures; this is the last guard
                analysis = FileAnalysis(str(path), "", None, [internal_error(str(path), error)])
            analyses[index] = _failed(path, analysis) if isinstance(analysis, Failure) else analysis
    settings_by_path = {str(path): settings for path, settings, *_ in jobs_list}
    _, project_rules = _rules()

    def read(path: str) -> bytes | None:
        source = read_source(Path(path))
        return source if isinstance(source, bytes) else None

    ordered = [analyses[i] for i in range(len(jobs_list))]
    digests = {a.path: a.digest for a in ordered}
    known = learnt = None
    if cache is not None:
        def known(path: str) -> dict:
            return cache.get_placed(digests[path]) if digests.get(path) else {}

        def learnt(path: str, placed: dict) -> None:
            if digests.get(path):
                cache.put_placed(digests[path], placed)

    with _no_gc():
        finished = _finish(ordered, settings_by_path.__getitem__, project_rules, read, known, learnt)
    report.results = finished.results
    report.errors.extend(finished.errors)
    if cache is not None and whole_run is not None and not any(a.error for a in ordered) and not _internal_errors(finished.results):
        cache.put_results(whole_run, finished.results)
    return report


def _finish(analyses: Sequence[FileAnalysis], settings_for, project_rules, read, known=None, learnt=None) -> LintReport:
    """The project pass, placing, suppressions and per-file ignores, and one FileResult per file."""
    readable = [a for a in analyses if a.error is None]
    reports, link_errors = check_project(readable, settings_for, project_rules)
    # Placing parses again the files with findings: deep ones need the deep stack there too.
    placed, place_errors = run_deep(place, reports, read, known, learnt, time_limit=None)
    by_path: dict[str, list[Finding]] = {}
    for finding in placed:
        by_path.setdefault(finding.path, []).append(finding)
    report = LintReport()
    for analysis in analyses:
        if analysis.error is not None:
            result = FileResult(analysis.path, [], analysis.error)
            report.results.append(result)
            report.errors.append(analysis.error)
            continue
        settings = settings_for(analysis.path)
        findings = analysis.findings + link_errors.get(analysis.path, []) + place_errors.get(analysis.path, []) + by_path.get(analysis.path, [])
        findings = sorted(set(findings))
        enabled = settings.enabled_codes(settings.known_codes)
        findings = unsuppressed(findings, analysis.suppressions, enabled, analysis.path)
        ignored = ignored_codes(analysis.path, settings)
        if ignored:
            findings = [f for f in findings if f.code == ALWAYS_ON or not any(f.code.startswith(c) for c in ignored)]
        result = FileResult(analysis.path, sorted(findings), None, analysis.fixed_source, analysis.original_source, analysis.resolved_by_fix)
        report.results.append(result)
    report.results.sort(key=lambda r: r.path)
    return report


@contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _internal_errors(results) -> bool:
    """A bug in gilsafe, or a file cut by the time limit (which depends on the machine's load), is
    not remembered: the next run tries again."""
    return any(f.code == ALWAYS_ON and ("could not analyse" in f.message or f.message.endswith(OVER_TIME_LIMIT)) for r in results for f in r.findings)


@dataclass
class FixesWritten:
    written: int = 0
    problems: list[FileError] = field(default_factory=list)  # one per file left as it was
    unfixed: list[Finding] = field(default_factory=list)  # the findings those files still have


def write_fixes(results: Iterable[FileResult]) -> FixesWritten:
    """Write fixed files atomically, never losing a byte: a read-only file is left alone, and so
    is a file whose content changed since it was read (an editor saved it meanwhile): the check is
    made again just before the new content replaces the old. A file that cannot be written costs
    only itself; its findings are handed back as unfixed."""
    outcome = FixesWritten()
    for result in results:
        if result.fixed_source is None or result.fixed_source == result.original_source:
            continue
        path = Path(result.path)
        problem = _cannot_fix(path, result.original_source)
        if problem is None:
            try:
                write_atomically(path, result.fixed_source, still=lambda p=path, old=result.original_source: _cannot_fix(p, old) is None)
            except ChangedMeanwhile:
                problem = "not fixed: the file changed while gilsafe was fixing it"
            except OSError as error:
                problem = f"not fixed: cannot write it: {error.strerror or error}"
        if problem is None:
            outcome.written += 1
        else:
            outcome.problems.append(FileError(result.path, problem))
            outcome.unfixed.extend(result.resolved_by_fix)
    return outcome


def _cannot_fix(path: Path, read_before: bytes | None) -> str | None:
    try:
        mode = path.stat().st_mode
        if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            return "not fixed: the file is read-only"
        if path.read_bytes() != read_before:
            return "not fixed: the file changed while gilsafe was fixing it"
    except OSError as error:
        return f"not fixed: cannot read it again: {error.strerror or error}"
    return None


def unified_diff(result: FileResult) -> str:
    before = (result.original_source or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (result.fixed_source or b"").decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"a/{result.path}", f"b/{result.path}"))


def add_noqa(findings: Iterable[Finding]) -> int:
    """Append `# noqa: CODE` to each finding's line (merging into an existing noqa); returns the count."""
    by_file: dict[str, dict[int, set[str]]] = {}
    for finding in findings:
        if finding.code not in (ALWAYS_ON, UNUSED_SUPPRESSION):  # a stale comment wants removing, not another one
            by_file.setdefault(finding.path, {}).setdefault(finding.line, set()).add(finding.code)
    added = 0
    for path, lines_codes in by_file.items():
        source = Path(path).read_bytes()
        encoding = encoding_of(source)
        text = source.decode(encoding)
        existing = comments(text)
        lines = text.splitlines(keepends=True)
        for number, codes in lines_codes.items():
            line = lines[number - 1]
            body = line.rstrip("\r\n")
            ending = line[len(body):]
            comment = existing.get(number, "")
            match = NOQA_CODES.search(comment)
            if comment and re.search(r"#\s*noqa(?!:)", comment, re.IGNORECASE):
                continue  # a bare noqa already silences everything on the line
            if match:
                have = {c.strip() for c in re.split(r"[\s,]+", match.group("codes")) if c.strip()}
                new = sorted(codes - have)
                if not new:
                    continue
                body = body.replace(match.group(0), match.group(0) + ", " + ", ".join(new), 1)
            else:
                body = f"{body}  # noqa: {', '.join(sorted(codes))}"
            lines[number - 1] = body + ending
            added += len(codes)
        write_atomically(Path(path), "".join(lines).encode(encoding))
    return added

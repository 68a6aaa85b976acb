"""The public API: lint bytes, a file, or paths. The CLI is a thin layer over this."""

from __future__ import annotations

import difflib
import io
import os
import re
import tokenize
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from gilsafe.atomic import write_atomically
from gilsafe.cache import FindingsCache, cache_key
from gilsafe.config import ALWAYS_ON, Settings, SettingsResolver
from gilsafe.discovery import discover
from gilsafe.engine import SourceError, apply_fixes, decode, lint_text, parse_failure, rules_for, unsuppressed, UNUSED_SUPPRESSION
from gilsafe.findings import FileError, FileResult, Finding
from gilsafe.rules import ALL_RULES
from gilsafe.suppressions import NOQA_CODES, comments

MAX_FILE_BYTES = 5 * 1024 * 1024  # larger files are generated code; parsing them would stall a run
# Below this many files to analyse, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 16


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


def lint_source(source: bytes | str, settings: Settings | None = None, *, path: str = "<string>", fix: bool = False) -> FileResult:
    """Lint one module's source. With `fix`, `fixed_source` holds the fixed bytes if anything changed."""
    settings = settings or Settings()
    data = source.encode() if isinstance(source, str) else source
    return _lint_bytes(path, data, settings, fix=fix)


def _lint_bytes(path: str, source: bytes, settings: Settings, *, fix: bool) -> FileResult:
    try:
        text = decode(source)
        findings, module, fixes = lint_text(path, text, settings, rules_for(settings))
    except SourceError as error:
        return FileResult(path, [parse_failure(path, error)])
    except Exception as error:  # a bug in gilsafe must cost one file, not the run
        return FileResult(path, [], FileError(path, f"internal error in gilsafe: {type(error).__name__}: {error} (please report it)"))
    findings = unsuppressed(findings, text, settings.enabled_codes(ALL_RULES), path)
    result = FileResult(path, _without_ignored(findings, path, settings))
    if fix and module is not None:
        chosen = {node: replacement for finding, (node, replacement) in fixes.items() if finding in result.findings}
        if chosen:
            fixed_text = apply_fixes(module, chosen)
            encoding = _encoding_of(source)
            result.fixed_source = fixed_text.encode(encoding)
            result.original_source = source
            result.findings = [f for f in result.findings if f not in fixes]
    return result


def _encoding_of(source: bytes) -> str:
    return tokenize.detect_encoding(io.BytesIO(source).readline)[0]


def _without_ignored(findings: list[Finding], path: str, settings: Settings) -> list[Finding]:
    """Drop findings switched off for this file by per-file-ignores (globs relative to the config)."""
    if not settings.per_file_ignores or not findings:
        return findings
    absolute = Path(path).absolute()
    try:
        relative = absolute.relative_to(Path(settings.root).absolute()).as_posix()
    except ValueError:
        relative = absolute.as_posix()
    ignored: set[str] = set()
    for pattern, codes in settings.per_file_ignores:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
        if spec.match_file(relative) or spec.match_file(Path(path).name):
            ignored.update(codes)
    return [f for f in findings if f.code == ALWAYS_ON or not any(f.code.startswith(c) for c in ignored)]


def lint_file(path: Path, settings: Settings, *, fix: bool = False, cache: FindingsCache | None = None) -> FileResult:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return FileResult(name, [], FileError(name, f"skipped: {size / 1e6:.1f} MB is over the {MAX_FILE_BYTES / 1e6:.0f} MB limit for a source file"))
        source = path.read_bytes()
    except OSError as error:
        return FileResult(name, [], FileError(name, f"cannot read: {error.strerror or error}"))
    key = cache_key(name, source, settings.fingerprint()) if cache is not None else ""
    if cache is not None and not fix:
        cached = cache.get(key)
        if cached is not None:
            return FileResult(name, cached)
    result = _lint_bytes(name, source, settings, fix=fix)
    if cache is not None and result.fixed_source is None and result.error is None:
        cache.put(key, result.findings)
    return result


# -- many files, in parallel ----------------------------------------------------------------------

_worker_cache: FindingsCache | None = None


def _warm_worker(cache_folder: str | None) -> None:
    """Runs once per worker process: load the rules and the parser before the first file."""
    global _worker_cache
    import libcst

    libcst.parse_module("import threading\n")
    _worker_cache = FindingsCache(Path(cache_folder)) if cache_folder else None


def _lint_in_worker(job: tuple[Path, Settings, bool]) -> FileResult:
    path, settings, fix = job
    return lint_file(path, settings, fix=fix, cache=_worker_cache)


def lint_paths(
    paths: Sequence[str],
    *,
    config: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    fix: bool = False,
    jobs: int | None = None,
    cache_folder: Path | None = None,
) -> LintReport:
    """Lint files and folders. Results come back in path order, whatever order the work ran in."""
    resolver = SettingsResolver(ALL_RULES, config, overrides)
    first = resolver.for_path(Path(paths[0]) if paths else Path.cwd())
    found = discover(paths, first.exclude, Path(first.root))
    report = LintReport(errors=list(found.errors))
    jobs_list = [(path, resolver.for_path(path), fix) for path in found.files]
    cache = FindingsCache(cache_folder) if cache_folder is not None else None
    # A warm run is answered from the cache here, without paying for worker processes.
    done: dict[int, FileResult] = {}
    if cache is not None and not fix:
        for index, (path, settings, _) in enumerate(jobs_list):
            cached = _cached(path, settings, cache)
            if cached is not None:
                done[index] = cached
    todo = [index for index in range(len(jobs_list)) if index not in done]
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
        chunk = max(1, len(todo) // (workers * 8))
        folder = str(cache_folder) if cache_folder is not None else None
        with ProcessPoolExecutor(workers, initializer=_warm_worker, initargs=(folder,)) as pool:
            for index, result in zip(todo, pool.map(_lint_in_worker, [jobs_list[i] for i in todo], chunksize=chunk)):
                done[index] = result
    else:
        for index in todo:
            path, settings, _ = jobs_list[index]
            done[index] = lint_file(path, settings, fix=fix, cache=cache)
    report.results = sorted(done.values(), key=lambda r: r.path)
    report.errors.extend(r.error for r in report.results if r.error is not None)
    return report


def _cached(path: Path, settings: Settings, cache: FindingsCache) -> FileResult | None:
    try:
        key = cache_key(str(path), path.read_bytes(), settings.fingerprint())
    except OSError:
        return None
    cached = cache.get(key)
    return FileResult(str(path), cached) if cached is not None else None


def write_fixes(results: Iterable[FileResult]) -> int:
    """Write fixed files atomically; returns how many were written."""
    written = 0
    for result in results:
        if result.fixed_source is not None and result.fixed_source != result.original_source:
            write_atomically(Path(result.path), result.fixed_source)
            written += 1
    return written


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
        encoding = _encoding_of(source)
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

"""Linting, in three steps with a typed record between each:

1. `analyse_file` (per file, in worker processes, cached by content): decode, parse with LibCST,
   summarise the module (`ModuleSummary`), run the syntax rules (which may fix);
2. `check_project` (once, here): link every summary (`ProjectFacts`) and run the project rules
   over each module's classified accesses, giving `Report`s;
3. `place` : read back only the files that have reports, and turn anchors into positions and
   quoted code (`Finding`s); then suppressions and per-file ignores.

An internal error costs only the file (or the rule on that file) it happened in, and becomes a
GS000 finding that says so: no file disappears from the output.
"""

from __future__ import annotations

import hashlib
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper

from gilsafe import __version__
from gilsafe.lint.config import ALWAYS_ON, Settings
from gilsafe.lint.findings import ChainLink, FileError, Finding, Fix, ThreadEntry
from gilsafe.lint.rule import BOTH, FREE_THREADED, UNDER_GIL, Quote, Report, Rule, SyntaxRule
from gilsafe.lint.source import SourceError, check_nesting, decode, encoding_of, parse
from gilsafe.lint.summaries.base import ModuleAnalysis
from gilsafe.lint.summaries.bindings import Bindings
from gilsafe.lint.summaries.module import ModuleSummary, summarize_analysis
from gilsafe.lint.summaries.project import ProjectFacts, ProjectSettings
from gilsafe.lint.summaries.syntax import Located, locate, positions_of
from gilsafe.lint.suppressions import Suppressions, read_suppressions

UNUSED_SUPPRESSION = "GS001"
# A cheap look for comments that could be gilsafe suppressions: most files have none.
_MAY_SUPPRESS = ("noqa", "gilsafe:")


@dataclass
class FileAnalysis:
    """What the per-file pass learnt about one file; picklable, cached by content and settings."""

    path: str
    digest: str
    summary: ModuleSummary | None
    findings: list[Finding] = field(default_factory=list)  # GS000 and syntax rules', placed
    suppressions: Suppressions | None = None
    fixed_source: bytes | None = None
    original_source: bytes | None = None
    resolved_by_fix: list[Finding] = field(default_factory=list)  # what `fixed_source` fixes
    error: FileError | None = None  # could not be read at all


def digest_of(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def internal_error(path: str, error: BaseException, where: str = "") -> Finding:
    """An exception inside gilsafe, as a finding on the file (line 1): never a silent drop."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    at = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else ""
    message = f"gilsafe could not analyse this file{where}: internal error {type(error).__name__}: {error}{at} (please report it)"
    return Finding(path, 1, 1, ALWAYS_ON, message, 1, 1)


def source_failure(path: str, error: SourceError) -> Finding:
    return Finding(path, error.line, error.column, ALWAYS_ON, str(error), error.line, error.column)


# -- 1. one file -----------------------------------------------------------------------------------


def analyse_file(
    path: str,
    source: bytes,
    settings: Settings,
    syntax_rules: Sequence[type[SyntaxRule]],
    *,
    module_name: str,
    is_package: bool,
    fix: bool = False,
) -> FileAnalysis:
    digest = digest_of(source)
    try:
        text = decode(source)
        check_nesting(source, text, path)
        tree = parse(text, path)
    except SourceError as error:
        return FileAnalysis(path, digest, None, [source_failure(path, error)])
    suppressions = read_suppressions(text) if any(word in text for word in _MAY_SUPPRESS) else None
    try:
        analysis = ModuleAnalysis(tree, path=path, module_name=module_name, is_package=is_package, text=text, options=settings.summary_options())
        summary = summarize_analysis(analysis)
    except RecursionError as error:
        return FileAnalysis(path, digest, None, [internal_error(path, error, " (nested too deeply)")], suppressions)
    except Exception as error:  # a bug in gilsafe must cost one file, not the run
        return FileAnalysis(path, digest, None, [internal_error(path, error)], suppressions)
    result = FileAnalysis(path, digest, summary, [], suppressions)
    enabled = settings.enabled_codes(settings.known_codes)
    imported = {target.split(".")[0] for scope in analysis[Bindings].scopes.values() for target in scope.imports.values()}
    wanted = [rule for rule in syntax_rules if rule.code in enabled and rule.interesting_imports & imported]
    if wanted:
        try:
            _run_syntax_rules(result, tree, analysis, settings, wanted, source, fix)
        except Exception as error:
            result.findings.append(internal_error(path, error, " (syntax rules)"))
    return result


def _run_syntax_rules(result: FileAnalysis, tree: cst.Module, analysis: ModuleAnalysis, settings: Settings,
                      rules: Sequence[type[SyntaxRule]], source: bytes, fix: bool) -> None:
    bindings = analysis[Bindings]
    instances = [rule(settings, bindings) for rule in rules]
    MetadataWrapper(tree, unsafe_skip_copy=True).visit_batched(instances)
    if not any(rule.found for rule in instances):
        return
    positions = positions_of(tree, {found.node for rule in instances for found in rule.found})
    replacements = {}
    for rule in instances:
        for found in rule.found:
            (line, column), (end_line, end_column) = positions[found.node]
            finding = Finding(
                result.path, line, column + 1, rule.code, found.message,
                end_line, end_column + 1,
                fix=Fix(found.fix_description or "apply the suggested rewrite", tree.code_for_node(found.replacement)) if found.replacement is not None else None,
            )
            if _target_matches(rule.when, settings):
                result.findings.append(finding)
                if found.replacement is not None:
                    replacements[finding] = (found.node, found.replacement)
    if fix and replacements:
        applied = [
            finding for finding in replacements
            if not _suppressed(finding, result.suppressions) and not _ignored_for_file(finding, settings)
        ]
        if applied:
            fixed = tree.visit(_Replace(dict(replacements[finding] for finding in applied))).code
            result.fixed_source = fixed.encode(encoding_of(source))
            result.original_source = source
            # Reported again only if the fix cannot be written (a read-only file, say).
            result.resolved_by_fix = applied
            result.findings = [f for f in result.findings if f not in set(applied)]


class _Replace(cst.CSTTransformer):
    def __init__(self, replacements: dict) -> None:
        super().__init__()
        self.replacements = replacements
        self.replaced: dict[cst.CSTNode, cst.CSTNode] = {}  # original node -> what it became

    def on_leave(self, original_node, updated_node):
        replacement = self.replacements.get(original_node)
        if replacement is None:
            result = updated_node
        elif updated_node is original_node:
            result = replacement
        else:
            # A fix inside a fix (`jit(jit(f, forceobj=True), forceobj=True)`): the outer
            # replacement was built from the original node, so put the inner fixes into it.
            result = replacement.visit(_Swap(self.replaced))
        if result is not original_node:
            self.replaced[original_node] = result
        return result


class _Swap(cst.CSTTransformer):
    """Puts in the nodes another pass already replaced, found by identity."""

    def __init__(self, replaced: dict) -> None:
        super().__init__()
        self.replaced = replaced

    def on_leave(self, original_node, updated_node):
        return self.replaced.get(original_node, updated_node)


# -- 2. the project ----------------------------------------------------------------------------------


def check_project(
    analyses: Sequence[FileAnalysis],
    settings_for: Callable[[str], Settings],
    rules: Sequence[type[Rule]],
) -> tuple[list[Report], dict[str, list[Finding]]]:
    """Link the summaries and run the project rules. Returns the reports and, per file, the
    GS000 findings for internal errors met on the way."""
    summaries = [a.summary for a in analyses if a.summary is not None]
    errors: dict[str, list[Finding]] = defaultdict(list)
    all_settings = {a.path: settings_for(a.path) for a in analyses if a.summary is not None}
    project_settings = ProjectSettings(
        lock_names=frozenset(name for s in all_settings.values() for name in s.lock_names),
        thread_safe=tuple(dict.fromkeys(name for s in all_settings.values() for name in s.thread_safe)),
        reproducible=any(s.reproducible for s in all_settings.values()),
        preview=any(s.preview for s in all_settings.values()),
    )
    try:
        project = ProjectFacts(summaries, project_settings)
    except Exception as error:
        for summary in summaries:
            errors[summary.path].append(internal_error(summary.path, error, " (linking the project)"))
        return [], errors
    reports: list[Report] = []
    instances: dict[str, list[Rule]] = {}
    for summary in summaries:
        settings = all_settings[summary.path]
        fingerprint = settings.fingerprint()
        if fingerprint not in instances:
            enabled = settings.enabled_codes(settings.known_codes)
            instances[fingerprint] = [rule(settings) for rule in rules if rule.code in enabled]
        for rule in instances[fingerprint]:
            try:
                for report in rule.check(project, summary):
                    if _target_matches(report.when, settings):
                        reports.append(report)
            except Exception as error:
                errors[summary.path].append(internal_error(summary.path, error, f" ({rule.code})"))
    return reports, errors


def _target_matches(when: str, settings: Settings) -> bool:
    """A finding that matters only under the GIL, or only without it, is dropped for the other target."""
    target = UNDER_GIL if settings.target == "gil" else FREE_THREADED
    return when == BOTH or when == target


# -- 3. positions, quotes, suppressions ------------------------------------------------------------


def place(
    reports: Sequence[Report],
    read: Callable[[str], bytes | None],
    known: Callable[[str], dict[int, Located]] | None = None,
    learnt: Callable[[str, dict[int, Located]], None] | None = None,
) -> tuple[list[Finding], dict[str, list[Finding]]]:
    """Turn reports into findings: positions and quoted code from each file's tree, parsed again
    only for the files some report points into, and only for anchors `known` (a cache) lacks;
    what is learnt is handed to `learnt`."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for report in reports:
        wanted[report.path].add(report.anchor)
        for part in report.message:
            if isinstance(part, Quote):
                wanted[part.path].add(part.anchor)
        if report.trace is not None:
            wanted[report.trace.path].add(report.trace.anchor)
            for link in report.trace.links:
                wanted[link.path].add(link.anchor)
    located: dict[str, dict[int, tuple]] = {}
    errors: dict[str, list[Finding]] = defaultdict(list)
    for path, anchors in wanted.items():
        cached = known(path) if known is not None else {}
        if anchors <= cached.keys():
            located[path] = cached
            continue
        try:
            data = read(path)
            if data is None:
                raise OSError("the file could not be read again")
            tree = parse(decode(data), path)
            located[path] = {**cached, **locate(tree, anchors - cached.keys())}
            if learnt is not None:
                learnt(path, located[path])
        except Exception as error:  # changed or vanished since the first pass
            errors[path].append(internal_error(path, error, " (placing its findings)"))
            located[path] = {}
    findings = []
    for report in reports:
        spots = located.get(report.path, {})
        here = spots.get(report.anchor)
        if here is None:
            continue
        message = "".join(_render(part, report.path, located) for part in report.message)
        entry, chain = _entry(report, located)
        (line, column), (end_line, end_column) = here.start, here.end
        findings.append(Finding(report.path, line, column + 1, report.code, message, end_line, end_column + 1, entry=entry, chain=chain))
    return findings, errors


def _render(part: str | Quote, path: str, located: Mapping[str, Mapping[int, tuple]]) -> str:
    if isinstance(part, str):
        return part
    spot = located.get(part.path, {}).get(part.anchor)
    if spot is None:
        return "?"
    line = spot.start[0]
    if part.form == "line":
        return str(line)
    if part.form == "where":
        return f"line {line}" if part.path == path else f"{part.path}:{line}"
    if part.form == "test":
        return clip(spot.test, part.width)
    return clip(spot.code, part.width)


def _entry(report: Report, located: Mapping[str, Mapping[int, tuple]]) -> tuple[ThreadEntry | None, tuple[ChainLink, ...]]:
    trace = report.trace
    if trace is None:
        return None, ()
    spot = located.get(trace.path, {}).get(trace.anchor)
    line = spot.start[0] if spot else 0
    entry = ThreadEntry(trace.description, line, trace.path if trace.path != report.path else "")
    crosses = trace.path != report.path or any(link.path != report.path for link in trace.links)
    if not crosses:
        return entry, ()
    chain = [ChainLink(trace.path, line, trace.description)]
    for link in trace.links:  # each: the function that calls on, at the line of its call
        link_spot = located.get(link.path, {}).get(link.anchor)
        chain.append(ChainLink(link.path, link_spot.start[0] if link_spot else 0, f"{link.function.label.rsplit('.', 1)[-1]}()"))
    return entry, tuple(chain)


def clip(text: str, width: int = 40) -> str:
    """One line of at most `width` characters, for messages."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _suppressed(finding: Finding, suppressions: Suppressions | None) -> bool:
    return suppressions is not None and suppressions.covering(finding.code, range(finding.line, max(finding.end_line, finding.line) + 1)) is not None


def _ignored_for_file(finding: Finding, settings: Settings) -> bool:
    from gilsafe.lint.config import ignored_codes

    return finding.code != ALWAYS_ON and any(finding.code.startswith(code) for code in ignored_codes(finding.path, settings))


def unsuppressed(findings: Iterable[Finding], suppressions: Suppressions | None, enabled: frozenset[str], path: str) -> list[Finding]:
    """The findings no suppression comment covers, plus GS001 for each comment that names an enabled
    gilsafe code and covered nothing (a blanket `# noqa` is left alone: other tools read it too)."""
    findings = list(findings)
    if suppressions is None:
        return findings
    kept, used = [], set()
    for finding in findings:
        hit = suppressions.covering(finding.code, range(finding.line, max(finding.end_line, finding.line) + 1))
        if hit is None:
            kept.append(finding)
        else:
            used.add(hit)
    if UNUSED_SUPPRESSION in enabled:
        for line, code in sorted(suppressions.entries()):
            if (line, code) in used or code == "*" or code not in enabled or code == UNUSED_SUPPRESSION:
                continue
            column = suppressions.columns.get(line, 1)
            message = f"the suppression of {code} is unused: {code} reports nothing {'in this file' if code in suppressions.whole_file else 'on this line'}"
            kept.append(Finding(path, line, column, UNUSED_SUPPRESSION, message, line, column))
    return kept

"""The command line: parses arguments, calls the API, prints. Exit 0 clean, 1 findings, 2 errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gilsafe.arguments import build_parser
from gilsafe.errors import GilsafeError, UsageError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    _tolerate_any_file_name()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_ERROR
        return args.run(args) if hasattr(args, "run") else COMMANDS[args.command](args)
    except GilsafeError as error:
        print(f"gilsafe: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("gilsafe: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_CLEAN


def _tolerate_any_file_name() -> None:
    """A file name that is not valid in the locale's encoding arrives with surrogates in it; print
    it as the bytes it is (as `ls` does) instead of failing on it."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "") == "strict":
            try:
                reconfigure(errors="surrogateescape")
            except (ValueError, OSError):
                pass


def run_lint(args: argparse.Namespace) -> int:
    from gilsafe.lint import api
    from gilsafe.lint.formatters import format_findings, format_statistics

    if args.add_noqa and (args.fix or args.diff):
        raise UsageError("--add-noqa cannot be combined with --fix or --diff")
    overrides = {"select": args.select, "ignore": args.ignore, "extend_select": args.extend_select, "exclude": args.exclude, "target": args.target, "preview": args.preview}
    report = api.lint_paths(
        args.paths,
        config=args.config,
        overrides=overrides,
        fix=args.fix or args.diff,
        jobs=args.jobs,
        cache_folder=None if args.no_cache else args.cache_dir,
    )
    for error in report.errors:
        print(error, file=sys.stderr)
    findings = report.findings
    if args.add_noqa:
        added = api.add_noqa(findings)
        print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
        return EXIT_ERROR if report.errors else EXIT_CLEAN
    if args.diff:
        for result in report.fixed:
            sys.stdout.write(api.unified_diff(result))
    elif args.fix:
        outcome = api.write_fixes(report.fixed)
        for problem in outcome.problems:
            print(problem, file=sys.stderr)
        report.errors.extend(outcome.problems)
        findings = sorted(findings + outcome.unfixed)
        if outcome.written:
            print(f"Fixed {outcome.written} file{'s' if outcome.written != 1 else ''}.", file=sys.stderr)
    if args.statistics:
        sys.stdout.write(format_statistics(findings))
    elif not args.diff:
        sys.stdout.write(format_findings(findings, args.format))
    missing = any(e.problem == "no such file or directory" for e in report.errors)
    if missing:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    if args.diff and report.fixed:
        return EXIT_FINDINGS
    return EXIT_FINDINGS if findings or report.errors else EXIT_CLEAN


def run_rules(args: argparse.Namespace) -> int:
    from gilsafe.rules import ALL_RULES

    for code, rule in ALL_RULES.items():
        print(f"{code}  {rule.name:<34} {rule.summary}")
    return EXIT_CLEAN


def run_rule(args: argparse.Namespace) -> int:
    from gilsafe.rules import ALL_RULES

    rule = ALL_RULES.get(args.code.upper())
    if rule is None:
        raise UsageError(f"unknown rule {args.code!r} (see `gilsafe rules`)")
    sys.stdout.write(rule.documentation())
    return EXIT_CLEAN


def run_report(args: argparse.Namespace) -> int:
    from gilsafe.report import build_report

    index = build_report(args.lint, args.stress, args.output, args.runtime)
    print(f"Report: {index}")
    return EXIT_CLEAN


def run_probe(args: argparse.Namespace) -> int:
    import json

    from gilsafe import probe
    from gilsafe.atomic import check_writable, write_atomically

    if args.json is not None:
        check_writable(args.json, "--json")  # before probing: the work is never lost to a bad path
    try:
        rows = probe.probe_sizes(args.callable, args.sizes, dtype=args.dtype, arguments=args.arguments, scalar=args.scalar, seconds=args.seconds, device=args.device)
    except (ImportError, AttributeError) as error:
        raise UsageError(f"{args.callable}: cannot import: {error}") from None
    except (TypeError, ValueError) as error:
        raise UsageError(f"{args.callable}: calling it failed: {error} (try --arguments N or --scalar)") from None
    print(probe.format_rows(args.callable, rows, dtype=args.dtype, scalar=args.scalar, device=args.device))
    if args.json is not None:
        document = {
            "callable": args.callable,
            "dtype": None if args.scalar else args.dtype,
            "device": args.device,
            "library_version": probe.library_version(args.callable),
            "python": sys.version.split()[0],
            "gil_enabled": probe.gil_is_enabled(),
            "rows": [row.as_dict() for row in rows],
        }
        try:
            write_atomically(args.json, (json.dumps(document, indent=2) + "\n").encode())
        except OSError as error:
            raise GilsafeError(f"--json {args.json}: cannot write: {error.strerror or error} (the rows are printed above)") from None
    return EXIT_CLEAN


COMMANDS = {"lint": run_lint, "rules": run_rules, "rule": run_rule, "report": run_report, "probe": run_probe}

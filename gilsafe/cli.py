"""The command line: parses arguments, calls the API, prints. Exit 0 clean, 1 findings, 2 errors."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from gilsafe import __version__
from gilsafe.errors import GilsafeError, UsageError

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(",") if part.strip()]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other usage error
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of 1 or more")
    return number


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return seconds


def _sizes(text: str) -> tuple[float, ...]:
    try:
        sizes = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not sizes or any(size < 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"{text!r}: sizes must be zero or more")
    return tuple(int(size) if size.is_integer() else size for size in sizes)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gilsafe", description="Is threaded Python code safe, and do threads make it faster?")
    parser.add_argument("--version", action="version", version=f"gilsafe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    lint = commands.add_parser("lint", help="report thread-safety risks in Python files")
    lint.add_argument("paths", nargs="*", default=["."], metavar="PATH")
    lint.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    lint.add_argument("--select", type=_codes, default=None, help="rule codes or prefixes to enable (replaces config)")
    lint.add_argument("--extend-select", type=_codes, default=None, help="rule codes or prefixes to enable as well")
    lint.add_argument("--ignore", type=_codes, default=None, help="rule codes or prefixes to disable")
    lint.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files and folders")
    lint.add_argument("--config", type=Path, default=None, help="pyproject.toml to use instead of the nearest one")
    lint.add_argument(
        "--target",
        choices=("gil", "free-threaded"),
        default=None,
        help="the interpreter the code will run on (default: this one's kind); some patterns race only without the GIL",
    )
    lint.add_argument(
        "--preview",
        action="store_true",
        help="also report on lower-confidence evidence (a thread against the main thread, finalizers, plain attribute stores)",
    )
    lint.add_argument("--statistics", action="store_true", help="print counts per rule instead of findings")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    lint.add_argument("--fix", action="store_true", help="apply fixes to files (atomically)")
    lint.add_argument("--diff", action="store_true", help="print the fixes as a diff; write nothing")
    lint.add_argument("--add-noqa", action="store_true", help="suppress every current finding with # noqa")
    lint.add_argument("--no-cache", action="store_true", help="neither read nor write .gilsafe_cache/")
    lint.add_argument("--cache-dir", type=Path, default=Path(".gilsafe_cache"))
    lint.add_argument("--jobs", "-j", type=_positive_int, default=None, help="worker processes (default, and at most: the cores this process may use)")

    commands.add_parser("rules", help="list the rules")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code")

    report = commands.add_parser("report", help="build a standalone HTML report of findings and stress results")
    report.add_argument("--lint", action="append", default=[], metavar="PATH", help="lint PATH into the report")
    report.add_argument("--stress", type=Path, default=None, metavar="RESULTS", help="a `gilsafe stress --json` file")
    report.add_argument("-o", "--output", type=Path, default=Path("gilsafe-report"), help="output folder (default gilsafe-report)")

    probe = commands.add_parser("probe", help="measure whether a callable releases the GIL (ticker thread)")
    probe.add_argument("callable", help="dotted name: numpy.add, numpy.ndarray.sum, time.sleep, pkg.mod:func")
    probe.add_argument("--sizes", type=_sizes, default=(10, 1000, 1_000_000), help="comma-separated sizes (default 10,1000,1000000)")
    probe.add_argument("--dtype", default="float64", help="element type of the array arguments (default float64)")
    probe.add_argument("--arguments", type=_positive_int, default=None, metavar="N", help="how many array arguments (default: a ufunc's nin, else 1)")
    probe.add_argument("--device", default="cpu", help="where torch makes its tensors: cpu or cuda (CuPy is always on the GPU)")
    probe.add_argument("--scalar", action="store_true", help="pass the size itself as the only argument (e.g. time.sleep)")
    probe.add_argument("--seconds", type=_positive_seconds, default=0.2, help="time spent probing each size (default 0.2)")
    probe.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the rows as JSON (atomically)")

    from gilsafe.stress.cli import add_stress_parser

    add_stress_parser(commands)
    return parser


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
    try:
        from gilsafe.report import build_report
    except ImportError:
        raise UsageError("gilsafe report needs Sphinx: pip install 'gilsafe[docs]'") from None
    index = build_report(args.lint, args.stress, args.output)
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

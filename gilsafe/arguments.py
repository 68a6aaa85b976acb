"""The command line's arguments: every subcommand's options, in one parser. The CLI (gilsafe.cli)
parses with it; the docs render its help (`.. gilsafe-cli::`), which is why it is a module of its own
that imports no command's code."""

from __future__ import annotations

import argparse
from pathlib import Path

from gilsafe import __version__
from gilsafe.errors import UsageError
from gilsafe.option_types import positive_int, positive_seconds


def _codes(value: str) -> list[str]:
    return [part.strip().upper() for part in value.split(",") if part.strip()]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as for every other usage error
        raise UsageError(message)


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
    lint.add_argument("--jobs", "-j", type=positive_int, default=None, help="worker processes (default, and at most: the cores this process may use)")

    commands.add_parser("rules", help="list the rules")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code")

    report = commands.add_parser("report", help="build a standalone HTML report of findings and stress results")
    report.add_argument("--lint", action="append", default=[], metavar="PATH", help="lint PATH into the report")
    report.add_argument("--stress", type=Path, default=None, metavar="RESULTS", help="a `gilsafe stress --json` file")
    report.add_argument("--runtime", type=Path, default=None, metavar="FILE", help="a `pytest --gilsafe-lint --gilsafe-json FILE` file: show each finding's runtime status")
    report.add_argument("-o", "--output", type=Path, default=Path("gilsafe-report"), help="output folder (default gilsafe-report)")

    probe = commands.add_parser("probe", help="measure whether a callable releases the GIL (ticker thread)")
    probe.add_argument("callable", help="dotted name: numpy.add, numpy.ndarray.sum, time.sleep, pkg.mod:func")
    probe.add_argument("--sizes", type=_sizes, default=(10, 1000, 1_000_000), help="comma-separated sizes (default 10,1000,1000000)")
    probe.add_argument("--dtype", default="float64", help="element type of the array arguments (default float64)")
    probe.add_argument("--arguments", type=positive_int, default=None, metavar="N", help="how many array arguments (default: a ufunc's nin, else 1)")
    probe.add_argument("--device", default="cpu", help="where torch makes its tensors: cpu or cuda (CuPy is always on the GPU)")
    probe.add_argument("--scalar", action="store_true", help="pass the size itself as the only argument (e.g. time.sleep)")
    probe.add_argument("--seconds", type=positive_seconds, default=0.2, help="time spent probing each size (default 0.2)")
    probe.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the rows as JSON (atomically)")

    from gilsafe.stress.cli import add_stress_parser

    add_stress_parser(commands)
    return parser

"""`bench report RESULTS.json [--out DIR]`: rebuild report.md, report.html and the charts from a results file."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.commands.paths import check_writable
from bench.errors import SetupError
from bench.results.schema import load_results

HELP = "rebuild report.md, report.html and charts from a results.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULTS.json", help="a results file written by `bench run`")
    parser.add_argument("--out", metavar="DIR", help="where to write the report (default: beside RESULTS.json)")
    parser.add_argument("--quiet", action="store_true", help="do not print the claims table")


def run(args: argparse.Namespace) -> int:
    results = load_results(args.results)
    out = Path(args.out) if args.out else Path(args.results).resolve().parent
    check_writable("--out", out, directory=True)  # before the charts take their seconds
    from bench.report import console_summary, render_report  # matplotlib loads only when a report is made

    try:
        paths = render_report(results, out)
    except OSError as exc:
        raise SetupError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    if not args.quiet:
        print(console_summary(results, report_path=paths["html"]))
    else:
        print(paths["html"])
    return 0

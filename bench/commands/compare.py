"""`bench compare A.json B.json [--out DIR]`: two runs metric by metric, with the change and its significance."""

from __future__ import annotations

import argparse

from bench.errors import SetupError
from bench.results.schema import load_results

HELP = "compare two results.json files metric by metric, with significance"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A.json", help="the reference run")
    parser.add_argument("b", metavar="B.json", help="the run compared against it")
    parser.add_argument("--out", metavar="DIR", help="also write compare.md and compare.html to DIR")


def run(args: argparse.Namespace) -> int:
    from bench.report import compare_console, compare_results, render_compare
    from bench.report.compare_render import names_of

    a, b = load_results(args.a), load_results(args.b)
    cmp = compare_results(a, b)
    names = names_of(a, b)
    if names[0] == names[1]:
        names = (f"A ({names[0]})", f"B ({names[1]})")
    print(compare_console(cmp, names))
    if args.out:
        try:
            paths = render_compare(cmp, args.out, names)
        except OSError as exc:
            raise SetupError(f"cannot write the comparison to {args.out}: {exc.strerror or exc}") from None
        print(f"\nComparison: {paths['html']}")
    return 0

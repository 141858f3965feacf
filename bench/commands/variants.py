"""`bench variants`: the app's presets and the axes each one sets."""

from __future__ import annotations

import argparse

from app_under_test.variants import AXES, PRESET_DOCS, PRESETS

HELP = "list the app's variant presets and their axes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--names", action="store_true", help="print preset names only, one per line")


def run(args: argparse.Namespace) -> int:
    if args.names:
        print("\n".join(PRESETS))
        return 0
    cols = ["preset", *AXES, "what it is"]
    rows = [[name, *(getattr(v, axis) for axis in AXES), PRESET_DOCS.get(name, "")] for name, v in PRESETS.items()]
    widths = [max(len(str(r[i])) for r in [cols, *rows]) for i in range(len(cols))]
    for row in [cols, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print("\nAny other combination: PRESET:axis=value,... or axis=value,... ; axes and values:")
    for axis, values in AXES.items():
        print(f"  {axis}: {' | '.join(values)}")
    return 0

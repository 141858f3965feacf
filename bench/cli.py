"""The `bench` command: a registry of subcommands, each in its own module under `bench.commands`.

Every subcommand module exposes `HELP: str`, `add_arguments(parser)` and `run(args) -> int`.
Errors are mapped to exit codes here and only here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from bench.errors import BenchError

# name -> module; imported lazily so `bench mock` does not pay for pandas and matplotlib.
COMMANDS: dict[str, str] = {
    "variants": "bench.commands.variants",
    "serve": "bench.commands.serve",
    "mock": "bench.commands.mock",
    "mock-bench": "bench.commands.mock_bench",
    "run": "bench.commands.run",
    "report": "bench.commands.report",
    "compare": "bench.commands.compare",
    "gate": "bench.commands.gate",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _available() -> dict[str, ModuleType]:
    mods: dict[str, ModuleType] = {}
    for name, path in COMMANDS.items():
        try:
            mods[name] = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:  # a real missing dependency, not a command not written yet
                raise
    return mods


def build_parser(mods: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = _Parser(prog="bench", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, mod in mods.items():
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    mods = _available()
    parser = build_parser(mods)
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except BenchError as exc:
        sys.stderr.write(f"bench {args.command}: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write(f"bench {args.command}: interrupted\n")
        return 130

"""The `bench` command: a registry of subcommands, each in its own module under `bench.commands`.

Every subcommand module exposes `HELP: str`, `add_arguments(parser)` and `run(args) -> int`.
Errors are mapped to exit codes here and only here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from bench.errors import BenchError, OneLineParser, Terminated, interrupt_code, raise_on_sigterm, stacks_on_sigusr1
from bench.servers import stop_deadline
from bench.servers.exiting import exit_now

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
    "worker": "bench.commands.worker",
}


def _load(names: list[str]) -> dict[str, ModuleType]:
    return {name: importlib.import_module(COMMANDS[name]) for name in names}


def build_parser(mods: dict[str, ModuleType]) -> argparse.ArgumentParser:
    """Every command name is a choice; only the commands in `mods` get their arguments (imports cost ~1 s)."""
    parser = OneLineParser(prog="bench", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in COMMANDS:
        mod = mods.get(name)
        p = sub.add_parser(name, help=mod.HELP if mod else None, description=mod.HELP if mod else None)
        if mod is not None:
            mod.add_arguments(p)
            p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    as_program = argv is None  # the `bench` command itself, not a caller (tests) handing it arguments
    argv = sys.argv[1:] if argv is None else argv
    # Import only the command asked for; `bench --help` and unknown names import them all for the listing.
    chosen = [argv[0]] if argv and argv[0] in COMMANDS else list(COMMANDS)
    parser = build_parser(_load(chosen))
    args = parser.parse_args(argv)
    raise_on_sigterm()
    if as_program:  # process-wide: a caller's own signals and threads are left alone
        stacks_on_sigusr1()
        stop_deadline.arm()  # a stop that does not end by itself is ended (bench/servers/stop_deadline.py)
    try:
        code = int(args._run(args) or 0)
    except BenchError as exc:
        sys.stderr.write(f"bench {args.command}: {exc}\n")
        code = exc.exit_code
    except KeyboardInterrupt as exc:
        sys.stderr.write(f"bench {args.command}: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}\n")
        code = interrupt_code(exc)
    if as_program and args.command in QUICK_EXIT:
        exit_now(code)  # results and reports are written and closed by now; the children are stopped
    return code


# Commands whose process has imported the report's libraries and run a whole plan: the interpreter's teardown of
# them (every module and object freed one by one) took ~0.45 s after the last line was written.
QUICK_EXIT = ("run", "gate")



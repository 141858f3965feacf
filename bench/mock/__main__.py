"""`python -m bench.mock [flags]` is `bench mock [flags]` without loading the other subcommands, so the
child that `running_mock` starts is up in a fraction of a second whatever else the CLI grows."""

from __future__ import annotations

import sys

from bench.cli import build_parser
from bench.commands import mock
from bench.errors import BenchError


def main(argv: list[str] | None = None) -> int:
    args = build_parser({"mock": mock}).parse_args(["mock", *(sys.argv[1:] if argv is None else argv)])
    try:
        return mock.run(args)
    except BenchError as exc:
        sys.stderr.write(f"bench mock: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

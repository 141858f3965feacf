"""`python -m bench.mock [flags]` is `bench mock [flags]` (see `bench.mock.command`)."""

from __future__ import annotations

from bench.mock.command import main

if __name__ == "__main__":
    raise SystemExit(main())

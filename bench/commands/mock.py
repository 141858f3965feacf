"""`bench mock`: the mock OpenAI backend in this process; its arguments and code live in `bench.mock.command`."""

from __future__ import annotations

from bench.mock.command import HELP, add_arguments, run

__all__ = ["HELP", "add_arguments", "run"]

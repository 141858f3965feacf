"""The README's two commands are the ones people copy: CI must run the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick)


def test_readme_has_exactly_two_commands() -> None:
    cmds = _commands()
    assert len(cmds) == 2, cmds
    assert "bench run" in cmds[0] and "pytest" in cmds[1]
    assert all(c.startswith("python3 -m venv .venv && ") for c in cmds)


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = _commands()[1]
    assert test_cmd in ci, f"{test_cmd!r} not in .ci/run"

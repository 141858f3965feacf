"""Every flag of every command, given a wrong value: one line naming the valid choices or range, exit 2, no
traceback, and nothing started.

The cases come from the parsers themselves (each action's type, choices and path metavar), so a flag added
later is covered the day it lands. Bad values: a choice flag gets "nope"; an int flag "x" and "-1"; a float
flag "x", "-1" and "nan"; an input path a missing file; an output path one under a regular file. Registry names
checked inside run() (variants, scenarios, backends, tiers, metrics) are the one hand-made list. Nothing may
start: the entry points of servers, Locust and the benchmark are replaced by stand-ins that fail the test.
"""

from __future__ import annotations

import argparse
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.cli import COMMANDS, _load, build_parser, main

RESULTS = str(Path(__file__).resolve().parents[3] / "reports" / "example" / "results.json")
MISSING = "/nonexistent/bench-flag-test/input.json"
NEGATIVE_OK = {"--seed"}  # a seed may be any integer
OUTPUT_DESTS = {"out", "markdown", "junit"}  # written by the command; every other path flag is read
# Names looked up in a registry inside run(): "nope" must be refused with the valid ones listed.
NAMED = {("run", "--variants"), ("run", "--scenarios"), ("run", "--backend"), ("run", "--tier"),
         ("serve", "--variant"), ("serve", "--backend"), ("gate", "--backend"), ("gate", "--metrics"),
         ("gate", "--tier"), ("mock", "--tier")}
RANGE = re.compile(r"must be|at least|between|within|>=|>")


@dataclass(frozen=True)
class Case:
    command: str
    where: str  # the flag, or the positional's dest
    argv: tuple[str, ...]  # with "{bad}" / "{unwritable}" where the bad value goes
    fragments: tuple[str, ...]  # each must appear in the one line

    @property
    def id(self) -> str:
        value = next(a for a in self.argv if "{" in a or a in ("nope", "x", "-1", "nan", MISSING))
        return f"{self.command} {self.where} {value.replace('{unwritable}', 'UNWRITABLE')}"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(_load(list(COMMANDS)))
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _is_path(action: argparse.Action) -> bool:
    metavar = str(action.metavar or "")
    return metavar in ("FILE", "DIR") or metavar.endswith(".json") or action.dest in OUTPUT_DESTS | {
        "baseline", "results"}


def _bad_values(command: str, flag: str, action: argparse.Action) -> list[tuple[str, tuple[str, ...]]]:
    """(bad value, fragments its error line must hold) for one action."""
    if action.choices:
        return [("nope", ("'nope'", *map(str, action.choices)))]
    if action.type in (int, float):
        kind = action.type.__name__
        values: list[tuple[str, tuple[str, ...]]] = [("x", (f"invalid {kind} value: 'x'",))]
        if flag not in NEGATIVE_OK:
            values.append(("-1", (flag,)))
        if action.type is float:
            values.append(("nan", (flag,)))
        return values
    if _is_path(action):
        if action.dest in OUTPUT_DESTS:
            return [("{unwritable}", ("{unwritable}",))]
        return [(MISSING, (MISSING,))]
    if (command, flag) in NAMED:
        return [("nope", ("'nope'", "valid"))]
    return []


def _cases() -> list[Case]:
    cases = []
    for command, parser in _subparsers().items():
        positionals = [a for a in parser._actions if not a.option_strings]
        app_group = next((g._group_actions for g in parser._action_groups
                          if any("--app" in a.option_strings for a in g._group_actions)), [])
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS or action.nargs == 0:
                continue
            flag = action.option_strings[0] if action.option_strings else ""
            context: list[str] = []
            if action in app_group and flag != "--app":
                context = ["--app", "no_such_module:app"]  # these flags apply to --app only
            elif flag == "--model-path":
                context = ["--backend", "local-llm"]
            for value, fragments in _bad_values(command, flag, action):
                args = [value if p is action else RESULTS for p in positionals]
                argv = (command, *args, *context, *((flag, value) if flag else ()))
                cases.append(Case(command, flag or action.dest, argv, fragments))
    return cases


CASES = _cases()


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before any server, Locust or benchmark starts; if one does not, the test fails."""
    import bench.mock.benchmark
    import bench.mock.process
    import bench.run.orchestrator
    import bench.run.target
    import bench.servers.localllm
    import bench.servers.uvicorn_runner

    def started(*_: Any, **__: Any) -> Any:
        raise AssertionError("something started: the refusal came too late")

    for module, name in ((bench.run.orchestrator, "run_plan"), (bench.servers.uvicorn_runner, "run_uvicorn"),
                         (bench.mock.process, "running_mock"), (bench.mock.benchmark, "run_benchmark"),
                         (bench.run.target, "discover"), (subprocess, "Popen")):
        monkeypatch.setattr(module, name, started)
    # --model-path is checked once the local model server is known to be installed; pretend it is.
    monkeypatch.setattr(bench.servers.localllm, "require_server", lambda: None)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_value_is_one_line_naming_what_is_valid(case: Case, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = str(blocker / "sub")  # under a regular file: can never be created
    argv = [a.replace("{unwritable}", unwritable) for a in case.argv]
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(main(argv))
    err = capsys.readouterr().err.strip()
    assert exc_info.value.code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for fragment in case.fragments:
        assert fragment.replace("{unwritable}", unwritable) in err, err
    if argv[-1] in ("-1", "nan"):
        assert RANGE.search(err.split(case.where, 1)[-1]), f"no range named: {err}"


def test_the_table_covers_every_command_and_kind() -> None:
    """The generation finds what it should: a broken walk would pass vacuously."""
    commands = {c.command for c in CASES}
    assert commands >= {"serve", "mock", "mock-bench", "run", "report", "compare", "gate"}, commands
    values = {a for c in CASES for a in c.argv}
    assert {"nope", "x", "-1", "nan", MISSING, "{unwritable}"} <= values
    assert len(CASES) >= 100, len(CASES)

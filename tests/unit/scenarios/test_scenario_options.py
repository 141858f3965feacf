"""The scenarios' command-line options: registration, typed reading, and argv building."""

from __future__ import annotations

import argparse
from dataclasses import fields
from types import SimpleNamespace

import pytest

from scenarios.options import OPTIONS, Settings, add_arguments, settings_from, to_argv


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser, locust_parser=False)
    return parser


def test_settings_and_options_match() -> None:
    assert [f.name for f in fields(Settings)] == [o.dest for o in OPTIONS]


def test_defaults() -> None:
    s = settings_from(_parser().parse_args([]))
    assert s.scenario == "burst" and s.client_timeout == 120.0 and s.steps == (1, 10, 50, 100, 200, 500)
    assert s.release_at == 0.0 and s.records_dir == ""


def test_round_trip_through_argv() -> None:
    argv = to_argv({"scenario": "steady", "rate": 25, "duration": 3.5, "steps": (1, 5), "variant": "sync",
                    "repetition": 2, "release_at": 1234.5})
    s = settings_from(_parser().parse_args(argv))
    assert (s.scenario, s.rate, s.duration, s.steps, s.variant, s.repetition, s.release_at) == (
        "steady", 25.0, 3.5, (1, 5), "sync", 2, 1234.5)


def test_strings_from_the_web_ui_are_typed() -> None:
    ns = SimpleNamespace(scenario="concurrency-steps", client_timeout="30", steps="2,4", repetition="1")
    s = settings_from(ns)
    assert s.client_timeout == 30.0 and s.steps == (2, 4) and s.repetition == 1


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"valid: .*rate"):
        to_argv({"speed": 3})
    with pytest.raises(ValueError, match="valid: burst"):
        settings_from(SimpleNamespace(scenario="nope"))
    with pytest.raises(SystemExit):
        _parser().parse_args(["--scenario", "nope"])


def test_records_are_the_default_format_and_a_wrong_one_lists_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert settings_from(_parser().parse_args([])).records_format == "records"
    assert settings_from(_parser().parse_args(["--records-format", "events"])).records_format == "events"
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(["--records-format", "lines"])
    assert exc.value.code == 2 and "'records', 'events'" in capsys.readouterr().err

"""MockConfig: validation, tiers, and the round trip through `bench mock` flags."""

from __future__ import annotations

import argparse

import pytest

from bench.errors import UsageError
from bench.mock.config import KEY_ENV, MockConfig, add_config_arguments, config_from_args, config_from_json


def _parse(argv: list[str], environ: dict[str, str] | None = None) -> MockConfig:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return config_from_args(parser.parse_args(argv), environ or {})


def test_flags_round_trip() -> None:
    cfg = MockConfig(latency_ms=200, tier="tier-2", fault_cut_rate=0.1, seed=4, jitter="lognormal",
                     jitter_ms=5, model="x")
    assert _parse(cfg.to_argv()) == cfg
    assert config_from_json(cfg.to_json()) == cfg


def test_an_unknown_tier_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match=r"unknown tier 'gold'; valid: tier-1, tier-2, seed-10rps"):
        MockConfig(tier="gold")


@pytest.mark.parametrize("kwargs", [
    {"fault_drop_rate": 1.5}, {"fault_drop_rate": 0.6, "fault_cut_rate": 0.6}, {"rps": 0},
    {"latency_ms": -1}, {"output_tokens": 0}, {"fault_5xx_status": 404},
])
def test_bad_values_are_usage_errors(kwargs: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        MockConfig(**kwargs)  # type: ignore[arg-type]


def test_the_key_stays_off_command_lines_and_reprs() -> None:
    cfg = MockConfig(require_key="sk-secret-123")
    assert "sk-secret-123" not in repr(cfg)
    assert "sk-secret-123" not in " ".join(cfg.to_argv())
    assert cfg.public_dict()["require_key"] is True
    assert _parse([], {KEY_ENV: "sk-secret-123"}).require_key == "sk-secret-123"

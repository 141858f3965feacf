"""Variant names, profile plans and the static line counts (claim C8) computed from the providers' source."""

from __future__ import annotations

import pytest

from app_under_test.variants import PRESETS, Variant, VariantError, parse_variant
from bench.run.config import RunConfig, plan
from bench.run.profiles import PROFILES
from bench.run.static import provider_lines


def test_presets_and_overrides() -> None:
    assert parse_variant("sync").call == "blocking"
    v = parse_variant("per-request:clients=per-agent")
    assert (v.provider, v.clients, v.name) == ("per-request", "per-agent", "per-request:clients=per-agent")
    assert parse_variant("provider=locked,dependency=async,call=async,limiter=none,clients=shared").provider == "locked"
    assert set(PRESETS) >= {"sync", "naive-global", "lru_cache", "async", "per-request", "locked", "threadpool"}


@pytest.mark.parametrize("name", ["nope", "async:call=x", "async:frob=1", "asyncio-lock:dependency=threadpool"])
def test_bad_variants_raise_one_line(name: str) -> None:
    with pytest.raises(VariantError) as exc:
        parse_variant(name)
    assert "\n" not in str(exc.value)


def test_only_sync_and_async_preset_differ_from_lru_cache_in_call_and_limiter() -> None:
    # C4 compares `sync` with `lru_cache`: they must differ in the LLM call and nothing else.
    sync, lru = PRESETS["sync"].axes(), PRESETS["lru_cache"].axes()
    assert {k for k in sync if sync[k] != lru[k]} == {"call"}
    assert Variant().provider == "lru-cache"


def test_provider_line_counts_come_from_source() -> None:
    lines = provider_lines()
    assert lines["naive-global"] == 6  # the seed's own count for the naive version
    assert lines["lru-cache"] < lines["naive-global"] < lines["locked"]


def test_plan_applies_filters_and_overrides() -> None:
    profile = plan(RunConfig(profile="quick", scenarios=("burst",), variants=("sync",), latency_ms=50, users=20))
    assert [s.scenario for s in profile.steps] == ["burst"]
    assert profile.steps[0].variants == ("sync",) and profile.steps[0].latency_ms == 50 and profile.steps[0].users == 20
    assert all(p.repeat == 3 for p in PROFILES.values())


def test_a_requested_variant_the_profile_does_not_list_still_runs() -> None:
    # quick's burst steps list sync and async; a third requested variant runs once, in the scenario's first step,
    # instead of being dropped.
    profile = plan(RunConfig(profile="quick", scenarios=("burst",), variants=("sync", "async", "per-request")))
    ran = [v for s in profile.steps for v in s.variants]
    assert sorted(ran) == ["async", "per-request", "sync"] and "per-request" in profile.steps[0].variants

"""Each claim rule on synthetic results: reproduced, not reproduced (or only under conditions), not measured."""

from __future__ import annotations

from typing import Any

import pytest

from bench.report import RULES, Verdict, evaluate_claims
from tests.support.synthetic_results import drop_runs, edit_runs, synthetic_results


def verdict(results: dict[str, Any], claim: str) -> Verdict:
    return RULES[claim].evaluate(results, RULES[claim])


def set_app(results: dict[str, Any], scenario: str, variant: str, **values: Any) -> None:
    edit_runs(results, scenario, variant, lambda run: run["app"].update(values))


def test_every_claim_has_a_verdict_and_a_rule(results: dict[str, Any]) -> None:
    verdicts = evaluate_claims(results)
    assert [v.id for v in verdicts] == [f"C{i}" for i in range(1, 11)]
    assert all(v.rule and v.claim and v.measured and v.verdict for v in verdicts)


def test_nothing_measured_means_not_measured_never_dropped() -> None:
    empty = synthetic_results(scenarios=())
    empty["static"], empty["probes"] = {}, {}
    verdicts = evaluate_claims(empty)
    assert len(verdicts) == 10
    assert {v.status for v in verdicts} == {"not measured"}
    assert all(v.measured_by in v.details[0] for v in verdicts)


def test_c1_naive_races_only_under_the_threadpool(results: dict[str, Any]) -> None:
    v = verdict(results, "C1")
    assert v.status == "partial" and "plain `def`" in v.verdict
    set_app(results, "cold-burst", "naive-global:dependency=async", constructions=3)
    assert verdict(results, "C1").status == "reproduced"
    set_app(results, "cold-burst", "naive-global", constructions=1)
    assert verdict(results, "C1").status == "not reproduced"
    drop_runs(results, "cold-burst")
    assert verdict(results, "C1").status == "not measured"


def test_c2_lru_cache_is_one_instance_only_behind_an_async_dependency(results: dict[str, Any]) -> None:
    v = verdict(results, "C2")
    assert v.status == "partial" and "async def" in v.verdict
    set_app(results, "cold-burst", "async-dependency", constructions=2)
    assert verdict(results, "C2").status == "not reproduced"
    set_app(results, "cold-burst", "lru_cache", constructions=1)
    assert verdict(results, "C2").status == "reproduced"
    drop_runs(results, "cold-burst", "lru_cache")
    assert verdict(results, "C2").status == "not measured"


def test_c3_locks(results: dict[str, Any]) -> None:
    v = verdict(results, "C3")
    assert v.status == "reproduced" and "locked 70 ns" in v.measured
    set_app(results, "cold-burst", "locked", constructions=2)
    assert verdict(results, "C3").status == "partial"
    set_app(results, "cold-burst", "asyncio-lock", constructions=2)
    assert verdict(results, "C3").status == "not reproduced"
    drop_runs(results, "cold-burst")
    assert verdict(results, "C3").status == "not measured"


def test_c4_at_the_seed_set_up(results: dict[str, Any]) -> None:
    v = verdict(results, "C4")
    assert v.status == "reproduced"
    assert 38 < v.numbers["ratio"] < 45 and v.numbers["ideal"] == 50 and v.numbers["seed_setup"]
    assert "the seed's set-up" in v.setup and "N=50, 3000 ms upstream" in v.measured
    assert any("InMemoryRateLimiter" in d for d in v.details)
    assert any("per request beyond the upstream latency" in d for d in v.details)

    def slower(run: dict[str, Any]) -> None:
        run["metrics"]["makespan_s"] *= 4
    edit_runs(results, "burst", "async", slower)
    v = verdict(results, "C4")
    assert v.status == "not reproduced" and v.numbers["ratio"] < 12
    drop_runs(results, "burst", "sync")
    assert verdict(results, "C4").status == "not measured"


def test_c4_elsewhere_names_its_set_up_and_is_not_judged() -> None:
    quick = synthetic_results(latency_ms=100.0, profile="quick")
    v = verdict(quick, "C4")
    assert v.status == "not measured"
    assert "not measured at the seed's set-up" in v.verdict and f"{v.numbers['ratio']:.3g}x" in v.verdict
    assert "quick profile" in v.setup and "100 ms upstream" in v.measured
    assert any("approaches N as latency grows" in d for d in v.details)


def test_c5_memory_agent_versus_process(results: dict[str, Any]) -> None:
    v = verdict(results, "C5")
    assert v.status == "partial" and v.verdict.startswith("reproduced only for agent-attributed memory")
    assert abs(v.numbers["shared"]["agent"] - 0.9) < 1e-9 and v.numbers["shared"]["rss"] < 0.1
    assert any("Where the line falls" in d for d in v.details)

    def huge(run: dict[str, Any]) -> None:
        run["process"]["rss_peak_mb"] = 2000.0
    edit_runs(results, "concurrency", "per-request", huge)
    edit_runs(results, "concurrency", "per-request:clients=per-agent", huge)
    assert verdict(results, "C5").status == "reproduced"
    set_app(results, "concurrency", "lru_cache", live_peak=10)
    set_app(results, "concurrency", "lru_cache:clients=per-agent", live_peak=10)
    edit_runs(results, "concurrency", "per-request", lambda r: r["process"].update(rss_peak_mb=112.0))
    edit_runs(results, "concurrency", "per-request:clients=per-agent",
              lambda r: r["process"].update(rss_peak_mb=112.0))
    assert verdict(results, "C5").status == "not reproduced"
    drop_runs(results, "concurrency")
    assert verdict(results, "C5").status == "not measured"


def test_c6_limiter(results: dict[str, Any]) -> None:
    for variant in ("async-limited", "async"):  # the same mean latency with and without the limiter
        edit_runs(results, "steady", variant, lambda r: r["metrics"]["latency_ms"].update(mean=200.0))
    v = verdict(results, "C6")
    assert v.status == "reproduced" and v.numbers["reduction"] == 1.0
    edit_runs(results, "steady", "async-limited", lambda r: r["metrics"]["latency_ms"].update(mean=1200.0))
    v = verdict(results, "C6")
    assert v.status == "partial" and "not for response time" in v.verdict
    edit_runs(results, "steady", "async-limited", lambda r: r["metrics"].update(ok=r["metrics"]["requests"] - 80))
    v = verdict(results, "C6")
    assert v.status == "partial" and "users' errors" in v.verdict
    edit_runs(results, "steady", "async-limited", lambda r: r["upstream"].update(rate_limited=100))
    assert verdict(results, "C6").status == "not reproduced"
    edit_runs(results, "steady", "async", lambda r: r["upstream"].update(rate_limited=0))
    assert verdict(results, "C6").status == "not measured"
    drop_runs(results, "steady")
    assert verdict(results, "C6").status == "not measured"


def test_c7_workers(results: dict[str, Any]) -> None:
    v = verdict(results, "C7")
    assert v.status == "reproduced" and "not measured" in v.verdict
    # 25 req/s: more than one 10 req/s limiter lets through, far from 4 x 10 (the load split unevenly).
    edit_runs(results, "workers", "async-limited", lambda r: r["upstream"].update(received=150))
    set_app(results, "workers", "async-limited", requests_by_worker=[36, 3, 49, 12])
    v = verdict(results, "C7")
    assert v.status == "partial" and "2.5x one limiter's rate rather than 4x" in v.verdict
    assert any("36/3/49/12" in d for d in v.details)
    set_app(results, "workers", "async-limited", workers=[{"pid": 1, "constructions": 1}])
    assert verdict(results, "C7").status == "partial"
    edit_runs(results, "workers", "async-limited", lambda r: r["upstream"].update(received=50))
    assert verdict(results, "C7").status == "not reproduced"
    drop_runs(results, "workers")
    assert verdict(results, "C7").status == "not measured"


def test_c8_lines(results: dict[str, Any]) -> None:
    assert verdict(results, "C8").status == "reproduced"
    results["static"]["provider_lines"]["lru-cache"] = 5
    assert verdict(results, "C8").status == "not reproduced"
    results["static"] = {}
    assert verdict(results, "C8").status == "not measured"


def test_c9_debug_endpoint_agrees_with_the_counts(results: dict[str, Any]) -> None:
    assert verdict(results, "C9").status == "reproduced"

    def lie(run: dict[str, Any]) -> None:
        run["app"]["agent_cache"]["cache_info"] = "hits=49, misses=1, maxsize=1, currsize=1"
    edit_runs(results, "cold-burst", "lru_cache", lie)
    v = verdict(results, "C9")
    assert v.status == "partial" and any("constructions counted" in d for d in v.details)
    set_app(results, "cold-burst", "lru_cache", agent_cache=None)
    assert verdict(results, "C9").status == "not measured"


@pytest.mark.parametrize(("echo_ok", "tiers_ok", "status"), [
    (True, True, "reproduced"), (True, False, "partial"), (False, True, "partial"), (False, False, "not reproduced"),
])
def test_c10_settings_and_tiers(results: dict[str, Any], echo_ok: bool, tiers_ok: bool, status: str) -> None:
    results["probes"]["settings_echo"]["ok"] = echo_ok
    results["probes"]["tier_limits"]["tier-1"]["ok"] = tiers_ok
    assert verdict(results, "C10").status == status


def test_c10_not_measured_without_probes(results: dict[str, Any]) -> None:
    results["probes"] = {}
    assert verdict(results, "C10").status == "not measured"


def test_c4_against_a_serializing_backend_is_not_judged(results: dict[str, Any]) -> None:
    results["backend"] = {"kind": "local-llm", "model": "smollm2-135m", "server": "llama-cpp-python 0.3.36",
                          "serializes": True}
    v = verdict(results, "C4")
    assert v.status == "not measured" and "serves one request at a time" in v.verdict
    assert "not a refutation" in v.verdict and "against local-llm smollm2-135m" in v.measured
    assert not any("Overhead" in d or "InMemoryRateLimiter" in d for d in v.details)


def test_c4_against_a_concurrent_real_backend_is_judged_on_the_ratio(results: dict[str, Any]) -> None:
    results["backend"] = {"kind": "openai", "model": "gpt-4o-mini"}
    assert verdict(results, "C4").status == "reproduced"

    def serialized(run: dict[str, Any]) -> None:  # async no faster than sync: the backend took one at a time
        run["metrics"]["makespan_s"] = 150.0
    edit_runs(results, "burst", "async", serialized)
    v = verdict(results, "C4")
    assert v.status == "not measured" and "overlapped only about" in v.verdict


def test_mock_only_claims_say_why_against_a_real_backend(results: dict[str, Any]) -> None:
    results["backend"] = {"kind": "local-llm", "model": "smollm2-135m", "serializes": True}
    for run in results["runs"]:
        if run["scenario"] == "steady":
            run["upstream"] = None
    results["probes"] = {}
    for claim in ("C6", "C10"):
        v = verdict(results, claim)
        assert v.status == "not measured" and "needs the embedded mock" in v.measured + v.verdict, v

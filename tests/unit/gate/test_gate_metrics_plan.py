"""Reading the gated metrics out of a results dict, and the gate plan that produces them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from gatedata import gate_results

from bench.errors import UsageError
from bench.gate.baseline import load_baseline
from bench.gate.compare import compare
from bench.gate.junit import junit_xml
from bench.gate.metrics import (
    METRICS,
    REGISTRY,
    accounting_failures,
    error_rate,
    extract_all,
    makespan_per_latency,
    own_blocked_percent,
)
from bench.gate.plan import gate_profile


def test_ratios_pair_repetitions_of_one_run(results: dict) -> None:
    m = extract_all(results)
    assert m["burst.speedup"].values == pytest.approx([10.1 / 1.05, 10.12 / 1.06, 10.14 / 1.07], rel=1e-5)
    assert m["burst.async_makespan"].values == pytest.approx([1.05, 1.06, 1.07])
    assert m["memory.agent_ratio"].values == pytest.approx([300 * 19_000 / 20_000, 320 * 0.95, 340 * 0.95])
    assert m["limiter.error_rate"].values == [0.0, 0.0, 0.0]
    assert m["cold.locked_agents"].values == [1.0, 1.0, 1.0]
    assert m["burst.async_blocked_share"].values == pytest.approx([0.0, 100 * 21 / (1.06 * 1000), 0.0], rel=1e-5)
    assert m["burst.speedup"].setup["lru_cache"]["latency_ms"] == gate_profile("quick").steps[0].latency_ms


def test_a_missing_side_is_reported_not_guessed(results: dict) -> None:
    results["runs"] = [r for r in results["runs"] if r["variant"] != "sync"]
    m = extract_all(results)
    assert m["burst.speedup"].missing == "no runs of burst sync" and m["burst.speedup"].values == []
    assert not m["burst.async_makespan"].missing


def test_per_run_readers_tolerate_missing_fields() -> None:
    assert makespan_per_latency({"params": {"latency_ms": 500.0}, "metrics": {"makespan_s": 0.6}}) == pytest.approx(1.2)
    assert makespan_per_latency({"params": {"latency_ms": 0.0}, "metrics": {"makespan_s": 0.6}}) is None
    assert makespan_per_latency({"params": {}, "metrics": {"makespan_s": None}}) is None
    assert error_rate({"metrics": {"requests": 60, "ok": 45}}) == pytest.approx(0.25)
    assert error_rate({"metrics": {"requests": 0, "ok": 0}}) is None


def test_accounting_counts_failed_runs_per_repetition() -> None:
    res = gate_results()
    res["runs"][0]["accounting"]["ok"] = False
    assert accounting_failures(res).values == [1.0, 0.0, 0.0]


def test_the_plan_runs_what_every_metric_reads() -> None:
    planned = {(s.scenario, v) for s in gate_profile("quick").steps for v in s.variants}
    for metric in METRICS:
        assert set(metric.needs) <= planned, metric.id


def test_only_narrows_the_plan_to_what_the_metrics_read() -> None:
    profile = gate_profile("quick", repeat=2, only={"cold.locked_agents"})
    assert [(s.scenario, s.variants) for s in profile.steps] == [("cold-burst", ("locked",))]
    assert profile.repeat == 2 and profile.steps[0].app_env["APP_AGENT_INIT_DELAY_MS"]


def test_plan_errors_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown metric 'nope'"):
        gate_profile("quick", only={"nope"})
    with pytest.raises(UsageError, match="nothing to run"):
        gate_profile("quick", only={"accounting.failures"})
    with pytest.raises(UsageError, match="unknown gate profile"):
        gate_profile("huge")


def test_every_metric_has_a_sane_default() -> None:
    for m in METRICS:
        assert m.threshold >= 0 and m.catches and m.title
        assert (m.kind == "exact") == (m.expected is not None) == (m.direction != "higher" and m.threshold == 0)
        assert m.kind == "exact" or m.direction != "equal"
    assert len(REGISTRY) == len(METRICS)


def test_junit_is_well_formed_and_counts_failures(baseline_file: str) -> None:
    result = compare(load_baseline(baseline_file), extract_all(gate_results(locked=(1, 5, 1), lru=(1.6, 1.6, 1.7))))
    root = ET.fromstring(junit_xml(result, elapsed_s=12.5))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("time") == "12.500"
    failed = {c.get("name"): c.find("failure") for c in suite.iter("testcase") if c.find("failure") is not None}
    assert {"cold.locked_agents", "burst.async_makespan"} <= set(failed)
    assert suite.get("failures") == str(len(failed)) == root.get("failures")
    message = failed["cold.locked_agents"].get("message") or ""
    assert message.startswith("cold.locked_agents: REGRESSION")


def test_blocked_share_without_the_sampler_is_a_set_up_problem() -> None:
    res = gate_results(own_blocked_ms=(None, None, None))
    m = extract_all(res)["burst.async_blocked_share"]
    assert m.values == [None, None, None] and "sampler was off" in m.missing
    assert own_blocked_percent({"blocked": {"running": True, "own_code_ms": 100.0},
                                "metrics": {"makespan_s": 2.0}}) == pytest.approx(5.0)
    assert own_blocked_percent({"blocked": {"running": False, "own_code_ms": 0.0},
                                "metrics": {"makespan_s": 2.0}}) is None

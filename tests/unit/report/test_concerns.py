"""The concerns of a user's app (bench/report/concerns): each rule on both sides of its line, the line coming from
what the concern means (a singleton is one per process; the loop stuck in the app's code for half the burst or
more; half-way from all-at-once to one-after-another; users seeing errors while the upstream said 429; more than
one live instance per process; errors with several workers); and the report showing concerns, not claims."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bench.report.concerns import RULES, evaluate_concerns, is_user_app
from bench.report.concerns.burst_overlap import HALF_WAY, serialized_degree
from bench.report.console import console_summary
from bench.report.verdict import Verdict
from tests.support.synthetic_app_results import app_results


def _verdict(results: dict[str, Any], concern: str) -> Verdict:
    return RULES[concern].evaluate(results, RULES[concern])


def test_the_synthetic_file_has_results_shape() -> None:
    from bench.results import shape
    from tests.unit.report.test_results_schema import problems

    assert problems(app_results(), shape.Results) == []


def test_every_concern_in_the_reports_order_with_its_rule_and_fix() -> None:
    assert list(RULES) == ["singleton", "event-loop", "burst-overlap", "rate-limits", "memory", "workers"]
    for rule in RULES.values():
        assert rule.rule and rule.fix and "bench run --variants" in rule.fix  # the reference variant showing it


def test_a_healthy_app_passes_every_concern() -> None:
    verdicts = evaluate_concerns(app_results())
    assert [v.status for v in verdicts] == ["pass"] * 6


def test_singleton_one_per_process_passes_two_fails() -> None:
    assert _verdict(app_results(cold_per_process=1), "singleton").status == "pass"
    v = _verdict(app_results(cold_per_process=2), "singleton")
    assert v.status == "fail"
    v = _verdict(app_results(cold_per_process=40), "singleton")
    assert v.status == "fail"
    assert ("`Client` built 40 times in a cold burst of 50 (expected 1 per process), constructed from "
            "`myapp/deps.py:12 get_client` (`_client = Client()`) in 40 worker threads") in v.measured
    assert any(d.startswith("Fix: ") for d in v.details)


def test_singleton_needs_a_watch_and_a_construction() -> None:
    assert "give --watch" in _verdict(app_results(watch=False), "singleton").measured
    never = _verdict(app_results(cold_per_process=0), "singleton")
    assert never.status == "not measured" and "check the --watch names" in never.measured
    assert _verdict(app_results(scenarios=("burst",)), "singleton").status == "not measured"


@pytest.mark.parametrize(("share", "status"), [(0.0, "pass"), (0.49, "pass"), (0.51, "fail"), (0.95, "fail")])
def test_event_loop_half_the_burst_blocked_in_own_code_is_the_line(share: float, status: str) -> None:
    v = _verdict(app_results(own_blocked_share=share, burst_makespan=5.0), "event-loop")
    assert v.status == status
    if status == "fail":
        assert "at `myapp/routes.py:42 chat` (`reply = client.chat.completions.create(`)" in v.measured


def test_event_loop_divides_by_the_loops_of_several_workers() -> None:
    results = app_results(own_blocked_share=0.8, burst_makespan=5.0)
    for run in results["runs"]:
        if run["scenario"] == "burst":
            run["blocked"]["workers"] = 2  # two loops: 0.8 of one is 0.4 of both
    assert _verdict(results, "event-loop").status == "pass"


def test_event_loop_takes_the_median_repetition() -> None:
    results = app_results(reps=3, own_blocked_share=0.9, burst_makespan=5.0)
    bursts = [r for r in results["runs"] if r["scenario"] == "burst"]
    for run in bursts[:2]:
        run["blocked"]["own_code_ms"] = 0.1 * 5000
    assert _verdict(results, "event-loop").status == "pass"  # one outlying repetition of three


def test_burst_overlap_half_way_to_one_after_another_is_the_line() -> None:
    latency, users = 0.1, 50
    concurrent, serialized = latency * 1.3, users * latency
    mid = concurrent + HALF_WAY * (serialized - concurrent)
    assert _verdict(app_results(burst_makespan=mid * 0.98, latency_s=latency), "burst-overlap").status == "pass"
    v = _verdict(app_results(burst_makespan=mid * 1.02, latency_s=latency), "burst-overlap")
    assert v.status == "fail" and "against 0.13 s if concurrent and 5 s if one after another" in v.measured
    assert serialized_degree(serialized, concurrent, serialized) == 1.0
    assert serialized_degree(concurrent, concurrent, serialized) == 0.0


def test_rate_limits_errors_with_429s_fail_absorbed_429s_pass() -> None:
    assert _verdict(app_results(steady_429=30, steady_errors=0), "rate-limits").status == "pass"
    v = _verdict(app_results(steady_429=30, steady_errors=1), "rate-limits")
    assert v.status == "fail" and "seed-10rps: 60 429s upstream, users saw 2 errors in 80 requests" in v.measured
    other = _verdict(app_results(steady_429=0, steady_errors=3), "rate-limits")
    assert other.status == "pass" and any("not the rate limit" in d for d in other.details)


def test_rate_limits_need_the_mocks_counts() -> None:
    results = app_results()
    for run in results["runs"]:
        run["upstream"] = None
    assert _verdict(results, "rate-limits").status == "not measured"


def test_memory_one_live_instance_per_process_passes_two_fail() -> None:
    assert _verdict(app_results(live_peak=1), "memory").status == "pass"
    v = _verdict(app_results(live_peak=2), "memory")
    assert v.status == "fail" and "at most 2 alive per process under 10 connections" in v.measured
    assert "256 KiB per connection" in v.measured  # (102.5 - 100) MB / 10


def test_workers_errors_fail_copies_are_reported() -> None:
    v = _verdict(app_results(workers_errors=0), "workers")
    assert v.status == "pass" and "`Client` built 1 / 1 / 1 / 1 per process" in v.measured
    assert _verdict(app_results(workers_errors=1), "workers").status == "fail"


def test_a_missing_scenario_is_not_measured() -> None:
    verdicts = evaluate_concerns(app_results(scenarios=("cold-burst",)))
    assert [v.status for v in verdicts] == ["pass", *["not measured"] * 5]


def test_the_console_shows_the_diagnosis_and_each_fix() -> None:
    results = app_results(cold_per_process=40, own_blocked_share=0.9, burst_makespan=5.0)
    assert is_user_app(results) and not is_user_app({"target": None})
    text = console_summary(copy.deepcopy(results), width=120)
    assert text.startswith("Diagnosis of myapp.main:app (2 repetitions): 3 of 6 measured concerns fail")
    assert "singleton: Fix: build it once" in text and "event-loop: Fix:" in text and "burst-overlap: Fix:" in text
    assert "Claims" not in text


def test_the_report_shows_concerns_instead_of_claims(tmp_path: Any) -> None:
    from bench.report.render import render_report

    paths = render_report(app_results(cold_per_process=3), tmp_path)
    md = paths["markdown"].read_text(encoding="utf-8")
    html = paths["html"].read_text(encoding="utf-8")
    assert "# Concurrency diagnosis: myapp.main:app" in md and "## Concerns" in md and "## Claims" not in md
    assert "| singleton |" in md and "**fails: Client raced**" in md
    assert '<h2 id="concerns">Concerns</h2>' in html and 's-fail' in html

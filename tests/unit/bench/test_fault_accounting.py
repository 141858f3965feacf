"""The `faults` scenario's plan and accounting: `--scenarios faults` runs one step per fault kind on any profile, the
mock gets each kind's rate and its own seed, the bound is the retry budget, and the accounting finds every way a run
can fall short (no answer, a wrong status, the app's count disagreeing, an unnamed error, tries that do not add up,
a request over the bound) while a clean run is 100%. The report's table says the same."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.mock.config import MockConfig
from bench.report.faults import faults_section, faults_text
from bench.results import shape
from bench.run import faults
from bench.run.config import RunConfig, plan
from bench.run.fault_accounting import fault_accounting
from bench.run.profiles import PROFILES, Step, fault_steps
from bench.run.scenario_facts import facts
from tests.unit.report.test_results_schema import problems


def _step(kind: str) -> Step:
    return next(s for s in fault_steps() if s.fault == kind)


def test_scenarios_faults_runs_every_kind_on_a_profile_without_it() -> None:
    profile = plan(RunConfig(profile="quick", scenarios=("faults",), variants=("async", "sync")))
    assert [s.fault for s in profile.steps] == list(faults.KINDS)
    assert all(s.variants == ("async", "sync") and s.app_env["OPENAI_TIMEOUT"] == "1.0" for s in profile.steps)
    assert {s.repetitions(profile.repeat) for s in profile.steps} == {1}
    assert not any(s.scenario == "faults" for s in PROFILES["quick"].steps + PROFILES["seed"].steps)
    full = [s for s in PROFILES["full"].steps if s.scenario == "faults"]
    assert [s.fault for s in full] == list(faults.KINDS) and full[0].variants == ("async", "async-limited", "sync")


def test_each_kind_configures_a_valid_mock_that_fires_within_the_run() -> None:
    for step in fault_steps():
        kind = faults.KINDS[step.fault]
        cfg = MockConfig(latency_ms=step.latency_ms, seed=faults.mock_seed(step, 0),
                         rps=step.upstream_limit_rps or None, **faults.mock_fields(step))
        if kind.rate:
            assert cfg.fault_rates[kind.name] == kind.rate and cfg.hang_seconds > faults.app_timeout_s(step)
            # The mock's draw stream for this seed faults some of the run's first tries (bench/mock/faults.py).
            rng = random.Random(f"{cfg.seed}:faults")
            assert sum(rng.random() < kind.rate for _ in range(facts("faults").requests(step, 1) or 0)) > 0
        else:  # the storm: no injected fault, an upstream limit a tenth of the offered rate
            assert not any(cfg.fault_rates.values()) and cfg.rps is not None and cfg.rps * 10 <= step.rate
    assert len({faults.mock_seed(s, 0) for s in fault_steps()}) == len(faults.KINDS)


def test_the_bound_is_every_try_the_backoff_and_the_margin() -> None:
    # 3 tries of 1 s, backoff 0.5 + 1.0 s, margin 2 s.
    assert faults.request_bound_s(_step("hang")) == pytest.approx(3 * 1.0 + 0.5 + 1.0 + faults.MARGIN_S)
    # The storm's Retry-After (1 s at 1 request/s) outlasts the first backoff.
    assert faults.request_bound_s(_step("429-storm")) == pytest.approx(3 * 1.0 + 1.0 + 1.0 + faults.MARGIN_S)
    # A blocking variant may wait for all 30: the client timeout allows for it.
    assert facts("faults").client_timeout_s(_step("hang"), 1) > 30 * 4.5


def _records(statuses: list[int], latency_ms: float = 150.0) -> list[dict[str, Any]]:
    return [{"status": s, "latency_ms": latency_ms, "t_send": 100.0 + i / 10} for i, s in enumerate(statuses)]


def _app(by_status: dict[str, int], types: dict[str, int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    before = [{"responses_by_status": {"200": 2}, "error_types": {}}]  # the warm-up's, subtracted
    after = [{"responses_by_status": {**by_status, "200": by_status.get("200", 0) + 2}, "error_types": types}]
    return before, after


def _mock(attempts: int, fired: int, kind: str = "drop") -> tuple[dict[str, Any], dict[str, Any]]:
    return {"received": 5, "faults": {kind: 1}, "outcomes": {}}, {
        "received": 5 + attempts, "faults": {kind: 1 + fired}, "outcomes": {"dropped": fired}, "in_flight": 0}


def _recent(first: int, retries: int) -> list[dict[str, Any]]:
    rows = [{"path": "/v1/chat/completions", "retry_count": "0"} for _ in range(first)]
    return rows + [{"path": "/v1/chat/completions", "retry_count": "1"} for _ in range(retries)]


def _clean_drop() -> dict[str, Any]:
    # 10 requests: 9 got 200, 1 failed for good after 2 retries; 3 more drops each retried once.
    before, after = _app({"200": 9, "502": 1}, {"upstream_unreachable": 1})
    mb, ma = _mock(15, 5)
    return fault_accounting(_step("drop"), _records([200] * 9 + [502]), before, after, mb, ma, _recent(10, 5))


def test_a_clean_run_is_accounted_in_full_and_has_the_documented_shape() -> None:
    out = _clean_drop()
    assert out["ok"] and out["shortfall"] == [] and out["accounted_pct"] == 100.0
    assert out["statuses"] == {"200": 9, "502": 1} == out["app_statuses"]
    assert out["upstream"] == {"attempts": 15, "first_tries": 10, "retries": 5, "fired": 5, "still_in_flight": 0,
                               "outcomes": {"dropped": 5}}
    assert problems(out, shape.FaultRun, "faults") == []


@pytest.mark.parametrize(("case", "expect"), [
    ("no_answer", "got no answer from the app"),
    ("bare_500", "answered HTTP 500"),
    ("app_disagrees", "the app counted its answers"),
    ("unnamed", "named 'internal_error'"),
    ("tries", "received 16 attempts"),
    ("few_retries", "after only 1 retries"),
])
def test_each_way_of_falling_short_is_named(case: str, expect: str) -> None:
    statuses = [200] * 9 + [502]
    app = ({"200": 9, "502": 1}, {"upstream_unreachable": 1})
    attempts, retries = 15, 5
    if case == "no_answer":
        statuses[0] = 0
        app = ({"200": 8, "502": 1}, {"upstream_unreachable": 1})
    elif case == "bare_500":
        statuses[0] = 500
        app = ({"200": 8, "500": 1, "502": 1}, {"internal_error": 1, "upstream_unreachable": 1})
    elif case == "app_disagrees":
        app = ({"200": 10}, {})
    elif case == "unnamed":
        app = ({"200": 9, "502": 1}, {"internal_error": 1})
    elif case == "tries":
        attempts = 16
    elif case == "few_retries":
        attempts, retries = 11, 1
    before, after = _app(*app)
    mb, ma = _mock(attempts, 5)
    out = fault_accounting(_step("drop"), _records(statuses), before, after, mb, ma, _recent(10, retries))
    assert not out["ok"] and any(expect in line for line in out["shortfall"]), out["shortfall"]
    if case in ("no_answer", "bare_500"):
        assert out["accounted"] == 9 and out["accounted_pct"] == 90.0


def test_a_request_past_the_bound_fails_the_run_but_not_its_accounting() -> None:
    before, after = _app({"200": 10}, {})
    mb, ma = _mock(10, 0)
    out = fault_accounting(_step("hang"), _records([200] * 10, latency_ms=20_000.0), before, after, mb, ma,
                           _recent(10, 0))
    assert out["accounted_pct"] == 100.0 and out["over_bound"] == 10 and not out["ok"]
    assert out["notes"] == ["hang never fired in this run: nothing of it was tested"]


def test_the_report_table_gives_the_share_and_the_exact_shortfall() -> None:
    short = _clean_drop() | {"accounted": 9, "shortfall": ["1 answered HTTP 500; drop allows 200/502"]}
    runs = [{"variant": "async", "faults": _clean_drop()}, {"variant": "sync", "faults": short}, {"variant": "x"}]
    section = faults_section({"runs": runs})
    assert section is not None
    assert [r[:3] for r in section.rows] == [["drop", "async", "100% of 10"], ["drop", "sync", "90.0% (short 1) of 10"]]
    assert section.rows[0][3] == "9 x 200, 1 x 502 (upstream_unreachable 1)"
    assert section.rows[0][4].startswith("15 = 10 + 5 retries") and section.rows[1][-1] == "short"
    assert "drop on sync: 1 answered HTTP 500" in faults_text(section)
    assert faults_section({"runs": [{"variant": "x"}]}) is None

"""bench/cost.py: the upstream calls a plan makes, their tokens and price, the budget check, the price table and
its overrides, and the actual usage summed from the runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.errors import UsageError
from bench.run import cost
from bench.run.cost import Estimate, Price, check_budget, estimate, is_guarded, load_prices, prompt_tokens
from bench.run.profiles import PROFILES, Profile, Step

MSG = "Hello! Please answer in one sentence."
PRICES = load_prices()
MINI = PRICES.prices["gpt-4o-mini"]


def _profile(*steps: Step, repeat: int = 3) -> Profile:
    return Profile("t", "test", steps, repeat=repeat)


@pytest.mark.parametrize(("step", "per_variant_measured", "warm_ups"), [
    # burst: one call per user per repetition; a warm step warms each variant with two requests per worker
    (Step("burst", ("a", "b"), (), users=5), 5 * 3, 2),
    # cold-burst: a fresh app per repetition, no warm-up
    (Step("cold-burst", ("a",), (), users=50), 50 * 3, 0),
    # steady: rate x duration arrivals, whatever the users
    (Step("steady", ("a",), (), rate=20.0, duration_s=2.5), 50 * 3, 2),
    # workers: steady across 4 workers; the warm-up only checks that each answers (agents counted from a cold start)
    (Step("workers", ("a",), (), rate=60.0, duration_s=2.5, workers=4), 150 * 3, 0),
    # concurrency: closed loop, at most users x duration / latency
    (Step("concurrency", ("a", "b"), (), users=10, latency_ms=100.0, duration_s=2.0), 10 * 20 * 3, 2),
    # ... and never faster than 100 ms a call, whatever the mock's latency
    (Step("stream", ("a",), (), users=10, latency_ms=0.0, duration_s=2.0), 10 * 20 * 3, 2),
    # sweep: a burst per step of users
    (Step("sweep", ("a",), (), steps=(1, 10, 50)), 61 * 3, 2),
])
def test_calls_per_scenario(step: Step, per_variant_measured: int, warm_ups: int) -> None:
    est = estimate(_profile(step), model="gpt-4o-mini", prices=PRICES, max_tokens=50, message=MSG)
    measured = per_variant_measured * len(step.variants)
    warm = warm_ups * len(step.variants)
    assert (est.calls, est.warm_up_calls) == (measured + warm, warm)
    assert est.input_tokens == measured * prompt_tokens(MSG) + warm * prompt_tokens("warm-up")
    assert est.output_tokens == est.calls * 50 and est.output_capped
    assert est.usd == pytest.approx((est.input_tokens * 0.15 + est.output_tokens * 0.60) / 1e6)


def test_closed_loops_bound_a_real_backend_by_100_ms_and_the_mock_by_its_latency() -> None:
    step = Step("concurrency", ("a",), (), users=10, latency_ms=1000.0, duration_s=2.0)
    # The profile's 1000 ms configures the mock only: a real backend may answer in 100 ms.
    assert cost.calls_per_repetition(step, 10) == 10 * 20
    assert cost.calls_per_repetition(step, 10, real_backend=False) == 10 * 2
    fast = Step("concurrency", ("a",), (), users=10, latency_ms=20.0, duration_s=2.0)
    assert cost.calls_per_repetition(fast, 10, real_backend=False) == 10 * 100
    est = estimate(_profile(fast, repeat=1), model=None, prices=PRICES, real_backend=False, message=MSG)
    assert est.calls == 10 * 100 + 2


def test_a_steps_own_repetitions_count() -> None:
    est = estimate(_profile(Step("burst", ("a",), (), users=5, repeat=1), repeat=3), model=None, prices=PRICES,
                   message=MSG)
    assert est.calls == 5 + 2


def test_uncapped_output_is_an_assumption_said_so() -> None:
    est = estimate(_profile(Step("burst", ("a",), (), users=5)), model="gpt-4o-mini", prices=PRICES, message=MSG)
    assert est.output_per_call == cost.ASSUMED_OUTPUT_TOKENS and not est.output_capped
    assert "uncapped, assumed 256 a call" in est.text() and "gpt-4o-mini prices" in est.text()


def test_the_quick_profile_estimate_is_plausible() -> None:
    est = estimate(PROFILES["quick"], model="gpt-4o-mini", prices=PRICES, max_tokens=100)
    # quick: 3 bursts + 4 cold bursts of 50, x3 repetitions, are alone 1,050 calls.
    assert 1050 < est.calls < 5000 and est.usd is not None and est.usd < 1.0


def test_the_message_default_is_what_the_scenarios_send() -> None:
    from scenarios.options import OPTIONS_BY_DEST

    a = estimate(_profile(Step("burst", ("a",), (), users=5)), model=None, prices=PRICES)
    b = estimate(_profile(Step("burst", ("a",), (), users=5)), model=None, prices=PRICES,
                 message=OPTIONS_BY_DEST["message"].default)
    assert a == b


def test_prompt_tokens_match_the_mock() -> None:
    from bench.mock.protocol import ChatRequest, parse_chat_request

    body = {"model": "m", "messages": [{"role": "user", "content": MSG}]}
    parsed = parse_chat_request(json.dumps(body).encode())
    assert isinstance(parsed, ChatRequest) and parsed.prompt_tokens == prompt_tokens(MSG)


def _est(usd_model: str | None = "gpt-4o-mini", calls: int = 1000) -> Estimate:
    return Estimate(calls=calls, warm_up_calls=0, input_tokens=calls * 20, output_tokens=calls * 100,
                    output_per_call=100, output_capped=True, model=usd_model, price=PRICES.lookup(usd_model))


def test_within_the_budget_starts_silently() -> None:
    assert check_budget(_est(), budget_usd=1.0, yes=False) is None


def test_above_the_budget_refuses_in_one_line_naming_both() -> None:
    est = _est(calls=1_000_000)  # 20M in + 100M out at gpt-4o-mini: $63
    with pytest.raises(UsageError) as info:
        check_budget(est, budget_usd=1.0, yes=False)
    text = str(info.value)
    assert "$63.0000" in text and "budget $1.00" in text and "--yes" in text and "\n" not in text


def test_yes_waives_the_budget_and_says_so() -> None:
    note = check_budget(_est(calls=1_000_000), budget_usd=1.0, yes=True)
    assert note is not None and "running anyway (--yes)" in note


def test_an_unknown_price_refuses_unless_yes() -> None:
    est = _est("gpt-imaginary")
    assert est.usd is None
    with pytest.raises(UsageError, match=r"no price known for model 'gpt-imaginary'.*--prices FILE.*--yes"):
        check_budget(est, budget_usd=100.0, yes=False)
    assert "running anyway" in str(check_budget(est, budget_usd=100.0, yes=True))


def test_snapshots_are_priced_as_their_model_other_variants_are_not() -> None:
    assert PRICES.lookup("gpt-4o-mini-2024-07-18") == MINI
    assert PRICES.lookup("gpt-3.5-turbo-0125") == PRICES.prices["gpt-3.5-turbo"]
    assert PRICES.lookup("gpt-4o-audio-preview") is None and PRICES.lookup(None) is None


def test_the_table_has_the_current_models_and_a_source() -> None:
    assert {"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-5-mini"} <= set(PRICES.prices)
    assert "openai.com/api/pricing" in PRICES.source
    assert all(p.input_per_1m <= p.output_per_1m for p in PRICES.prices.values())


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_a_price_file_overrides_and_adds_models(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"prices{suffix}"
    table = {"gpt-4o-mini": {"input": 1.0, "output": 2.0}, "my-model": {"input": 0.5, "output": 0.5}}
    if suffix == ".json":
        path.write_text(json.dumps({"prices": table}))
    else:
        path.write_text('[prices]\n"gpt-4o-mini" = { input = 1.0, output = 2.0 }\n'
                        '"my-model" = { input = 0.5, output = 0.5 }\n')
    prices = load_prices(path)
    assert prices.lookup("gpt-4o-mini") == Price(1.0, 2.0) and prices.lookup("my-model") == Price(0.5, 0.5)
    assert prices.lookup("gpt-4o") == PRICES.prices["gpt-4o"]  # the rest of the table stays
    assert str(path) in prices.source


def test_a_bare_model_table_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"my-model": {"input": 3, "output": 4}}))
    assert load_prices(path).lookup("my-model") == Price(3.0, 4.0)


@pytest.mark.parametrize(("content", "fragment"), [
    ("{not json", "is not valid JSON"),
    ('{"prices": {"m": {"input": 1}}}', "'m' needs input and output"),
    ('{"prices": {"m": {"input": -1, "output": 1}}}', "'m' needs input and output"),
    ('{"prices": []}', "'prices' must be a table"),
])
def test_a_bad_price_file_is_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=fragment) as info:
        load_prices(path)
    assert "\n" not in str(info.value)


def test_a_missing_price_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the price file"):
        load_prices(tmp_path / "none.toml")


@pytest.mark.parametrize(("kind", "model", "guarded"), [
    ("openai", "gpt-4o-mini", True),
    ("openai", "gpt-imaginary", True),  # OpenAI always: an unknown price there must be confirmed
    ("url", "gpt-4o", True),  # an OpenAI-compatible proxy asked for a priced model
    ("url", "qwen2.5-0.5b", False),  # a local server's model
    ("url", None, False),
    ("local-llm", None, False),
    ("mock", "gpt-4o", False),
])
def test_which_backends_are_guarded(kind: str, model: str | None, guarded: bool) -> None:
    assert is_guarded(kind, model, PRICES) is guarded


def test_actual_sums_the_runs_usage_and_prices_it() -> None:
    runs: list[dict[str, Any]] = [{"usage": {"input_tokens": 1000, "output_tokens": 500, "calls": 10, "unreported": 0}},
            {"usage": {"input_tokens": 3000, "output_tokens": 1500, "calls": 30, "unreported": 2}},
            {"usage": None}]
    got = cost.actual(runs, MINI)
    assert (got["input_tokens"], got["output_tokens"], got["calls"], got["unreported"]) == (4000, 2000, 40, 2)
    assert got["runs_counted"] == 2 and got["usd"] == pytest.approx((4000 * 0.15 + 2000 * 0.60) / 1e6)
    assert cost.actual(runs, None)["usd"] is None

"""Token-bucket budgets and the header values OpenAI sends with them, on a fake clock."""

from __future__ import annotations

import pytest

from bench.mock.config import TIERS, MockConfig, Tier
from bench.mock.ratelimit import RateLimiter, format_duration, retry_after_headers


def test_rpm_admits_a_burst_of_the_limit_then_one_per_interval() -> None:
    limiter = RateLimiter(Tier(rpm=3), now=0.0)
    assert [limiter.admit(10, 0.0) for _ in range(3)] == [None, None, None]
    rejected = limiter.admit(10, 0.0)
    assert rejected is not None
    assert rejected.retry_after_s == pytest.approx(20.0)  # 60 s / 3
    assert "requests per min (RPM): Limit 3, Used 3, Requested 1" in rejected.message("gpt-4o-mini")
    assert "Please try again in 20s" in rejected.message("gpt-4o-mini")
    assert limiter.admit(10, 19.9) is not None
    assert limiter.admit(10, 20.0) is None


def test_rejected_requests_cost_nothing() -> None:
    limiter = RateLimiter(Tier(rps=1), now=0.0)
    assert limiter.admit(1, 0.0) is None
    for _ in range(10):
        assert limiter.admit(1, 0.5) is not None
    assert limiter.admit(1, 1.0) is None


def test_the_longest_wait_among_budgets_is_reported() -> None:
    limiter = RateLimiter(Tier(rps=10, tpm=600), now=0.0)
    assert limiter.admit(600, 0.0) is None
    rejected = limiter.admit(60, 0.0)
    assert rejected is not None and rejected.bucket.unit == "tokens"
    assert rejected.retry_after_s == pytest.approx(6.0)  # 60 tokens at 10 tokens/s


def test_a_request_larger_than_the_budget_can_never_pass() -> None:
    rejected = RateLimiter(Tier(tpm=100), now=0.0).admit(500, 0.0)
    assert rejected is not None and rejected.retry_after_s is None
    assert rejected.message("m").startswith("Request too large for m")


def test_fractional_request_rates_still_admit_one_at_a_time() -> None:
    limiter = RateLimiter(Tier(rps=0.4), now=0.0)
    assert limiter.admit(1, 0.0) is None
    rejected = limiter.admit(1, 0.0)
    assert rejected is not None and rejected.retry_after_s == pytest.approx(2.5)


def test_headers_report_the_tightest_budget() -> None:
    limiter = RateLimiter(Tier(rpm=60, rpd=10_000, tpm=1000), now=0.0)
    limiter.admit(100, 0.0)
    headers = dict(limiter.headers())
    assert headers[b"x-ratelimit-limit-requests"] == b"60"
    assert headers[b"x-ratelimit-remaining-requests"] == b"59"
    assert headers[b"x-ratelimit-reset-requests"] == b"1s"
    assert headers[b"x-ratelimit-limit-tokens"] == b"1000"
    assert headers[b"x-ratelimit-remaining-tokens"] == b"900"
    assert headers[b"x-ratelimit-reset-tokens"] == b"6s"


def test_retry_after_is_whole_seconds_rounded_up_and_exact_ms() -> None:
    assert dict(retry_after_headers(0.25)) == {b"retry-after": b"1", b"retry-after-ms": b"250"}
    assert dict(retry_after_headers(20.0)) == {b"retry-after": b"20", b"retry-after-ms": b"20000"}
    assert dict(retry_after_headers(0.0)) == {b"retry-after": b"1", b"retry-after-ms": b"1"}


@pytest.mark.parametrize(("seconds", "text"), [
    (0.12, "120ms"), (1.0, "1s"), (1.5, "1.5s"), (360.0, "6m0s"), (3723.0, "1h2m3s"), (7.664, "7.664s"),
])
def test_duration_format_is_openais(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_seed_tiers_and_explicit_flags() -> None:
    assert (TIERS["tier-1"].rpm, TIERS["tier-1"].rpd) == (3, 200)
    assert (TIERS["tier-2"].rpm, TIERS["tier-2"].rpd) == (60, 10_000)
    assert TIERS["seed-10rps"].rps == 10
    limits = MockConfig(tier="tier-2", rpm=120).limits
    assert (limits.rpm, limits.rpd) == (120, 10_000)

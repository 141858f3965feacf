"""OpenAI-like rate limits: one continuously refilled token bucket per budget (RPS, RPM, RPD, TPM, TPD),
and the `retry-after` / `x-ratelimit-*` header values OpenAI sends with them.

A bucket holds `limit` units and refills at `limit / window`, so 3 RPM admits a burst of 3 and then one
request every 20 s: OpenAI's documented behaviour ("Please try again in 20s"). Rejected requests cost nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.mock.config import Tier

# (attribute, unit, window seconds, OpenAI's wording in 429 messages)
_BUDGETS = (
    ("rps", "requests", 1.0, "requests per sec (RPS)"),
    ("rpm", "requests", 60.0, "requests per min (RPM)"),
    ("rpd", "requests", 86_400.0, "requests per day (RPD)"),
    ("tpm", "tokens", 60.0, "tokens per min (TPM)"),
    ("tpd", "tokens", 86_400.0, "tokens per day (TPD)"),
)


class Bucket:
    __slots__ = ("level", "limit", "rate", "stamp", "unit", "wording")

    def __init__(self, limit: float, window_s: float, unit: str, wording: str, now: float) -> None:
        # A request budget below one per window (say 0.4 RPS) still lets one request through at a time.
        self.limit = max(limit, 1.0) if unit == "requests" else limit
        self.rate = limit / window_s
        self.unit = unit
        self.wording = wording
        self.level = self.limit
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.limit, self.level + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_s(self, cost: float) -> float:
        """Seconds until `cost` units are available (after refill)."""
        return 0.0 if self.level >= cost else (cost - self.level) / self.rate

    def reset_s(self) -> float:
        """Seconds until the bucket is full again: OpenAI's `x-ratelimit-reset-*`."""
        return (self.limit - self.level) / self.rate


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a request was refused; `retry_after_s` is None when waiting cannot help (request too large)."""

    bucket: Bucket
    cost: float
    retry_after_s: float | None

    def message(self, model: str) -> str:
        b = self.bucket
        if self.retry_after_s is None:
            return (f"Request too large for {model} in organization org-mock on {b.wording}: "
                    f"Limit {b.limit:g}, Requested {self.cost:g}. The input or output tokens must be reduced "
                    f"in order to run successfully. Visit https://platform.openai.com/account/rate-limits "
                    f"to learn more.")
        used = max(0, math.ceil(b.limit - b.level))
        return (f"Rate limit reached for {model} in organization org-mock on {b.wording}: "
                f"Limit {b.limit:g}, Used {used}, Requested {self.cost:g}. "
                f"Please try again in {format_duration(self.retry_after_s)}. "
                f"Visit https://platform.openai.com/account/rate-limits to learn more.")


class RateLimiter:
    """All configured budgets; `admit` either takes a request's cost from every bucket or from none."""

    def __init__(self, tier: Tier, now: float) -> None:
        self.tier = tier
        self.reset(now)

    def reset(self, now: float) -> None:
        self.request_buckets: list[Bucket] = []
        self.token_buckets: list[Bucket] = []
        for attr, unit, window, wording in _BUDGETS:
            limit = getattr(self.tier, attr)
            if limit is not None:
                bucket = Bucket(float(limit), window, unit, wording, now)
                (self.request_buckets if unit == "requests" else self.token_buckets).append(bucket)
        self.enabled = bool(self.request_buckets or self.token_buckets)

    def admit(self, tokens: int, now: float) -> Rejection | None:
        worst: Rejection | None = None
        for buckets, cost in ((self.request_buckets, 1.0), (self.token_buckets, float(tokens))):
            for b in buckets:
                b.refill(now)
                if cost > b.limit:
                    return Rejection(b, cost, None)
                wait = b.wait_s(cost)
                if wait > 0 and (worst is None or (worst.retry_after_s or 0.0) < wait):
                    worst = Rejection(b, cost, wait)
        if worst is not None:
            return worst
        for b in self.request_buckets:
            b.level -= 1.0
        for b in self.token_buckets:
            b.level -= tokens
        return None

    def headers(self) -> list[tuple[bytes, bytes]]:
        """`x-ratelimit-*` for the tightest request and token budget (OpenAI sends one of each)."""
        out: list[tuple[bytes, bytes]] = []
        for buckets, unit in ((self.request_buckets, b"requests"), (self.token_buckets, b"tokens")):
            if not buckets:
                continue
            b = min(buckets, key=lambda x: x.level / x.limit)
            out += [
                (b"x-ratelimit-limit-" + unit, f"{b.limit:g}".encode()),
                (b"x-ratelimit-remaining-" + unit, b"%d" % max(0, math.floor(b.level))),
                (b"x-ratelimit-reset-" + unit, format_duration(b.reset_s()).encode()),
            ]
        return out


def retry_after_headers(seconds: float) -> list[tuple[bytes, bytes]]:
    """`retry-after` in whole seconds (HTTP's form, rounded up) and `retry-after-ms` exactly (what the
    openai SDK reads first). Never 0: the SDK ignores a zero and falls back to its own backoff."""
    ms = max(1, math.ceil(seconds * 1000.0))
    return [(b"retry-after", b"%d" % max(1, math.ceil(seconds))), (b"retry-after-ms", b"%d" % ms)]


def format_duration(seconds: float) -> str:
    """OpenAI's (Go's) duration format: `120ms`, `1.5s`, `6m0s`, `1h2m3s`."""
    if seconds < 1.0:
        return f"{max(0, math.ceil(seconds * 1000.0))}ms"
    hours, rest = divmod(seconds, 3600.0)
    minutes, secs = divmod(rest, 60.0)
    secs_text = f"{secs:.3f}".rstrip("0").rstrip(".")
    if hours >= 1:
        return f"{int(hours)}h{int(minutes)}m{secs_text}s"
    if minutes >= 1:
        return f"{int(minutes)}m{secs_text}s"
    return f"{secs_text}s"

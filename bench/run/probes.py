"""Small checks that are not load runs: the app reads its `.env` (claim C10), the mock enforces the seed's tier
limits and the app's limiter configured from each tier stays within it (claim C10's tiers), each a few requests on
loopback."""

from __future__ import annotations

import asyncio
import math
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.servers import httpclient
from bench.servers.app import running_app

# Distinct from the defaults, so seeing them proves the file was read.
DOTENV = {"OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND": "7.5", "OPENAI_MAX_RETRIES": "3", "LOG_LEVEL": "INFO",
          "OPENAI_TIMEOUT": "42"}


def settings_echo(log_dir: Path) -> dict[str, Any]:
    """Start the app in a directory holding only a `.env` file and read back what it applied."""
    with tempfile.TemporaryDirectory(prefix="bench-dotenv-") as tmp:
        Path(tmp, ".env").write_text("".join(f"{k}={v}\n" for k, v in DOTENV.items()), encoding="utf-8")
        # The app is told nothing but its variant and where the (unused) backend is; the rest must come from .env.
        with running_app("lru_cache", "http://127.0.0.1:9/v1", log_dir=str(log_dir), cwd=tmp,
                         env={"LOG_LEVEL": ""}) as app:
            seen = app.stats()["settings"]
    got = {k: seen.get(k) for k in DOTENV}
    ok = all(str(got[k]).upper() == v.upper() or _num_eq(got[k], v) for k, v in DOTENV.items())
    return {"sent": DOTENV, "seen": got, "ok": ok, "how": "a .env file in the app's working directory"}


def mock_probes(log_dir: Path) -> dict[str, Any]:
    """`settings_echo` and `tier_limits` side by side (mostly waiting on the apps and the limiters' windows). A probe
    that fails is recorded under `failed` (its error in one line) and the run goes on: the claim it feeds (C10) says
    it was not measured, the load runs are not lost for it."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {"settings_echo": pool.submit(settings_echo, log_dir),
                   "tier_limits": pool.submit(tier_limits, log_dir)}
    out: dict[str, Any] = {}
    failed: dict[str, str] = {}
    for name, future in futures.items():
        try:
            out[name] = future.result()
        except Exception as exc:  # any failure of a probe's servers or requests: said, not fatal
            failed[name] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            print(f"bench run: warning: the {name} probe failed ({failed[name]}); claim C10 will say so",
                  file=sys.stderr)
    if failed:
        out["failed"] = failed
    return out


def _num_eq(a: Any, b: str) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


# The tiers claim C10 names (the seed's Tier 1 and Tier 2), each checked twice: the mock enforces it, and the app's
# limiter configured from it (OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND = RPM / 60) sends no more than it allows.
CLAIMED_TIERS = ("tier-1", "tier-2")
APP_WINDOW_S = 3.5  # short: the limiter's bucket starts empty, so tier-1 (0.05 req/s) admits none in it, tier-2 3
APP_FIRED = 5  # requests sent to the app at once, more than either tier allows in the window
# One agent, so one limiter: behind the seed's `def` dependency a cold burst races lru_cache and builds several
# ChatAgents, each with its own limiter (C2), which would measure the race instead of the limiter.
APP_VARIANT = "async-limited:dependency=async"


def tier_limits(log_dir: Path, tiers: tuple[str, ...] = CLAIMED_TIERS, extra: int = 2) -> dict[str, Any]:
    """For each tier: (limit + extra) requests inside one minute straight at a mock on the tier, the excess must
    get 429s; then the app's limiter configured from the tier, in front of a fresh mock on it (`_app_within`).
    The tiers run side by side: most of each check is waiting."""
    with ThreadPoolExecutor(max_workers=len(tiers) or 1) as pool:
        return dict(zip(tiers, pool.map(lambda t: _one_tier(t, log_dir, extra), tiers), strict=True))


def _one_tier(tier: str, log_dir: Path, extra: int) -> dict[str, Any]:
    with running_mock(MockConfig(latency_ms=0, tier=tier), log_dir=str(log_dir)) as mock:
        limit = _tier_rpm(tier)
        statuses, retry_after, span_s = asyncio.run(_at_once(mock.url + "/v1/chat/completions", limit + extra))
    ok200, n429 = statuses.count(200), statuses.count(429)
    return {"limit_rpm": limit, "limit_rpd": _tier_rpd(tier), "sent": len(statuses), "ok_200": ok200,
            "rate_limited_429": n429, "retry_after": retry_after, "span_s": round(span_s, 3),
            "ok": ok200 == limit and n429 == extra, "app": _app_within(tier, log_dir)}


async def _at_once(url: str, n: int) -> tuple[list[int], list[str | None], float]:
    """n requests at once (statuses, Retry-After of the 429s, seconds from the first send to the last answer). At
    once, not one after another: the tier's bucket refills continuously (tier-2: one request a second), so 62 sent
    one by one on a busy machine took over 2 s and all got through (seen beside the overlapping schedule's units)."""
    body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}
    async with httpclient.async_client(timeout=10, limits=httpx.Limits(max_connections=n)) as client:
        t0 = time.monotonic()
        answers = await asyncio.gather(*(client.post(url, json=body, headers={"Authorization": "Bearer probe"})
                                         for _ in range(n)))
        span = time.monotonic() - t0
    statuses = [r.status_code for r in answers]
    return statuses, [r.headers.get("retry-after") for r in answers if r.status_code == 429], span


def _app_within(tier: str, log_dir: Path, window_s: float = APP_WINDOW_S, fired: int = APP_FIRED) -> dict[str, Any]:
    """The seed's recommendation (APP_VARIANT) with its limiter at the tier's rate, in front of a mock on the tier:
    fire `fired` requests at once, and count what reached the mock within `window_s` of the firing, by the mock's
    own arrival times (the app's limiter keeps releasing the requests it holds after the window: on a busy machine
    a read of the mock's counter a second late saw 5 instead of 3). Within the tier: no more than the tier's rate
    allows over the window (ceil(RPM x window / 60)) and no 429."""
    rps = _tier_rpm(tier) / 60
    allowed = math.ceil(_tier_rpm(tier) * window_s / 60)
    with running_mock(MockConfig(latency_ms=0, tier=tier), log_dir=str(log_dir)) as mock, \
            running_app(APP_VARIANT, mock.api_base, log_dir=str(log_dir),
                        env={"OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND": f"{rps:.6g}"}) as app:
        seen = app.stats()["settings"].get("OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND")
        mock.reset()
        fired_at = time.time()  # the mock's arrival times are wall-clock times on this machine
        asyncio.run(_fire(app.url + "/api/chat", fired, window_s))
        arrivals = mock.requests()
        by_read = int(mock.stats().get("received") or 0)
        agents = int(app.stats().get("constructions") or 0)
    within = [r for r in arrivals if float(r.get("arrival") or math.inf) - fired_at <= window_s]
    received = len(within)
    n429 = sum(1 for r in within if r.get("outcome") == 429)
    applied = _num_eq(seen, f"{rps:.6g}")
    return {"variant": APP_VARIANT, "agents": agents, "limiter_rps": round(rps, 6), "limiter_rps_seen": seen,
            "window_s": window_s, "fired": fired, "upstream_received_by_read": by_read,
            "upstream_received": received, "upstream_429": n429, "allowed_in_window": allowed,
            "limiter_admits": math.floor(rps * window_s),
            "ok": applied and received <= allowed and n429 == 0}


async def _fire(url: str, n: int, window_s: float) -> None:
    """Send n requests at once and stop waiting after `window_s` (those still queued in the limiter are dropped)."""
    async with httpclient.async_client(timeout=window_s + 5) as client:
        tasks = [asyncio.ensure_future(client.post(url, json={"message": "tier check"})) for _ in range(n)]
        await asyncio.wait(tasks, timeout=window_s)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _tier_rpm(tier: str) -> int:
    from bench.mock.config import TIERS

    return int(TIERS[tier].rpm or 0)


def _tier_rpd(tier: str) -> int | None:
    from bench.mock.config import TIERS

    rpd = TIERS[tier].rpd
    return int(rpd) if rpd else None

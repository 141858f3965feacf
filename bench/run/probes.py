"""Small checks that are not load runs: the app reads its `.env` (claim C10) and the mock enforces the seed's
tier limits (claim C10's tiers), each a few requests on loopback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.mock.config import MockConfig
from bench.mock.process import running_mock
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


def _num_eq(a: Any, b: str) -> bool:
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def tier_limits(log_dir: Path, tiers: tuple[str, ...] = ("tier-1",), extra: int = 2) -> dict[str, Any]:
    """Send (limit + extra) requests inside one minute to a mock on a named tier: the excess must get 429s."""
    out: dict[str, Any] = {}
    for tier in tiers:
        with running_mock(MockConfig(latency_ms=0, tier=tier), log_dir=str(log_dir)) as mock:
            limit = _tier_rpm(tier)
            statuses, retry_after = [], []
            with httpx.Client(timeout=10) as client:
                for _ in range(limit + extra):
                    resp = client.post(mock.url + "/v1/chat/completions", json={
                        "model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]},
                        headers={"Authorization": "Bearer probe"})
                    statuses.append(resp.status_code)
                    if resp.status_code == 429:
                        retry_after.append(resp.headers.get("retry-after"))
        ok200, n429 = statuses.count(200), statuses.count(429)
        out[tier] = {"limit_rpm": limit, "sent": len(statuses), "ok_200": ok200, "rate_limited_429": n429,
                     "retry_after": retry_after, "ok": ok200 == limit and n429 == extra}
    return out


def _tier_rpm(tier: str) -> int:
    from bench.mock.config import TIERS

    return int(TIERS[tier].rpm or 0)

"""Reading the app's debug endpoints: stats per worker process, the seed's agent-cache view, window resets."""

from __future__ import annotations

import time
from typing import Any

import httpx


def stats(url: str, *, measure: bool = False, collect: bool = False, timeout: float = 30.0) -> dict[str, Any]:
    params = {"measure": str(measure).lower(), "collect": str(collect).lower()}
    resp = httpx.get(url + "/api/debug/stats", params=params, timeout=timeout)
    resp.raise_for_status()
    return dict(resp.json())


def per_worker(url: str, workers: int, *, measure: bool = False, deadline_s: float = 20.0,
               collect: bool = False) -> list[dict[str, Any]]:
    """One stats dict per worker pid. New connections land on whichever worker accepts first, so poll
    until every worker has answered (or the deadline passes: then the list is short, and the caller says so)."""
    found: dict[int, dict[str, Any]] = {}
    end = time.monotonic() + deadline_s
    with httpx.Client(timeout=30.0, headers={"Connection": "close"}) as client:
        while len(found) < workers and time.monotonic() < end:
            params = {"measure": str(measure).lower(), "collect": str(collect).lower()}
            resp = client.get(url + "/api/debug/stats", params=params)
            resp.raise_for_status()
            data = resp.json()
            found.setdefault(int(data["pid"]), data)
    return [found[pid] for pid in sorted(found)]


def reset_window(url: str, workers: int = 1) -> None:
    """New peak window for loop lag, in-flight and live instances, on every worker."""
    seen: set[int] = set()
    end = time.monotonic() + 10.0
    with httpx.Client(timeout=10.0, headers={"Connection": "close"}) as client:
        while len(seen) < workers and time.monotonic() < end:
            resp = client.post(url + "/api/debug/stats/reset")
            resp.raise_for_status()
            seen.add(int(resp.json()["pid"]))


def agent_cache(url: str) -> dict[str, Any]:
    resp = httpx.get(url + "/api/debug/agent-cache", timeout=10.0)
    resp.raise_for_status()
    return dict(resp.json())

"""The app's insides, live, for the web UI: background greenlets poll the app's /api/debug/stats and the
mock's /mock/stats twice a second; `snapshot()` adds the app's RSS and Locust's own figures, and names the call
sites that blocked the app's event loop (its blocked-loop sampler) since the test started.

A blocked event loop answers its stats route late; the poller never waits on it in a web request, and the
snapshot says how old the app's figures are instead.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent
import httpx
import psutil

from bench.servers import httpclient
from scenarios.serving import Serving, get_serving

POLL_INTERVAL_S = 0.5
STATS_TIMEOUT_S = 60.0  # a blocked loop may take this long to answer; the age shows meanwhile
# The app's stats without its list of blocks (the tab shows totals and sites), and the top sites only.
STATS_QUERY = "?blocks=0&sites=5"
TOP_SITES = 3


@dataclass
class Reading:
    url: str | None = None
    data: dict[str, Any] | None = None
    at: float | None = None  # monotonic time of the last answer
    error: str | None = None
    asked_at: float | None = None  # monotonic time the pending question was sent


class Poller:
    """One greenlet polling `target()` (a URL or None) every POLL_INTERVAL_S; the newest answer wins."""

    def __init__(self, target: Callable[[], str | None]) -> None:
        self.target = target
        self.reading = Reading()
        self.greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        if self.greenlet is None:
            self.greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
            self.greenlet = None

    def clear(self) -> None:
        self.reading = Reading()

    def _run(self) -> None:
        with httpclient.client(timeout=STATS_TIMEOUT_S) as client:
            while True:
                t0 = time.monotonic()
                url = self.target()
                if url is None:
                    self.reading = Reading()
                else:
                    self._poll(client, url, t0)
                gevent.sleep(max(0.0, POLL_INTERVAL_S - (time.monotonic() - t0)))

    def _poll(self, client: httpx.Client, url: str, t0: float) -> None:
        reading = self.reading if self.reading.url == url else Reading(url=url)
        self.reading = reading
        reading.asked_at = t0
        try:
            resp = client.get(url)
            if resp.status_code == 200:
                reading.data, reading.at, reading.error = resp.json(), time.monotonic(), None
            else:
                reading.error = f"HTTP {resp.status_code}"
        except (httpx.HTTPError, ValueError) as exc:
            reading.error = type(exc).__name__
        finally:
            reading.asked_at = None  # a reading replaced meanwhile (clear(), new server) is simply dropped


class Insides:
    """The figures the Insides tab and page show, kept by two pollers on the master's web UI."""

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.app = Poller(self._app_url)
        self.mock = Poller(self._mock_url)

    def start(self) -> None:
        self.app.start()
        self.mock.start()

    def stop(self) -> None:
        self.app.stop()
        self.mock.stop()

    def clear(self) -> None:
        """At test start: figures of an earlier test (or server) must not pass for this one's."""
        self.app.clear()
        self.mock.clear()

    def _serving(self) -> Serving | None:
        return get_serving(self.environment)

    def _app_url(self) -> str | None:
        serving = self._serving()
        if serving is None:
            return None
        if serving.mode == "external" and serving.external_host:
            return serving.external_host.rstrip("/") + "/api/debug/stats" + STATS_QUERY
        app = serving.stack.app
        # A user's app (`--app`) answers the same figures on its reserved prefix (bench/inject).
        return app.url + getattr(app, "stats_path", "/api/debug/stats") + STATS_QUERY if app is not None else None

    def _mock_url(self) -> str | None:
        serving = self._serving()
        mock = serving.stack.mock if serving is not None and serving.mode != "external" else None
        return mock.url + "/mock/stats" if mock is not None else None

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        serving = self._serving()
        config = serving.stack.config if serving is not None else None
        if serving is not None and serving.starting is not None:
            config = serving.starting
        app_reading, mock_reading = self.app.reading, self.mock.reading
        starting = serving is not None and serving.mode == "starting"
        # While servers (re)start, figures of the previous ones must not pass for the new ones'.
        app = {} if starting else app_reading.data or {}
        mock = {} if starting else mock_reading.data or {}
        lag = app.get("loop_lag") or {}
        return {
            "mode": serving.mode if serving is not None else "idle",
            "error": serving.error if serving is not None else None,
            "variant": app.get("variant") or (config.variant if config else None),
            "backend": config.backend_text() if config and serving and serving.mode in ("embedded", "starting")
            else (serving.external_host if serving else None),
            "app_url": (serving.stack.app.url if serving and serving.stack.app and serving.mode == "embedded"
                        else serving.external_host if serving else None),
            "app": {
                "constructions": app.get("constructions"),
                "live_instances": app.get("live_instances"),
                "live_instances_peak": app.get("live_instances_peak"),
                "loop_lag_max_ms": lag.get("max_ms"),
                "loop_lag_p99_ms": lag.get("p99_ms"),
                "in_flight": app.get("in_flight"),
                "in_flight_peak": app.get("in_flight_peak"),
                "rss_mib": self._rss_mib(serving),
                "blocked": blocked_view(app.get("blocked")),
                "age_s": _age(app_reading, now),
                "waiting_s": round(now - app_reading.asked_at, 1) if app_reading.asked_at else 0.0,
                "error": app_reading.error,
            },
            "mock": {
                "in_flight": mock.get("in_flight"),
                "peak_in_flight": mock.get("peak_in_flight"),
                "received": mock.get("received"),
                "upstream_429s": (mock.get("answered_by_status") or {}).get("429", 0) if mock else None,
                "age_s": _age(mock_reading, now),
                "error": mock_reading.error,
            },
            "locust": self._locust(),
        }

    def _rss_mib(self, serving: Serving | None) -> float | None:
        app = serving.stack.app if serving is not None and serving.mode == "embedded" else None
        if app is None:
            return None
        total = 0
        for proc in app.process.tree():
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                continue  # a worker that just exited
        return round(total / 2**20, 1)

    def _locust(self) -> dict[str, Any]:
        runner = self.environment.runner
        total = runner.stats.total
        return {
            "state": runner.state,
            "users": runner.user_count,
            "requests": total.num_requests,
            "failures": total.num_failures,
            "rps": round(total.current_rps, 1),
            "avg_ms": round(total.avg_response_time, 1),
            "median_ms": total.median_response_time,
            "p95_ms": total.get_response_time_percentile(0.95) if total.num_requests else None,
        }


def site_where(label: str) -> str:
    """`file:line function` of a site label, without the library call or code line that follow it."""
    return label.split(" -> ")[0].split(": ")[0]


def blocked_view(blocked: Any) -> dict[str, Any] | None:
    """The app's blocked-loop figures as the tab shows them: totals and the top sites, each with its file and
    line, the library call it made (or its code line) and its share of the blocked time. None when the app has
    no sampler (an older app, or your own) or it is off."""
    if not isinstance(blocked, dict) or not blocked.get("running"):
        return None
    sites = []
    for s in (blocked.get("sites") or [])[:TOP_SITES]:
        calls = str(s["calls"]).rsplit(" ", 1)[-1] if s.get("calls") else s.get("code")
        sites.append({"where": site_where(str(s.get("site") or "?")), "calls": calls, "own_code": s.get("own_code"),
                      "blocked_ms": s.get("blocked_ms"), "share": s.get("share")})
    return {"blocked_ms": blocked.get("blocked_ms"), "share": blocked.get("blocked_share"),
            "blocks": blocked.get("block_count"), "max_block_ms": blocked.get("max_block_ms"),
            "threshold_ms": (blocked.get("settings") or {}).get("threshold_ms"), "sites": sites}


def _age(reading: Reading, now: float) -> float | None:
    return round(now - reading.at, 1) if reading.at is not None else None

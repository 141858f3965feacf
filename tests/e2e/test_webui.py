"""`locust -f locustfile.py` with no host: Locust starts the mock and the chosen variant itself (headless or
from the web UI), restarts them when the parameters change, and leaves nothing running when it quits."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.servers.process import ServerProcess
from tests.support.locust_ui import ROOT, running_locust, template_args

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _records(records_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(records_dir.glob("*.jsonl")) for line in path.read_text().splitlines()]


def test_headless_run_starts_its_own_servers_and_stops_them(tmp_path: Path) -> None:
    records = tmp_path / "records"
    args = ["--headless", "-u", "50", "-r", "50", "-t", "10s", "--variant", "async", "--mock-latency-ms", "50",
            "--records-dir", str(records)]
    with running_locust(args, tmp_path / "locust.log") as locust:
        assert locust.wait(timeout=90) == 0, locust.log()[-3000:]
        log = locust.log()
    assert log.count("embedded servers up: variant async against the mock backend (50 ms") == 1
    assert "embedded app async: ChatAgent constructions" in log  # the end-of-run line on the app's insides
    assert len(locust.servers_seen()) == 2, locust.seen  # the mock and the app, nothing else
    assert locust.survivors() == []
    rows = _records(records)
    assert len(rows) == 50
    assert {r["variant"] for r in rows} == {"async"} and {r["status"] for r in rows} == {200}


def test_headless_across_processes_starts_the_servers_once(tmp_path: Path) -> None:
    records = tmp_path / "records"
    args = ["--headless", "-u", "20", "-r", "20", "-t", "20s", "--processes", "2", "--app-variant", "lru_cache",
            "--mock-latency-ms", "50", "--records-dir", str(records)]
    with running_locust(args, tmp_path / "locust.log") as locust:
        assert locust.wait(timeout=90) == 0, locust.log()[-3000:]
        log = locust.log()
    assert log.count("embedded servers up") == 1
    assert len(locust.servers_seen()) == 2
    assert locust.survivors() == []
    rows = _records(records)
    assert len(rows) == 20 and {r["worker"] for r in rows} == {0, 1}
    assert {r["variant"] for r in rows} == {"lru_cache"} and {r["status"] for r in rows} == {200}


def test_a_given_host_starts_nothing(tmp_path: Path, async_app: ServerProcess) -> None:
    # What `bench run` does: it passes --host and a free --variant label, which must stay as given.
    records = tmp_path / "records"
    args = ["--headless", "-u", "5", "-r", "5", "-t", "20s", "--host", async_app.url, "--variant", "my-label",
            "--records-dir", str(records)]
    with running_locust(args, tmp_path / "locust.log") as locust:
        assert locust.wait(timeout=60) == 0, locust.log()[-3000:]
        log = locust.log()
    assert "embedded" not in log
    assert locust.seen == {}
    assert {r["variant"] for r in _records(records)} == {"my-label"}


def test_a_bad_parameter_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with running_locust(["--headless", "-t", "5s", "--variant", "nope"], tmp_path / "locust.log") as locust:
        assert locust.wait(timeout=60) == 2
        log = locust.log()
    assert "unknown variant 'nope'; valid presets: sync, async" in log
    assert "Traceback" not in log and locust.seen == {}


def _swarm(variant: str, users: int = 20, **extra: Any) -> dict[str, Any]:
    return {"user_count": users, "spawn_rate": users, "host": "embedded", "app_variant": variant,
            "backend": "mock", "mock_latency_ms": 50, "mock_rps": 0, "mock_tier": "none", "scenario": "burst",
            **extra}


def test_web_ui_starts_restarts_and_stops_the_servers(tmp_path: Path) -> None:
    with running_locust([], tmp_path / "locust.log", web=True) as locust:
        base = locust.base_url
        assert base is not None
        args = template_args(httpx.get(base + "/").text)
        assert args["host"] == "embedded" and not args["missing_host_warning"]
        assert args["extended_tabs"] == [{"title": "Insides", "key": "insides"}]
        options = args["extra_options"]
        assert options["app_variant"]["choices"][:2] == ["async", "sync"]
        assert {"backend", "mock_latency_ms", "mock_rps", "mock_tier", "scenario"} <= set(options)
        page = httpx.get(base + "/insides").text
        assert "Insides of the app under test" in page and "https://" not in page and "http://" not in page
        assert 'id="blocked_sites"' in page and 'id="loop_blocked"' in page
        assert locust.get_json("/insides/stats")["mode"] == "idle"

        bad = locust.post("/swarm", _swarm("async", mock_latency_ms="-5"))
        assert not bad["success"] and "--mock-latency-ms must be >= 0" in bad["message"]
        assert locust.servers_seen() == []

        first = _run_burst(locust, "sync", 20)
        assert first["variant"] == "sync" and first["mode"] == "embedded"
        app = first["app"]
        assert app["constructions"] >= 1 and app["live_instances"] >= 1 and app["rss_mib"] > 50
        assert app["loop_lag_max_ms"] > 50  # 20 requests x 50 ms, one after the other on the loop
        assert first["mock"]["upstream_429s"] == 0
        assert first["mock"]["peak_in_flight"] == 1  # a blocked loop sends one upstream call at a time
        rows = {r["figure"]: r["value"] for r in locust.get_json("/stats/requests")["extended_stats"][0]["data"]}
        assert rows["Variant"] == "sync" and rows["Locust requests (failures)"] == "20 (0)"
        # The blocked-loop sampler names the seed's blocking invoke, live: in the snapshot and in the tab.
        blocked = app["blocked"]
        assert blocked["blocked_ms"] > 0.5 * 20 * 50 and blocked["share"] > 0.2, blocked
        top = blocked["sites"][0]
        assert top["where"] == f"app_under_test/agent.py:{_invoke_line()} ChatAgent._agenerate", blocked
        # Not all of it: a cold app's first calls also block in the SDKs' one-time set-up (openai's type hints, its
        # `uname -p`), and a few blocks on a busy box get no sample. 20 invokes x 50 ms did block at that line.
        assert top["calls"].endswith("invoke") and top["blocked_ms"] >= 0.5 * 20 * 50, blocked["sites"]
        assert rows["Blocking call site #1"].startswith(top["where"] + " -> "), rows
        assert rows["Event loop blocked (over 20 ms at a time)"].endswith(" ms"), rows

        again = _run_burst(locust, "sync", 20)
        assert again["app_url"] == first["app_url"]  # same parameters: the same servers, counters reset

        other = _run_burst(locust, "lru_cache", 20)  # no rate limiter: the burst reaches the mock at once
        assert other["variant"] == "lru_cache" and other["app_url"] != first["app_url"]
        assert other["mock"]["peak_in_flight"] > 1
        # `lru_cache` awaits: nothing blocks at the seed's invoke line (a cold app's first calls may block elsewhere).
        assert not [s for s in other["app"]["blocked"]["sites"] if s["where"] == top["where"]], other["app"]["blocked"]
        assert len(locust.servers_seen()) == 4  # two mocks, two apps: one of each per parameter set
        assert len(locust.survivors()) == 2  # the first mock and app are gone, by then
        rc = locust.terminate(signal.SIGINT)
    assert rc == 0, f"{locust.signals_when_sent}\n{locust.log()[-3000:]}"
    assert locust.survivors() == []


def _invoke_line() -> int:
    lines = (ROOT / "app_under_test" / "agent.py").read_text().splitlines()
    [line] = [i for i, text in enumerate(lines, start=1) if 'self.llm.invoke(state["messages"])  # the seed' in text]
    return line


def _run_burst(locust: Any, variant: str, users: int) -> dict[str, Any]:
    # Zero Locust's counts first, so the previous burst's "stopped, N requests" cannot pass for this one's.
    httpx.post(locust.base_url + "/stats/reset", timeout=10.0)
    started = locust.post("/swarm", _swarm(variant, users))
    assert started["success"], started

    def finished() -> dict[str, Any] | None:
        s = locust.get_json("/insides/stats")
        done = s["mode"] == "embedded" and s["locust"]["state"] == "stopped" and s["locust"]["requests"] == users
        # The pollers' figures may be up to half a second older than Locust's: wait for the mock to be idle too.
        settled = s["app"]["age_s"] is not None and s["mock"]["received"] == users and s["mock"]["in_flight"] == 0
        return s if done and settled else None

    return locust.wait_until(finished, 60, f"a burst of {users} on {variant}")

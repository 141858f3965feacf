"""The web UI's Start form runs a user's app: with `app` (a text field) set to MODULE:ATTR, pressing Start brings up
that app instrumented (its request derived from its OpenAPI schema) against the embedded mock, and the Insides tab
reads its figures from the reserved prefix: watched constructions, the blocked loop by call site in the app's code."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.locust_ui import running_locust, template_args

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _form(users: int, **extra: Any) -> dict[str, Any]:
    return {"user_count": users, "spawn_rate": users, "host": "embedded", "app_variant": "async", "backend": "mock",
            "mock_latency_ms": 50, "mock_rps": 0, "mock_tier": "none", "scenario": "burst", **extra}


def test_the_start_form_runs_a_users_app(tmp_path: Path) -> None:
    with running_locust([], tmp_path / "locust.log", web=True) as locust:
        base = locust.base_url
        assert base is not None
        options = template_args(httpx.get(base + "/").text)["extra_options"]
        assert {"app", "app_watch", "chat_method", "chat_body"} <= set(options)

        bad = locust.post("/swarm", _form(5, app="no_colon_here"))
        assert not bad["success"] and "expected MODULE:ATTR" in bad["message"]

        httpx.post(base + "/stats/reset", timeout=10.0)
        users = 10
        started = locust.post("/swarm", _form(users, app="examples.blocking_openai:app", app_watch="openai:OpenAI"))
        assert started["success"], started

        def finished() -> dict[str, Any] | None:
            s = locust.get_json("/insides/stats")
            done = s["mode"] == "embedded" and s["locust"]["state"] == "stopped" and s["locust"]["requests"] == users
            settled = s["app"]["age_s"] is not None and s["mock"]["received"] == users and s["mock"]["in_flight"] == 0
            return s if done and settled else None

        snap = locust.wait_until(finished, 90, "a burst on the user's app")
        assert snap["variant"] == "examples.blocking_openai:app", snap
        rows = {r["figure"]: r["value"] for r in locust.get_json("/stats/requests")["extended_stats"][0]["data"]}
        assert rows["Locust requests (failures)"] == f"{users} (0)", rows  # POST /chat, derived, answered 200
        app = snap["app"]
        assert app["constructions"] >= 1, app  # the watched OpenAI clients, from /__bench__/stats
        assert snap["mock"]["peak_in_flight"] == 1  # the sync client inside async def: one upstream call at a time
        top = app["blocked"]["sites"][0]
        assert top["where"].startswith("examples/blocking_openai.py:") and top["where"].endswith(" chat"), top
        assert "embedded servers up: app examples.blocking_openai:app" in locust.log()
        rc = locust.terminate(signal.SIGINT)
    assert rc == 0, f"{locust.signals_when_sent}\n{locust.log()[-3000:]}"
    assert locust.survivors() == []

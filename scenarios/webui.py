"""Extensions of Locust's web UI (it exists on the master only): an Insides tab in Locust's own UI, the live
/insides page, a check of the embedded servers' parameters before a start, and the scenario chosen in the
form applied to the user class and shape.
"""

from __future__ import annotations

import locust  # noqa: F401  # gevent monkey-patching must come before anything else in a Locust process

# isort: split
import json
from typing import Any

import gevent
from flask import Response, jsonify, request
from locust.runners import STATE_RUNNING, STATE_SPAWNING

from bench.errors import BenchError
from scenarios import serving
from scenarios.insides import POLL_INTERVAL_S, Insides
from scenarios.insides_page import PAGE
from scenarios.registry import SCENARIOS, resolve

TAB_KEY = "insides"
# Locust's React UI shows an extended tab as a table whose rows come with each /stats/requests poll (2 s).
TAB = {"title": "Insides", "key": TAB_KEY}
# Not "name": the table sorts rows by a column of that key, and the figures read best in their own order.
TABLE = {"key": TAB_KEY, "structure": [{"key": "figure", "title": "Figure"}, {"key": "value", "title": "Value"}]}
EMBEDDED_DESTS = ("app_variant", "app", "app_watch", "backend", "mock_latency_ms", "mock_rps", "mock_tier", "scenario")


def install(environment: Any) -> None:
    """From the init event; a no-op without a web UI (headless runs and workers)."""
    web_ui = environment.web_ui
    if web_ui is None:
        return
    insides = Insides(environment)
    insides.start()
    environment.events.test_start.add_listener(lambda **_: insides.clear())
    environment.events.quitting.add_listener(lambda **_: insides.stop())
    # Locust's Reset button starts a new window for the app's peaks too; in a greenlet, since a blocked app
    # may take seconds to answer and the button's request must not wait for it.
    environment.events.reset_stats.add_listener(lambda **_: _reset_app(environment))
    base = (getattr(environment.parsed_options, "web_base_path", "") or "").rstrip("/")
    app = web_ui.app

    @app.route(base + "/insides")
    @web_ui.auth_required_if_enabled
    def insides_page() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.route(base + "/insides/stats")
    @web_ui.auth_required_if_enabled
    def insides_stats() -> Response:
        return jsonify(insides.snapshot())

    @app.after_request
    def add_tab_rows(response: Response) -> Response:
        if request.path == base + "/stats/requests" and response.is_json:
            data = response.get_json()
            data["extended_stats"] = [{"key": TAB_KEY, "data": tab_rows(insides.snapshot())}]
            response.set_data(json.dumps(data))
        return response

    @app.before_request
    def before_swarm() -> Response | None:
        if request.method != "POST" or request.path != base + "/swarm":
            return None
        message = prepare_start(environment, request.form.to_dict())
        if message is not None:
            return jsonify({"success": False, "message": message, "host": environment.host})
        return None

    web_ui.template_args["extended_tabs"] = [TAB]
    web_ui.template_args["extended_tables"] = [TABLE]
    web_ui.template_args["extended_csv_files"] = [
        {"href": "./insides", "title": f"Live Insides page (refreshes every {POLL_INTERVAL_S:g} s)"}]
    if web_ui.userclass_picker_is_active:
        _offer_shapes(environment)


def prepare_start(environment: Any, form: dict[str, str]) -> str | None:
    """Before /swarm: an error message for a bad parameter (the UI shows it), else None after applying the
    form's scenario (its user class and shape) unless the class picker is in charge."""
    values = {k: v for k, v in form.items() if k in EMBEDDED_DESTS}
    if serving.is_embedded_host(form.get("host", environment.host), serving.get_serving(environment)):
        try:
            serving.check(environment, values)
        except (BenchError, ValueError) as exc:
            return str(exc)
    scenario = values.get("scenario")
    if scenario not in SCENARIOS:
        return None if scenario is None else f"unknown scenario {scenario!r}; valid: {', '.join(SCENARIOS)}"
    runner = environment.runner
    picker = environment.web_ui.userclass_picker_is_active
    if picker or runner.state in (STATE_RUNNING, STATE_SPAWNING):
        return None
    spec = SCENARIOS[scenario]
    if not getattr(environment.parsed_options, "user_classes", None):
        environment.user_classes = [resolve(spec.user_class)]
    shape = resolve(spec.shape_class)() if spec.shape_class else None
    if shape is not None:
        shape.runner = runner
    environment.shape_class = shape
    return None


def _reset_app(environment: Any) -> None:
    state = serving.get_serving(environment)
    if state is not None and state.mode == "embedded":
        gevent.spawn(state.stack.reset_counters)


def _offer_shapes(environment: Any) -> None:
    """The class picker lists the scenarios' shapes too (the locustfile cannot import them: Locust would
    apply one to every scenario)."""
    for spec in SCENARIOS.values():
        if spec.shape_class:
            shape = resolve(spec.shape_class)()
            shape.runner = environment.runner
            environment.available_shape_classes[type(shape).__name__] = shape


def blocked_rows(b: dict[str, Any] | None, num: Any) -> list[tuple[str, str]]:
    """The event loop's blocks since the test started, and the call sites that made them."""
    if b is None:
        return []
    share = f"{b['share']:.1%} of the time" if isinstance(b.get("share"), int | float) else "-"
    rows = [(f"Event loop blocked (over {num(b.get('threshold_ms'), 0)} ms at a time)",
             f"{num(b.get('blocked_ms'), 0)} ms, {share}, {num(b.get('blocks'))} blocks, "
             f"longest {num(b.get('max_block_ms'), 0)} ms")]
    for i, site in enumerate(b.get("sites") or [], start=1):
        what = f" -> {site['calls']}" if site.get("calls") else ""
        share = f"{site['share']:.0%}" if isinstance(site.get("share"), int | float) else "-"
        rows.append((f"Blocking call site #{i}", f"{site['where']}{what}: {num(site.get('blocked_ms'), 0)} ms "
                                                  f"({share} of blocked time)"))
    return rows


def tab_rows(s: dict[str, Any]) -> list[dict[str, str]]:
    """The Insides tab's table: one row per figure, values as text."""
    a, m, lo = s["app"], s["mock"], s["locust"]

    def num(v: Any, digits: int = 1) -> str:
        return "-" if v is None else f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"

    def pair(v: Any, peak: Any) -> str:
        return f"{num(v)} (peak {num(peak)})"

    if a["waiting_s"] and a["waiting_s"] > 1:
        freshness = f"waiting {a['waiting_s']:.1f} s for the app's stats route (its event loop is busy)"
    elif a["age_s"] is not None:
        freshness = f"{a['age_s']:.1f} s old"
    else:
        freshness = a["error"] or ("press Start to bring up the app" if s["mode"] == "idle" else "-")
    rows = [
        ("Variant", s["variant"] or "-"),
        ("Backend", "your own server" if s["mode"] == "external" else s["backend"] or "-"),
        ("App URL", s["app_url"] or "-"),
        ("ChatAgent constructions (since the app started)", num(a["constructions"])),
        ("Live ChatAgent instances", pair(a["live_instances"], a["live_instances_peak"])),
        ("Event-loop lag max (ms)", num(a["loop_lag_max_ms"])),
        ("Event-loop lag p99, last minute (ms)", num(a["loop_lag_p99_ms"])),
        ("App RSS (MiB)", num(a["rss_mib"])),
        *blocked_rows(a.get("blocked"), num),
        ("Requests in flight in the app", pair(a["in_flight"], a["in_flight_peak"])),
        ("Upstream 429s", num(m["upstream_429s"])),
        ("Mock in flight", pair(m["in_flight"], m["peak_in_flight"])),
        ("Locust requests (failures)", f"{num(lo['requests'])} ({num(lo['failures'])})"),
        ("App figures", freshness),
        ("Live page", f"/insides, refreshed every {POLL_INTERVAL_S:g} s"),
    ]
    if s.get("error"):
        rows.insert(0, ("Error", s["error"]))
    return [{"figure": figure, "value": value} for figure, value in rows]

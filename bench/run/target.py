"""A user's app as the run's target (`bench run --app MODULE:ATTR`): what to start and how to call it (`UserTarget`),
the check before any step (it imports, its request answers), its profile (the quick profile's scenarios with the app
as the only variant), its warm-up, and each run's `--watch` figures merged over the workers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bench.errors import ServerStartError, UsageError
from bench.mock.config import TIERS, MockConfig
from bench.mock.process import running_mock
from bench.run.profiles import PROFILES, WARM_UP_REQUESTS, Profile, Step
from bench.servers import httpclient
from bench.servers.target import TargetServer, TargetSpec, running_target
from scenarios.request_spec import RequestSpec, derive

PROFILE_NAME = "app"
DEFAULT_TIER = "seed-10rps"  # the quick profile's steady step: 20 arrivals/s against an upstream allowing 10/s
STREAM_STEP = Step("stream", (), (), users=10, latency_ms=100.0, duration_s=2.0)
DISCOVERY_DEADLINE_S = 60.0
DEAD_UPSTREAM = "http://127.0.0.1:9/v1"  # discard port: nothing answers (a backend the run starts is not up yet)


@dataclass(frozen=True)
class UserTarget:
    spec: TargetSpec
    request: RequestSpec | None = None  # None: derived from the app's OpenAPI schema when the run starts
    stream_request: RequestSpec | None = None  # the SSE route, if the user gave one
    tier: str = DEFAULT_TIER  # the named rate-limit tier of the steady step's mock
    routes: tuple[str, ...] = ()  # the POST routes with a JSON body the schema listed (filled by `discover`)

    @property
    def label(self) -> str:
        return self.spec.label

    def locust_options(self) -> dict[str, str]:
        """What Locust sends: the user's request on the chat calls, the SSE request on the stream calls."""
        out = self.request.locust_options("chat") if self.request else {}
        return out | (self.stream_request.locust_options("stream") if self.stream_request else {})

    def describe(self) -> dict[str, Any]:
        return {"kind": "app", **self.spec.describe(),
                "request": self.request.describe() if self.request else None,
                "stream_request": self.stream_request.describe() if self.stream_request else None,
                "tier": self.tier, "routes": list(self.routes)}


def check_tier(tier: str) -> str:
    if tier not in TIERS:
        raise UsageError(f"unknown tier {tier!r}; valid: {', '.join(TIERS)}")
    return tier


def target_profile(target: UserTarget, *, scenarios: tuple[str, ...] = (), users: int | None = None,
                   latency_ms: float | None = None, repeat: int | None = None,
                   app_env: dict[str, str] | None = None) -> Profile:
    """The quick profile's steps on the user's app (the only variant); its steady step against the named tier
    instead of a bare rate; every step with the user's workers, the workers step with at least its own; a stream
    step when an SSE request is given."""
    quick = PROFILES["quick"]
    base = [*quick.steps, *((STREAM_STEP,) if target.stream_request else ())]
    steps = []
    seen: set[str] = set()
    for step in base:
        if (scenarios and step.scenario not in scenarios) or step.scenario in seen:
            continue
        seen.add(step.scenario)
        changes: dict[str, Any] = {"variants": (target.label,), "claims": (),
                                   "workers": max(step.workers, target.spec.workers)}
        if step.scenario == "steady":
            changes.update(upstream_limit_rps=0.0, upstream_tier=target.tier)
        if users is not None and step.scenario in ("burst", "cold-burst", "concurrency"):
            changes["users"] = users
        if latency_ms is not None:
            changes["latency_ms"] = latency_ms
        if repeat is not None:
            changes["repeat"] = None
        if app_env:
            changes["app_env"] = {**step.app_env, **app_env}
        steps.append(replace(step, **changes))
    unknown = [s for s in scenarios if s not in seen]
    if unknown:
        have = list(dict.fromkeys(s.scenario for s in base))
        raise UsageError(f"scenario {unknown[0]!r} is not run on a user's app; valid: {', '.join(have)}"
                         + ("" if target.stream_request else " (stream: give --stream-request)"))
    return replace(quick, name=PROFILE_NAME, steps=tuple(steps), repeat=repeat or quick.repeat,
                   summary=f"the quick profile's scenarios on {target.label}: cold burst, burst, steady at "
                           f"{target.tier}, concurrency, workers")


@contextlib.contextmanager
def _discovery_upstream(backend_url: str | None) -> Iterator[str]:
    if backend_url:
        yield backend_url
        return
    with running_mock(MockConfig(latency_ms=0.0)) as mock:
        yield mock.api_base


def _try(app: TargetServer, request: RequestSpec, what: str) -> None:
    try:
        resp = httpclient.request(request.method, app.url + request.path, json=request.json_body(),
                                  headers=dict(request.headers), timeout=60.0)
    except httpx.HTTPError as exc:
        raise UsageError(f"{request.method} {request.path} ({what}) got no answer: {type(exc).__name__}") from None
    if not 200 <= resp.status_code < 300:
        body = " ".join(resp.text.split())[:200]
        raise UsageError(f"{request.method} {request.path} ({what}) answered {resp.status_code}: {body}; "
                         f"give the request with --request 'METHOD /path {{...}}'")


def discover(target: UserTarget, *, backend_url: str | None = None, api_key: str | None = None,
             log_dir: str | None = None, try_request: bool = True) -> UserTarget:
    """Start the app once with one worker (it imports, or one line: exit 2), derive its request from its OpenAPI
    schema when none was given (no POST route, or several: one line, exit 2), and send each request once: an
    answer other than 2xx is one line too. `backend_url` None: an embedded mock answers instantly."""
    from scenarios.request_spec import candidates

    with _discovery_upstream(backend_url if try_request else DEAD_UPSTREAM) as upstream, \
            running_target(replace(target.spec, workers=1), upstream, api_key=api_key, log_dir=log_dir,
                           deadline_s=DISCOVERY_DEADLINE_S) as app:
        schema = app.openapi()
        routes = tuple(f"{c.method} {c.path}" for c in candidates(schema or {}))
        stream_path = (target.stream_request.path.split("?")[0],) if target.stream_request else ()
        request = target.request or derive(schema, target.label, (), exclude=stream_path)
        if try_request:
            _try(app, request, "the request")
        if target.stream_request and try_request:
            _try(app, target.stream_request, "the stream request")
    return replace(target, request=request, routes=routes)


def warm_up(app: TargetServer, request: RequestSpec, latency_ms: float) -> None:
    """Before a warm measurement on one worker: the user's request, sequentially (the singleton built, the pools
    open), as for the reference app. With several workers only a check that each answers: which worker builds
    what is what the workers scenario counts."""
    if app.workers > 1:
        if len(app.per_worker(deadline_s=20.0)) < app.workers:
            raise ServerStartError(f"only some of the {app.workers} workers answered before the run")
        return
    timeout = max(30.0, latency_ms / 1000 * 4 + 30)
    with httpclient.client(timeout=timeout, headers={"Connection": "close", **dict(request.headers)}) as client:
        for _ in range(WARM_UP_REQUESTS):
            client.request(request.method, app.url + request.path, json=request.json_body())


def starter(target: UserTarget) -> Callable[..., AbstractContextManager[TargetServer]]:
    """`running_app`'s call (variant, backend_url, **options) starting the user's app instead."""
    def start(variant: str, backend_url: str, **options: Any) -> AbstractContextManager[TargetServer]:
        return running_target(target.spec, backend_url, **options)
    return start


def merge_watched(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Each `--watch` class over the workers: constructions (in all, and during the run), constructions and live
    peak per process, and the construction sites summed by site. None when the app reported no watches."""
    if not any(isinstance(s.get("watched"), dict) for s in after):
        return None
    start = {s.get("pid"): s.get("watched") or {} for s in before}
    out: dict[str, Any] = {}
    for spec in dict.fromkeys(k for s in after for k in (s.get("watched") or {})):
        rows = [((s.get("watched") or {}).get(spec) or {}, start.get(s.get("pid"), {}).get(spec) or {})
                for s in after]
        sites: dict[str, dict[str, Any]] = {}
        for now, _ in rows:
            for site in now.get("sites") or []:
                row = sites.get(site["site"])
                if row is None:
                    sites[site["site"]] = row = {**site, "count": 0, "threads": 0, "thread_names": {}, "where": {}}
                row["count"] += int(site.get("count") or 0)
                row["threads"] += int(site.get("threads") or 0)
                for key in ("thread_names", "where"):
                    for k, v in (site.get(key) or {}).items():
                        row[key][k] = row[key].get(k, 0) + int(v)
        per_process = [int(now.get("constructions") or 0) for now, _ in rows]
        out[spec] = {
            "resolved": next((now.get("resolved") for now, _ in rows if now.get("resolved")), None),
            "constructions": sum(per_process),
            "constructions_in_run": sum(int(now.get("constructions") or 0) - int(was.get("constructions") or 0)
                                        for now, was in rows),
            "per_process": per_process,
            "live_peak_per_process": [int(now.get("live_peak") or 0) for now, _ in rows],
            "live_end": sum(int(now.get("live") or 0) for now, _ in rows),
            "untracked": sum(int(now.get("untracked") or 0) for now, _ in rows),
            "sites": sorted(sites.values(), key=lambda r: r["count"], reverse=True)[:10],
        }
    return out

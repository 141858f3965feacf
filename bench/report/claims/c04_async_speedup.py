"""C4: 50 concurrent requests, blocking `invoke` 2 min 30 s against `await ainvoke` 4 s: 37.5x. Measured: makespan
(first send to last answer) of a burst of N per variant; the ratio sync / async with its interval, for `async`
(ainvoke alone) and `async-limited` (the seed's whole recommendation: ainvoke behind InMemoryRateLimiter(10 rps)).

The ideal is not inferred from the ratio it explains. It comes from the backend probe (results.json
`probes.backend`, bench/run/backend_probe.py): one request alone takes L, N at once take T_N, the backend overlaps K
of them; a client that serializes waits N x L, the best any client can do is what the backend allows, so the ideal
ratio is max(N / ceil(N / K), N x L / T_N). The embedded mock's ideal is N by construction (it serves every request at
once at the latency the harness configured); there the probe is a self-check. Without a probe a real backend's ideal
is unknown."""

from __future__ import annotations

import math
from typing import Any

from bench.report.claims._common import (
    against_mock,
    backend_label,
    claim,
    first_params,
    limiter_bucket,
    limiter_rps,
    ms,
    secs,
    variant_runs,
)
from bench.report.clocks import too_uncertain
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R
from bench.results.stats import Estimate, bootstrap, ratio

C4_CLAIMED, C4_TOLERANCE, C4_FLOOR, C4_N = 37.5, 0.25, 30.0, 50
NOTHING_TO_OVERLAP_S = 0.020  # L under 20 ms: about the client stack's own CPU per request (~10 ms), no wait to overlap
CONFIGS = {"async": "`async` (ainvoke alone)", "async-limited": "`async-limited` (the seed's whole recommendation)"}

RULE = (
    f"Each of `async` and `async-limited` is reproduced when the interval of the makespan ratio sync / it overlaps "
    f"{C4_CLAIMED}x ± {C4_TOLERANCE:.0%} or its median is >= {C4_FLOOR:g}x; the claim is reproduced when both are, "
    f"partly when only one is (the seed's recommendation adds the limiter). The ideal comes from the backend probe "
    f"(L alone, N at once: ideal = max(N / ceil(N / K), N x L / T_N)); the embedded mock's is N by construction, "
    f"which the probe checks. Not judged: where one request alone takes under {NOTHING_TO_OVERLAP_S * 1000:g} ms "
    f"(nothing to overlap), where the backend allows under {C4_CLAIMED * (1 - C4_TOLERANCE):.3g}x (the claimed "
    f"speedup cannot occur there), at N other than {C4_N}, and against the embedded mock at any latency but the "
    "seed's 3 s (the ratio approaches N as latency grows), nor where Locust workers' clock uncertainty exceeds 5% "
    "of a makespan."
)


def _burst_setup(results: dict[str, Any]) -> tuple[str | None, dict[str, list[R.Run]]]:
    """The burst set-up to judge C4 on: the seed's if it ran, else the longest-latency one with both variants."""
    sync_setups = R.by_setup(variant_runs(results, "burst", "sync"))
    async_setups = R.by_setup(variant_runs(results, "burst", "async"))

    def rank(key: str) -> tuple[bool, float, int]:
        p = sync_setups[key][0].get("params") or {}
        return R.is_seed_setup(p), float(p.get("latency_ms") or 0), int(p.get("users") or 0)

    setups = sorted(set(sync_setups) & set(async_setups), key=rank)
    if not setups:
        return None, {}
    key = setups[-1]
    groups = {spec: R.by_setup(variant_runs(results, "burst", spec)).get(key, [])
              for spec in ("sync", "async", "async-limited", "threadpool")}
    return key, groups


def _self_check(probe: dict[str, Any]) -> str:
    """The backend probe of the embedded mock, as a sentence: it must read back the configured latency and K >= N."""
    check = probe.get("self_check") if isinstance(probe.get("self_check"), dict) else None
    if not probe.get("latency_s") or check is None:
        return "no backend probe in this file"
    figures = (f"at {float(check.get('configured_latency_s') or 0) * 1000:g} ms configured it read L = "
               f"{_ms3(float(probe['latency_s']))} and K = {float(probe.get('overlap') or 0):.3g} of {probe.get('n')}")
    if check.get("ok"):
        return f"the backend probe's self-check holds: {figures}"
    return f"the backend probe's self-check FAILED: {figures} (the probing client, not the mock, set them)"


def _ideal(results: dict[str, Any], n: int, latency_s: float) -> dict[str, Any]:
    """The ideal ratio at N, what it rests on, and L (None when unknown)."""
    probe = R.get(results, "probes.backend") or {}
    b = results.get("backend") or {}
    if against_mock(results):
        # The harness configured the mock: every request at once at its latency, by construction; the probe checks it.
        return {"ideal": float(n), "k": float(n), "lone": latency_s, "source": "mock configuration",
                "how": f"the embedded mock serves every request at once at its configured {ms(latency_s)} "
                       f"({_self_check(probe)}): a serialized burst takes N x latency, a concurrent one one latency, "
                       f"ideal N = {n}x"}
    if probe and probe.get("ok", True) and probe.get("latency_s") and probe.get("overlap"):
        k = min(float(probe["overlap"]), float(n))
        if int(probe.get("n") or 0) == n and probe.get("ideal_ratio"):
            ideal = float(probe["ideal_ratio"])
        else:
            ideal = n / math.ceil(n / k)
        lone = float(probe["latency_s"])
        t_n = secs(float(probe["burst_makespan_s"]))
        how = (f"probed ({probe.get('target') or 'the backend'}): one request alone L = {_ms3(lone)} (median of "
               f"{len(probe.get('lone_s') or [])}), {probe.get('n')} at once T_N = {t_n}, "
               f"{probe.get('answered_within_slack')} answered within 1.5 x L, median latency "
               f"x{probe.get('latency_growth')}: K = {k:.3g}; ideal = max(N / ceil(N / K), N x L / T_N) = {ideal:.3g}x")
        return {"ideal": ideal, "k": k, "lone": lone, "how": how, "source": "probe"}
    if probe and probe.get("errors"):
        return {"ideal": None, "k": None, "lone": None, "source": None,
                "how": f"the backend probe got errors ({probe['errors']}): what this backend allows is unknown"}
    if b.get("serializes"):
        return {"ideal": 1.0, "k": 1.0, "lone": None, "source": "backend description",
                "how": "the backend describes itself as serving one request at a time (K = 1; no probe in this file)"}
    return {"ideal": None, "k": None, "lone": None, "source": None,
            "how": "no backend probe in this file: what this backend allows is unknown"}


def _ms3(seconds: float) -> str:
    """Three significant digits: a backend that answers in 0.3 ms must not read as 0 ms."""
    return f"{seconds * 1000:.3g} ms"


def _judge(est: Estimate) -> bool:
    lo, hi = C4_CLAIMED * (1 - C4_TOLERANCE), C4_CLAIMED * (1 + C4_TOLERANCE)
    return (est.low <= hi and est.high >= lo) or est.median >= C4_FLOOR


def _share(x: float, ideal: float | None) -> str:
    return f" ({x / ideal:.0%} of the ideal)" if ideal else ""


@claim("C4", "50 concurrent requests: blocking `invoke` 2 min 30 s, `await ainvoke` 4 s: 37.5x faster.", rule=RULE,
       measured_by="backend probe; burst: sync, async, async-limited (also threadpool)")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    key, g = _burst_setup(results)
    if key is None:
        return rule.not_measured("no burst set-up with both `sync` and `async`")
    params = first_params(g["sync"])
    n, lat = int(params.get("users") or 0), float(params.get("latency_ms") or 0) / 1000
    sync_m = R.values(g["sync"], "metrics.makespan_s")
    ests = {spec: ratio(sync_m, R.values(g[spec], "metrics.makespan_s")) for spec in CONFIGS if g[spec]}
    est = ests["async"]
    if est.n == 0:
        return rule.not_measured("burst runs of `sync` and `async` recorded no makespan")
    mock, label = against_mock(results), backend_label(results)
    ideal = _ideal(results, n, lat)
    top = ideal["ideal"]
    ms_sync, ms_async = bootstrap(sync_m), bootstrap(R.values(g["async"], "metrics.makespan_s"))
    seed = R.is_seed_setup(params)
    if mock:
        setup = (f"{R.profile_of(results)} profile, {R.setup_label(params)} "
                 + ("(the seed's set-up)" if seed else "(not the seed's set-up of N=50, 3000 ms)"))
    else:
        setup = f"{R.profile_of(results)} profile, burst of N={n} against {label}"
    ideal_text = f"{top:.3g}x" if top else "unknown"
    measured = (f"{'at ' + setup if mock else 'against ' + label}: makespan ratio sync / async "
                f"{est.fmt('.3g', 'x')}{_share(est.median, top)}"
                + (f", sync / async-limited {ests['async-limited'].fmt('.3g', 'x')}"
                   f"{_share(ests['async-limited'].median, top)}" if "async-limited" in ests else "")
                + f"; ideal {ideal_text} ({ideal['source'] or 'no probe'}): sync {ms_sync.fmt('.4g', ' s')}, "
                f"async {ms_async.fmt('.3g', ' s')}")
    details = [f"Ideal: {ideal['how']}."]
    details += _overheads(ms_sync.median, ms_async.median, n, ideal["lone"] if ideal["lone"] is not None else lat,
                          top, mock)
    why_limited = ""
    if g["async-limited"]:
        p = first_params(g["async-limited"])
        rps, bucket = limiter_rps(p), limiter_bucket(p)
        lim = bootstrap(R.values(g["async-limited"], "metrics.makespan_s"))
        lone = ideal["lone"] if ideal["lone"] is not None else lat
        floor_full, floor_empty = max(0.0, (n - bucket) / rps) + lone, n / rps + lone
        why_limited = f"its InMemoryRateLimiter releases {rps:g} requests a second"
        details.append(f"`async-limited` (adds the seed's InMemoryRateLimiter, {rps:g} req/s, bucket {bucket:g}): "
                       f"makespan {lim.fmt('.3g', ' s')}; the limiter alone admits a burst of {n} no faster than "
                       f"(N - bucket)/rate + latency = {secs(floor_full)} with a full bucket, {secs(floor_empty)} "
                       f"from empty (the seed reported about 4 s for its async burst).")
    if g["threadpool"]:
        tp = bootstrap(R.values(g["threadpool"], "metrics.makespan_s"))
        details.append(f"`threadpool` (`def` endpoint with `invoke`, 40 worker threads): makespan "
                       f"{tp.fmt('.3g', ' s')}.")
    if not mock:
        in_flight = bootstrap(R.values(g["async"], "app.in_flight_peak")).median
        if not math.isnan(in_flight):
            details.append(f"The app itself held {in_flight:g} requests at once in the async burst: the client side "
                           "was concurrent.")
    numbers: dict[str, Any] = {"ratio": est.median, "low": est.low, "high": est.high, "ideal": top,
                               "overlap": ideal["k"], "ideal_source": ideal["source"], "seed_setup": seed,
                               "ratio_limited": ests["async-limited"].median if "async-limited" in ests else None}
    shown = "; ".join(f"{CONFIGS[s]} {e.median:.3g}x" + (f" ({why_limited})" if s == "async-limited" else "")
                      for s, e in ests.items())
    why = _not_judged(ideal, n, mock, seed, lat)
    if why is None and (blur := too_uncertain([*g["sync"], *g["async"], *g["async-limited"]])):
        why = f"not judged: {blur}"
    if why:
        backend_bound = why.startswith(("nothing to overlap", "the backend"))
        return rule.verdict("not measured", f"{why}; here {shown}, of an ideal {ideal_text} (claimed {C4_CLAIMED}x)"
                            + ("; not a refutation" if backend_bound else ""), measured, setup=setup,
                            details=details, backend_bound=backend_bound, **numbers)
    ok = {s: _judge(e) for s, e in ests.items()}
    if "async-limited" not in ests:
        head = (f"reproduced for {CONFIGS['async']}: {est.median:.3g}x against the claimed {C4_CLAIMED}x"
                if ok["async"] else f"not reproduced: {CONFIGS['async']} {est.median:.3g}x against the claimed "
                f"{C4_CLAIMED}x")
        return rule.verdict("partial" if ok["async"] else "not reproduced",
                            f"{head}; {CONFIGS['async-limited']} not measured", measured, setup=setup,
                            details=details, **numbers)
    lim_x = ests["async-limited"].median
    if ok["async"] and ok["async-limited"]:
        return rule.verdict("reproduced", f"reproduced for `async` ({est.median:.3g}x) and `async-limited` "
                            f"({lim_x:.3g}x) against the claimed {C4_CLAIMED}x", measured, setup=setup,
                            details=details, **numbers)
    if ok["async"]:
        return rule.verdict("partial", f"reproduced for {CONFIGS['async']}: {est.median:.3g}x against the claimed "
                            f"{C4_CLAIMED}x; not for {CONFIGS['async-limited']}: {lim_x:.3g}x, because {why_limited}",
                            measured, setup=setup, details=details, **numbers)
    if ok["async-limited"]:
        return rule.verdict("partial", f"reproduced for {CONFIGS['async-limited']}: {lim_x:.3g}x against the claimed "
                            f"{C4_CLAIMED}x; not for {CONFIGS['async']}: {est.median:.3g}x", measured, setup=setup,
                            details=details, **numbers)
    return rule.verdict("not reproduced", f"not reproduced: `async` {est.median:.3g}x, `async-limited` {lim_x:.3g}x "
                        f"against the claimed {C4_CLAIMED}x ({why_limited})", measured, setup=setup, details=details,
                        **numbers)


def _not_judged(ideal: dict[str, Any], n: int, mock: bool, seed: bool, latency_s: float) -> str | None:
    """Why the claim's 37.5x cannot be judged here (None: it can)."""
    top, k, lone = ideal["ideal"], ideal["k"], ideal["lone"]
    if top is None:
        return "not judged: what the backend allows is unknown (" + ideal["how"].split(":")[0] + ")"
    if lone is not None and lone < NOTHING_TO_OVERLAP_S:
        return (f"nothing to overlap: the claim cannot be tested against this backend (one request alone takes "
                f"{lone * 1000:.3g} ms, under {NOTHING_TO_OVERLAP_S * 1000:g} ms: there is no upstream wait for "
                "`ainvoke` to overlap, only CPU per request)")
    if top < C4_CLAIMED * (1 - C4_TOLERANCE):
        if k is not None and k < 1.5:
            return ("the backend serves one request at a time (K = 1): no client-side design can overlap requests "
                    "against it, so the claim cannot be tested there")
        return (f"the backend allows at most {top:.3g}x (it overlaps about {k:.3g} of {n}), below the claimed "
                f"{C4_CLAIMED}x: the claim cannot be tested there")
    if n != C4_N:
        return f"not measured at the claim's N={C4_N}"
    if mock and not seed:
        return f"not measured at the seed's set-up (N=50, 3000 ms; this burst: {latency_s * 1000:g} ms)"
    return None


def _overheads(sync_s: float, async_s: float, n: int, lone_s: float, ideal: float | None, mock: bool) -> list[str]:
    """How far each design is from what the backend allows, and the per-request overhead that explains the gap."""
    if not n or math.isnan(sync_s) or math.isnan(async_s):
        return []
    sync_over, async_over = (sync_s - n * lone_s) / n, async_s - lone_s
    out = []
    if ideal and lone_s > 0:
        allowed = n * lone_s / ideal
        out.append(f"What the backend allows for N={n}: N x L / ideal = {secs(allowed)}. `async` took "
                   f"{async_s / allowed:.3g}x that; `sync` {sync_s / allowed:.3g}x (it waits for each request in turn: "
                   f"N x L = {secs(n * lone_s)}).")
    out.append(f"Overhead that explains the gap: blocking call {ms(sync_over)} per request beyond L; async burst "
               f"{ms(async_over)} beyond one L ({ms(async_over / n)} per request).")
    if mock and lone_s < 3.0:
        per_async = async_over / n
        predicted = 50 * (3.0 + sync_over) / (3.0 + 50 * per_async)
        out.append(f"The ratio approaches N as latency grows; these overheads predict about {predicted:.3g}x at the "
                   "seed's set-up (N=50, 3 s).")
    return out

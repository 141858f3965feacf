"""C10: configuration through `.env` (limiter rate, retries, log level), OpenAI tier limits setting the limiter.
Measured by probes against the embedded mock: the app reads back the `.env` values sent (`settings_echo`); for each
tier the claim names, the mock answers 429 past its requests per minute, and the app with its limiter set from the
tier sends no more upstream than the tier allows (`tier_limits`)."""

from __future__ import annotations

import math
from typing import Any

from bench.report.claims._common import claim, mock_only
from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R


def _same_setting(seen: Any, sent: Any) -> bool:
    """`42` in .env and `42.0` as the app's float setting are the same value; `info` and `INFO` too."""
    try:
        return float(seen) == float(sent)
    except (TypeError, ValueError):
        return str(seen).lower() == str(sent).lower()


CLAIMED_TIERS = {"tier-1": (3, 200), "tier-2": (60, 10_000)}  # the claim's tiers: (RPM, RPD)


def _tier(name: str, t: dict[str, Any] | None) -> tuple[bool, str, list[str]]:
    """(within the claim, what was measured, details) for one of the claim's tiers, from the probe's raw counts."""
    rpm, rpd = CLAIMED_TIERS[name]
    if not t:
        return False, f"{name}: not measured", [f"{name} ({rpm} RPM / {rpd:,} RPD) was not checked."]
    details = []
    sent, ok200, n429 = int(t.get("sent") or 0), int(t.get("ok_200") or 0), int(t.get("rate_limited_429") or 0)
    # The mock enforces the claimed RPM: exactly that many answered within the minute, every one beyond got a 429.
    mock_ok = int(t.get("limit_rpm") or 0) == rpm and ok200 == rpm and n429 == sent - rpm and sent > rpm
    text = f"{name} ({t.get('limit_rpm')} RPM): the mock answered {ok200} OK, {n429} 429 of {sent}"
    if int(t.get("limit_rpm") or 0) != rpm:
        details.append(f"{name}: the mock's tier allows {t.get('limit_rpm')} RPM, the claim says {rpm}.")
    span = t.get("span_s")
    if isinstance(span, int | float) and ok200 > rpm:
        details.append(f"{name}: the {sent} requests took {span:.3g} s from the first send to the last answer; the "
                       f"tier's bucket refills {rpm / 60:.3g} a second meanwhile, which let {ok200 - rpm} more "
                       "through.")
    app = t.get("app")
    if not app:
        details.append(f"{name}: the app's limiter configured from the tier was not checked.")
        return False, text, details
    received, allowed = int(app.get("upstream_received") or 0), int(app.get("allowed_in_window") or 0)
    window = float(app.get("window_s") or 0)
    # The app's own setting must be the tier's rate, and what it let through no more than the tier allows.
    applied = _same_setting(app.get("limiter_rps_seen"), rpm / 60)
    app_ok = (applied and received <= allowed and int(app.get("upstream_429") or 0) == 0
              and allowed == math.ceil(rpm * window / 60))
    text += (f"; the app's limiter at {app.get('limiter_rps_seen')} req/s sent {received} upstream of "
             f"{app.get('fired')} fired in {window:g} s (the tier allows {allowed}), {app.get('upstream_429')} 429")
    details.append(f"{name}: the limiter's bucket starts empty, so at {app.get('limiter_rps')} req/s it admits "
                   f"{app.get('limiter_admits')} in {window:g} s; {t.get('limit_rpd')} RPD is set in the mock's tier "
                   "but not exercised (the RPM binds first).")
    if not applied:
        details.append(f"{name}: the app reported a limiter rate of {app.get('limiter_rps_seen')!r}, not the tier's "
                       f"{rpm / 60:.4g} req/s.")
    return mock_ok and app_ok, text, details


@claim("C10", "Configuration via .env (limiter rate, retries, log level); OpenAI tier limits set the limiter.",
       rule="Reproduced when the app reads back every .env value sent and, for each tier the claim names (tier-1 3 "
            "RPM / 200 RPD, tier-2 60 RPM / 10,000 RPD), the mock enforces the tier's RPM (the excess gets 429) and "
            "the app's limiter configured from the tier (OPENAI_RATE_LIMIT_REQUESTS_PER_SECOND = RPM / 60) sends no "
            "more upstream than the tier allows over the window, with no 429; partial when only some of these hold.",
       measured_by="probes: settings_echo, tier_limits (each tier: the mock alone, then the app's limiter)")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    echo, tiers = R.get(results, "probes.settings_echo"), R.get(results, "probes.tier_limits")
    failed = "; ".join(f"probe `{name}` failed ({error})"
                       for name, error in sorted((R.get(results, "probes.failed") or {}).items()))
    if not echo and not tiers:
        return rule.not_measured(mock_only(results) or failed or "probes `settings_echo` and `tier_limits` absent")
    parts, details = [], []
    echo_ok = False
    if echo:
        sent, seen = echo.get("sent") or {}, echo.get("seen") or {}
        same = [k for k in sent if _same_setting(seen.get(k), sent[k])]
        parts.append(f".env values read back: {len(same)}/{len(sent)}")
        details += [f"{k}: sent {sent[k]!r}, app saw {seen.get(k)!r}" for k in sent if k not in same]
        echo_ok = bool(echo.get("ok")) and len(same) == len(sent)
    else:
        details.append("Settings echo not measured.")
    tier_ok: dict[str, bool] = {}
    for name in CLAIMED_TIERS:
        ok, text, more = _tier(name, (tiers or {}).get(name))
        tier_ok[name] = ok
        parts.append(text)
        details += more
    variants = {R.get(t, "app.variant") for t in (tiers or {}).values() if R.get(t, "app.variant")}
    if variants:
        details.append(f"The app checks ran `{', '.join(sorted(variants))}`: one agent, so one limiter. Behind the "
                       "seed's `def` dependency a cold burst can build several agents (C2), each with its own limiter, "
                       "and together they send more than the tier.")
    measured = "; ".join(parts)
    if failed:  # a probe that failed measured nothing: what the other one found is shown, the verdict waits for both
        return rule.verdict("not measured", "not measured: " + failed, measured, details=details)
    held = (["the .env settings"] if echo_ok else []) + [n for n, ok in tier_ok.items() if ok]
    if echo_ok and all(tier_ok.values()):
        return rule.verdict("reproduced", "reproduced for the .env settings and both tiers", measured,
                            details=details)
    if held:
        missing = [n for n, ok in tier_ok.items() if not ok]
        return rule.verdict("partial", f"reproduced only for {', '.join(held)}"
                            + (f"; not shown for {', '.join(missing)}" if missing else "; not for the .env settings"),
                            measured, details=details)
    return rule.verdict("not reproduced", "not reproduced", measured, details=details)

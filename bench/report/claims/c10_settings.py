"""C10: configuration through `.env` (limiter rate, retries, log level), OpenAI tier limits setting the limiter.
Measured by two probes against the embedded mock: the app reads back the `.env` values sent (`settings_echo`),
and the mock answers 429 past each tier's requests per minute (`tier_limits`)."""

from __future__ import annotations

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


@claim("C10", "Configuration via .env (limiter rate, retries, log level); OpenAI tier limits set the limiter.",
       rule="Reproduced when the app reads back every .env value sent and the mock enforces each tier's limit "
            "(the probes' `ok`).",
       measured_by="probes: settings_echo, tier_limits")
def evaluate(results: dict[str, Any], rule: ClaimRule) -> Verdict:
    echo, tiers = R.get(results, "probes.settings_echo"), R.get(results, "probes.tier_limits")
    if not echo and not tiers:
        return rule.not_measured(mock_only(results) or "probes `settings_echo` and `tier_limits` absent")
    parts, details, oks = [], [], []
    if echo:
        sent, seen = echo.get("sent") or {}, echo.get("seen") or {}
        same = [k for k in sent if _same_setting(seen.get(k), sent[k])]
        parts.append(f".env values read back: {len(same)}/{len(sent)}")
        details += [f"{k}: sent {sent[k]!r}, app saw {seen.get(k)!r}" for k in sent if k not in same]
        oks.append(bool(echo.get("ok")) and len(same) == len(sent))
    else:
        details.append("Settings echo not measured.")
    if tiers:
        for name, t in tiers.items():
            parts.append(f"{name} ({t.get('limit_rpm')} RPM): {t.get('ok_200')} OK, {t.get('rate_limited_429')} "
                         f"429 of {t.get('sent')}")
        oks.append(all(bool(t.get("ok")) for t in tiers.values()))
    else:
        details.append("Tier limits not measured.")
    measured = "; ".join(parts)
    if all(oks) and len(oks) == 2:
        return rule.verdict("reproduced", "reproduced", measured, details=details)
    if any(oks):
        half = "the .env settings" if echo and oks[0] else "the tier limits"
        return rule.verdict("partial", f"reproduced only for {half}", measured, details=details)
    return rule.verdict("not reproduced", "not reproduced", measured, details=details)

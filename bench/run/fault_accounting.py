"""A `faults` run's accounting (results.json `run.faults`): every request the load generator sent ends as exactly
one answer from the app with a status the fault kind allows (bench/run/faults.py), the app's own count of its
answers agrees, each error names its cause, the upstream's attempts are first tries plus the SDK's retries, and
no request took longer than the retry budget allows. A `shortfall` line for whatever falls short.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.run import faults
from bench.run.profiles import Step

CHAT_PATH = "/v1/chat/completions"


def _delta(after: list[dict[str, Any]], before: list[dict[str, Any]], key: str) -> dict[str, int] | None:
    """A counter dict summed over the workers, after - before; None when the app does not report it (or died)."""
    if not after or any(not isinstance(s.get(key), dict) for s in after):
        return None
    total: Counter[str] = Counter()
    for s in after:
        total.update({k: int(v) for k, v in s[key].items()})
    for s in before:
        total.subtract({k: int(v) for k, v in (s.get(key) or {}).items()})
    return {k: v for k, v in sorted(total.items()) if v}


def _upstream(kind: faults.FaultKind, mock_before: dict[str, Any] | None, mock_after: dict[str, Any] | None,
              recent: list[dict[str, Any]]) -> dict[str, Any] | None:
    if mock_before is None or mock_after is None:
        return None
    chat = [r for r in recent if r.get("path") == CHAT_PATH]
    retries = sum(1 for r in chat if int(r.get("retry_count") or 0) > 0)
    if kind.rate > 0:
        fired = int(mock_after.get("faults", {}).get(kind.name, 0)) - int(
            mock_before.get("faults", {}).get(kind.name, 0))
    else:  # the storm: what the upstream's limit refused
        fired = int(mock_after.get("rate_limited", 0)) - int(mock_before.get("rate_limited", 0))
    return {"attempts": int(mock_after.get("received", 0)) - int(mock_before.get("received", 0)),
            "first_tries": len(chat) - retries, "retries": retries, "fired": fired,
            "still_in_flight": int(mock_after.get("in_flight", 0)),
            "outcomes": {k: v - int(mock_before.get("outcomes", {}).get(k, 0))
                         for k, v in mock_after.get("outcomes", {}).items()
                         if v - int(mock_before.get("outcomes", {}).get(k, 0))}}


def fault_accounting(step: Step, records: list[dict[str, Any]], app_before: list[dict[str, Any]],
                     app_after: list[dict[str, Any]], mock_before: dict[str, Any] | None,
                     mock_after: dict[str, Any] | None, recent: list[dict[str, Any]]) -> dict[str, Any]:
    kind = faults.kind_of(step)
    sent = len(records)  # the generic accounting checks this against the planned count and Locust's own
    statuses = Counter(int(r.get("status") or 0) for r in records)
    allowed = sum(statuses[s] for s in kind.statuses)
    shortfall: list[str] = []
    if statuses[0]:
        shortfall.append(f"{statuses[0]} request(s) got no answer from the app (connection error or timeout)")
    for status, n in sorted(statuses.items()):
        if status and status not in kind.statuses:
            shortfall.append(f"{n} answered HTTP {status}; {kind.name} allows {'/'.join(map(str, kind.statuses))}")
    app_statuses = _delta(app_after, app_before, "responses_by_status")
    users_saw = {str(s): n for s, n in sorted(statuses.items()) if s}
    if app_statuses is not None and app_statuses != users_saw:
        shortfall.append(f"the app counted its answers as {app_statuses}; users saw {users_saw}")
    error_types = _delta(app_after, app_before, "error_types")
    for name, n in (error_types or {}).items():
        if name not in kind.error_types:
            shortfall.append(f"{n} error answer(s) named {name!r}; {kind.name} is {' or '.join(kind.error_types)}")
    upstream = _upstream(kind, mock_before, mock_after, recent)
    retries_allowed = faults.app_retries(step)
    if upstream is not None:
        if upstream["attempts"] != upstream["first_tries"] + upstream["retries"]:
            shortfall.append(f"the upstream received {upstream['attempts']} attempts; its log holds "
                             f"{upstream['first_tries']} first tries + {upstream['retries']} retries")
        if upstream["first_tries"] != sent:
            shortfall.append(f"{upstream['first_tries']} first tries reached the upstream for {sent} requests")
        if upstream["retries"] > retries_allowed * sent:
            shortfall.append(f"{upstream['retries']} retries: more than {retries_allowed} per request")
        failed = statuses[kind.status]
        if kind.retried and upstream["retries"] < retries_allowed * failed:
            shortfall.append(f"{failed} request(s) failed for good after only {upstream['retries']} retries in all; "
                             f"the SDK retries each {retries_allowed} times")
    latencies = [float(r["latency_ms"]) for r in records if r.get("latency_ms") is not None]
    bound_ms = faults.request_bound_s(step) * 1000.0
    over = sum(1 for v in latencies if v > bound_ms)
    notes = []
    if upstream is None:  # a real backend: the mock is what injects the faults
        notes.append(f"not the embedded mock: no {kind.name} fault was injected, nothing of it was tested")
    elif upstream["fired"] == 0:
        notes.append(f"{kind.name} never fired in this run: nothing of it was tested")
    return {
        "kind": kind.name, "what": kind.what, "rate": step.fault_rate or kind.rate,
        "sent": sent, "answered": sum(n for s, n in statuses.items() if s),
        "accounted": allowed, "accounted_pct": round(100.0 * allowed / sent, 2) if sent else None,
        "statuses": users_saw, "no_answer": statuses[0],
        "allowed_statuses": list(kind.statuses), "app_statuses": app_statuses,
        "error_types": error_types, "allowed_error_types": list(kind.error_types),
        "upstream": upstream, "timeout_s": faults.app_timeout_s(step), "max_retries": retries_allowed,
        "latency_max_ms": round(max(latencies), 3) if latencies else None,
        "bound_ms": round(bound_ms, 3), "margin_s": faults.MARGIN_S, "over_bound": over,
        "shortfall": shortfall, "notes": notes, "ok": not shortfall and not over,
    }

"""What the concern modules share: the `concern` decorator that registers each one (its question, the rule that
decides it and the fix, printed verbatim beside the verdict), the runs of a user's app, and the phrases the
verdicts use for classes, construction sites and blocking call sites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.report.verdict import ClaimRule, Verdict
from bench.results import runs as R

Evaluate = Callable[[dict[str, Any], "ConcernRule"], Verdict]

# Concern id -> rule, in registration order (the package index imports the modules in the report's order).
REGISTRY: dict[str, ConcernRule] = {}


@dataclass(frozen=True)
class ConcernRule(ClaimRule):
    """A concern: `claim` holds its question, `rule` what decides it, `fix` what to do when it fails (with the
    reference app's variant that shows the fix)."""

    fix: str = ""

    def passed(self, verdict: str, measured: str, *, setup: str = "", details: list[str] | tuple[str, ...] = (),
               **numbers: Any) -> Verdict:
        return self.verdict("pass", verdict, measured, setup=setup, details=details, **numbers)

    def failed(self, verdict: str, measured: str, *, setup: str = "", details: list[str] | tuple[str, ...] = (),
               **numbers: Any) -> Verdict:
        return self.verdict("fail", verdict, measured, setup=setup, details=[*details, f"Fix: {self.fix}"],
                            **numbers)


def concern(concern_id: str, question: str, *, rule: str, measured_by: str, fix: str
            ) -> Callable[[Evaluate], Evaluate]:
    def register(evaluate: Evaluate) -> Evaluate:
        if concern_id in REGISTRY:
            raise ValueError(f"concern {concern_id} is registered twice")
        REGISTRY[concern_id] = ConcernRule(concern_id, question, rule, measured_by,
                                           evaluate,  # type: ignore[arg-type]
                                           fix=fix)
        return evaluate
    return register


def is_user_app(results: dict[str, Any]) -> bool:
    """results.json of a user's app (`bench run --app`): its report shows concerns instead of claims."""
    return (results.get("target") or {}).get("kind") == "app"


def runs_of(results: dict[str, Any], scenario: str) -> list[R.Run]:
    return [r for r in results.get("runs", []) if r.get("scenario") == scenario]


def class_name(spec: str) -> str:
    """`openai:OpenAI` -> `OpenAI`."""
    return spec.rpartition(":")[2] or spec


def watched(run: R.Run) -> dict[str, dict[str, Any]]:
    w = R.get(run, "app.watched")
    return w if isinstance(w, dict) else {}


def watch_specs(results: dict[str, Any]) -> list[str]:
    return list(R.get(results, "target.watch") or [])


_WHERE = {"thread": "worker thread", "loop": "on the event loop", "startup": "at start-up"}


def threads_phrase(site: dict[str, Any]) -> str:
    """`in 36 worker threads`, `on the event loop`, `at start-up`, or a mix of them."""
    where = {k: int(v) for k, v in (site.get("where") or {}).items() if v}
    parts = []
    for kind, n in sorted(where.items(), key=lambda kv: -kv[1]):
        if kind == "thread":
            threads = int(site.get("threads") or n)
            parts.append(f"in {threads} worker thread{'s' if threads != 1 else ''}")
        else:
            parts.append(_WHERE.get(kind, kind) + (f" ({n}x)" if n > 1 else ""))
    return ", ".join(parts) or "(thread unknown)"


def site_phrase(site: dict[str, Any]) -> str:
    """`examples/app.py:29 get_client` plus its source line when known (the library call below it is in the site's
    full label, shown in the report's blocked-loop section)."""
    code = site.get("code")
    where = f"{site['file']}:{site['line']} {site.get('function') or ''}".rstrip() if site.get("file") and \
        site.get("line") else str(site.get("site"))
    return f"`{where}`" + (f" (`{code}`)" if code else "")


def secs(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def not_watched(rule: ConcernRule) -> Verdict:
    return rule.not_measured("no class watched: give --watch MODULE:CLASS (e.g. openai:OpenAI, myapp.agent:Agent)")

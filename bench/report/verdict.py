"""The Verdict record every claim returns and the claim registry's entry type (the claims themselves live in
bench/report/claims/, one module each)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["reproduced", "partial", "not reproduced", "not measured", "pass", "fail"]
STATUSES: tuple[Status, ...] = ("reproduced", "partial", "not reproduced", "not measured")
CONCERN_STATUSES: tuple[Status, ...] = ("fail", "pass", "not measured")  # a user's app (bench/report/concerns)


@dataclass(frozen=True)
class Verdict:
    """One claim's outcome. `verdict` is the phrase shown (e.g. "reproduced only when ..."); `status` its kind."""

    id: str
    claim: str
    measured: str
    verdict: str
    status: Status
    rule: str
    setup: str = ""
    details: tuple[str, ...] = ()
    measured_by: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)  # the figures behind it, for tests and tooling


@dataclass(frozen=True)
class ClaimRule:
    """A claim, the rule that decides it (shown verbatim in the report) and the function applying it."""

    id: str
    claim: str
    rule: str
    measured_by: str
    evaluate: Callable[[dict[str, Any], ClaimRule], Verdict]

    def verdict(self, status: Status, verdict: str, measured: str, *, setup: str = "",
                details: list[str] | tuple[str, ...] = (), **numbers: Any) -> Verdict:
        return Verdict(self.id, self.claim, measured, verdict, status, self.rule, setup, tuple(details),
                       self.measured_by, dict(numbers))

    def not_measured(self, why: str = "", **numbers: Any) -> Verdict:
        reason = why or f"scenario `{self.measured_by}` did not run"
        return self.verdict("not measured", "not measured", f"nothing: {reason}",
                            details=[f"Measured by: {self.measured_by}."], **numbers)

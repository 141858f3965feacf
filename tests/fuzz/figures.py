"""What one fuzzing target yields: examples tried, 5xx, hangs and schema violations, each with its cases."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figures:
    """Counts for one target; the lists name each case (deduplicated where the fuzzer repeats one)."""

    target: str
    examples: int = 0  # requests sent (every phase, shrinking included) or inputs tried
    server_errors: list[str] = field(default_factory=list)  # 5xx nobody asked for (or an exception out of the app)
    injected: int = 0  # 5xx / broken answers the mock was configured to inject: expected, counted apart
    hangs: list[str] = field(default_factory=list)  # no complete answer within the deadline
    violations: list[str] = field(default_factory=list)  # answers that break the documented contract
    errors: list[str] = field(default_factory=list)  # the fuzzer itself could not run a case
    upstream_rejected: int = 0  # app targets: requests the app sent that the mock refused with a 400
    slowest_s: float = 0.0
    elapsed_s: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.server_errors or self.hangs or self.violations or self.errors or self.upstream_rejected)

    def problems(self) -> str:
        """Every problem, one per line (for an assertion message)."""
        lines = [f"5xx: {e}" for e in self.server_errors] + [f"hang: {h}" for h in self.hangs]
        lines += [f"violation: {v}" for v in self.violations] + [f"error: {e}" for e in self.errors]
        if self.upstream_rejected:
            lines.append(f"the mock refused {self.upstream_rejected} request(s) the app sent")
        return f"{self.target}:\n  " + "\n  ".join(lines) if lines else f"{self.target}: clean"


HEADER = f"{'target':26} {'examples':>8} {'5xx':>5} {'injected':>8} {'hangs':>5} {'violations':>10} " \
         f"{'slowest':>8} {'time':>7}"


def row(f: Figures) -> str:
    return (f"{f.target:26} {f.examples:>8} {len(f.server_errors):>5} {f.injected:>8} {len(f.hangs):>5} "
            f"{len(f.violations):>10} {f.slowest_s * 1000:>6.0f}ms {f.elapsed_s:>6.1f}s")

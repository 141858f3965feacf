"""The long fuzzing run: every preset's OpenAPI (and two with upstream faults), the mock's description and the
mock's engine, with more examples than the suite affords. Prints one row per target and every problem found;
exit 1 when there is one.

    .venv/bin/python -m tests.fuzz.run --examples 200
    .venv/bin/python -m tests.fuzz.run --examples 50 --targets async,mock,mock-engine --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time

from app_under_test.variants import PRESETS
from tests.fuzz.figures import HEADER, Figures, row
from tests.fuzz.mock_engine import fuzz_mock_engine
from tests.fuzz.targets import fuzz_app, fuzz_mock

FAULT_TARGETS = ("async+faults", "threadpool+faults")  # one per call mode that reaches the upstream differently
TARGETS = (*PRESETS, *FAULT_TARGETS, "mock", "mock-engine")
ENGINE_EXAMPLES_FACTOR = 20  # the engine runs no server: the same time buys many more inputs


def run_target(name: str, examples: int, seed: int, timeout_s: float) -> Figures:
    if name == "mock":
        return fuzz_mock(examples=examples, seed=seed, timeout_s=timeout_s)
    if name == "mock-engine":
        return fuzz_mock_engine(examples=examples * ENGINE_EXAMPLES_FACTOR, seed=seed)
    variant, _, extra = name.partition("+")
    return fuzz_app(variant, examples=examples, faults=extra == "faults", seed=seed, timeout_s=timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="generated cases per operation (default 100)")
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, from: {', '.join(TARGETS)}")
    parser.add_argument("--seed", type=int, default=0, help="the fuzzer's seed (default 0)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a request counts as a hang")
    args = parser.parse_args(argv)
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    if unknown := [n for n in names if n not in TARGETS]:
        parser.error(f"unknown target(s) {', '.join(unknown)}; valid: {', '.join(TARGETS)}")
    if args.examples < 1:
        parser.error("--examples must be at least 1")
    started = time.monotonic()
    print(f"{len(names)} targets, up to {args.examples} examples per operation, seed {args.seed}", flush=True)
    print(HEADER, flush=True)
    results = []
    for name in names:
        figures = run_target(name, args.examples, args.seed, args.timeout)
        results.append(figures)
        print(row(figures), flush=True)
    total = Figures("total", examples=sum(f.examples for f in results), injected=sum(f.injected for f in results),
                    server_errors=[e for f in results for e in f.server_errors],
                    hangs=[h for f in results for h in f.hangs],
                    violations=[v for f in results for v in f.violations],
                    slowest_s=max(f.slowest_s for f in results), elapsed_s=time.monotonic() - started)
    print(row(total))
    problems = [f.problems() for f in results if not f.clean]
    print("\n".join(problems) if problems else "no 5xx but the injected ones, no hang, no schema violation")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

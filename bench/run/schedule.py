"""The order of a run's work: which repetitions share an app and a mock (a unit), and which units may run side by
side.

    serial   the round-1 schedule, kept for side-by-side comparison (`--schedule serial`): step after step, one
             mock per step, each variant's repetitions one after another, every app a cold interpreter start.
    overlap  the default, in four lanes:
             alone       units whose measurement the CPU can move (a burst not paced by a blocked loop or a limiter
                         against an upstream under 1 s, a sweep, a stream, a memory window: its closed loop serves
                         as many requests as the CPU allows, and a per-request agent each stays live; a limiter
                         at a rate-limited upstream's own rate, whose 429s are its releases' timing slips): one after
                         another, nothing beside them but the background.
             heavy       units that burn CPU and are judged on counts (agents built in a cold burst, each worker's
                         agents with W > 1): side by side with each other only, one more than there are cores
                         (HEAVY_AT_ONCE). Several workers' retry storms and start-up go here too:
                         beside the limiter steps they starved their 1-second windows (measured: C6's 10 req/s
                         limiter let 1-3 requests a run through to a 429, 0 run alone).
             paced       units whose measurement is paced by waiting (a blocked loop's upstream latencies, a
                         limiter's or an arrival schedule's rate on one worker, retries and timeouts, the tier
                         checks, a burst against an upstream of 1 s or more, which its latency paces): side by side
                         with each other, up to PACED_AT_ONCE, never beside the heavy ones. They go first, while
                         the background units start (the alone units wait for those to be under way).
             background  a blocking burst against an upstream of 1 s or more: one request per latency, almost no
                         CPU. It starts first (the alone units wait until its load is under way) and runs throughout.
             Each unit has its own mock and app. The repetitions of a burst a blocked loop or a limiter paces, and
             a cold burst's, each get their own unit (their own app), so the seed's two 150 s blocking bursts take
             150 s together.

Which lane a unit takes is decided from the scenario and the variant, never from a measured value.
"""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from typing import Literal

from bench.errors import choice_error
from bench.run.profiles import WARM_UP_REQUESTS, Profile, Step
from bench.run.scenario_facts import facts

SCHEDULES = ("overlap", "serial")
DEFAULT_SCHEDULE = "overlap"
# Paced units at once: each mostly waits (an upstream latency, a limiter, an arrival schedule), so more than the
# cores; few enough that their combined CPU stays under the machine's (quick's paced lane, 4 at once: its apps used
# about 8 s of CPU in 22 s, under a fifth of 2 cores). Beside the several-worker steps' start-up storms (since moved
# to the heavy lane) 6 at once starved C6's and C10's 1-second windows.
PACED_AT_ONCE = 6
# CPU-bound, one per core, plus one: a unit with several workers spends most of its time draining at 10 req/s.
HEAVY_AT_ONCE = max(1, min(4, os.cpu_count() or 1)) + 1

# Seconds of work a worker's cold start adds to a several-worker unit (fitted with the heavy lane's contention:
# quick's 4 workers x 2 variants, the seed's 2 + 4 + 8 x 2; their heavy lanes took 44.6 and 131.6 s).
WORKER_COLD_START_S = 1.0

# A blocked event loop serves one request per upstream latency: at 1 s or more that is under 1% of a core. And an
# unpaced burst against such an upstream is paced by it: its makespan is the latency plus a CPU part of a tenth of
# it (the seed's 50 at 3 s: 3.48 s [3.45, 3.6] with the sweep, streams and nothing else beside it).
BACKGROUND_LATENCY_MS = 1000.0

Lane = Literal["alone", "heavy", "paced", "background"]
POOLED: dict[str, int] = {"heavy": HEAVY_AT_ONCE, "paced": PACED_AT_ONCE}  # lanes run on a pool, and its size


@dataclass(frozen=True)
class Unit:
    """Repetitions that share one mock and (unless the scenario wants a fresh app per repetition) one app."""

    index: int  # plan order: runs are kept in this order in results.json whatever order they finish in
    step: Step
    variants: tuple[str, ...]
    reps: tuple[int, ...]  # repetition indices
    lane: Lane
    step_index: int = 0  # the step's place in the profile (run directories are named by it)
    fast: bool = False  # apps and Locust runs from the fork servers (the overlapping schedule)

    def users(self) -> tuple[int, ...]:
        return self.step.steps or (self.step.users,)

    def runs(self) -> int:
        return len(self.variants) * len(self.users()) * len(self.reps)


def check(schedule: str) -> str:
    if schedule not in SCHEDULES:
        raise choice_error("schedule", schedule, SCHEDULES)
    return schedule


def blocking(variant: str) -> bool:
    """A variant whose event loop is blocked by each upstream call: it serves requests one after another."""
    return variant.split(":", 1)[0] == "sync" or ":call=blocking" in variant


def paced(variant: str) -> bool:
    """A variant whose burst is paced by waiting: a blocked event loop serves one upstream latency after another,
    or a limiter releases requests at its rate. Its makespan is those waits, not CPU time."""
    return blocking(variant) or "limited" in variant.split(":", 1)[0]


def lane(step: Step, variant: str) -> Lane:
    """`alone` where CPU time enters what the step measures: an unpaced burst's makespan (C4's fast side) against an
    upstream under 1 s, a sweep, a stream's token gaps, a memory window's requests (C5: beside the heavy lane a
    window served 20-79 requests instead of 80-97, and the per-request variant's live agents and memory fell with
    them), a limiter's 429s against a rate-limited upstream on arrivals (C6). `background` for a blocking burst
    against a slow upstream (nearly no CPU). `heavy` for the cold bursts and several workers. Everything else
    (paced bursts, an unpaced burst against an upstream of 1 s or more, arrival-rate steps on one worker, faults)
    is `paced`."""
    if step.scenario == "burst" and blocking(variant) and step.latency_ms >= BACKGROUND_LATENCY_MS:
        return "background"
    if step.scenario == "burst" and not paced(variant) and step.latency_ms < BACKGROUND_LATENCY_MS:
        return "alone"
    if step.scenario == "sweep" and not paced(variant):
        return "alone"
    if step.scenario in ("stream", "concurrency"):
        return "alone"
    if step.scenario == "steady" and paced(variant) and not blocking(variant) and step.upstream_limit_rps > 0:
        # C6: a limiter releasing at the rate-limited upstream's own rate. Between repetitions both buckets refill,
        # so from the second on every release meets an empty upstream bucket: a release delayed by a busy CPU
        # and the next one on time arrive closer than the upstream refills, and it answers 429 (beside 5 paced
        # units, 2 in one repetition; 0 alone in every run measured).
        return "alone"
    if step.scenario == "cold-burst" or step.workers > 1:
        return "heavy"
    return "paced"


def units(profile: Profile, schedule: str) -> list[Unit]:
    """The profile's work as units, in plan order."""
    out: list[Unit] = []
    for step_index, step in enumerate(profile.steps):
        reps = tuple(range(step.repetitions(profile.repeat)))
        if schedule == "serial":
            out.append(Unit(len(out), step, step.variants, reps, "alone", step_index))
            continue
        for variant in step.variants:
            where = lane(step, variant)
            # One unit per repetition where each repetition needs an app of its own anyway (a cold burst), or where
            # the repetitions are long waits that side by side cost one (a burst that a blocked loop or a limiter
            # paces). An unpaced burst's repetitions share one app wherever it runs: side by side, two of them
            # against a 3 s upstream each took longer (the seed's sync/async ratio 39.3 [31.8, 41.9] against 43.1
            # [41.6, 44.7] serial; 44.3 [37.3, 46.8] one after another in one unit).
            split = where != "alone" and (facts(step.scenario).fresh_app
                                          or (step.scenario == "burst" and paced(variant)))
            groups = [(r,) for r in reps] if split else [reps]
            base = len(out)
            out.extend(Unit(base + i, step, (variant,), g, where, step_index, fast=True)
                       for i, g in enumerate(groups))
    return out


def unit_estimate_s(unit: Unit, serial_s: float | None = None) -> float:
    """Rough seconds a unit takes: its runs' estimates (bench/run/scenario_facts.py); a unit of the overlapping
    schedule starts its apps and Locust runs from the fork servers."""
    runs = sum(facts(unit.step.scenario).estimate_s(unit.step, v, n, serial_s, fast=unit.fast)
               for v in unit.variants for n in unit.users() for _ in unit.reps)
    if unit.step.workers > 1:  # each worker's cold start: its agents built in a race, its first 429 storm
        runs += WORKER_COLD_START_S * unit.step.workers * len(unit.variants)
    if facts(unit.step.scenario).fresh_app:
        return runs
    # A warm app per variant and its warm-up: sequential requests at the upstream's latency (bench/run/orchestrator.py)
    return runs + len(unit.variants) * WARM_UP_REQUESTS * unit.step.latency_ms / 1000


def pool_order(pooled: list[Unit], serial_s: float | None = None) -> list[Unit]:
    """Longest first: with a pool of workers, starting the long units first keeps the tail short."""
    return sorted(pooled, key=lambda u: -unit_estimate_s(u, serial_s))


def pool_makespan_s(pooled: list[Unit], at_once: int, serial_s: float | None = None, *, cpu_bound: bool = False
                    ) -> float:
    """Units on `at_once` workers, longest first (the same order the orchestrator uses). A CPU-bound lane takes at
    least its work shared out over the cores, times HEAVY_CONTENTION."""
    slots = [0.0] * max(1, at_once)
    for u in pool_order(pooled, serial_s):
        heapq.heapreplace(slots, slots[0] + unit_estimate_s(u, serial_s))
    if not cpu_bound:
        return max(slots)
    cores = max(1, min(at_once, os.cpu_count() or 1))
    return max(max(slots), sum(unit_estimate_s(u, serial_s) for u in pooled) / cores * HEAVY_CONTENTION)


# The heavy lane's units share the cores: their wall time is their work over the cores, and a little more (measured on
# 2 cores: quick 48 s against 101 s of unit estimates, seed 143 s against 225 s).
HEAVY_CONTENTION = 1.1


def makespan_estimate_s(all_units: list[Unit], serial_s: float | None = None,
                        pools: dict[str, int] | None = None) -> float:
    """The schedule's estimated length: the paced lane on its pool, the alone units one after another, the heavy
    lane on its pool, each after the other; the background units meanwhile, from the start."""
    pools = pools or POOLED
    alone = sum(unit_estimate_s(u, serial_s) for u in all_units if u.lane == "alone")
    pooled = sum(pool_makespan_s([u for u in all_units if u.lane == name], size, serial_s, cpu_bound=name == "heavy")
                 for name, size in pools.items())
    background = max((unit_estimate_s(u, serial_s) for u in all_units if u.lane == "background"), default=0.0)
    return max(alone + pooled, background)


# Seconds a run spends outside its units: the probes, the fork servers' start, the report. Serial: round 1's
# mock probes (~8 s) before everything; overlap: those run with the paced units.
FIXED_S = {"serial": 20.0, "overlap": 15.0}


def run_estimate_s(all_units: list[Unit], serial_s: float | None, schedule: str) -> float:
    """The whole run's estimated wall time, what the progress bar counts down from."""
    if schedule == "serial":
        return FIXED_S["serial"] + sum(unit_estimate_s(u, serial_s) for u in all_units)
    return FIXED_S["overlap"] + makespan_estimate_s(all_units, serial_s)

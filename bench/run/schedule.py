"""The order of a run's work: which repetitions share an app and a mock (a unit), and which units may run side by
side.

    serial   the round-1 schedule, kept for side-by-side comparison (`--schedule serial`): step after step, one
             mock per step, each variant's repetitions one after another, every app a cold interpreter start.
    overlap  the default, in six lanes, each at a CPU priority (bench/servers/priority.py):
             alone       units whose measurement the CPU can move (a burst not paced by a blocked loop or a limiter
                         against an upstream under 1 s, a sweep, a stream, a memory window: its closed loop serves
                         as many requests as the CPU allows, and a per-request agent each stays live; steady
                         arrivals at a rate-limited upstream (C6: a limiter's 429s are its releases' timing slips;
                         without one, the latency it compares is the app's CPU and its retries)): one after
                         another, after the paced units, with nothing at their priority beside them but the
                         background (the heavy and several-worker units go on beside them, below it).
             heavy       cold bursts: they burn CPU and are judged on counts (agents built): from the start, beside
                         every other lane, their processes at idle priority (bench/servers/priority.py): they take
                         the CPU the others leave. HEAVY_AT_ONCE side by side. At the harness's priority, beside the
                         limiter steps they starved their 1-second windows (C6's 10 req/s limiter let 1-3 requests a
                         run through to a 429, 0 run alone); at idle priority the alone lane's figures are those it
                         measures alone (bench/servers/priority.py has the figures).
             workers     several workers (C7): each worker's cold start and its 429 retry storm need the CPU, and
                         what they measure (the rate upstream, errors through a shared limiter) moves with it: at
                         idle priority beside the alone units the seed's 8 workers' in-memory limiters reached 39
                         req/s upstream instead of 293 serial, and the shared one let 6 errors through once warm.
                         At low priority (LOW_NICE: the others come first, the heavy lane after them), one at a time
                         (WORKERS_AT_ONCE), from the paced units on and beside the alone ones.
             blocked     a blocked event loop's burst against an upstream under 1 s: N latencies one after another,
                         plus the app's own CPU per request (12% of the makespan at 100 ms: 5.66 s serial for 50,
                         6.4 s beside the paced units): side by side with each other only, first.
             paced       units whose measurement is paced by waiting (a limiter's or an arrival schedule's rate on
                         one worker, retries and timeouts, a burst against an upstream of 1 s or more, which its
                         latency paces): side by side, up to PACED_AT_ONCE, after the blocked ones, the mock probes
                         beside them.
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
# about 8 s of CPU in 22 s, under a fifth of 2 cores). Beside the several-worker steps' start-up storms at the same
# priority (since moved to their own lane, below it) 6 at once starved C6's and C10's 1-second windows.
PACED_AT_ONCE = 8
# Cold bursts side by side: one per core, plus one (each waits on its app's start and its burst's upstream calls).
HEAVY_AT_ONCE = max(1, min(4, os.cpu_count() or 1)) + 1

# Several-worker units at once: one. Two at once beside the alone units (the seed's 8 and 4 workers) cut the memory
# windows' requests (C5: 73 [56, 79] instead of 86 [84, 87] per window); 3 at once left some of 8 cold workers
# unanswered after 20 s.
WORKERS_AT_ONCE = 1

# Seconds of work a worker's cold start adds to a several-worker unit (fitted when these units shared the heavy
# lane: quick's 4 workers x 2 variants, the seed's 2 + 4 + 8 x 2; their heavy lanes took 44.6 and 131.6 s).
WORKER_COLD_START_S = 1.0

# A blocked event loop serves one request per upstream latency: at 1 s or more that is under 1% of a core. And an
# unpaced burst against such an upstream is paced by it: its makespan is the latency plus a CPU part of a tenth of
# it (the seed's 50 at 3 s: 3.48 s [3.45, 3.6] with the sweep, streams and nothing else beside it).
BACKGROUND_LATENCY_MS = 1000.0

Lane = Literal["alone", "heavy", "workers", "blocked", "paced", "background"]
# Lanes that run on a pool, and its size.
POOLED: dict[str, int] = {"heavy": HEAVY_AT_ONCE, "workers": WORKERS_AT_ONCE, "blocked": PACED_AT_ONCE,
                          "paced": PACED_AT_ONCE}


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
    them), steady arrivals at a rate-limited upstream (C6: a limiter's 429s, and without one the latency).
    `background` for a blocking burst against a slow upstream (nearly no CPU), `blocked` for one against a faster
    upstream on one worker. `workers` for several workers, `heavy` for the cold bursts. Everything else
    (limiter-paced bursts, an unpaced burst against an upstream of 1 s or more, arrival-rate steps on one worker,
    faults) is `paced`."""
    if step.scenario == "burst" and blocking(variant) and step.latency_ms >= BACKGROUND_LATENCY_MS:
        return "background"
    if step.scenario == "burst" and blocking(variant) and step.workers == 1:
        return "blocked"
    if step.scenario == "burst" and not paced(variant) and step.latency_ms < BACKGROUND_LATENCY_MS:
        return "alone"
    if step.scenario == "sweep" and not paced(variant):
        return "alone"
    if step.scenario in ("stream", "concurrency"):
        return "alone"
    if step.scenario == "steady" and not blocking(variant) and step.upstream_limit_rps > 0:
        # C6, both sides. With a limiter releasing at the rate-limited upstream's own rate: between repetitions
        # both buckets refill, so from the second on every release meets an empty upstream bucket: a release
        # delayed by a busy CPU and the next one on time arrive closer than the upstream refills, and it answers
        # 429 (beside 5 paced units, 2 in one repetition; 0 alone in every run measured). Without one: the mean
        # latency C6 compares is its retries' and the app's CPU (at the paced units' start, beside their apps'
        # starts, a repetition's mean was 788 ms against 146-247 ms in the others, and C6's verdict turned).
        return "alone"
    if step.workers > 1:
        return "workers"
    if step.scenario == "cold-burst":
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
# 2 cores, alone: quick 48 s against 101 s of unit estimates, seed 143 s against 225 s). Beside the other lanes, at
# idle priority, they get what those leave: HEAVY_BESIDE times as long (quick's cold bursts 51 s beside the others
# against 18 s estimated, the seed's 98 s against 27 s).
HEAVY_CONTENTION = 1.1
HEAVY_BESIDE = 3.0
# The paced and alone units side by side take about their estimates, no longer: measured (2026-11-30) quick's paced
# lane 11.1-13.1 s against 11.6 estimated and its alone lane 31.3-39.4 against 38.0 (the first evening at 31.3, the
# afternoon before at 36-39: the machine's speed moved the lane by 20%), the seed's 42.9 against 42.0 and 47.5
# against 53.4. (It was 1.2 when Locust runs and mocks started cold.) The several-worker lane, CPU-bound, takes its
# work times HEAVY_CONTENTION and no more: 39-53 s against 50 in quick, 132-160 against 167 in the seed.
BESIDE = 1.0


def makespan_estimate_s(all_units: list[Unit], serial_s: float | None = None,
                        pools: dict[str, int] | None = None) -> float:
    """The schedule's estimated length: the blocked units on their pool, then the paced units on theirs, then the
    alone units one after another, with the several-worker units beside the last two (after the blocked ones);
    the heavy lane beside all of them from the start, at idle priority; the background units meanwhile."""
    pools = pools or POOLED

    def lane_s(name: str) -> float:
        return pool_makespan_s([u for u in all_units if u.lane == name], pools[name], serial_s,
                               cpu_bound=name in ("heavy", "workers"))

    alone = sum(unit_estimate_s(u, serial_s) for u in all_units if u.lane == "alone")
    background = max((unit_estimate_s(u, serial_s) for u in all_units if u.lane == "background"), default=0.0)
    blocked = lane_s("blocked")
    return max(blocked + (lane_s("paced") + alone) * BESIDE, blocked + lane_s("workers"),
               lane_s("heavy") * HEAVY_BESIDE, background)


# Seconds a run spends outside its units: the probes, the fork servers' start, the report. Serial: round 1's
# mock probes (~8 s) before everything; overlap: those run with the paced units (measured in quick: start-up 2.0 s,
# the report 2.0 s, the rest of the tail and the exit 1.3 s).
FIXED_S = {"serial": 20.0, "overlap": 5.5}


def run_estimate_s(all_units: list[Unit], serial_s: float | None, schedule: str) -> float:
    """The whole run's estimated wall time, what the progress bar counts down from."""
    if schedule == "serial":
        return FIXED_S["serial"] + sum(unit_estimate_s(u, serial_s) for u in all_units)
    return FIXED_S["overlap"] + makespan_estimate_s(all_units, serial_s)

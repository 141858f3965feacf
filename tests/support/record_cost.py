"""What one per-request record costs a local Locust process, two ways side by side in one run.

    python -m tests.support.record_cost [--records 20000] [--repetitions 7]

A benchmark, not a test: microseconds per record, median and range of the repetitions, the two ways alternating
repetition by repetition:
- "at once": `build_record` and `RecordWriter.write` (flushed) as each event fires (the local listener until
  2026-11-30; a load worker still builds its records at once, for its stream);
- "batched": the event held (`PendingRecords.add`) and written as an event line by `drain`, every BATCH events
  (a drain every 0.2 s at 5,000 requests a second), which is what a local runner now does.
A tight loop shows the work, not what it costs among a Locust process's other work (there each way took several
times longer: `scenarios/record_buffer.py`); the load ceiling (`tests.support.load_ceiling`) measures that.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from scenarios.record_buffer import PendingRecords
from scenarios.records import RecordWriter, RunLabels, build_record

BATCH = 1000
LABELS = RunLabels(variant="async", scenario="concurrency", repetition=0)


def _context(i: int) -> dict[str, object]:
    """A successful request's context as post_chat leaves it (each request has its own)."""
    t = 1.7e9 + i * 0.0002
    return {"user": i % 20, "t_planned": None, "step": None, "t_send": t, "t_first_byte": t + 0.0011,
            "t_end": t + 0.0012, "bytes": 300}


def _at_once(directory: Path, n: int) -> float:
    writer = RecordWriter(directory)
    contexts = [_context(i) for i in range(n)]
    t0 = time.perf_counter()
    for ctx in contexts:
        writer.write(build_record(method="POST", name="/api/chat", response_time_ms=1.2, response_length=300,
                                  exception=None, start_time=float(ctx["t_send"]),  # type: ignore[arg-type]
                                  status=200, context=ctx, labels=LABELS, worker=0, pid=1))
    elapsed = time.perf_counter() - t0
    writer.close()
    return elapsed


def _batched(directory: Path, n: int) -> float:
    pending = PendingRecords(RecordWriter(directory))
    contexts = [_context(i) for i in range(n)]
    t0 = time.perf_counter()
    for i, ctx in enumerate(contexts, 1):
        pending.add(("POST", "/api/chat", 1.2, 300, None, ctx["t_send"], 200, ctx, LABELS))
        if i % BATCH == 0:
            pending.drain()
    pending.drain()
    elapsed = time.perf_counter() - t0
    pending.writer.close()
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=20000, help="records per repetition (default 20000)")
    p.add_argument("--repetitions", type=int, default=7, help="repetitions (default 7)")
    args = p.parse_args()
    if args.records < 1 or args.repetitions < 1:
        p.error("--records and --repetitions must be at least 1")
    ways: dict[str, Callable[[Path, int], float]] = {"at once": _at_once, "batched": _batched}
    per_record: dict[str, list[float]] = {name: [] for name in ways}
    with tempfile.TemporaryDirectory(prefix="record-cost-") as tmp:
        for rep in range(args.repetitions):
            order = list(ways) if rep % 2 == 0 else list(reversed(ways))
            for name in order:
                directory = Path(tmp) / f"{name.replace(' ', '-')}-{rep}"
                per_record[name].append(ways[name](directory, args.records) / args.records * 1e6)
    kind = "range" if args.repetitions < 5 else "min-max"
    for name, values in per_record.items():
        print(f"{name + ':':<9} median {statistics.median(values):.2f} us a record, {kind} "
              f"[{min(values):.2f}, {max(values):.2f}] ({args.repetitions} x {args.records})")
    ratio = statistics.median(per_record["batched"]) / statistics.median(per_record["at once"])
    print(f"batched / at once: {ratio:.2f} (medians)")


if __name__ == "__main__":
    main()

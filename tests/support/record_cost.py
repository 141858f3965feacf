"""What one per-request record costs the Locust process: `build_record` and `RecordWriter.write` (flushed) together.

    python -m tests.support.record_cost [--records 20000] [--repetitions 7]

A benchmark, not a test: microseconds per record, median and range of the repetitions, for the tree it runs in.
To compare two versions, run it in each checkout alternately (`PYTHONPATH=<checkout>`, from that checkout).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from scenarios.records import RecordWriter, RunLabels, build_record

# A successful request's context as post_chat leaves it.
CONTEXT = {"user": 3, "t_planned": None, "step": None, "t_send": 1.7e9 + 0.123456, "t_first_byte": 1.7e9 + 0.125,
           "t_end": 1.7e9 + 0.126, "bytes": 300}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, default=20000, help="records per repetition (default 20000)")
    p.add_argument("--repetitions", type=int, default=7, help="repetitions (default 7)")
    args = p.parse_args()
    labels = RunLabels(variant="async", scenario="concurrency", repetition=0)
    per_record: list[float] = []
    with tempfile.TemporaryDirectory(prefix="record-cost-") as tmp:
        writer = RecordWriter(tmp)
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            for _ in range(args.records):
                writer.write(build_record(method="POST", name="/api/chat", response_time_ms=2.5, response_length=300,
                                          exception=None, start_time=1.7e9, status=200, context=CONTEXT,
                                          labels=labels, worker=0, pid=1))
            per_record.append((time.perf_counter() - t0) / args.records * 1e6)
        writer.close()
    kind = "range" if args.repetitions < 5 else "min-max"
    print(f"build + write per record: median {statistics.median(per_record):.1f} us, {kind} "
          f"[{min(per_record):.1f}, {max(per_record):.1f}] ({args.repetitions} x {args.records})")


if __name__ == "__main__":
    main()

"""How often an interrupt raised by a signal handler leaves a lock held: the reason bench/run/interrupts.py only
notes Ctrl-C while the units run.

    python -m tests.support.interrupt_leak [--seconds 15]

An experiment, not a test: a SIGALRM handler raising KeyboardInterrupt (what Python's SIGINT handler does) is aimed
by a timer at a random moment, 0.5-3 ms ahead, of a loop calling `Future.done()` (a `with` on the future's
condition, as `concurrent.futures.wait`, `cancel()` and `result()` do). After each interrupt, a condition still
owned by the main thread is one no `with` will release: a pool thread finishing that future would wait for ever.
"""

from __future__ import annotations

import argparse
import random
import signal
import time
from concurrent.futures import Future
from types import FrameType


def _raise(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=15.0, help="how long to keep interrupting (default 15)")
    args = p.parse_args()
    previous = signal.signal(signal.SIGALRM, _raise)
    trials = leaks = 0
    end = time.monotonic() + args.seconds
    try:
        while time.monotonic() < end:
            future: Future[None] = Future()
            signal.setitimer(signal.ITIMER_REAL, random.uniform(0.0005, 0.003))
            try:
                while True:
                    future.done()
            except KeyboardInterrupt:
                pass
            trials += 1
            leaks += future._condition._is_owned()  # type: ignore[attr-defined]  # held after the `with` is gone
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    print(f"{trials} interrupts in a loop of Future.done(): {leaks} ({leaks / max(trials, 1):.0%}) left the future's "
          "condition held by the main thread")


if __name__ == "__main__":
    main()

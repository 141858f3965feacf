"""What an idle reference app costs the machine: its process's CPU over a quiet window, with the blocked-loop sampler
on (as every app the harness starts) and off, alternating.

    python -m tests.support.idle_app_cpu [--variant async] [--window-s 8] [--rounds 2]

A benchmark, not a test: each round starts the app (`running_app`, cold) against the mock, sends it one chat request
(its agent built, its pools open), waits a second, then reads its CPU time before and after a window in which nothing
is sent; printed as % of one core, per setting and round. A bare uvicorn app idles at ~0.1% here: the rest is the
app's own timers on its loop (the loop-lag monitor, the sampler's heartbeat and its watchdog thread), which a `bench
run` pays in every app it keeps alive, about nine at a time in a quick run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import httpx
import psutil

from bench.mock.process import running_mock
from bench.servers.app import running_app


def idle_percent(variant: str, backend_url: str, log_dir: str, window_s: float) -> float:
    with running_app(variant, backend_url, log_dir=log_dir) as app:
        proc = psutil.Process(app.pid)
        httpx.post(app.url + "/api/chat", json={"message": "hi"}, timeout=30).raise_for_status()
        time.sleep(1.0)
        before = sum(proc.cpu_times()[:2])
        time.sleep(window_s)
        return 100 * (sum(proc.cpu_times()[:2]) - before) / window_s


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--variant", default="async")
    p.add_argument("--window-s", type=float, default=8.0)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    got: dict[str, list[float]] = {"1": [], "0": []}
    with tempfile.TemporaryDirectory(prefix="idle-app-") as tmp, running_mock(log_dir=tmp) as mock:
        for _ in range(args.rounds):
            for setting in ("1", "0"):
                os.environ["APP_BLOCKWATCH"] = setting  # passed to the app's environment (bench/servers/app.py)
                got[setting].append(idle_percent(args.variant, mock.api_base, tmp, args.window_s))
    for setting, label in (("1", "sampler on (as bench run starts apps)"), ("0", "sampler off")):
        print(f"{label}: idle CPU {', '.join(f'{v:.2f}%' for v in got[setting])} of a core "
              f"({args.window_s:g} s windows)")


if __name__ == "__main__":
    main()

"""The static measurements (bench/run/static.py) in a child forked from the app fork server, which has the app
imported already, instead of in the harness, which spent 3.3 s importing the app before any unit could start (a quick
run, 2 cores). The overlapping schedule runs the child after the units, on a quiet machine: the per-call figures are
nanoseconds, and beside the paced units' start their medians grew from 80-210 ns to 370-810.

    python -m bench.run.static_child --out FILE     # writes {"provider_lines": ..., "provider_call_ns": ...}

`static_measurements()` is the harness's side: forked when a fork server is active (the overlapping schedule), else
measured in-process as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, cast

from bench.run.static import provider_call_ns, provider_lines

MODULE = "bench.run.static_child"
DEADLINE_S = 60.0  # the imports are the fork server's; the child itself takes well under a second


def measure() -> dict[str, Any]:
    return {"provider_lines": provider_lines(), "provider_call_ns": provider_call_ns()}


def static_measurements(log_dir: str) -> dict[str, Any]:
    """`measure()` in a child of the active fork server, or in this process when there is none or it fails (the
    fork server's own warning line says why)."""
    from bench.servers.forkserver import spawn_if_active
    from bench.servers.process import child_env, stop_tree

    with tempfile.TemporaryDirectory(prefix="bench-static-") as tmp:
        out = Path(tmp, "static.json")
        log_path = Path(log_dir, "static-child.log")
        with open(log_path, "wb") as log:
            proc = spawn_if_active([sys.executable, "-m", MODULE, "--out", str(out)], env=child_env(),
                                   cwd=os.getcwd(), log=log, pass_fds=())
            if proc is not None:
                try:
                    proc.wait(timeout=DEADLINE_S)
                except subprocess.TimeoutExpired:
                    pass  # stopped below, and measured here instead
                finally:
                    if proc.poll() is None:
                        stop_tree(cast("subprocess.Popen[bytes]", proc))  # Popen-shaped: pid, poll, signals, wait
                if proc.returncode == 0 and out.exists():
                    return dict(json.loads(out.read_text(encoding="utf-8")))
                print(f"bench run: the static probe's child failed (exit {proc.returncode}; log {log_path}); "
                      "measuring in-process", file=sys.stderr)
    return measure()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "--out":
        print("usage: python -m bench.run.static_child --out FILE", file=sys.stderr)
        return 2
    target = Path(args[1])
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(measure()), encoding="utf-8")
    tmp.replace(target)  # whole or absent: the harness reads it only after the child exits 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

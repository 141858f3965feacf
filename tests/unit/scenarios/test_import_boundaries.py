"""The orchestrator side must never import locust (gevent would monkey-patch the asyncio process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PURE = ("bench.run.locust_job", "scenarios.registry", "scenarios.options", "scenarios.records", "scenarios.schedule",
        "scenarios.sse", "scenarios.clock", "scenarios.runstate", "scenarios.record_buffer", "scenarios.request_spec")


def test_pure_modules_do_not_import_locust_or_gevent() -> None:
    code = (f"import sys; import {', '.join(PURE)}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')); "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr

"""A process's signal state as the kernel sees it (blocked, ignored, caught), for the message of a test whose child
did not end on the signal it was sent: a mask or disposition inherited from the test process is the first suspect
(both survive fork and exec)."""

from __future__ import annotations

import os
from pathlib import Path

NAMES = ("SigBlk", "SigIgn", "SigCgt")


def signal_state(pid: int) -> str:
    """`SigBlk=... SigIgn=... SigCgt=...` of `pid` (hex masks; bit n-1 is signal n), or why it cannot be read."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as exc:
        return f"signal state of {pid}: {exc.strerror or exc}"
    fields = dict(line.split(":", 1) for line in lines if line.startswith(NAMES))
    return " ".join(f"{k}={fields[k].strip()}" for k in NAMES if k in fields)


def signal_states(pid: int) -> str:
    """The child's and this (test) process's signal state, side by side."""
    return f"child {pid}: {signal_state(pid)}; test process: {signal_state(os.getpid())}"

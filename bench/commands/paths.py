"""Output paths checked before the work that fills them starts: a bad one is one line and exit 2 at once, not
a traceback (or a lost result) after a run of several minutes."""

from __future__ import annotations

import os
from pathlib import Path

from bench.errors import UsageError


def check_writable(flag: str, path: str | Path, *, directory: bool) -> None:
    """`path` (a directory, or a file when not `directory`) can be created or written: its nearest existing
    ancestor is a directory we may write in."""
    p = Path(path)
    if directory and p.exists() and not p.is_dir():
        raise UsageError(f"{flag} {path}: exists and is not a directory")
    if not directory and p.is_dir():
        raise UsageError(f"{flag} {path}: is a directory")
    start = p if directory else p.parent
    existing = next((d for d in (start, *start.parents) if d.exists()), Path.cwd())
    if not existing.is_dir():
        raise UsageError(f"{flag} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: no permission to write in {existing}")

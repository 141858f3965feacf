"""Call sites of a blocked event loop: a sampled stack's innermost frame in the app's own code and the library
call it was making, and the per-site totals of blocked time (for `blockwatch.BlockedLoopSampler`)."""

from __future__ import annotations

import inspect
import linecache
import os
import site
import sys
import sysconfig
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

OwnCode = Callable[[str], bool]
# (co_filename, line, co_qualname), innermost first: what the watchdog keeps of a sampled frame.
RawFrame = tuple[str, int, str]

MAX_DEPTH = 256  # frames walked per sample; langgraph + langchain + httpx stacks stay well under this
STACK_FRAMES = 40  # frames kept in a site's example stack
_ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
# This module and the sampler: their frames are on the loop only as the heartbeat, never the app's code.
_OWN_FILES = {str(Path(__file__).resolve().with_name(n)) for n in ("blockwatch.py", "blocksites.py")}


def _library_roots() -> tuple[str, ...]:
    """The stdlib and every site-packages / dist-packages directory, of the venv and of its base Python."""
    roots: set[str] = set()
    for base in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        paths = sysconfig.get_paths(vars={"base": base, "platbase": base, "installed_base": base,
                                          "installed_platbase": base})
        roots.update(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths)
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    roots.add(site.getusersitepackages())
    roots.update(p for p in sys.path if p and any(n in Path(p).parts for n in ("site-packages", "dist-packages")))
    return tuple(sorted({os.path.join(os.path.realpath(r), "") for r in roots if r}, key=len, reverse=True))


_LIBRARY_ROOTS = _library_roots()


def default_own_code(filename: str) -> bool:
    """True for a source file of the app itself: by path, so an app in any directory counts, while the
    stdlib, installed packages, frozen modules (`<frozen ...>`) and this instrumentation do not."""
    if not filename or filename.startswith("<"):
        return False
    path = os.path.realpath(filename)
    if path in _OWN_FILES:
        return False
    return not any(path.startswith(root) for root in _LIBRARY_ROOTS)


@lru_cache(maxsize=4096)  # realpath costs syscalls, and the watchdog formats while the heartbeat waits on its lock
def short_path(filename: str) -> str:
    """A library file relative to its site-packages or stdlib root; the app's relative to the working directory."""
    path = os.path.realpath(filename) if not filename.startswith("<") else filename
    for root in _LIBRARY_ROOTS:
        if path.startswith(root):
            return path[len(root):]
    cwd = os.path.join(os.getcwd(), "")
    return path[len(cwd):] if path.startswith(cwd) else path


def _fmt(frame: RawFrame) -> str:
    return f"{short_path(frame[0])}:{frame[1]} {frame[2]}"


@dataclass(frozen=True)
class Site:
    """Where blocked time went. `calls` is the library frame the own-code frame called into; None when the
    own-code frame is itself the innermost Python frame (a C function such as `time.sleep`: see `code`)."""

    file: str
    line: int
    function: str
    calls: str | None = None
    own_code: bool = True

    @property
    def code(self) -> str:
        return linecache.getline(self.file, self.line).strip() if self.line else ""

    @property
    def label(self) -> str:
        if not self.line:
            return self.function
        where = f"{short_path(self.file)}:{self.line} {self.function}"
        return f"{where} -> {self.calls}" if self.calls else f"{where}: {self.code}"


# Samples with no Python frame inside a loop callback: the loop was waiting or the process was descheduled.
LOOP_IDLE = Site("", 0, "(no callback running: loop waiting, or the process was descheduled)", own_code=False)
OTHER = Site("", 0, "(other sites, over the per-block or per-window limit)", own_code=False)
UNSAMPLED = Site("", 0, "(no sample: the watchdog did not run during the block)", own_code=False)


def outer_codes(frame: FrameType | None) -> frozenset[CodeType]:
    """The code running the loop itself, seen from a frame inside a task: skip the caller's synchronous
    frames and its coroutine chain, and keep everything outward (Handle._run, Runner.run, whatever called
    asyncio.run or uvicorn). Samples stop there, so a stall while the loop waits is not blamed on `main()`."""
    f = frame
    while f is not None and not f.f_code.co_flags & _ASYNC_FLAGS:
        f = f.f_back
    if f is None:  # started from a plain callback: its caller is the loop
        f = frame.f_back if frame is not None else None
    while f is not None and f.f_code.co_flags & _ASYNC_FLAGS:
        f = f.f_back
    codes = set()
    while f is not None:
        codes.add(f.f_code)
        f = f.f_back
    return frozenset(codes)


def walk(frame: FrameType | None, outer: Collection[CodeType]) -> list[RawFrame]:
    """The frames of one running callback, innermost first, up to the loop's own frames."""
    out: list[RawFrame] = []
    while frame is not None and len(out) < MAX_DEPTH:
        code = frame.f_code
        if code in outer:
            break
        out.append((code.co_filename, frame.f_lineno or 0, code.co_qualname))
        frame = frame.f_back
    return out


class SiteFinder:
    """Names the site of a sampled stack; the own-code verdict is cached per file (called per sample)."""

    def __init__(self, own_code: OwnCode | None = None) -> None:
        self.own_code: OwnCode = own_code or default_own_code
        self._verdicts: dict[str, bool] = {}

    def _own(self, filename: str) -> bool:
        verdict = self._verdicts.get(filename)
        if verdict is None:
            verdict = self._verdicts[filename] = bool(self.own_code(filename))
        return verdict

    def site(self, stack: list[RawFrame]) -> Site:
        if not stack:
            return LOOP_IDLE
        for i, (filename, line, func) in enumerate(stack):
            if self._own(filename):
                return Site(filename, line, func, _fmt(stack[i - 1]) if i else None)
        filename, line, func = stack[0]  # no own code: name the innermost library frame
        return Site(filename, line, func, own_code=False)


def format_stack(stack: list[RawFrame]) -> list[str]:
    """`file:line function` strings, innermost last, at most STACK_FRAMES of the innermost."""
    return [_fmt(f) for f in reversed(stack[:STACK_FRAMES])]


@dataclass
class SiteTotal:
    blocked_ms: float = 0.0
    blocks: int = 0
    samples: int = 0
    stack: list[str] | None = None


class SiteTable:
    """Blocked time per site for one window. A block's duration is split over its sites by sample count;
    at most `max_sites` distinct sites, the rest pooled under OTHER."""

    def __init__(self, max_sites: int = 200) -> None:
        self.max_sites = max_sites
        self._sites: dict[Site, SiteTotal] = {}

    def clear(self) -> None:
        self._sites.clear()

    def add(self, duration_ms: float, counts: dict[Site, int], stacks: dict[Site, list[RawFrame]]) -> None:
        if not counts:
            counts = {UNSAMPLED: 0}
        total = sum(counts.values())
        for s, n in counts.items():
            if s not in self._sites and len(self._sites) >= self.max_sites:
                s = OTHER
            row = self._sites.setdefault(s, SiteTotal())
            row.blocked_ms += duration_ms * (n / total if total else 1.0)
            row.blocks += 1
            row.samples += n
            if row.stack is None and s in stacks:
                row.stack = format_stack(stacks[s])

    def rows(self, top: int | None, total_ms: float) -> list[dict[str, Any]]:
        ranked = sorted(self._sites.items(), key=lambda kv: kv[1].blocked_ms, reverse=True)
        return [site_row(s, t, total_ms) for s, t in ranked[:top]]


def site_row(s: Site, t: SiteTotal, total_ms: float) -> dict[str, Any]:
    return {
        "site": s.label, "file": s.file or None, "line": s.line or None, "function": s.function,
        "code": s.code or None, "calls": s.calls, "own_code": s.own_code,
        "blocked_ms": round(t.blocked_ms, 3), "blocks": t.blocks, "samples": t.samples,
        "share": round(t.blocked_ms / total_ms, 4) if total_ms else 0.0, "stack": t.stack or [],
    }


def block_sites(counts: Iterable[tuple[Site, int]]) -> list[dict[str, Any]]:
    return [{"site": s.label, "samples": n} for s, n in sorted(counts, key=lambda kv: kv[1], reverse=True)]

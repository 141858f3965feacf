"""`--watch MODULE:CLASS`: how many instances of a class this process constructed, how many are alive (their peak
since the last reset), and where each was constructed from: the innermost frame in the user's code, with the
thread it ran on (the event loop, a worker thread, or start-up before the loop ran).

The class is patched (its `__init__` wrapped) as early as it can be:
- a class already imported when the watch is installed is patched at once;
- a class statement executed later is caught as it is defined (`builtins.__build_class__`), so a module-level
  construction right after the definition counts too. A class whose name matches is patched provisionally until
  MODULE has been imported and says which class its CLASS really is (`MODULE:CLASS` may name a class MODULE only
  imports, e.g. `myapp.main:OpenAI`); the other candidates are unpatched and their counts dropped.
- otherwise (a class not made by a class statement) it is patched once MODULE is imported (`resolve()`).
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import importlib
import linecache
import sys
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from bench.inject.owncode import user_code

MAX_SITES = 50  # distinct construction sites kept per class; the rest are pooled
OTHER_SITE = "(other sites)"


class WatchError(Exception):
    """A `--watch` spec that names no class: one line for the user."""


def parse_spec(spec: str) -> tuple[str, str]:
    module, sep, name = spec.partition(":")
    if not sep or not module or not name or not all(p.isidentifier() for p in (*module.split("."), *name.split("."))):
        raise WatchError(f"--watch {spec!r}: expected MODULE:CLASS (e.g. myapp.agent:ChatAgent)")
    return module, name


@dataclass
class _SiteCount:
    file: str
    line: int
    function: str
    count: int = 0
    threads: set[int] = field(default_factory=set)
    thread_names: dict[str, int] = field(default_factory=dict)
    where: dict[str, int] = field(default_factory=dict)  # loop / thread / start-up


def _where(thread: threading.Thread) -> str:
    try:
        asyncio.get_running_loop()
        return "loop"
    except RuntimeError:
        return "startup" if thread is threading.main_thread() else "thread"


def construction_site(frame: FrameType | None) -> tuple[str, int, str]:
    """The innermost frame in the user's code, else the innermost frame at all (a library built it on its own)."""
    first: tuple[str, int, str] | None = None
    while frame is not None:
        code = frame.f_code
        here = (code.co_filename, frame.f_lineno or 0, code.co_qualname)
        if first is None and "bench/inject" not in code.co_filename.replace("\\", "/"):
            first = here
        if user_code(code.co_filename):
            return here
        frame = frame.f_back
    return first or ("", 0, "(unknown)")


class Watched:
    """Counters of one watched class in this process (thread-safe: constructors race on purpose)."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.module, self.name = parse_spec(spec)
        self.cls: type | None = None
        self.resolved: str | None = None  # where the class is defined: "openai._client:OpenAI"
        self._lock = threading.Lock()
        self.constructions = self.live = self.live_peak = self.untracked = 0
        self._sites: dict[tuple[str, int, str], _SiteCount] = {}
        self.forward: Watched | None = None  # a provisional probe hands its instances on to the watch it became

    def record(self, instance: object, frame: FrameType | None) -> None:
        file, line, function = construction_site(frame)
        thread = threading.current_thread()
        where = _where(thread)
        tracked = True
        try:
            weakref.finalize(instance, _collected, self)
        except TypeError:  # no __weakref__ slot: constructions count, live instances cannot be followed
            tracked = False
        with self._lock:
            self.constructions += 1
            if tracked:
                self.live += 1
                self.live_peak = max(self.live_peak, self.live)
            else:
                self.untracked += 1
            key = (file, line, function)
            site = self._sites.get(key)
            if site is None:
                if len(self._sites) >= MAX_SITES:
                    key = ("", 0, OTHER_SITE)
                site = self._sites.setdefault(key, _SiteCount(*key))
            site.count += 1
            site.threads.add(thread.ident or 0)
            site.thread_names[thread.name] = site.thread_names.get(thread.name, 0) + 1
            site.where[where] = site.where.get(where, 0) + 1

    def forget(self) -> None:
        """Drop every count (a provisional candidate that turned out not to be the class asked for)."""
        with self._lock:
            self.constructions = self.live = self.live_peak = self.untracked = 0
            self._sites.clear()

    def reset_peak(self) -> None:
        with self._lock:
            self.live_peak = self.live

    def snapshot(self, short: Callable[[str], str]) -> dict[str, Any]:
        with self._lock:
            sites = sorted(self._sites.values(), key=lambda s: s.count, reverse=True)
            return {
                "constructions": self.constructions, "live": self.live, "live_peak": self.live_peak,
                "untracked": self.untracked, "resolved": self.resolved,
                "sites": [{"site": f"{short(s.file)}:{s.line} {s.function}" if s.line else s.function,
                           "file": short(s.file) if s.file else None, "line": s.line or None,
                           "function": s.function, "code": linecache.getline(s.file, s.line).strip() or None
                           if s.line else None, "user_code": bool(s.file) and user_code(s.file),
                           "count": s.count, "threads": len(s.threads), "thread_names": dict(s.thread_names),
                           "where": dict(s.where)} for s in sites],
            }


def _patch(cls: type, watched: Watched) -> None:
    original = cls.__dict__.get("__init__")
    inherited = cls.__init__  # type: ignore[misc]

    @functools.wraps(inherited)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        inherited(self, *args, **kwargs)
        # Counted once the constructor returned: an instance that failed to build is no instance. A subclass
        # without its own __init__, or one calling super().__init__(), passes here once: counted once.
        watched.record(self, sys._getframe(1))

    __init__.__bench_watch__ = (watched, original)  # type: ignore[attr-defined]
    cls.__init__ = __init__  # type: ignore[misc]


def _collected(watched: Watched) -> None:
    while watched.forward is not None:
        watched = watched.forward
    with watched._lock:
        watched.live -= 1


def _unpatch(cls: type) -> None:
    marker = getattr(cls.__dict__.get("__init__"), "__bench_watch__", None)
    if marker is None:
        return
    original = marker[1]
    if original is None:
        delattr(cls, "__init__")
    else:
        cls.__init__ = original  # type: ignore[misc]


class WatchSet:
    """Every `--watch` of this process. `install()` before the target is imported, `resolve()` after it."""

    def __init__(self, specs: tuple[str, ...] | list[str]) -> None:
        self.items = [Watched(s) for s in dict.fromkeys(specs)]
        # Provisional patches by class name, until each spec's module says which class it means.
        self._candidates: dict[int, list[tuple[type, Watched]]] = {}
        self._original_build_class: Any = None
        self._lock = threading.Lock()

    def install(self) -> None:
        for w in self.items:
            module = sys.modules.get(w.module)
            if module is not None and isinstance(getattr(module, w.name, None), type):
                self._adopt(w, getattr(module, w.name))
        if any(w.cls is None for w in self.items) and self._original_build_class is None:
            self._original_build_class = builtins.__build_class__
            builtins.__build_class__ = self._build_class  # type: ignore[assignment]

    def _build_class(self, func: Any, name: str, *bases: Any, **kwargs: Any) -> Any:
        cls = self._original_build_class(func, name, *bases, **kwargs)
        if isinstance(cls, type):
            for w in self.items:
                if w.cls is None and cls.__qualname__ == w.name:
                    probe = Watched(w.spec)
                    with self._lock:
                        self._candidates.setdefault(id(w), []).append((cls, probe))
                    _patch(cls, probe)
        return cls

    def _adopt(self, w: Watched, cls: type) -> None:
        w.cls, w.resolved = cls, f"{cls.__module__}:{cls.__qualname__}"
        _patch(cls, w)

    def resolve(self) -> None:
        """After the target's import: each spec's module names its class. Raises WatchError for a bad spec."""
        try:
            for w in self.items:
                if w.cls is not None:
                    continue
                try:
                    module = sys.modules.get(w.module) or importlib.import_module(w.module)
                except ImportError as exc:
                    raise WatchError(f"--watch {w.spec}: cannot import {w.module}: {exc}") from None
                cls = getattr(module, w.name.split(".")[0], None)
                for part in w.name.split(".")[1:]:
                    cls = getattr(cls, part, None)
                if not isinstance(cls, type):
                    raise WatchError(f"--watch {w.spec}: {w.module} has no class {w.name}")
                self._settle(w, cls)
        finally:
            if self._original_build_class is not None and all(w.cls is not None for w in self.items):
                builtins.__build_class__ = self._original_build_class
                self._original_build_class = None

    def _settle(self, w: Watched, cls: type) -> None:
        with self._lock:
            candidates = self._candidates.pop(id(w), [])
        chosen = None
        for candidate, probe in candidates:
            _unpatch(candidate)
            if candidate is cls:
                chosen = probe
        _patch_or_move(w, cls, chosen)
        for _, probe in candidates:
            if probe is not chosen:
                probe.forget()

    def snapshot(self, short: Callable[[str], str]) -> dict[str, dict[str, Any]]:
        return {w.spec: w.snapshot(short) for w in self.items}

    def reset_peaks(self) -> None:
        for w in self.items:
            w.reset_peak()

    def totals(self) -> dict[str, int]:
        return {"constructions": sum(w.constructions for w in self.items),
                "live_instances": sum(w.live for w in self.items),
                "live_instances_peak": sum(w.live_peak for w in self.items)}


def _patch_or_move(w: Watched, cls: type, counted: Watched | None) -> None:
    """Adopt `cls` for `w`, keeping what its provisional patch counted (constructions at import included)."""
    if counted is not None:
        with counted._lock:
            w.constructions, w.live, w.live_peak = counted.constructions, counted.live, counted.live_peak
            w.untracked, w._sites = counted.untracked, dict(counted._sites)
            counted.forward = w  # instances counted under the probe decrement `w` when collected
    w.cls, w.resolved = cls, f"{cls.__module__}:{cls.__qualname__}"
    _patch(cls, w)

"""The child's entry point for a user's app: `app_from_env` is the uvicorn factory each worker loads
(`python -m bench.servers.uvicorn_runner bench.inject.bootstrap:app_from_env --factory`). Before the user's module
is imported it installs the `--watch` counters; then it imports `MODULE:ATTR` (calling it with `--factory`) and
wraps the app (bench/inject/asgi.py), whose first call starts the loop-lag monitor and the blocked-loop sampler.

Configured by the environment the parent sets (bench/servers/target.py), so a worker needs nothing else.
`check_target` is the runner's `--check`: the same load, returning one line instead of a traceback.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from bench.inject.asgi import BenchWrapper
from bench.inject.owncode import user_code
from bench.inject.probes import Probes
from bench.inject.watch import WatchError, WatchSet

ENV_APP = "BENCH_TARGET_APP"  # MODULE:ATTR
ENV_FACTORY = "BENCH_TARGET_FACTORY"  # "1": ATTR is a factory
ENV_APP_DIR = "BENCH_TARGET_APP_DIR"  # put first on sys.path, as uvicorn's --app-dir
ENV_WATCH = "BENCH_TARGET_WATCH"  # MODULE:CLASS,MODULE:CLASS
ERROR_MARK = "bench-target-error: "  # the parent looks for this line in the log to report it as it is


class TargetError(Exception):
    """The target cannot be served: one line for the user."""


@dataclass
class _Loaded:
    app: BenchWrapper


_loaded: _Loaded | None = None  # per process: the supervisor's check and the factory share one load


def _where(exc: BaseException) -> str:
    """`file:line` of the innermost frame of the user's code in the traceback, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if user_code(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    cwd = os.path.join(os.getcwd(), "")
    name = f.filename[len(cwd):] if f.filename.startswith(cwd) else f.filename
    return f" ({name}:{f.lineno})"


def _import_target(ref: str, factory: bool) -> Any:
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise TargetError(f"--app {ref!r}: expected MODULE:ATTR (e.g. myapp.main:app)")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise TargetError(f"cannot import {module_name!r} for --app {ref}: no module named {exc.name!r} "
                              f"(run from the app's directory or give --app-dir)") from None
        raise TargetError(f"importing {module_name} failed: {type(exc).__name__}: {exc}{_where(exc)}") from None
    except Exception as exc:
        raise TargetError(f"importing {module_name} failed: {type(exc).__name__}: {exc}{_where(exc)}") from None
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise TargetError(f"--app {ref}: module {module_name} has no attribute {attr!r}")
    if factory:
        if not callable(target):
            raise TargetError(f"--app {ref} --factory: {attr} is not callable")
        try:
            target = target()
        except Exception as exc:
            raise TargetError(f"--app {ref} --factory: calling {attr}() failed: {type(exc).__name__}: {exc}"
                              f"{_where(exc)}") from None
    if not callable(target):
        raise TargetError(f"--app {ref}: {attr} is a {type(target).__name__}, not an ASGI app "
                          "(give --factory if it builds one)")
    if inspect.isfunction(target) and not inspect.iscoroutinefunction(target) and not factory:
        raise TargetError(f"--app {ref}: {attr} is a plain function; if it returns the app, give --factory")
    return target


def load() -> BenchWrapper:
    """Install the instrumentation, import the target, wrap it (once per process)."""
    global _loaded
    if _loaded is not None:
        return _loaded.app
    ref = os.environ.get(ENV_APP, "")
    # As uvicorn's --app-dir, whose default is the working directory (a console script's sys.path lacks it).
    app_dir = os.environ.get(ENV_APP_DIR, "") or os.getcwd()
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    specs = [s.strip() for s in os.environ.get(ENV_WATCH, "").split(",") if s.strip()]
    try:
        watches = WatchSet(specs)
    except WatchError as exc:
        raise TargetError(str(exc)) from None
    watches.install()  # before the user's module is imported: its module-level constructions count too
    target = _import_target(ref, os.environ.get(ENV_FACTORY, "") == "1")
    try:
        watches.resolve()
    except WatchError as exc:
        raise TargetError(str(exc)) from None
    _loaded = _Loaded(BenchWrapper(target, Probes(ref, watches)))
    return _loaded.app


def app_from_env() -> BenchWrapper:
    """uvicorn factory. A target that fails here fails loudly in the log; `check_target` ran first with 1 worker."""
    try:
        return load()
    except TargetError as exc:
        sys.stderr.write(ERROR_MARK + str(exc) + "\n")
        raise SystemExit(2) from None


def check_target() -> str | None:
    """The runner's --check: None when the target loads, else one line (also marked for the parent)."""
    try:
        load()
    except TargetError as exc:
        return ERROR_MARK + str(exc)
    return None

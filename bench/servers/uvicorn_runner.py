"""Run an ASGI app under uvicorn on a host/port or on an inherited listening socket (`--fd`).

uvicorn's own `fd` option assumes a Unix socket; this takes a TCP socket from the parent instead
(see bench.servers.process), and supports `--workers` through uvicorn's own Multiprocess supervisor.
`python -m bench.servers.uvicorn_runner MODULE:ATTR [--factory] [--fd N] [--workers N] [--check MODULE:FUNC]`
is the child side of every app server the harness starts, so the app's own package needs no harness code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def run_uvicorn(
    app: str,
    *,
    factory: bool = False,
    host: str = "127.0.0.1",
    port: int = 8000,
    fd: int | None = None,
    workers: int = 1,
    log_level: str = "warning",
    access_log: bool = False,
    timeout_keep_alive: int = 75,
) -> None:
    """`timeout_keep_alive` outlives the clients' idle pools (openai/langchain and Locust keep about 5 s): with
    uvicorn's default of 5 s a request can race a server-side close and be retried silently by the SDK.

    With several workers each one loads `worker_app`, which ties the worker's life to the supervisor's before
    it loads the real app: a killed supervisor leaves no worker behind."""
    if workers > 1:
        os.environ[_APP_ENV], os.environ[_FACTORY_ENV] = app, "1" if factory else ""
        app, factory = f"{__name__}:worker_app", True
        if os.environ.get(WORKER_START_ENV) == "fork":
            _fork_workers()
    config = uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=timeout_keep_alive,
        # uvicorn kills a worker that misses its 5 s health ping: on a saturated 2-core machine (8 workers whose
        # limiters poll Redis beside other steps) a healthy worker missed it and its ~30 queued requests were cut.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_S,
        backlog=4096,
    )
    if fd is None and workers <= 1:
        uvicorn.Server(config).run()
        return
    sock = socket.socket(fileno=fd) if fd is not None else config.bind_socket()
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


WORKER_HEALTHCHECK_S = 30
WORKER_START_ENV = "BENCH_WORKER_START"  # "fork": workers forked from this supervisor instead of spawned
_APP_ENV = "BENCH_UVICORN_APP"
_FACTORY_ENV = "BENCH_UVICORN_FACTORY"


def _fork_workers() -> None:
    """uvicorn spawns each worker (a fresh interpreter importing everything again, ~2.7 s of CPU here). Forked from
    this supervisor instead, a worker starts with the supervisor's imports and nothing else: no app, no agent, no
    connection exists before the fork (the app is built in each worker by `worker_app`), so what each worker builds
    is what it would build when spawned. The supervisor has no thread of its own at that point, so the fork is
    safe. The harness asks for it in its overlapping schedule (bench/run/schedule.py), where a cold start of 8
    spawned workers would take the CPU from every unit beside it."""
    import multiprocessing

    import uvicorn._subprocess as uvicorn_subprocess

    uvicorn_subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def worker_app() -> Any:
    """A uvicorn worker's app (a factory): dies with the supervisor (see bench.servers.lifeline), then loads the
    app the supervisor was asked to serve."""
    from bench.servers.lifeline import die_with_parent

    die_with_parent()
    target = _load(os.environ[_APP_ENV])
    return target() if os.environ.get(_FACTORY_ENV) else target


def _load(ref: str) -> Callable[[], Any]:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.servers.uvicorn_runner")
    p.add_argument("app", help="MODULE:ATTR of the ASGI app (or of its factory, with --factory)")
    p.add_argument("--factory", action="store_true")
    p.add_argument("--fd", type=int)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="warning")
    p.add_argument("--check", metavar="MODULE:FUNC",
                   help="called before uvicorn starts; a returned message is printed as one line, exit 2 "
                   "(a bad setting fails once here, not as a traceback from every worker)")
    args = p.parse_args(argv)
    if args.check and (problem := _load(args.check)()):
        sys.stderr.write(problem + "\n")
        return 2
    run_uvicorn(args.app, factory=args.factory, host=args.host, port=args.port, fd=args.fd, workers=args.workers,
                log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run an ASGI app under uvicorn on a host/port or on an inherited listening socket (`--fd`).

uvicorn's own `fd` option assumes a Unix socket; this takes a TCP socket from the parent instead
(see bench.servers.process), and supports `--workers` through uvicorn's own Multiprocess supervisor.
"""

from __future__ import annotations

import socket

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
    uvicorn's default of 5 s a request can race a server-side close and be retried silently by the SDK."""
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

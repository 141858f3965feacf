"""A user's ASGI app as a child server (`TargetServer`, shaped like the reference app's `AppServer`): served by
uvicorn on a pre-bound socket through `bench.inject.bootstrap`, which instruments it before its module is imported.
Its upstream is redirected only through the environment the SDKs read (`OPENAI_BASE_URL`, older LangChain's
`OPENAI_API_BASE`); its figures are read per worker over the reserved `/__bench__/` prefix."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.errors import ServerStartError, UsageError
from bench.servers import httpclient
from bench.servers.process import ChildServer, ServerProcess, python_argv, serve

BOOTSTRAP = "bench.inject.bootstrap:app_from_env"
CHECK = "bench.inject.bootstrap:check_target"
ERROR_MARK = "bench-target-error: "  # bench.inject.bootstrap.ERROR_MARK (the child side is not imported here)
STATS = "/__bench__/stats"
RESET = "/__bench__/reset"
HEALTH = "/__bench__/healthz"
# What the SDKs need to reach the embedded mock without a real key; a real backend brings its own.
DUMMY_KEY = "sk-bench-dummy-key-not-a-secret"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class TargetSpec:
    """How to start the user's app: `--app MODULE:ATTR`, `--factory`, `--app-dir`, `--watch`, `--env` /
    `--env-file` (merged: the file first, then the flags), `--workers`."""

    app: str
    factory: bool = False
    app_dir: str = ""  # absolute
    watch: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    workers: int = 1

    @property
    def label(self) -> str:
        return self.app

    def describe(self) -> dict[str, Any]:
        """For results.json: the environment's names only (values may be secrets)."""
        return {"app": self.app, "factory": self.factory, "app_dir": self.app_dir, "watch": list(self.watch),
                "env_keys": [k for k, _ in self.env], "workers": self.workers}

    def child_env(self, backend_url: str, *, api_key: str | None = None,
                  extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {"OPENAI_BASE_URL": backend_url, "OPENAI_API_BASE": backend_url,
               "OPENAI_API_KEY": api_key or DUMMY_KEY,
               "BENCH_TARGET_APP": self.app, "BENCH_TARGET_FACTORY": "1" if self.factory else "",
               "BENCH_TARGET_APP_DIR": self.app_dir, "BENCH_TARGET_WATCH": ",".join(self.watch)}
        env.update({k: v for k, v in os.environ.items() if k.startswith("BENCH_BLOCKWATCH")})
        env.update(extra or {})
        env.update(dict(self.env))  # the user's own settings win, even over the upstream redirect
        return {k: v for k, v in env.items() if v != ""}


def parse_env_pairs(pairs: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise UsageError(f"--env {pair!r}: expected KEY=VALUE")
        out.append((key, value))
    return tuple(out)


def read_env_file(path: str) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE lines as dotenv writes them: `#` comments, an optional `export `, values optionally quoted."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--env-file {path}: {exc.strerror or exc}") from None
    out = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not _ENV_NAME.match(key):
            raise UsageError(f"--env-file {path}:{n}: expected KEY=VALUE")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        out.append((key, value))
    return tuple(out)


@dataclass
class TargetServer(ChildServer):
    """A running user app. `per_worker()` and `reset()` reach every uvicorn worker process."""

    process: ServerProcess
    spec: TargetSpec
    workers: int = 1
    worker_pids: list[int] = field(default_factory=list)

    stats_path = STATS  # where the figures are (the reference app's: /api/debug/stats)

    @property
    def variant(self) -> str:
        return self.spec.label

    @property
    def proc(self) -> Any:
        return self.process.proc

    def stats(self, *, measure: bool = False, collect: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        resp = httpclient.get(self.url + STATS, params={"collect": str(collect).lower()}, timeout=timeout)
        resp.raise_for_status()
        return dict(resp.json())

    def per_worker(self, *, measure: bool = False, deadline_s: float = 20.0, collect: bool = False,
                   blocks: int | None = None, sites: int | None = None) -> list[dict[str, Any]]:
        """One stats dict per worker pid (short if the deadline passed first). `measure` (bytes per instance) is
        the reference app's only: accepted and ignored."""
        params = {"collect": str(collect).lower()}
        params.update({k: str(v) for k, v in (("blocks", blocks), ("sites", sites)) if v is not None})
        found: dict[int, dict[str, Any]] = {}
        end = time.monotonic() + deadline_s
        with httpclient.client(timeout=30.0, headers={"Connection": "close"}) as client:
            while len(found) < self.workers and time.monotonic() < end:
                resp = client.get(self.url + STATS, params=params)
                resp.raise_for_status()
                data = resp.json()
                found.setdefault(int(data["pid"]), data)
        return [found[pid] for pid in sorted(found)]

    def reset(self) -> None:
        seen: set[int] = set()
        end = time.monotonic() + 10.0
        with httpclient.client(timeout=10.0, headers={"Connection": "close"}) as client:
            while len(seen) < self.workers and time.monotonic() < end:
                resp = client.post(self.url + RESET)
                resp.raise_for_status()
                seen.add(int(resp.json()["pid"]))

    def openapi(self) -> dict[str, Any] | None:
        """The app's OpenAPI schema (FastAPI serves it at /openapi.json), or None if it serves none."""
        try:
            resp = httpclient.get(self.url + "/openapi.json", timeout=10.0)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        try:
            data = resp.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def _wait_workers(server: ServerProcess, workers: int, deadline_s: float) -> list[int]:
    """uvicorn --workers N answers before every worker has imported the app: poll until N pids have answered."""
    pids: set[int] = set()
    end = time.monotonic() + deadline_s
    with httpclient.client(timeout=2.0) as client:
        while len(pids) < workers and time.monotonic() < end:
            try:
                resp = client.get(server.url + HEALTH, headers={"Connection": "close"})
                if resp.status_code == 200:
                    pids.add(int(resp.json()["pid"]))
            except httpx.HTTPError:
                pass
            time.sleep(0.01)
    if len(pids) < workers:
        raise ServerStartError(f"only {len(pids)} of {workers} workers of {server.name} answered within "
                               f"{deadline_s:.0f}s:\n{server.log_tail()}")
    return sorted(pids)


def _user_line(exc: ServerStartError) -> str | None:
    for line in reversed(str(exc).splitlines()):
        if ERROR_MARK in line:
            return line.split(ERROR_MARK, 1)[1].strip()
    return None


@contextmanager
def running_target(
    spec: TargetSpec,
    backend_url: str,
    *,
    workers: int = 1,
    api_key: str | None = None,
    env: Mapping[str, str] | None = None,
    host: str = "127.0.0.1",
    log_dir: str | None = None,
    deadline_s: float = 90.0,
    cwd: str | None = None,
) -> Iterator[TargetServer]:
    """The user's app under uvicorn, instrumented; the same call as `running_app` with the spec in place of the
    variant. A target that does not load is one line (UsageError, exit 2), not a log tail."""
    argv = python_argv("bench.servers.uvicorn_runner", BOOTSTRAP, "--factory", "--workers", str(workers))
    if workers <= 1:
        # Loads the target in the process that then serves it: a bad one fails here, as one line. With several
        # workers each loads it itself (the supervisor stays light); a run checks with one worker first.
        argv += ["--check", CHECK]
    name = "target-" + re.sub(r"[^A-Za-z0-9_.-]", "_", spec.app)
    try:
        with serve(name, argv, probe_path=HEALTH, env=spec.child_env(backend_url, api_key=api_key, extra=env),
                   host=host, deadline_s=deadline_s, log_dir=log_dir, cwd=cwd) as server:
            pids = _wait_workers(server, workers, deadline_s) if workers > 1 else [server.pid]
            yield TargetServer(server, spec, workers, pids)
    except ServerStartError as exc:
        line = _user_line(exc)
        if line is None:
            raise
        raise UsageError(line) from None

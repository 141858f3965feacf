"""A fork server for the reference app: one long-lived child that has already imported FastAPI, LangChain, openai
and uvicorn (~2.7 s of CPU per cold interpreter) forks each new app process, so an app starts in a fraction of that.

    with forked_apps():             # in the main thread, around the whole run (`bench run`'s pipeline)
        with running_app(...) as app:   # from any thread: `serve()` asks the fork server, else starts it cold
            ...

Only the reference app (`python -m bench.servers.uvicorn_runner app_under_test...`) is forked, and the harness's
static measurements of it (`bench.run.static_child`, FORKABLE_MODULES); a user's app, the mock and everything else
keep `subprocess.Popen`, and so does everything outside `forked_apps()`. `BENCH_FORK_SERVER=0` turns it off.
uvicorn's `--workers N` are started by multiprocessing's 'spawn' (cold) unless the app's environment says
`BENCH_WORKER_START=fork` (the overlapping schedule does: bench/servers/uvicorn_runner.py); only the supervisor is
forked from here.

A forked app must be indistinguishable from a cold one, so:
- the fork server imports with a clean environment (`child_env()`), and an app whose environment differs in a
  variable some pre-imported module reads at import time (`IMPORT_TIME_ENV`) is started cold instead;
- the fork server runs no thread and no event loop (numpy's OpenBLAS pool is shut down by its own `pthread_atfork`
  handler before each fork), and forks from its main thread (the parent-death signal follows the forking thread);
- the child does what `Popen(start_new_session=True, close_fds=True, pass_fds=..., preexec_fn=preexec_for_child())`
  and `python -m` would: new session, parent-death signal, stdin from /dev/null, stdout/stderr to the log, only the
  passed descriptors kept (at the numbers in argv), the given environment and cwd, `sys.path[0]` the cwd.

The harness side reads the fork server's reports in a thread: each child's pid when forked and its exit status when
reaped, which `ForkedProcess` (Popen-shaped: `pid`, `poll()`, `wait()`, `send_signal()`...) returns.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
import itertools
import json
import os
import runpy
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, NoReturn

import psutil

from bench.servers import priority
from bench.servers.lifeline import die_with_parent, preexec_for_child
from bench.servers.process import child_env
from bench.servers.proctitle import TITLE_ROOM, set_title

SWITCH_ENV = "BENCH_FORK_SERVER"  # "0": every app starts cold, as outside `forked_apps()`
RUNNER = "bench.servers.uvicorn_runner"
APP_PACKAGE = "app_under_test"
# The harness's own children that need nothing the fork server lacks: the static measurements of the reference app
# (bench/run/static_child.py), which need only its imports, and the mock backend (`python -m bench.mock`), a uvicorn
# server like the app. A cold mock costs ~0.25 s of CPU to start, and a run starts one per unit (22 in quick): forked,
# its start stops competing with the units beside it. Being the instrument, not the app under test, it need not look
# cold: its start-up freezes what it inherits (bench/mock/app.py `_lifespan`), so the collector never walks the
# app's pre-imported objects during a run.
FORKABLE_MODULES = ("bench.run.static_child", "bench.mock")
# Of those, the ones whose cold start is cheaper than waiting for the fork server's imports (~2-3 s after the run
# starts): forked only once the server is ready, else started cold (the backend probe's mock, at the very start).
FORKED_ONCE_READY = ("bench.mock",)
# What the fork server imports before it forks anything: the app, what uvicorn loads when it serves it
# (`Config.load()` imports the protocol, loop and lifespan modules by name), and the runner.
PRELOAD = (
    "app_under_test.app", "app_under_test.__main__", "uvicorn", "uvicorn.supervisors", "uvicorn.config",
    "uvicorn.protocols.http.auto", "uvicorn.protocols.websockets.auto", "uvicorn.lifespan.on", "uvicorn.loops.auto",
    "multiprocessing.spawn", RUNNER, "bench.mock.command", "bench.mock.app",
)
# Variables the pre-imported modules (or the interpreter itself) read once, at start or import: an app asking for
# another value than the fork server had must start cold. Found by reading the imports (see the module's report):
# PYTHON* (interpreter start: hash seed, path, warnings, tracemalloc...), openai's OPENAI_LOG / OPENAI_API_TYPE /
# OPENAI_API_VERSION / AZURE_OPENAI_ENDPOINT, langsmith's *_RUN_COMPRESSION_* (and its cached get_env_var),
# LANGGRAPH_STRICT_MSGPACK, pydantic's plugin switch, and numpy's BLAS / OpenMP thread counts.
IMPORT_TIME_ENV = ("PYTHON", "OPENAI_LOG", "OPENAI_API_TYPE", "OPENAI_API_VERSION", "AZURE_OPENAI_ENDPOINT",
                   "LANGSMITH_", "LANGCHAIN_", "LANGGRAPH_", "PYDANTIC_", "OPENBLAS_", "OMP_", "MKL_", "NPY_")
MAX_MESSAGE = 1 << 20  # a request carries a whole environment; SOCK_SEQPACKET keeps each one in one piece
START_DEADLINE_S = 120.0  # the fork server's imports, on a loaded machine
REPLY_DEADLINE_S = 30.0  # a fork is milliseconds; longer means the fork server is stuck


def import_time_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_ENV)}


# The directory `bench` is imported from, by the harness and by the fork server alike.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _comparable(env: Mapping[str, str]) -> dict[str, str]:
    """The import-time variables, PYTHONPATH without the project's root: the harness's own children (the mock) put
    it first so that a cold `python -m bench...` imports `bench` without an install; the fork server has imported
    `bench` from there already, so it changes nothing a forked child would import."""
    found = import_time_env(env)
    if "PYTHONPATH" in found:
        rest = [p for p in found["PYTHONPATH"].split(os.pathsep) if p and os.path.abspath(p) != PROJECT_ROOT]
        if rest:
            found["PYTHONPATH"] = os.pathsep.join(rest)
        else:
            del found["PYTHONPATH"]
    return found


# ---------------------------------------------------------------------------------------------------------------
# The fork server's side (`python -m bench.servers.forkserver --ctl-fd N`).

def _send(ctl: socket.socket, message: dict[str, Any]) -> None:
    ctl.send(json.dumps(message).encode())


def system_exit_code(code: object) -> int:
    """What the interpreter makes of `SystemExit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _keep_fds(targets: Sequence[int], received: Sequence[int]) -> None:
    """Leave open 0-2 and `received[i]` as descriptor `targets[i]`, nothing else (Popen's close_fds + pass_fds)."""
    floor = max([*targets, *received, 2]) + 1
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, floor) for fd in received]  # out of the way of every target first
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in high:
            with contextlib.suppress(OSError):
                os.close(fd)
    for fd, target in zip(high, targets, strict=True):
        os.dup2(fd, target)  # inheritable, as pass_fds makes them
        os.close(fd)


def _child(request: dict[str, Any], fds: list[int], server_pid: int, start_cwd: str) -> NoReturn:
    """The forked app: become what `Popen([python, -m, module, ...])` would have started, run it, exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # start_new_session: Ctrl-C reaches the harness only
        die_with_parent(server_pid)  # the fork server dies with the harness; its children with it
        priority.lower(int(request.get("nice") or 0))  # the requesting thread's (bench/servers/priority.py)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(fds[0], 1)
        os.dup2(fds[0], 2)
        _keep_fds(request["targets"], fds[1:])
        os.environ.clear()  # putenv/unsetenv too: C code and child processes see the app's environment
        os.environ.update(request["env"])
        _forget_env_caches()
        cwd = request["cwd"]
        os.chdir(cwd)
        if sys.path and sys.path[0] == start_cwd:
            sys.path[0] = cwd  # `python -m` puts the working directory first
        if (mp := sys.modules.get("multiprocessing.process")) is not None:
            mp.ORIGINAL_DIR = cwd  # type: ignore[attr-defined]  # what a spawned uvicorn worker is told
        module, *args = request["argv"]
        set_title(" ".join([sys.executable, "-m", module, *args]))
        sys.argv = [module, *args]
        # Run as `python -m` runs it: as a fresh `__main__`, not the copy pre-imported for its imports.
        sys.modules.pop(module, None)
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exc:
            code = system_exit_code(exc.code)
        except BaseException:
            traceback.print_exc()
            code = 1
        # The interpreter's own exit: join non-daemon threads, then the atexit handlers (logging, multiprocessing).
        with contextlib.suppress(BaseException):
            threading._shutdown()  # type: ignore[attr-defined]
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()
    except BaseException:
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _forget_env_caches() -> None:
    """Caches of environment reads filled while the fork server imported (langsmith's `get_env_var`)."""
    clear = getattr(getattr(sys.modules.get("langsmith.utils"), "get_env_var", None), "cache_clear", None)
    if callable(clear):
        clear()


def _reap(ctl: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(ctl, {"op": "exit", "pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _spawn(ctl: socket.socket, request: dict[str, Any], fds: list[int], wake: tuple[int, int],
           start_cwd: str) -> None:
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # nothing buffered here may be written twice, by the child too
    server_pid = os.getpid()
    pid = os.fork()
    if pid == 0:
        ctl.close()
        for fd in wake:
            os.close(fd)
        _child(request, fds, server_pid, start_cwd)
    _send(ctl, {"op": "spawned", "id": request["id"], "pid": pid})


def serve_forever(ctl: socket.socket) -> int:
    """Answer spawn requests until the harness closes its end; report every child's exit as it is reaped."""
    start_cwd = os.getcwd()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)  # SIGCHLD wakes the select below (no thread, no event loop)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([ctl.fileno(), wake_r], [], [], 1.0)
        with contextlib.suppress(BlockingIOError):
            while os.read(wake_r, 512):
                pass
        _reap(ctl)
        if ctl.fileno() not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(ctl, MAX_MESSAGE, 16)
        if not message:
            return 0  # the harness is done (or gone): its children die with this process
        request = json.loads(message)
        try:
            _spawn(ctl, request, fds, (wake_r, wake_w), start_cwd)
        except OSError as exc:
            _send(ctl, {"op": "error", "id": request.get("id"), "error": f"{type(exc).__name__}: {exc}"})
        finally:
            for fd in fds:
                os.close(fd)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    ctl = socket.socket(fileno=int(args[args.index("--ctl-fd") + 1]))
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() != 1:  # an import started a thread: forking now would be unsafe
        _send(ctl, {"op": "failed", "error": f"threads after the imports: {threading.enumerate()}"})
        return 1
    _send(ctl, {"op": "ready", "pid": os.getpid(), "modules": len(sys.modules)})
    return serve_forever(ctl)


# ---------------------------------------------------------------------------------------------------------------
# The harness's side.

class ForkServerError(RuntimeError):
    """The fork server could not start or stopped answering; the app then starts cold."""


class ForkedProcess:
    """A process the fork server forked, shaped like `subprocess.Popen` for `stop_tree`, `wait_ready`, `AppWatch`...:
    its exit status comes from the fork server's reports (it is the fork server's child, not ours)."""

    def __init__(self, server: ForkServer, pid: int, args: Sequence[str]) -> None:
        self._server = server
        self.pid = pid
        self.args = list(args)
        self.returncode: int | None = None
        self.pidfd: int | None = None  # signals reach this process even once its pid is reaped and reused

    def __repr__(self) -> str:
        return f"<ForkedProcess: pid {self.pid} returncode {self.returncode}>"

    def poll(self) -> int | None:
        return self.returncode  # set by the reader thread; never blocks, so a watcher can poll it freely

    def wait(self, timeout: float | None = None) -> int:
        with self._server.cond:
            if not self._server.cond.wait_for(lambda: self.returncode is not None, timeout):
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:  # as Popen: never signal a process known to be gone
            with contextlib.suppress(ProcessLookupError, OSError):
                if self.pidfd is not None:
                    signal.pidfd_send_signal(self.pidfd, sig)
                else:
                    os.kill(self.pid, sig)

    def _exited(self, code: int) -> None:
        self.returncode = code
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The harness's handle on a running fork server: `spawn()` from any thread; `close()` stops it."""

    def __init__(self, proc: subprocess.Popen[bytes], ctl: socket.socket, env: dict[str, str], log_path: str) -> None:
        self.proc = proc
        self.env = env
        self.log_path = log_path
        self.cond = threading.Condition()
        self.failure: str | None = None  # why it stopped answering; None while it is fine
        self._ctl = ctl
        self._ready = False
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._replies: dict[int, dict[str, Any]] = {}
        self._live: dict[int, ForkedProcess] = {}
        self._reader = threading.Thread(target=self._read, name="fork-server-reader", daemon=True)
        self._reader.start()

    @classmethod
    def start(cls) -> ForkServer:
        """Start it (without waiting for its imports: the first `spawn()` does). Call from a thread that lives as
        long as the fork server should: the kernel's parent-death signal follows the thread that started it."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = child_env()
        log_path = os.path.join(tempfile.mkdtemp(prefix="bench-forkserver-"), "forkserver.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, "--ctl-fd", str(theirs.fileno()), " " * TITLE_ROOM],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, pass_fds=(theirs.fileno(),),
                start_new_session=True, preexec_fn=preexec_for_child(),
            )
        theirs.close()
        return cls(proc, ours, env, log_path)

    def _read(self) -> None:
        try:
            while True:
                message = self._ctl.recv(MAX_MESSAGE)
                if not message:
                    break
                self._dispatch(json.loads(message))
        except (OSError, ValueError) as exc:
            self.failure = f"{type(exc).__name__}: {exc}"
        self._lost()

    def _dispatch(self, msg: dict[str, Any]) -> None:
        with self.cond:
            op = msg.get("op")
            if op == "ready":
                self._ready = True
            elif op == "failed":
                self.failure = str(msg.get("error"))
            elif op == "spawned":
                # Registered here, in order: the child's exit report can only come after this reply.
                proc = ForkedProcess(self, int(msg["pid"]), [])
                with contextlib.suppress(OSError):  # reaped already (its exit report follows) or no pidfd here
                    proc.pidfd = os.pidfd_open(proc.pid)
                self._live[proc.pid] = proc
                self._replies[int(msg["id"])] = {**msg, "proc": proc}
            elif op == "error":
                self._replies[int(msg["id"])] = msg
            elif op == "exit" and int(msg["pid"]) in self._live:
                self._live.pop(int(msg["pid"]))._exited(int(msg["code"]))
            self.cond.notify_all()

    def _lost(self) -> None:
        """The fork server is gone: its children got SIGKILL from the kernel (parent-death signal). Report them
        exited once they are (the signal comes a moment after the socket closes), never as still running."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1.0)
        with self.cond:
            self.failure = self.failure or f"the fork server exited ({self.proc.poll()}): {_last_line(self.log_path)}"
            orphans = list(self._live.values())
            self._live.clear()
        end = time.monotonic() + 5.0
        for proc in orphans:
            while time.monotonic() < end and _alive(proc.pid):
                time.sleep(0.01)
        with self.cond:
            for proc in orphans:
                proc._exited(-signal.SIGKILL)
            self.cond.notify_all()

    @property
    def ready(self) -> bool:
        """Its imports are done: a spawn now is a fork, not a wait."""
        return self._ready and self.failure is None

    def usable(self, env: Mapping[str, str]) -> bool:
        """Whether a child with `env` may be forked: the variables read at import time are the fork server's."""
        return self.failure is None and _comparable(env) == _comparable(self.env)

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None, log: IO[bytes],
              pass_fds: Sequence[int]) -> ForkedProcess:
        """Fork `argv` (`[python, -m, module, args...]`); `pass_fds` keep their numbers in the child."""
        if len(argv) < 3 or argv[1] != "-m":
            raise ValueError(f"not a `python -m` command line: {argv}")
        with self.cond:
            if not self.cond.wait_for(lambda: self._ready or self.failure is not None, START_DEADLINE_S):
                self.failure = f"not ready after {START_DEADLINE_S:.0f} s"
            if self.failure is not None:
                raise ForkServerError(self.failure)
        request_id = next(self._ids)
        request = {"op": "spawn", "id": request_id, "argv": list(argv[2:]), "env": dict(env),
                   "cwd": os.path.abspath(cwd or os.getcwd()), "targets": list(pass_fds), "nice": priority.current()}
        with self._send_lock:
            socket.send_fds(self._ctl, [json.dumps(request).encode()], [log.fileno(), *pass_fds])
        with self.cond:
            if not self.cond.wait_for(lambda: request_id in self._replies or self.failure is not None,
                                      REPLY_DEADLINE_S):
                self.failure = f"no answer in {REPLY_DEADLINE_S:.0f} s"
            reply = self._replies.pop(request_id, None)
        if reply is None or "proc" not in reply:
            raise ForkServerError(self.failure or str((reply or {}).get("error")))
        proc: ForkedProcess = reply["proc"]
        proc.args = list(argv)
        return proc

    def close(self) -> None:
        """Stop the fork server (apps still running die with it) and its reader."""
        with contextlib.suppress(OSError):
            self._ctl.shutdown(socket.SHUT_RDWR)
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        self._reader.join(timeout=10.0)
        self._ctl.close()
        if self.failure is None or self.failure.startswith("the fork server exited (0)"):
            shutil.rmtree(os.path.dirname(self.log_path), ignore_errors=True)  # kept when it says what went wrong


def _last_line(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            lines = fh.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else "(no output)"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


_active: ForkServer | None = None
_active_lock = threading.Lock()
_warned = False


def enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "1") != "0" and sys.platform.startswith("linux")


def _warn(why: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        sys.stderr.write(f"bench: the app fork server is unavailable ({why}); starting apps cold\n")


@contextlib.contextmanager
def forked_apps() -> Iterator[ForkServer | None]:
    """Within this, the reference app's processes are forked by a fork server (None: off, or nested in another
    `forked_apps()`, whose server is used). Enter it from the main thread (or one that outlives the apps)."""
    global _active, _warned
    with _active_lock:
        owner = enabled() and _active is None
        if owner:
            _warned = False
            try:
                _active = ForkServer.start()
            except OSError as exc:
                _warn(f"{type(exc).__name__}: {exc}")
                owner = False
    try:
        yield _active if owner else None
    finally:
        if owner:
            with _active_lock:
                server, _active = _active, None
            if server is not None:
                server.close()


def active() -> ForkServer | None:
    return _active


def forkable(argv: Sequence[str]) -> bool:
    """The reference app's command line (`python -m bench.servers.uvicorn_runner app_under_test...`), or one of the
    harness's own modules that need only the app's imports (FORKABLE_MODULES)."""
    if len(argv) < 3 or argv[0] != sys.executable or argv[1] != "-m":
        return False
    if argv[2] in FORKABLE_MODULES:
        return True
    return len(argv) >= 4 and argv[2] == RUNNER and argv[3].split(".")[0].split(":")[0] == APP_PACKAGE


def spawn_if_active(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None, log: IO[bytes],
                    pass_fds: Sequence[int]) -> ForkedProcess | None:
    """The app forked by the active fork server, or None: start it cold (no server, another command line, an
    environment the server's imports did not see, or the server failed: then one warning line)."""
    server = _active
    if server is None or not enabled() or not forkable(argv) or not server.usable(env):
        if server is not None and server.failure is not None:
            _warn(server.failure)
        return None
    if argv[2] in FORKED_ONCE_READY and not server.ready:
        return None
    try:
        return server.spawn(argv, env=env, cwd=cwd, log=log, pass_fds=pass_fds)
    except (ForkServerError, OSError) as exc:
        _warn(f"{exc}; log: {server.log_path}")
        return None


if __name__ == "__main__":
    exit_code = main()
    # Without the interpreter's teardown of the pre-imported app (0.57-0.67 s the harness waited for at the end of
    # every run): nothing here needs it (no thread, no buffered file but the log). Its children are gone by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)

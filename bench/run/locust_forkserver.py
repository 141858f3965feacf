"""A Locust fork server: Locust's, gevent's and the scenarios' imports paid once per `bench run`, not once per run.

    with locust_fork_server():      # in the main thread, around the whole run; BENCH_FORK_SERVER=0 turns it off
        run_locust(job)             # from any thread: forked from the server, else `python -m locust` as before

The server (`python -m bench.run.locust_forkserver`, a child that dies with the harness) imports locust (which
monkey-patches with gevent), locust.main and the modules the locustfile uses (not `scenarios.hooks`, whose import
registers Locust listeners, nor the locustfile: Locust loads both in the forked child, as in a fresh process),
computes what every run would otherwise compute afresh at its end (the HTML report's compiled template, inspect's map
of module files: `_warm`, the only state it sets up beyond imports), then waits on a Unix socket. A request carries
`python -m locust`'s arguments, the environment, the working directory and the log file's descriptor; the server
forks, and the child (its own session, dying with the server, the log on fds 1 and 2, the environment, cwd and argv
replaced, its memory mapped as a fresh process's would be, its command line shown as `python -m locust ...`) runs
`locust/__main__.py` as `python -m locust` would, ending as that interpreter would. The server reports the child's
pid (and a pidfd, so a signal never reaches a reused pid) and, when it has reaped it, its return code. The harness's
`ForkedLocust` is Popen-like (pid, poll, wait(timeout), returncode, send_signal/terminate/kill), so run_locust's
timeout and stop_tree are unchanged.

The server's own I/O never goes through gevent's hub (original poll, waitpid, unpatched `_socket`), it runs no
greenlet and no thread, and it forks from its main thread: the child starts with gevent reinitialised and nothing
of the server running. This module imports no locust in the harness (it would monkey-patch the harness).
"""

from __future__ import annotations

import array
import contextlib
import itertools
import json
import os
import runpy
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

import psutil

from bench.servers import priority
from bench.servers.exiting import exit_now
from bench.servers.forkserver import system_exit_code
from bench.servers.lifeline import die_with_parent, preexec_for_child
from bench.servers.process import child_env, stop_tree
from bench.servers.proctitle import TITLE_ROOM, set_title

ROOT = Path(__file__).resolve().parents[2]
SERVER_MODULE = "bench.run.locust_forkserver"
ENV_SWITCH = "BENCH_FORK_SERVER"  # "0": Locust as a subprocess per run (shared with the app's fork server)
# Imported once by the server. Only modules whose import changes nothing but sys.modules: scenarios.hooks registers
# Locust listeners at import, so a locustfile that does not import it must not find them registered.
PRELOAD = (
    "locust", "locust.main", "scenarios.burst", "scenarios.arrival", "scenarios.users", "scenarios.shapes",
    "scenarios.completion", "scenarios.streaming", "scenarios.serving", "scenarios.webui", "scenarios.options",
    "scenarios.runstate", "bench.servers.lifeline",
)
# Environment read at import (interpreter start, gevent, locust's patching, the clock's test hook): a request whose
# values differ from the server's is not forked (it gets `python -m locust`, which reads them afresh).
IMPORT_TIME_ENV = ("PYTHON", "GEVENT", "LOCUST", "BENCH_TEST_")
REPLY_TIMEOUT_S = 60.0  # the first request waits for the server's imports; beyond this the server is hung
MAX_MESSAGE = 1 << 20


def _send(sock: Any, payload: Mapping[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(payload).encode()
    ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    sock.sendmsg([data], ancillary)


def _recv(sock: Any, close: Callable[[int], None] = os.close) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the descriptors it carried; (None, []) at end of stream."""
    fds = array.array("i")
    data, ancdata, _flags, _addr = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[: len(cdata) - len(cdata) % fds.itemsize])
    if not data:
        for fd in fds:
            close(fd)
        return None, []
    return json.loads(data), list(fds)


def _import_time_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith(IMPORT_TIME_ENV)}


# --- the harness side --------------------------------------------------------------------------------------------


class ForkedLocust:
    """A Locust forked by the server, as much of `subprocess.Popen` as run_locust and stop_tree use."""

    def __init__(self, server: LocustForkServer, conn: socket.socket, pid: int, pidfd: int | None,
                 args: Sequence[str]) -> None:
        self.server = server
        self.args = list(args)
        self.pid = pid
        self.returncode: int | None = None
        self._conn = conn
        self._pidfd = pidfd  # signals go to this process even after its pid is reused
        self._lock = threading.Lock()  # held by whoever reads the server's report (a wait may hold it for long)
        self._sig_lock = threading.Lock()  # a signal never meets a pidfd being closed

    def poll(self) -> int | None:
        # Never blocks: while another thread waits for the exit (run_locust), the app watcher and the Ctrl-C path
        # poll and signal from theirs.
        if self.returncode is None and self._lock.acquire(blocking=False):
            try:
                self._collect_locked(0.0)
            finally:
                self._lock.release()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._collect(timeout):
            raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is not None:
            return  # reaped: the pid may be someone else's now
        with self._sig_lock, contextlib.suppress(ProcessLookupError):
            if self.returncode is not None:
                return
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, sig)
            else:
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def _collect(self, timeout: float | None) -> bool:
        """Wait up to `timeout` (None: for ever) for the server's report of the exit; True once it is known."""
        with self._lock:
            return self._collect_locked(timeout)

    def _collect_locked(self, timeout: float | None) -> bool:
        if self.returncode is not None:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        ready, _, _ = select.select([self._conn], [], [], timeout)
        if not ready:
            return False
        try:
            msg, fds = _recv(self._conn)
        except OSError:
            msg, fds = None, []
        for fd in fds:
            os.close(fd)
        if msg is not None and "returncode" in msg:
            self._finish(int(msg["returncode"]))
            return True
        # The server died: its children get SIGKILL from the kernel (their parent-death signal).
        self.server.lost("it died during a run")
        if not self._gone(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return False
        self._finish(-signal.SIGKILL)
        return True

    def _gone(self, timeout: float | None) -> bool:
        if self._pidfd is not None:
            return bool(select.select([self._pidfd], [], [], timeout)[0])
        end = None if timeout is None else time.monotonic() + timeout
        while psutil.pid_exists(self.pid):
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(0.02)
        return True

    def _finish(self, returncode: int) -> None:
        with self._sig_lock:
            self.returncode = returncode
            self._conn.close()
            if self._pidfd is not None:
                os.close(self._pidfd)
                self._pidfd = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._pidfd is not None:
                os.close(self._pidfd)


class LocustForkServer:
    """The harness's handle on the running server: `start()` asks it for one Locust."""

    def __init__(self, proc: subprocess.Popen[bytes], path: str, log_path: Path, env: Mapping[str, str]) -> None:
        self.proc = proc
        self.path = path
        self.log_path = log_path
        self.env = dict(env)  # the server's own: what it read at import
        self.dead: str | None = None  # why it is no longer used
        self._lock = threading.Lock()

    def lost(self, why: str, *, kill: bool = False) -> None:
        """Stop using the server (one warning line for the whole run); `kill`: a hung one, and what it forked."""
        with self._lock:
            first = self.dead is None
            self.dead = self.dead or why
        if kill and self.proc.poll() is None:
            self.proc.kill()  # its Locust children die with it
        if first:
            print(f"bench run: warning: the Locust fork server is not used any more ({why}; log {self.log_path}); "
                  "Locust starts as a subprocess per run", file=sys.stderr)

    def start(self, argv: Sequence[str], *, env: Mapping[str, str], cwd: str | os.PathLike[str],
              log: IO[bytes]) -> ForkedLocust | None:
        """Locust for `argv` (`python -m locust ...` as for Popen), its output on `log`; None: start it yourself."""
        if self.dead is not None:
            return None
        if list(argv[:3]) != [sys.executable, "-m", "locust"]:
            return None
        if _import_time_env(env) != _import_time_env(self.env):
            return None  # read at import: only a fresh interpreter honours them
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            conn.settimeout(REPLY_TIMEOUT_S)
            conn.connect(self.path)
            _send(conn, {"argv": list(argv[3:]), "env": dict(env), "cwd": os.fspath(cwd), "nice": priority.current()},
                  [log.fileno()])
            msg, fds = _recv(conn)
            conn.settimeout(None)
        except TimeoutError:
            conn.close()
            self.lost(f"no answer within {REPLY_TIMEOUT_S:g} s", kill=True)
            return None
        except OSError as exc:
            conn.close()
            self.lost(f"{type(exc).__name__}: {exc}")
            return None
        if msg is None or "pid" not in msg:
            conn.close()
            for fd in fds:
                os.close(fd)
            self.lost(msg.get("error", "no pid") if msg else f"it exited (code {self.proc.poll()})")
            return None
        return ForkedLocust(self, conn, int(msg["pid"]), fds[0] if fds else None, argv)


_active: LocustForkServer | None = None


def active() -> LocustForkServer | None:
    """The server of the `locust_fork_server()` block the harness is in, if any."""
    return _active


def start_locust(argv: Sequence[str], *, env: Mapping[str, str], cwd: str | os.PathLike[str],
                 log: IO[bytes]) -> ForkedLocust | None:
    """Locust forked from the active server; None when there is none (or it cannot): start a subprocess."""
    server = _active
    return server.start(argv, env=env, cwd=cwd, log=log) if server is not None else None


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").strip() != "0" and sys.platform.startswith("linux")


@contextlib.contextmanager
def locust_fork_server() -> Iterator[LocustForkServer | None]:
    """Run the block with a Locust fork server (None: disabled, not the main thread, or it could not start).

    From the main thread only: the server's parent-death signal fires when the thread that started it ends."""
    global _active
    if not enabled() or _active is not None:
        yield _active
        return
    if threading.current_thread() is not threading.main_thread():
        print("bench run: warning: the Locust fork server must be started from the main thread; Locust starts as "
              "a subprocess per run", file=sys.stderr)
        yield None
        return
    tmp = tempfile.mkdtemp(prefix="bench-locustfs-")
    path = os.path.join(tmp, "sock")
    log_path = Path(tmp) / "server.log"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    proc: subprocess.Popen[bytes] | None = None
    try:
        listener.bind(path)
        listener.listen(64)
        env = child_env({"PYTHONPATH": str(ROOT)})  # as run_locust's: same interpreter start, same imports
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "--fd", str(listener.fileno()), " " * TITLE_ROOM],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                pass_fds=(listener.fileno(),), start_new_session=True, preexec_fn=preexec_for_child())
    except OSError as exc:
        print(f"bench run: warning: the Locust fork server did not start ({exc}); Locust starts as a subprocess "
              "per run", file=sys.stderr)
    finally:
        listener.close()  # the server holds its own copy: when it dies, connecting fails instead of hanging
    if proc is None:
        with contextlib.suppress(OSError):
            Path(path).unlink()
            Path(tmp).rmdir()
        yield None
        return
    server = LocustForkServer(proc, path, log_path, env)
    _active = server
    try:
        yield server
    finally:
        _active = None
        stop_tree(proc, grace_s=5.0)  # a Locust still running gets SIGKILL from the kernel as the server goes
        with contextlib.suppress(OSError):
            Path(path).unlink()
        if server.dead is None:
            with contextlib.suppress(OSError):
                log_path.unlink()
                Path(tmp).rmdir()


def is_server(proc: psutil.Process) -> bool:
    """`proc` is a Locust fork server (its children are Locust processes, shown as `python -m locust ...`)."""
    with contextlib.suppress(psutil.Error):
        return any(a == "-m" and b == SERVER_MODULE for a, b in itertools.pairwise(proc.cmdline()))
    return False


# --- the server side ---------------------------------------------------------------------------------------------


def _serve(listen_fd: int) -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    _warm()
    import _socket

    from gevent.monkey import get_original
    from gevent.os import fork_gevent

    # gevent's replacements would run the hub in the server; the child would then inherit its greenlets.
    poll_cls = get_original("select", "poll")
    waitpid = get_original("os", "waitpid")
    close = _raw_close  # gevent's os.close leaves the closing of a pipe, socket or pidfd to its hub's next turn
    start_env = _import_time_env(os.environ)
    start_cwd = os.getcwd()
    server_pid = os.getpid()
    listener = _socket.socket(fileno=listen_fd)
    poller = poll_cls()
    poller.register(listener.fileno(), select.POLLIN)
    conns: dict[int, Any] = {}  # fd -> a client's connection, until its child's end is reported
    running: dict[int, tuple[int | None, Any]] = {}  # pid -> (its pidfd, its client's connection or None: gone)
    by_pidfd: dict[int, int] = {}

    def close_conn(conn: Any) -> None:
        poller.unregister(conn.fileno())
        conns.pop(conn.fileno(), None)
        conn.close()

    def reap(pid: int, status: int) -> None:
        pidfd, conn = running.pop(pid)
        if pidfd is not None:
            by_pidfd.pop(pidfd)
            poller.unregister(pidfd)
            close(pidfd)
        if conn is not None:
            with contextlib.suppress(OSError):
                _send(conn, {"returncode": os.waitstatus_to_exitcode(status)})
            close_conn(conn)

    def fork(conn: Any, request: Mapping[str, Any], log_fd: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = fork_gevent()  # in the child: gevent's hub reinitialised
        if pid == 0:
            _child(request, log_fd, server_pid, start_cwd, [listener, *conns.values()], list(by_pidfd))
        close(log_fd)
        try:
            pidfd: int | None = os.pidfd_open(pid)  # not reaped before waitpid below: the pid is still this child
        except (AttributeError, OSError):
            pidfd = None  # Linux < 5.3: polled with WNOHANG instead
        running[pid] = (pidfd, conn)
        if pidfd is not None:
            by_pidfd[pidfd] = pid
            poller.register(pidfd, select.POLLIN)
        with contextlib.suppress(OSError):
            _send(conn, {"pid": pid}, [pidfd] if pidfd is not None else [])

    print(f"locust fork server {server_pid} ready", flush=True)
    while True:
        unwatched = [pid for pid, (pidfd, _) in running.items() if pidfd is None]
        for fd, _events in poller.poll(20 if unwatched else None):
            if fd == listener.fileno():
                conn_fd, _ = listener._accept()  # type: ignore[attr-defined]  # _socket's accept: a bare fd
                conns[conn_fd] = _socket.socket(fileno=conn_fd)
                poller.register(conn_fd, select.POLLIN)
            elif fd in by_pidfd:
                pid = by_pidfd[fd]
                reap(pid, waitpid(pid, 0)[1])
            elif fd in conns:
                conn = conns[fd]
                try:
                    request, fds = _recv(conn, close)
                except (OSError, ValueError):
                    request, fds = None, []
                owner = next((pid for pid, (_, c) in running.items() if c is conn), None)
                if request is None:  # the client left: its child runs on (as a Popen's would) and is reaped
                    close_conn(conn)
                    if owner is not None:
                        running[owner] = (running[owner][0], None)
                elif owner is not None or len(fds) != 1 or _import_time_env(request.get("env", {})) != start_env:
                    for extra in fds:
                        close(extra)
                    with contextlib.suppress(OSError):
                        _send(conn, {"error": "a request without its log, or with environment read at import"})
                else:
                    fork(conn, request, fds[0])
        for pid in unwatched:
            done, status = waitpid(pid, os.WNOHANG)
            if done:
                reap(pid, status)


def _warm() -> None:
    """Compute once here, for every child to inherit, what each Locust run would otherwise compute afresh at its end.

    The HTML report's template: locust.html.render_template_from makes a new jinja2 Environment per call, so each run
    lexed and compiled the ~1 MB report.html again (~0.08 s of CPU). The Environments it makes (a loader, nothing
    else) get a bytecode cache, filled here with the compiled template. Jinja2 reuses a cached code only for the same
    template name and file with the same source (it compares a checksum of the source read at each load), and the
    code is the one a fresh Environment with the same settings compiles: the report is the same, byte for byte.

    inspect's caches: Runner.stop calls inspect.stack(), whose first use in a process maps the file of every loaded
    module to its module (a realpath each, ~0.05 s of CPU); a child then only maps the modules it imports itself.
    And the lines of locust/runners.py, Runner.stop's own file, which stack() reads (linecache re-reads a file whose
    size or mtime changed).

    A failure here only leaves the child to compute them, as a fresh process does."""
    import inspect
    import linecache

    try:
        import locust.runners

        inspect.stack()
        linecache.getlines(locust.runners.__file__)
    except Exception as exc:
        print(f"locust fork server: inspect not warmed ({type(exc).__name__}: {exc})", flush=True)
    try:
        _cache_report_template()
    except Exception as exc:
        print(f"locust fork server: the report's template not cached ({type(exc).__name__}: {exc})", flush=True)


def _cache_report_template() -> None:
    import jinja2
    import locust.html as html

    if html.JinjaEnvironment is not jinja2.Environment:
        return  # not the locust.html this was written for (or already done): leave it as it is
    compiled: dict[str, tuple[str, Any]] = {}  # bucket key -> (checksum of the source, compiled code)

    class InMemory(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: Any) -> None:
            checksum, code = compiled.get(bucket.key, (None, None))
            if checksum == bucket.checksum:
                bucket.code = code

        def dump_bytecode(self, bucket: Any) -> None:
            compiled[bucket.key] = (bucket.checksum, bucket.code)

    cache = InMemory()

    class ReportEnvironment(jinja2.Environment):
        """render_template_from's Environment, with the shared cache: only for its settings (a loader alone),
        since a cached code holds the settings it was compiled with."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if not args and set(kwargs) == {"loader"}:
                kwargs["bytecode_cache"] = cache
            super().__init__(*args, **kwargs)

    html.JinjaEnvironment = ReportEnvironment  # type: ignore[misc]  # looked up by render_template_from per call
    ReportEnvironment(loader=jinja2.FileSystemLoader(html.DEFAULT_BUILD_PATH)).get_template("report.html")


def _raw_close(fd: int) -> None:
    from gevent.monkey import get_original

    get_original("os", "close")(fd)


def _child(request: Mapping[str, Any], log_fd: int, server_pid: int, start_cwd: str, inherited: Sequence[Any],
           pidfds: Sequence[int]) -> NoReturn:
    """In the forked child: become `python -m locust <argv>` with the request's environment; never returns.

    Locust ends as it does under `python -m`: its SystemExit (or any exception) goes up to the interpreter, which
    exits with its code after the usual steps (atexit, where Locust's --processes master reaps its workers; then
    finalization, during which zmq's I/O thread still sends a worker's last stats: an os._exit would lose them)."""
    try:
        for sock in inherited:  # closed in this process only: the server and its clients keep theirs
            sock.close()
        for fd in pidfds:
            _raw_close(fd)
        os.setsid()  # as Popen(start_new_session=True): stop_tree and Ctrl-C see the same process groups
        die_with_parent(server_pid)
        priority.lower(int(request.get("nice") or 0))  # the requesting thread's (bench/servers/priority.py)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        _raw_close(log_fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        if sys.path and sys.path[0] == start_cwd:
            sys.path[0] = os.getcwd()  # `-m` puts the working directory first
        clock = sys.modules.get("scenarios.clock")
        if clock is not None:
            clock.reanchor()  # its wall-clock anchor was taken at the server's import: take it at this start
        argv = [str(a) for a in request["argv"]]
        set_title(" ".join([sys.executable, "-m", "locust", *argv]))
        with contextlib.suppress(OSError):  # without it (no pagemap, Linux < 5.14) a run just faults more
            _map_like(server_pid)
        sys.argv = ["locust", *argv]  # run_module puts locust/__main__.py's path first, as `-m` does
    except BaseException:  # never back into the server's loop: like a failed exec
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        os._exit(1)
    if _distributed(request["argv"]):
        runpy.run_module("locust", run_name="__main__", alter_sys=True)
        raise SystemExit(0)  # Locust's main always exits; if it ever returned, that is exit code 0
    try:
        runpy.run_module("locust", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = system_exit_code(exc.code)
    # A local run (no zmq I/O thread with a worker's last stats) has nothing left to do in finalization: its files
    # are closed (Locust's reports) or flushed at each line (the records), and the logging handlers are flushed by
    # atexit. Finalization would tear down every module of Locust, gevent and the scenarios: 126-167 ms of CPU
    # after the last file was written (by strace), which the harness waits for in every run.
    exit_now(code)


# Locust's options that start a distributed run: a master (or a worker) whose zmq I/O thread still sends during
# the interpreter's finalization.
_DISTRIBUTED = ("--processes", "--master", "--worker")


def _distributed(argv: Sequence[Any]) -> bool:
    return any(str(a) in _DISTRIBUTED or str(a).startswith(tuple(f"{f}=" for f in _DISTRIBUTED)) for a in argv)


def _map_like(source_pid: int) -> None:
    """Map in this forked child the pages `source_pid` (the server it was forked from) has mapped, and own its written
    ones, as a fresh process that made the same imports would have: a fork shares the server's written pages until
    each is first written (a copy-on-write fault) and maps none of its file pages (a fault at each first use), and
    those faults would otherwise fall inside the measured run (in a VM, each costs microseconds of CPU)."""
    import ctypes

    page = os.sysconf("SC_PAGE_SIZE")
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/self/maps") as maps, open(f"/proc/{source_pid}/pagemap", "rb") as pagemap:
        for line in maps:
            parts = line.split()
            perms = parts[1]
            if not perms.startswith("r") or perms[3] != "p" or parts[-1] in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            advice = 23 if perms[1] == "w" else 22  # MADV_POPULATE_WRITE (breaks copy-on-write), _READ
            pagemap.seek(lo // page * 8)
            entries = array.array("Q", pagemap.read((hi - lo) // page * 8))
            run = None
            for i, entry in enumerate([*entries, 0]):
                present = entry >> 63
                if present and run is None:
                    run = i
                elif not present and run is not None:
                    libc.madvise(ctypes.c_void_p(lo + run * page), ctypes.c_size_t((i - run) * page), advice)
                    run = None


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 2 or args[0] != "--fd":
        raise SystemExit(f"usage: python -m {SERVER_MODULE} --fd N (started by locust_fork_server())")
    _serve(int(args[1]))


if __name__ == "__main__":
    main()

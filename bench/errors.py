"""The harness's exceptions and the exit codes they map to.

    BenchError                 base; exit 1
    ├── UsageError             a bad flag, name or value given by the user; exit 2
    ├── SetupError             something the run needs is missing or broken; exit 2
    │   └── ServerStartError   a server did not become ready before its deadline
    └── RegressionFound        the gate found a regression; exit 1

    Terminated (a KeyboardInterrupt) SIGTERM, raised where the program is so every `finally` stops its servers;
                                     exit 143 (Ctrl-C: 130)
"""

from __future__ import annotations

import argparse
import faulthandler
import signal
import sys


class BenchError(Exception):
    exit_code = 1


class UsageError(BenchError):
    exit_code = 2


class SetupError(BenchError):
    exit_code = 2


class ServerStartError(SetupError):
    pass


class RegressionFound(BenchError):
    exit_code = 1


def choice_error(kind: str, given: str, valid: list[str] | tuple[str, ...]) -> UsageError:
    """One line naming the bad value and every valid one."""
    return UsageError(f"unknown {kind} {given!r}; valid: {', '.join(valid)}")


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI runners, containers and systemd send), turned into an exception like Ctrl-C's so that
    every `finally` on the way out stops its servers and partial results are kept."""

    exit_code = 143


def raise_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)


def stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` writes every thread's Python stack to stderr and the command goes on: what a run that
    seems stuck is doing (faulthandler's C-level handler, so it answers even when the main thread is blocked)."""
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=2, all_threads=True, chain=False)  # fd 2: sys.stderr may be a proxy


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM while cleaning up ends the process at once
    raise Terminated()


def interrupt_code(exc: KeyboardInterrupt) -> int:
    return Terminated.exit_code if isinstance(exc, Terminated) else 130


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)

"""Killing a harness command at a random moment leaves no process and no bound port behind, whatever the signal:
SIGINT and SIGTERM through its own teardown, SIGKILL through the children's parent-death signal
(bench/servers/lifeline.py). `python -m tests.support.orphans --trials 20` runs the longer version."""

from __future__ import annotations

import warnings

import pytest

from tests.support.orphans import run_trial

pytestmark = pytest.mark.e2e

CASES = [("run", "INT"), ("run", "TERM"), ("run", "KILL"), ("webui", "TERM"), ("webui", "KILL"),
         ("serve", "KILL"), ("gate", "KILL")]


@pytest.mark.timeout(240)
@pytest.mark.parametrize(("command", "sig"), CASES, ids=[f"{c}-SIG{s}" for c, s in CASES])
def test_nothing_outlives_a_killed_command(command: str, sig: str) -> None:
    trial = run_trial(command, sig, max_delay_s=6.0)
    assert len(trial.seen) > 1, f"{command} started no child before the signal: the trial proves nothing"
    assert trial.survivors == [], (f"SIG{sig} after {trial.delay_s:.1f} s left: {trial.survivors}"
                                   + (f"; still running 60 s after it: {trial.still_running}"
                                      if trial.still_running else ""))
    assert trial.leaked_ports == [], f"SIG{sig} after {trial.delay_s:.1f} s left ports {trial.leaked_ports}"
    if trial.forced:  # it ended, within its deadline, but its own teardown did not: where it was stuck, for the record
        warnings.warn(f"{command} SIG{sig} after {trial.delay_s:.1f} s needed its stop deadline: {trial.forced}",
                      stacklevel=1)


@pytest.mark.timeout(240)
def test_sigterm_stops_bench_run_like_ctrl_c_with_its_own_exit_code() -> None:
    trial = run_trial("run", "TERM", delay_s=3.0)
    assert trial.exit_code == 143 and trial.survivors == []

"""The app-death watcher (bench/run/appwatch.py): it notices a watched process's exit within a poll or two, names
the signal, stops only Locust processes of this harness started since the watch began, and counts the requests the
death cut off. Every process here is this test's own child, stopped by pid in `finally`."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from bench.run import appwatch, locust_job
from bench.run.appwatch import POLL_S, AppWatch, Death, died_line

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        if p.poll() is None:
            p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5)


def test_a_killed_app_is_noticed_at_once_and_only_its_locust_is_stopped() -> None:
    older_locust = subprocess.Popen([*SLEEPER, "-m", "locust"])  # started before the watch: not this run's
    time.sleep(1.2)  # create times have a tick's resolution: well apart from the watch's start
    app = subprocess.Popen(SLEEPER)
    other = subprocess.Popen(SLEEPER)  # a child that is no Locust (the mock, say)
    locust = None
    try:
        with AppWatch(app) as watch:  # type: ignore[arg-type]
            locust = subprocess.Popen([*SLEEPER, "-m", "locust"])  # `python -m locust`, as run_locust starts it
            with locust_job._RUNNING_LOCK:  # registered for this thread, as run_locust registers its Locust
                locust_job._RUNNING[threading.get_ident()] = locust
            time.sleep(0.3)
            killed = time.time()
            app.send_signal(signal.SIGKILL)
            assert locust.wait(timeout=5) == -signal.SIGTERM  # stopped by the watcher, not by this test
            death = watch.death
        assert death is not None and death.exit_code == -signal.SIGKILL
        assert 0 <= death.noticed_epoch - killed < 3 * POLL_S + 0.2, death.noticed_epoch - killed
        assert death.locust_stopped == [locust.pid]
        assert older_locust.poll() is None and other.poll() is None
        assert death.cause("async") == "the app (async) was killed by signal 9 during the run"
    finally:
        with locust_job._RUNNING_LOCK:
            locust_job._RUNNING.pop(threading.get_ident(), None)
        _stop(app, other, older_locust, *([locust] if locust else []))


def test_an_app_that_lives_leaves_nothing_recorded() -> None:
    app = subprocess.Popen(SLEEPER)
    try:
        with AppWatch(app) as watch:  # type: ignore[arg-type]
            time.sleep(3 * POLL_S)
        assert watch.death is None
    finally:
        _stop(app)


def test_requests_cut_off_are_those_unanswered_across_the_death() -> None:
    death = Death(exit_code=1, noticed_epoch=10.0, watched_since_epoch=5.0, locust_stopped=[])
    records = [
        {"t_send": 8.0, "t_end": 9.0, "status": 200},  # answered before
        {"t_send": 9.5, "t_end": 10.2, "status": 0},  # in flight, cut off
        {"t_send": 9.8, "t_end": 10.0, "status": 0},  # in flight, cut off
        {"t_send": 10.5, "t_end": 10.6, "status": 0},  # sent after: refused, not cut off
        {"t_send": 9.0, "t_end": 9.5, "status": 502},  # answered before
    ]
    assert death.in_flight(records) == 2
    assert death.cause("x").endswith("exited with code 1 during the run")
    entry = {"id": "steady/async/1/0", "app_died": {"cause": death.cause("async"), "noticed_after_start_s": 5.0,
                                                     "poll_s": POLL_S, "in_flight": 2}}
    line = died_line(entry)
    assert "\n" not in line and "steady/async/1/0" in line and "2 request(s) cut off" in line


def test_a_death_wakes_the_watcher_without_waiting_for_its_next_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's pidfd wakes the watcher: a run whose requests all failed with the app ends within tens of
    milliseconds, before a poll would have seen the death, and then read the dead app's stats (seen with forked
    Locust runs ending without their finalization)."""
    monkeypatch.setattr(appwatch, "POLL_S", 5.0)  # only the pidfd can notice it in time
    app = subprocess.Popen(SLEEPER)
    try:
        with AppWatch(app) as watch:  # type: ignore[arg-type]
            time.sleep(0.2)
            killed = time.time()
            app.send_signal(signal.SIGKILL)
            end = time.monotonic() + 2.0
            while watch.death is None and time.monotonic() < end:
                time.sleep(0.01)
            death = watch.death
        assert death is not None and death.exit_code == -signal.SIGKILL
        assert death.noticed_epoch - killed < 0.5, death.noticed_epoch - killed
    finally:
        _stop(app)


def test_a_death_after_the_last_look_is_still_recorded_when_the_run_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(appwatch, "_pidfd", lambda proc: None)  # no pidfd: polled only
    monkeypatch.setattr(appwatch, "POLL_S", 5.0)
    app = subprocess.Popen(SLEEPER)
    try:
        with AppWatch(app) as watch:  # type: ignore[arg-type]
            time.sleep(0.2)
            app.send_signal(signal.SIGKILL)
            app.wait(timeout=5)  # reaped here: poll() now has its code
            assert watch.death is None  # the watcher has not looked yet
        assert watch.death is not None and watch.death.exit_code == -signal.SIGKILL
        assert watch.death.locust_stopped == []
    finally:
        _stop(app)

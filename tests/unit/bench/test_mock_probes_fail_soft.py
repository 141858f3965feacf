"""A mock probe that fails (bench/run/probes.py) is recorded with its error and the run goes on: the other probe's
result is kept, and one warning line says what failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.errors import ServerStartError
from bench.run import probes


def test_a_failed_probe_is_recorded_and_the_other_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    def refused(log_dir: Path) -> Any:
        raise ServerStartError("app not ready at http://127.0.0.1:1/health after 60s (ConnectError):\nlog lines")

    monkeypatch.setattr(probes, "settings_echo", refused)
    monkeypatch.setattr(probes, "tier_limits", lambda log_dir: {"tier-1": {"ok": True}})
    out = probes.mock_probes(tmp_path)
    assert out["tier_limits"] == {"tier-1": {"ok": True}} and "settings_echo" not in out
    assert out["failed"] == {"settings_echo": "ServerStartError: app not ready at http://127.0.0.1:1/health after "
                                              "60s (ConnectError):"}
    assert "the settings_echo probe failed (ServerStartError" in capsys.readouterr().err


def test_probes_that_succeed_record_no_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(probes, "settings_echo", lambda log_dir: {"ok": True})
    monkeypatch.setattr(probes, "tier_limits", lambda log_dir: {})
    assert probes.mock_probes(tmp_path) == {"settings_echo": {"ok": True}, "tier_limits": {}}


def test_an_interrupt_is_not_a_probe_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(log_dir: Path) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(probes, "settings_echo", interrupted)
    monkeypatch.setattr(probes, "tier_limits", lambda log_dir: {})
    with pytest.raises(KeyboardInterrupt):
        probes.mock_probes(tmp_path)

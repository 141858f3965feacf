"""A wrong flag or name is one line listing the valid choices, exit 2; never a traceback."""

from __future__ import annotations

import pytest

from bench.cli import main


@pytest.mark.parametrize(("argv", "fragment"), [
    (["run", "--variants", "nope"], "valid presets: sync, async"),
    (["run", "--variants", "async:call=sideways"], "valid: blocking, threadpool, async"),
    (["run", "--scenarios", "marathon"], "valid: burst, cold-burst"),
    (["run", "--profile", "huge"], "invalid choice: 'huge'"),
    (["run", "--repeat", "0"], "--repeat must be at least 1"),
    (["run", "--backend", "ftp://x"], "valid: mock, openai"),
    (["serve", "--variant", "nope"], "valid presets"),
    (["serve", "--workers", "0"], "--workers must be at least 1"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_errors_are_one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    with pytest.raises(SystemExit) as exc_info:
        raise SystemExit(main(argv))
    assert exc_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1 and "Traceback" not in err, err


def test_openai_backend_without_a_key_fails_at_once(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["run", "--backend", "openai"]) == 2
    assert "needs OPENAI_API_KEY" in capsys.readouterr().err


def test_variants_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from app_under_test.variants import PRESETS

    assert main(["variants", "--names"]) == 0
    assert capsys.readouterr().out.split() == list(PRESETS)

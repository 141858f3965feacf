"""--backend / --backend-url / --model on `bench run`, `bench serve` and `bench gate` (and the web UI's backend
option): one line and exit 2 for every refusal, the cost guard before anything starts, and the key never shown.
No test here reaches the network: every `--backend openai` case stops before a request (run_plan is replaced
by a stand-in that fails the test if a refusal let it through)."""

from __future__ import annotations

import argparse
import json
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.run.backends import Backend, backend_spec

FAKE_KEY = "sk-test-FLAGCANARY-0123456789abcdef"
SMALL = ["--profile", "quick", "--scenarios", "burst", "--variants", "async", "--users", "5", "--repeat", "1"]


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before the plan runs; if one does not, the test fails instead of calling out."""
    import bench.run.orchestrator

    def refuse(*_: Any, **__: Any) -> dict[str, Any]:
        raise AssertionError("run_plan was called: the refusal came too late")

    monkeypatch.setattr(bench.run.orchestrator, "run_plan", refuse)


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("command", [["run"], ["serve"], ["gate"]])
def test_openai_without_a_key_fails_at_once(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                            no_run: None, command: list[str]) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    err = _one_line_exit_2(capsys, [*command, "--backend", "openai"])
    assert "--backend openai needs OPENAI_API_KEY" in err


@pytest.mark.parametrize("command", [["run"], ["serve"], ["gate"]])
@pytest.mark.parametrize(("flags", "fragment"), [
    (["--backend-url", "ftp://x"], "--backend-url needs an http(s):// base URL"),
    (["--backend-url", "mock"], "--backend-url needs an http(s):// base URL"),
    (["--backend", "mock", "--backend-url", "http://127.0.0.1:9/v1"], "give --backend or --backend-url, not both"),
    (["--backend", "nonsense"], "valid: mock, openai"),
])
def test_bad_backend_flags_are_one_line(capsys: pytest.CaptureFixture[str], no_run: None, command: list[str],
                                        flags: list[str], fragment: str) -> None:
    assert fragment in _one_line_exit_2(capsys, [*command, *flags])


def test_backend_url_is_the_same_as_backend_url() -> None:
    def ns(**kw: Any) -> argparse.Namespace:
        return argparse.Namespace(**{"backend": None, "backend_url": None, **kw})

    assert backend_spec(ns()) == "mock"
    assert backend_spec(ns(backend="openai")) == "openai"
    assert backend_spec(ns(backend_url="http://127.0.0.1:9/v1")) == "http://127.0.0.1:9/v1"
    assert backend_spec(ns(backend="http://127.0.0.1:9/v1/", backend_url="http://127.0.0.1:9/v1")) == (
        "http://127.0.0.1:9/v1")


def test_run_refuses_above_the_budget(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      no_run: None, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    err = _one_line_exit_2(capsys, ["run", "--backend", "openai", *SMALL, "--budget", "0.000001",
                                    "--out", str(tmp_path / "out")])
    assert "estimated cost $" in err and "above the budget $0.00" in err and "upstream calls to gpt-4o-mini" in err
    assert not (tmp_path / "out").exists()  # refused before anything was made
    assert FAKE_KEY not in err


def test_run_refuses_an_unknown_price(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      no_run: None) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    err = _one_line_exit_2(capsys, ["run", "--backend", "openai", "--model", "gpt-imaginary", *SMALL])
    assert "no price known for model 'gpt-imaginary'" in err and "--yes" in err


def test_a_priced_model_on_a_url_backend_is_guarded_too(capsys: pytest.CaptureFixture[str], no_run: None) -> None:
    err = _one_line_exit_2(capsys, ["run", "--backend-url", "http://127.0.0.1:9/v1", "--model", "gpt-4o", *SMALL,
                                    "--budget", "0"])
    assert "above the budget" in err


@pytest.mark.parametrize(("flags", "fragment"), [
    (["--budget", "-1"], "--budget must be >= 0"),
    (["--max-tokens", "0"], "--max-tokens must be at least 1"),
    (["--prices", "/nonexistent/prices.toml"], "cannot read the price file"),
])
def test_bad_cost_flags_are_one_line(capsys: pytest.CaptureFixture[str], no_run: None, flags: list[str],
                                     fragment: str) -> None:
    assert fragment in _one_line_exit_2(capsys, ["run", *SMALL, *flags])


def _fake_run_plan(calls: list[dict[str, Any]]) -> Any:
    def run_plan(plan: Any, progress: Any = None, *, report: bool = False) -> dict[str, Any]:
        profile, backend, out = plan.profile, plan.backend, plan.out_dir
        calls.append({"backend": backend, "app_env": [s.app_env for s in profile.steps]})
        usage = {"input_tokens": 60, "output_tokens": 100, "calls": 5, "unreported": 0}
        results = {"schema_version": 1, "config": {}, "host": {}, "backend": backend.describe(),
                   "runs": [{"id": "burst/async/5/0", "accounting": {"ok": True}, "usage": usage}]}
        (out / "results.json").write_text(json.dumps(results))
        return results
    return run_plan


def test_yes_runs_and_results_record_the_estimate_and_the_usage(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bench.run.orchestrator

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(bench.run.orchestrator, "run_plan", _fake_run_plan(calls))  # nothing is called upstream
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    out = tmp_path / "out"
    assert main(["run", "--backend", "openai", *SMALL, "--budget", "0", "--yes", "--max-tokens", "20",
                 "--no-report", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    # 5 measured, 2 warm-up and the backend probe's 3 alone + N=5 at once.
    assert "bench run: cost estimate: 15 upstream calls (2 warm-up, 8 backend probe)" in captured.err
    assert "max 20 a call" in captured.err and "budget $0.00" in captured.err
    assert "running anyway (--yes)" in captured.err
    assert calls[0]["backend"].kind == "openai" and calls[0]["app_env"] == [{"OPENAI_MAX_TOKENS": "20"}]
    results = json.loads((out / "results.json").read_text())
    est, act = results["cost"]["estimate"], results["cost"]["actual"]
    assert (est["calls"], est["output_tokens"], est["model"], est["guarded"], est["budget_usd"]) == (
        15, 300, "gpt-4o-mini", True, 0.0)
    assert est["usd"] > 0 and est["price"] == {"input_per_1m": 0.15, "output_per_1m": 0.6}
    assert (act["input_tokens"], act["output_tokens"], act["calls"]) == (60, 100, 5)
    assert act["usd"] == pytest.approx((60 * 0.15 + 100 * 0.6) / 1e6, abs=1e-6)
    assert FAKE_KEY not in captured.err + captured.out + (out / "results.json").read_text()


def test_a_mock_run_prints_no_estimate_but_records_one(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bench.run.orchestrator

    monkeypatch.setattr(bench.run.orchestrator, "run_plan", _fake_run_plan([]))
    assert main(["run", *SMALL, "--no-report", "--out", str(tmp_path)]) == 0
    assert "cost estimate" not in capsys.readouterr().err
    est = json.loads((tmp_path / "results.json").read_text())["cost"]["estimate"]
    assert est["calls"] == 15 and est["probe_calls"] == 8 and est["usd"] is None and not est["guarded"]


def test_gate_refuses_a_real_backend(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                     no_run: None) -> None:
    err = _one_line_exit_2(capsys, ["gate", "--backend-url", "http://127.0.0.1:9/v1"])
    assert "backend 'url' refused: the gate measures against the embedded mock only" in err
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    err = _one_line_exit_2(capsys, ["gate", "--backend", "openai", "--model", "gpt-4o"])
    assert "backend 'openai' refused" in err and FAKE_KEY not in err


def test_gate_refuses_results_of_a_real_backend(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 1, "config": {}, "host": {}, "runs": [],
                                "backend": {"kind": "url", "base_url": "http://127.0.0.1:9/v1"}}))
    err = _one_line_exit_2(capsys, ["gate", "--results", str(path), "--out", str(tmp_path)])
    assert "was measured against a url backend" in err


def test_serve_shows_the_backend_never_the_key(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.commands.serve import _backend_url

    backend = Backend("openai", "https://api.openai.com/v1", model="gpt-4o-mini", api_key=FAKE_KEY)
    with ExitStack() as stack:
        assert _backend_url(backend, stack, 0.0) == "https://api.openai.com/v1"
    err = capsys.readouterr().err
    assert "openai at https://api.openai.com/v1, model gpt-4o-mini, API key set" in err and FAKE_KEY not in err
    with pytest.raises(UsageError, match="does not start a local-llm backend"), ExitStack() as stack:
        _backend_url(Backend("local-llm"), stack, 0.0)


def test_the_web_ui_backend_option(monkeypatch: pytest.MonkeyPatch) -> None:
    from scenarios.options import app_backend, settings_from

    defaults = settings_from(None)
    assert defaults.backend == "mock" and defaults.model == ""
    assert app_backend(defaults).kind == "mock"
    url = app_backend(replace(defaults, backend="http://127.0.0.1:9/v1/", model="my-model"))
    assert (url.kind, url.base_url, url.model) == ("url", "http://127.0.0.1:9/v1", "my-model")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UsageError, match="needs OPENAI_API_KEY"):
        app_backend(replace(defaults, backend="openai"))
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    openai = app_backend(replace(defaults, backend="openai"))
    assert (openai.base_url, openai.model, openai.api_key) == ("https://api.openai.com/v1", "gpt-4o-mini", FAKE_KEY)
    with pytest.raises(UsageError, match="valid: mock, openai"):
        app_backend(replace(defaults, backend="localhost:8080"))

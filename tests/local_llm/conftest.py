"""The local model tier (`-m local_llm`): a real SmolLM2-135M behind llama-cpp-python's server on loopback.

Every test here takes `gguf`, which skips with the reason and the install command where llama-cpp-python's
server or the model file is absent, so a plain `python -m pytest` passes without them. Nothing reaches the
internet: the model is a local file and every server listens on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.errors import UsageError
from bench.servers import localllm


def unavailable_reason() -> str | None:
    missing = localllm.missing_server_modules()
    if missing:
        return (f"llama-cpp-python[server] is not installed (missing: {', '.join(missing)}); "
                f"install: {localllm.INSTALL_HINT}")
    try:
        localllm.find_gguf()
    except UsageError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def gguf() -> Path:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"local model unavailable: {reason}")
    return localllm.find_gguf()


@pytest.fixture(scope="module")
def local_server(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[localllm.LocalLLMServer]:
    """One model server per module (it loads in about a second); stopped with its process tree after."""
    with localllm.running_local_llm(str(gguf), log_dir=str(tmp_path_factory.mktemp("local-llm")),
                                    deadline_s=120) as server:
        yield server

"""A real mock server process shared by the tests of one module; each test starts from a reset."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.mock.config import MockConfig
from bench.mock.process import MockServer, running_mock


@pytest.fixture(scope="module")
def mock_200(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    """The issue's reference set-up: `bench mock --latency-ms 200`."""
    with running_mock(MockConfig(latency_ms=200), log_dir=str(tmp_path_factory.mktemp("mock"))) as server:
        yield server


@pytest.fixture
def mock(mock_200: MockServer) -> MockServer:
    mock_200.reset()
    return mock_200

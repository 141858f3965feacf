"""The backend probe and C4's story against servers that are not the project's mock: a small OpenAI-compatible
stand-in (tests/support/standin_openai.py) that answers at once, after 500 ms, or after 500 ms one request at a time.
The probe must read each for what it is, and the embedded mock back at its configured latency; a real `bench run`
against each must tell C4's story from the probe: nothing to overlap, judged against the probed ideal, or a backend
that serializes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.mock.config import MockConfig
from bench.mock.process import running_mock
from bench.report import RULES
from bench.results import shape
from bench.results.schema import load_results
from bench.run.backend_probe import probe_backend
from bench.servers.process import ServerProcess, python_argv, serve
from tests.unit.report.test_results_schema import problems

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SERVERS = {"instant": (0.0, 0), "500ms": (0.5, 0), "serial": (0.5, 1)}  # (latency s, max concurrency)


@pytest.fixture(scope="module", params=list(SERVERS))
def standin(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, ServerProcess]]:
    latency, concurrency = SERVERS[request.param]
    env = {"STANDIN_LATENCY_S": str(latency), "STANDIN_MAX_CONCURRENCY": str(concurrency), "PYTHONPATH": str(ROOT)}
    with serve(f"standin-openai-{request.param}", python_argv("tests.support.standin_openai"), probe_path="/healthz",
               env=env, log_dir=str(tmp_path_factory.mktemp("standin")), deadline_s=30) as server:
        yield request.param, server


def test_the_probe_reads_the_embedded_mock_back() -> None:
    with running_mock(MockConfig(latency_ms=200.0)) as mock:
        p = probe_backend(mock.api_base, model="gpt-3.5-turbo", n=30, message="hi", configured_latency_ms=200.0)
    assert problems(p, shape.BackendProbe) == []
    assert p["ok"] and p["self_check"]["ok"], p
    assert 0.19 <= p["latency_s"] <= 0.22 and p["overlap"] == 30 and p["ideal_ratio"] == 30


def test_the_probe_reads_each_standin_for_what_it_is(standin: tuple[str, ServerProcess]) -> None:
    name, server = standin
    p = probe_backend(server.url + "/v1", model="standin", n=10, message="hi")
    assert problems(p, shape.BackendProbe) == [] and p["ok"], p
    if name == "instant":
        assert p["latency_s"] < 0.02
    elif name == "500ms":
        assert 0.49 <= p["latency_s"] <= 0.6 and p["overlap"] == 10 and p["ideal_ratio"] == 10
    else:  # one at a time: ten at once take ten latencies
        assert 0.49 <= p["latency_s"] <= 0.6 and p["overlap"] < 1.5 and p["ideal_ratio"] < 1.5
        assert p["burst_makespan_s"] >= 10 * 0.5 and p["latency_growth"] > 4


def test_c4s_story_follows_the_probe(standin: tuple[str, ServerProcess], tmp_path: Path) -> None:
    name, server = standin
    users = 50 if name == "500ms" else 10  # judged needs the claim's N; the other stories do not
    argv = [sys.executable, "-m", "bench", "run", "--backend", server.url + "/v1", "--scenarios", "burst",
            "--variants", "sync,async,async-limited", "--users", str(users), "--repeat", "1", "--no-report",
            "--out", str(tmp_path)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "backend probe" in proc.stderr
    results = load_results(tmp_path / "results.json")
    assert problems(results, shape.Results) == []
    v = RULES["C4"].evaluate(results, RULES["C4"])
    if name == "instant":
        assert v.status == "not measured" and v.verdict.startswith("nothing to overlap"), v.verdict
    elif name == "500ms":
        # Judged against the probed ideal (all 50 at once): `async` near it, the limiter's 10 a second far below.
        assert v.numbers["ideal_source"] == "probe" and v.numbers["ideal"] == 50, v.numbers
        assert v.status != "not measured", v.verdict
        assert "`async-limited`" in v.verdict and v.numbers["ratio"] > 3 * v.numbers["ratio_limited"]
    else:
        assert v.status == "not measured" and "one request at a time" in v.verdict, v.verdict
        assert "nothing to overlap" not in v.verdict

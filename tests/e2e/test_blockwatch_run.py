"""The blocked-loop sampler through real `bench run`s (burst, 10 users, 100 ms upstream, one repetition): its
results.json names the seed's blocking `llm.invoke` line for `sync`, nothing of `async`'s `_agenerate`, and where
`per-request:clients=per-agent`'s constructor runs (with its default threadpool dependency: in a worker thread,
off the loop; with an `async def` dependency: on the loop, at the lines that build its own HTTP clients)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.results import blocked as B
from bench.results import shape
from bench.results.schema import load_results
from tests.unit.report.test_results_schema import problems

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
AGENT = "app_under_test/agent.py"
USERS, LATENCY_MS = 10, 100.0
PER_AGENT = "per-request:clients=per-agent"
PER_AGENT_ON_LOOP = "per-request:clients=per-agent,dependency=async"
CONSTRUCTOR = ("ChatAgent.__init__", "_build_llm", "get_chat_agent")


def _line(text: str) -> int:
    [line] = [i for i, code in enumerate((ROOT / AGENT).read_text().splitlines(), start=1) if text in code]
    return line


def _bench_run(out: Path, variants: str) -> list[dict[str, Any]]:
    argv = [sys.executable, "-m", "bench", "run", "--scenarios", "burst", "--variants", variants, "--users",
            str(USERS), "--latency", str(LATENCY_MS), "--repeat", "1", "--no-report", "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APP_INJECT_", "APP_BLOCKWATCH"))}
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return list(load_results(out / "results.json")["runs"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    # Two runs: a profile's burst step keeps only the variants it lists when any of them is asked for.
    found = _bench_run(tmp_path_factory.mktemp("run"), "sync,async")
    found += _bench_run(tmp_path_factory.mktemp("run"), f"{PER_AGENT};{PER_AGENT_ON_LOOP}")
    by_variant = {r["variant"]: r for r in found}
    assert set(by_variant) == {"sync", "async", PER_AGENT, PER_AGENT_ON_LOOP}
    return by_variant


def _report(run: dict[str, Any]) -> str:
    b = run["blocked"]
    head = (f"{run['variant']}: blocked {b['blocked_ms']:.0f} ms in {b['block_count']} blocks, "
            f"{B.share_of_load(run):.1%} of the load, own code {b['own_code_ms']:.0f} ms")
    return "\n".join([head, *(f"  {s['share']:.1%} {s['blocked_ms']:.0f} ms {s['site']}" for s in b["sites"])])


def test_the_figures_have_the_documented_shape(runs: dict[str, dict[str, Any]]) -> None:
    for run in runs.values():
        assert run["blocked"]["running"] and problems(run["blocked"], shape.Blocked) == [], run["variant"]
        assert "blocked" not in run["app"]["after"]  # kept once, merged


def test_sync_names_the_seeds_invoke_line(runs: dict[str, dict[str, Any]]) -> None:
    run = runs["sync"]
    print(_report(run))
    top = run["blocked"]["sites"][0]
    assert (top["file"], top["line"]) == (AGENT, _line('self.llm.invoke(state["messages"])  # the seed\'s "before"'))
    assert top["function"].endswith("_agenerate") and top["own_code"] and top["calls"].endswith("invoke"), top
    assert top["share"] >= 0.8, _report(run)
    assert (B.share_of_load(run) or 0) >= 0.5, _report(run)  # 10 x 100 ms, one at a time
    # Every request waited through a block: they were all sent at once, and the loop served them one by one.
    assert B.requests_hit(run, run["blocked"]["blocks"]) == USERS


def test_async_does_not_block_in_its_node(runs: dict[str, dict[str, Any]]) -> None:
    run = runs["async"]
    print(_report(run))
    assert not [s for s in run["blocked"]["sites"] if s["own_code"] and s["function"].endswith("_agenerate")]
    assert (B.own_share_of_makespan(run) or 0) < 0.1, _report(run)


def test_per_agent_clients_constructor_blocks_only_where_it_runs_on_the_loop(runs: dict[str, dict[str, Any]]) -> None:
    threaded, on_loop = runs[PER_AGENT], runs[PER_AGENT_ON_LOOP]
    print(_report(threaded))
    print(_report(on_loop))
    # Its default `def` dependency builds each ChatAgent in anyio's threads: the loop thread never runs it.
    assert not [s for s in threaded["blocked"]["sites"] if s["function"].endswith(CONSTRUCTOR)], _report(threaded)
    # An `async def` dependency builds it on the loop: each request blocks it while its own httpx clients (each
    # loading the CA bundle into an SSL context) are built.
    sites = [s for s in on_loop["blocked"]["sites"] if s["function"].endswith(CONSTRUCTOR)]
    assert sites and sum(s["share"] for s in sites) >= 0.5, _report(on_loop)
    top = sites[0]
    assert top["own_code"] and (top["file"] == AGENT or top["file"].startswith("app_under_test/providers/")), top
    assert "HttpxClient" in (top["calls"] or "") or "ssl" in " ".join(top["stack"]).lower(), top

"""The report's blocked-loop section: drawn from results.json's `run.blocked` when a run has it (the sync burst's
invoke line named with its share, the chart, the requests in flight per block), absent otherwise."""

from __future__ import annotations

import copy
from pathlib import Path

from bench.report.render import render_report
from bench.results import blocked as B
from bench.results import shape
from tests.support.synthetic_results import AGENT_PY, INVOKE_LINE, add_blocked, synthetic_results
from tests.unit.report.test_results_schema import problems


def _results(**kw: bool) -> dict:
    return add_blocked(synthetic_results(scenarios=["burst"], reps=3), **kw)


def test_runs_with_blocked_figures_have_the_documented_shape() -> None:
    results = _results()
    assert all(r["blocked"]["sites"] for r in results["runs"])
    assert problems(results["runs"][0], shape.Run) == []


def test_the_section_names_the_blocking_line_its_share_and_the_requests_it_held(tmp_path: Path) -> None:
    paths = render_report(_results(), tmp_path)
    md = paths["markdown"].read_text()
    section = md[md.index("## Blocked event loop"):md.index("## Warnings")]
    sync_row = next(line for line in section.splitlines() if line.startswith("| burst | sync |"))
    assert f"`{AGENT_PY}:{INVOKE_LINE} ChatAgent._agenerate` (98%)" in sync_row
    assert "| 150 of 150 |" in sync_row  # every request of 3 x 50 overlapped a block
    async_row = next(line for line in section.splitlines() if line.startswith("| burst | async |"))
    assert "| 0.7% |" in async_row  # 25 ms of a ~3.5 s burst
    sites = section[section.index("### Call sites"):]
    assert 'response = self.llm.invoke(state["messages"])' in sites and "BaseChatModel.invoke" in sites
    assert "| burst | async |" not in sites  # under 1% of the load: the runs table only
    assert "charts/blocked-sites.png" in section and (tmp_path / "charts" / "blocked-sites.png").stat().st_size > 5000
    blocks = section[section.index("### Requests in flight"):].splitlines()
    rows = [line for line in blocks if line.startswith("| burst | sync |")]
    # The three longest of the sync burst's blocks, each with the requests still waiting then (of 50).
    assert len(rows) == 3 and all(row.endswith(" of 50 |") for row in rows)
    html = paths["html"].read_text()
    assert 'id="blocked"' in html and 'id="chart-blocked-sites"' in html


def test_without_sampler_figures_the_report_is_as_before(tmp_path: Path) -> None:
    plain = synthetic_results(scenarios=["burst"], reps=3)
    off = add_blocked(copy.deepcopy(plain), sampler_on=False)  # APP_BLOCKWATCH=0: figures present, all zero
    a = render_report(plain, tmp_path / "plain")
    b = render_report(off, tmp_path / "off")
    assert "Blocked event loop" not in a["markdown"].read_text()
    assert a["markdown"].read_bytes() == b["markdown"].read_bytes()
    assert a["html"].read_bytes() == b["html"].read_bytes()
    assert not (tmp_path / "off" / "charts" / "blocked-sites.png").exists()


def test_a_request_overlaps_a_block_when_in_flight_during_it() -> None:
    run = {"requests": {"t_send": [0.0, 0.0, 0.5, 1.2, None], "t_end": [0.4, 1.0, 0.9, 1.5, None]}}
    block = {"start_s": 0.45, "duration_ms": 100.0}  # 0.45 .. 0.55
    assert B.in_flight(run, block) == 2  # the second (0..1.0) and the third (sent at 0.5)
    assert B.requests_hit(run, [block, {"start_s": 1.5, "duration_ms": 1.0}]) == 3
    assert B.in_flight(run, {"start_s": 2.0, "duration_ms": 10.0}) == 0


def test_own_code_share_of_the_burst() -> None:
    results = _results()
    sync = next(r for r in results["runs"] if r["variant"] == "sync")
    fast = next(r for r in results["runs"] if r["variant"] == "async")
    assert 0.95 < (B.own_share_of_makespan(sync) or 0) <= 1.0
    assert B.own_share_of_makespan(fast) == 0.0
    fast["blocked"]["running"] = False
    assert B.own_share_of_makespan(fast) is None and B.blocked_of(fast) is None

"""A short real Locust run's CSV files hold its final numbers (scenarios/hooks.py writes them at `quitting`, in the
format Locust's own writer uses), forked from the Locust fork server or not; and the report's template the fork
server caches for its children renders what a fresh jinja2 Environment renders."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bench.run import locust_forkserver as lfs
from bench.run.locust_job import LocustJob, LocustResult, run_locust
from bench.servers.process import ServerProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]

PERCENTILES = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS_HEADER = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
                "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s",
                *PERCENTILES]
FAILURES_HEADER = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS_HEADER = ["Count", "Message", "Traceback", "Nodes"]


def _rows(path: Path, header: list[str]) -> list[dict[str, str]]:
    """The file's rows, after checking it is one header and rows exactly as Locust's csv.writer writes them."""
    raw = path.read_bytes().decode()
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    assert rows and rows[0] == header, path
    again = io.StringIO(newline="")
    csv.writer(again).writerows(rows)
    assert again.getvalue() == raw, path  # "\r\n" line ends, quoting, no leftovers of an earlier, longer pass
    assert all(row != header for row in rows[1:]), path
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _assert_final_csv(result: LocustResult) -> None:
    assert not result.timed_out and result.exit_code == 0, result.log_tail
    failed = sum(r["error"] is not None for r in result.records)
    assert result.locust_requests == result.recorded > 0
    stats = _rows(Path(f"{result.csv_prefix}_stats.csv"), STATS_HEADER)
    total = stats[-1]
    assert total["Name"] == "Aggregated"
    assert (int(total["Request Count"]), int(total["Failure Count"])) == (result.recorded, failed), result.log_tail
    assert sum(int(row["Request Count"]) for row in stats[:-1]) == result.recorded
    failures = _rows(Path(f"{result.csv_prefix}_failures.csv"), FAILURES_HEADER)
    assert sum(int(row["Occurrences"]) for row in failures) == failed
    assert _rows(Path(f"{result.csv_prefix}_exceptions.csv"), EXCEPTIONS_HEADER) == []


def _job(out: Path, host: str, **kw: Any) -> LocustJob:
    kw.setdefault("client_timeout_s", 30.0)
    return LocustJob(scenario="burst", host=host, out_dir=out, **kw)


def test_the_csv_holds_the_final_counts_forked_or_not(tmp_path: Path, async_app: ServerProcess) -> None:
    # A burst's requests all end together and the run quits at once: Locust's writer (every 0.25 s) has not seen
    # them, only the write at `quitting` has.
    plain = run_locust(_job(tmp_path / "plain", async_app.url, users=20))
    with lfs.locust_fork_server() as server:
        assert server is not None
        forked = run_locust(_job(tmp_path / "forked", async_app.url, users=30))
        failing = run_locust(_job(tmp_path / "failing", async_app.url, users=5, client_timeout_s=0.2))
        assert server.dead is None
    _assert_final_csv(plain)
    _assert_final_csv(forked)
    assert forked.recorded == 30
    _assert_final_csv(failing)
    assert [r["error"] for r in failing.records] == ["timeout"] * 5
    for result in (plain, forked):
        html = result.html_path.read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and "/api/chat" in html


TEMPLATE_CHECK = textwrap.dedent("""
    import json
    import jinja2
    from bench.run import locust_forkserver as lfs
    import locust.html as html

    compiled = []
    real_compile = jinja2.Environment.compile
    jinja2.Environment.compile = lambda self, *a, **kw: compiled.append(a[1]) or real_compile(self, *a, **kw)
    lfs._warm()
    warmed = len(compiled)
    args = {"template_args": {"is_report": True, "host": "http://x", "history": [], "locustfile": "a<b>.py"},
            "theme": "dark"}
    cached = html.render_template_from("report.html", **args)
    fresh = jinja2.Environment(loader=jinja2.FileSystemLoader(html.DEFAULT_BUILD_PATH)).get_template(
        "report.html").render(**args)
    print(json.dumps({"patched": html.JinjaEnvironment is not jinja2.Environment, "warmed": warmed,
                      "compiled_after": len(compiled) - warmed, "same": cached == fresh, "size": len(cached)}))
""")


def test_the_fork_servers_cached_report_template_renders_as_a_fresh_one() -> None:
    # In a subprocess: importing locust here would monkey-patch the test process with gevent.
    out = subprocess.run([sys.executable, "-c", TEMPLATE_CHECK], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    # Compiled once by _warm; the render reuses it (the fresh Environment compiles its own: 1 more).
    assert got == {"patched": True, "warmed": 1, "compiled_after": 1, "same": True, "size": got["size"]}
    assert got["size"] > 100_000

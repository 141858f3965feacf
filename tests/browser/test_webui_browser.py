"""The web UI in a real browser (Debian's headless Chromium driven by Playwright): choose a variant, start 50
users, watch the request count rise and the Insides tab fill in, and keep a screenshot of it."""

from __future__ import annotations

import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.locust_ui import LocustProcess, running_locust

pytestmark = [pytest.mark.browser, pytest.mark.timeout(150)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOT_COPY = Path("/tmp/webui-screenshot.png")
PAGE_SCREENSHOT_COPY = Path("/tmp/webui-insides-page.png")

# Row by row, as text: the Insides tab's table and Locust's statistics table are plain HTML tables.
TABLE_JS = """() => Array.from(document.querySelectorAll("table")).map(t => ({
  head: Array.from(t.querySelectorAll("thead th")).map(c => c.innerText.replace(/\\s+/g, " ").trim()),
  rows: Array.from(t.querySelectorAll("tbody tr")).map(r => Array.from(r.cells).map(c => c.innerText.trim())),
}))"""


@pytest.fixture(scope="module")
def sync_playwright() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium: install Debian's package (apt-get install chromium); .ci/run does")
    api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed "
                              "(pip install playwright; its bundled browsers are not needed)")
    return api.sync_playwright


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text.split("(")[0]) or "nan")


def _aggregated_requests(page: Any) -> int:
    for table in page.evaluate(TABLE_JS):
        if "# Requests" in table["head"]:
            col = table["head"].index("# Requests")
            for row in table["rows"]:
                if "Aggregated" in row:
                    return int(_number(row[col]))
    return 0


def _insides_rows(page: Any) -> dict[str, str]:
    for table in page.evaluate(TABLE_JS):
        if table["head"][:2] == ["Figure", "Value"]:
            return {row[0]: row[1] for row in table["rows"] if len(row) == 2}
    return {}


def _poll(locust: LocustProcess, predicate: Any, timeout: float, what: str) -> Any:
    return locust.wait_until(predicate, timeout, what, interval=0.5)


def test_web_ui_runs_a_variant_and_shows_its_insides(tmp_path: Path, sync_playwright: Any) -> None:
    started = time.monotonic()
    # 20 ms upstream: the blocking variant serializes 50 users into a round every ~1 s, so counts move quickly.
    with running_locust(["--mock-latency-ms", "20"], tmp_path / "locust.log", web=True) as locust, \
            sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(str(locust.base_url) + "/")
            page.fill("input[name=userCount]", "50")
            page.fill("input[name=spawnRate]", "50")
            page.get_by_text("Custom parameters").click()
            page.select_option("select[name=appVariant]", "sync")
            page.select_option("select[name=scenario]", "concurrency")
            page.fill("input[name=duration]", "120")
            page.get_by_role("button", name="Start").click()

            first = _poll(locust, lambda: _aggregated_requests(page), 60, "the first requests in the statistics")
            rose = _poll(locust, lambda: (n := _aggregated_requests(page)) > first and n, 30, "the count to rise")
            assert rose > first > 0

            page.get_by_role("tab", name="Insides").click()

            def insides_filled() -> dict[str, str] | None:
                rows = _insides_rows(page)
                ready = rows.get("Variant") == "sync" and rows.get("ChatAgent constructions (since the app started)",
                                                                    "-") != "-"
                return rows if ready and _number(rows.get("Locust requests (failures)", "0")) > 0 else None

            rows = _poll(locust, insides_filled, 30, "the Insides tab's figures")
            assert _number(rows["ChatAgent constructions (since the app started)"]) >= 1
            assert _number(rows["Event-loop lag max (ms)"]) > 100  # the blocking variant holds the loop
            assert _number(rows["App RSS (MiB)"]) > 50
            assert rows["Upstream 429s"] == "0"
            assert rows["Mock in flight"].endswith("(peak 1)")  # one upstream call at a time
            page.wait_for_timeout(700)  # the tab bar's underline slides to the new tab; let it arrive
            shot = tmp_path / "webui-insides-tab.png"
            page.screenshot(path=str(shot))
            shutil.copyfile(shot, SCREENSHOT_COPY)

            live = browser.new_page(viewport={"width": 1400, "height": 900})
            live.goto(str(locust.base_url) + "/insides")
            _poll(locust, lambda: live.inner_text("#variant") == "sync", 10, "the live page")
            before = live.inner_text("#requests")
            _poll(locust, lambda: live.inner_text("#requests") != before, 10, "the live page to refresh")
            page_shot = tmp_path / "webui-insides-page.png"
            live.screenshot(path=str(page_shot), full_page=True)
            shutil.copyfile(page_shot, PAGE_SCREENSHOT_COPY)

            page.get_by_role("button", name="Stop").click()
        finally:
            browser.close()
        servers = locust.servers_seen()
        assert len(servers) == 2, "\n".join(servers)
        rc = locust.terminate(signal.SIGTERM)
    # 1: stopping mid-run records the requests then in flight as cancelled, and Locust exits 1 on failures.
    assert rc in (0, 1), locust.log()[-3000:]
    assert locust.survivors() == []
    assert time.monotonic() - started < 90

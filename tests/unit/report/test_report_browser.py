"""report.html in headless Chromium (the system's /usr/bin/chromium; never a downloaded browser): the claims
table and every chart render, and the page requests nothing beyond its own file."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None,
                       reason="the playwright Python package is absent (pip install playwright)"),
]


def test_report_renders_in_headless_chromium(rendered: tuple[dict[str, Any], dict[str, Path]],
                                             tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _, paths = rendered
    n_charts = sum(1 for k in paths if k.startswith("chart:"))
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda req: requested.append(req.url))
            page.goto(paths["html"].as_uri(), wait_until="load")
            claims_rows = page.locator("table.claims tbody tr").count()
            images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert claims_rows == 10
    assert len(images) == n_charts and all(done and width > 0 for done, width in images)
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
    assert (tmp_path / "report.png").stat().st_size > 10_000


EXAMPLE = Path(__file__).resolve().parents[3] / "reports" / "example"


@pytest.mark.skipif(not (EXAMPLE / "report.html").exists(), reason="no committed reports/example/report.html")
def test_the_seed_example_shows_every_claim_and_every_chart(tmp_path: Path) -> None:
    """reports/example/ is a `bench run --profile seed`: its page must show all ten claims and every chart kind."""
    import json

    from playwright.sync_api import sync_playwright

    from bench.report.charts import CHARTS
    from bench.results.runs import profile_of

    results = json.loads((EXAMPLE / "results.json").read_text(encoding="utf-8"))
    assert profile_of(results) == "seed"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto((EXAMPLE / "report.html").as_uri(), wait_until="load")
            claims = page.locator("table.claims tbody tr").all_inner_texts()
            images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])")
            page.screenshot(path=str(tmp_path / "seed-report.png"), full_page=True)
        finally:
            browser.close()
    assert [c.split()[0] for c in claims] == [f"C{i}" for i in range(1, 11)]
    assert all(done and width > 0 for done, width, _ in images)
    # Every registered chart, plus the blocked-loop section's own chart (where the loop's time went).
    assert len(images) == len(CHARTS) + 1, [alt for _, _, alt in images]
    assert any(alt.startswith("burst: sync's loop was blocked") for _, _, alt in images)
    assert (tmp_path / "seed-report.png").stat().st_size > 50_000


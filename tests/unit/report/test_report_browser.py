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

"""The Case file page in a real browser at 1280x720, on the demo data (an empty store).

Opens the page from the sidebar, waits for the trail map, checks the sections
and the next action, downloads the PDF (made on the server) and saves
screenshots to test-artifacts/screenshots/ (casefile-1280x720.png: what the
screen shows; casefile-full.png: the whole page).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import MAP_IFRAME, SCREENSHOTS, screenshot

pytestmark = pytest.mark.browser
SLOW_MS = 180_000


def _wait_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=SLOW_MS
    )


def test_case_file_page_at_1280x720(page, app_server, watch):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_server.url)
    expect(page.get_by_role("heading", level=1).first).to_contain_text("Map", timeout=SLOW_MS)
    t0 = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Case file", exact=True).click()
    expect(page.get_by_role("heading", level=1).first).to_contain_text("Case file",
                                                                       timeout=SLOW_MS)
    frame = page.frame_locator(MAP_IFRAME).first
    frame.locator("path.leaflet-interactive").first.wait_for(state="visible", timeout=SLOW_MS)
    _wait_idle(page)
    print(f"\n[casefile] page with trail map in {time.perf_counter() - t0:.2f} s")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    for heading in ("Escalation ladder and next action", "Incidents", "ANPR trail",
                    "Interactions on record", "Associates"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_text("Next action (", exact=False).first).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "casefile-1280x720.png"))

    t0 = time.perf_counter()
    with page.expect_download(timeout=SLOW_MS) as dl:
        page.get_by_role("button", name="Download case file (PDF)").click()
    path = dl.value.path()
    data = Path(path).read_bytes()
    print(f"[casefile] PDF download {len(data):,} bytes in {time.perf_counter() - t0:.2f} s")
    assert data.startswith(b"%PDF")
    assert dl.value.suggested_filename.startswith("harewatch_case_")
    screenshot(page, "casefile-full")
    assert watch.dialogs == []
    assert watch.hosts <= {"127.0.0.1"}, sorted(watch.hosts)
    assert not watch.errors, watch.errors

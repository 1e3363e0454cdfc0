"""Issue 13's three jobs on the demo in the real browser at 1280x720 (a projector), plus the
briefing at 1920x1080. Screenshots go to test-artifacts/screenshots/issue13_*.png.

- Planner: "where do I put crews in Cambridgeshire on Friday nights?" -> Hotspots page with
  place names, grid refs and a map; the one-click DBSCAN minimum.
- Sergeant: briefing mode fits the screen: no figure, heading or table cut; sidebar collapsed.
- Analyst: "border-hopping vehicles now being read in Essex" -> Border-hoppers, now in Essex,
  vehicles; the CSV has the columns on screen.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import MAP_IFRAME, screenshot
from tests.e2e.test_dashboard import SLOW_MS, _goto_page, _metric, _wait_idle

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
FULL_HD = {"width": 1920, "height": 1080}

#: Elements of the main area whose content is wider than their box (cut or scrolled sideways).
_OVERFLOWING_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const right = main.getBoundingClientRect().right + 1;
  const sel = ['[data-testid="stMetricValue"]', '[data-testid="stMetricValue"] *',
               '[data-testid="stMetricLabel"]', 'h1', 'h2', 'h3', '[data-testid="stTable"]',
               '[data-testid="stTable"] table', '[data-testid="stTable"] td', '[data-testid="stTable"] th'];
  const out = [];
  for (const s of sel) {
    for (const el of main.querySelectorAll(s)) {
      const r = el.getBoundingClientRect();
      if (!r.width) continue;
      if (el.scrollWidth > el.clientWidth + 1 || r.right > right) {
        out.push(`${s}: "${el.textContent.trim().slice(0, 40)}" scroll ${el.scrollWidth} > client ` +
                 `${el.clientWidth}, right ${Math.round(r.right)} > ${Math.round(right)}`);
      }
    }
  }
  return out;
}"""


def _map_ready(page) -> None:
    page.frame_locator(MAP_IFRAME).first.locator("path.leaflet-interactive").first.wait_for(
        state="visible", timeout=SLOW_MS)


def _sidebar_collapsed(page) -> bool:
    return page.evaluate("""() => {
        const sb = document.querySelector('[data-testid="stSidebar"]');
        if (!sb) return true;
        return sb.getAttribute('aria-expanded') === 'false' || sb.getBoundingClientRect().right <= 1;
    }""")


@pytest.mark.parametrize("size", [PROJECTOR, FULL_HD], ids=["1280x720", "1920x1080"])
def test_sergeant_briefing_fits_the_screen(page, app_server, watch, size):
    page.set_viewport_size(size)
    page.goto(app_server.url + "/briefing?briefing=1")  # the sidebar (and its page links) is collapsed
    expect(page.get_by_role("heading", level=1).first).to_contain_text("briefing", timeout=SLOW_MS)
    _wait_idle(page)
    _map_ready(page)
    page.wait_for_timeout(800)
    assert _sidebar_collapsed(page), "briefing mode should collapse the sidebar"
    title = page.get_by_role("heading", level=1).first.inner_text()
    for part in ("2021-22", "all 7 forces", "every day", "all day"):
        assert part in title, title
    for label in ("Incidents this season", "Change vs last season"):
        expect(_metric(page, label).get_by_test_id("stMetricValue")).to_be_visible()
    assert _metric(page, "Incidents this season").get_by_test_id("stMetricValue").inner_text() == "1,415"
    bad = page.evaluate(_OVERFLOWING_JS)
    name = f"issue13_briefing_{size['width']}x{size['height']}"
    screenshot(page, name)
    page.screenshot(path=str(screenshot.__globals__["SCREENSHOTS"] / f"{name}_viewport.png"))
    assert not bad, "\n".join(bad)
    assert watch.hosts <= {"127.0.0.1"}
    assert not watch.errors, watch.errors


def test_sergeant_pack_is_marked_synthetic(page, app_server, tmp_path, watch):
    import re
    import zipfile

    import pypdf

    page.set_viewport_size(PROJECTOR)
    page.goto(app_server.url + "/briefing?briefing=1")
    expect(page.get_by_role("button", name="Download briefing pack")).to_be_visible(timeout=SLOW_MS)
    _wait_idle(page)
    with page.expect_download(timeout=SLOW_MS) as dl:
        page.get_by_role("button", name="Download briefing pack").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    assert "SYNTHETIC_DEMO" in path.name
    z = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(z.read("briefing.pdf"))).pages]
    assert pages and all("SYNTHETIC DEMO DATA" in t for t in pages)
    assert all(re.search(rf"page {i} of {len(pages)}", t) for i, t in enumerate(pages, start=1))
    assert "SYNTHETIC DEMO DATA" in z.read("briefing_map.html").decode("utf-8")


def test_planner_cambridgeshire_friday_and_saturday_nights(page, app_server, watch):
    page.set_viewport_size(PROJECTOR)
    # a shared link: Cambridgeshire, Friday and Saturday, 20:00 to 04:59
    page.goto(app_server.url + "/?forces=Cambridgeshire&days=fri,sat&hours=20-4")
    _wait_idle(page)
    _goto_page(page, "Hotspots")
    expect(page.get_by_test_id("stSidebar").get_by_text("20:00 to 04:59 (overnight)")).to_be_visible()
    button = page.get_by_role("button", name="Set min incidents per hotspot to 3")
    expect(button).to_be_visible(timeout=SLOW_MS)
    button.click()
    expect(_metric(page, "Hotspots").get_by_test_id("stMetricValue")).not_to_have_text("0", timeout=SLOW_MS)
    _wait_idle(page)
    _map_ready(page)
    frame = page.frame_locator(MAP_IFRAME).first
    expect(frame.locator(".hw-rank").first).to_contain_text("#1")
    expect(frame.locator(".hw-banner")).to_contain_text("SYNTHETIC DEMO DATA")
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("th", has_text="grid ref")).to_have_count(1, timeout=SLOW_MS)
    assert "min_samples=3" in page.url
    page.wait_for_timeout(500)
    screenshot(page, "issue13_planner_hotspots_1280x720")
    assert watch.hosts <= {"127.0.0.1"}
    assert not watch.errors, watch.errors


def test_analyst_vehicles_now_in_essex(page, app_server, tmp_path, watch):
    page.set_viewport_size(PROJECTOR)
    page.goto(app_server.url)
    _wait_idle(page)
    _goto_page(page, "Border-hoppers")
    main = page.get_by_test_id("stMain")
    for label, choice in (("Now in force", "Essex"), ("Vehicles or people", "Vehicles")):
        main.get_by_test_id("stSelectbox").filter(has_text=label).click()
        page.get_by_role("option", name=choice, exact=True).click()
        _wait_idle(page)
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("th", has_text="now in")).to_have_count(1, timeout=SLOW_MS)
    # the grid only puts the columns in view into the page; all of them are in the CSV, in order
    headers = [h.strip() for h in grid.locator("th[role=columnheader]").all_text_contents() if h.strip()]
    _wait_idle(page)  # a click during a rerun finds the button's deferred file already replaced
    page.wait_for_timeout(500)
    with page.expect_download(timeout=SLOW_MS) as dl:
        page.get_by_role("button", name="Download this list (CSV)").click()
    path = tmp_path / dl.value.suggested_filename
    dl.value.save_as(path)
    csv = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
    from dashboard.views.hoppers import HOPPER_TABLE_COLUMNS

    assert list(csv.columns) == HOPPER_TABLE_COLUMNS
    assert headers and headers == [c for c in HOPPER_TABLE_COLUMNS if c in headers]
    assert (csv["now in"] == "Essex").all() and (csv["kind"] == "vehicle").all()
    assert csv["last"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \+0[01]:00$").all()
    page.wait_for_timeout(500)
    screenshot(page, "issue13_analyst_hoppers_1280x720")
    assert watch.hosts <= {"127.0.0.1"}


def test_live_alerts_show_the_demo_alerts(page, app_server, watch):
    page.set_viewport_size(PROJECTOR)
    page.goto(app_server.url)
    _wait_idle(page)
    _goto_page(page, "Live alerts")
    value = _metric(page, "Shown").get_by_test_id("stMetricValue")
    expect(value).not_to_have_text("0", timeout=SLOW_MS)
    assert "d ago" not in _metric(page, "Newest read").inner_text()
    screenshot(page, "issue13_live_alerts_1280x720")

"""The map itself in a real browser (throwaway app tests/e2e/map_app.py):
vendored assets load, vectors draw, nothing leaves 127.0.0.1, hostile data
stays text, a filter change reaches the map."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import MAP_IFRAME, screenshot

pytestmark = pytest.mark.browser


def test_map_renders_offline_with_hostile_data(page, map_app_server, watch):
    t0 = time.perf_counter()
    page.goto(map_app_server.url)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.leaflet-interactive").first.wait_for(state="visible", timeout=30_000)
    first_paint = time.perf_counter() - t0
    print(
        f"\n[map_app] server ready {map_app_server.ready_s:.2f} s; goto -> first map path {first_paint:.2f} s"
    )

    assert frame.locator("path.leaflet-interactive").count() >= 9
    iframe = page.locator(MAP_IFRAME)
    assert int(iframe.get_attribute("height") or 0) > 0
    assert iframe.bounding_box()["height"] > 100
    # labels, legend and the ONS attribution are on the map
    expect(frame.locator(".hw-legend")).to_contain_text("Incidents (420)")
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("Open Government Licence")
    # the hostile force name is shown as text, not markup
    expect(frame.locator(".hw-label", has_text="<img src=x onerror=alert(1)>")).to_have_count(1)
    # hover the hostile camera: tooltip text, no image element, no dialog
    frame.locator(".hw-crossing").first.hover()
    expect(frame.locator(".leaflet-tooltip")).to_contain_text("<img src=x onerror=alert(1)>")
    assert frame.locator(".leaflet-tooltip img, .hw-label img, .hw-legend img").count() == 0
    # zoom in so single incidents appear and open one popup with the hostile note
    frame.locator("body").evaluate("() => window.map.setView([52.95, 1.0], 12, {animate: false})")
    page.wait_for_timeout(500)
    marker = frame.locator("path.leaflet-interactive[fill='#0072B2']").first
    marker.click(force=True)
    popup = frame.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("<img src=x onerror=alert(1)>")
    expect(popup).to_contain_text("AB12CDE")  # masking off in this app (unit tests cover masking)
    page.wait_for_timeout(300)
    screenshot(page, "map_app")

    assert watch.dialogs == []
    assert watch.hosts <= {"127.0.0.1"}, watch.hosts
    assert not [u for u in watch.failed if "/app/static/" in u], watch.failed
    assert not watch.errors, watch.errors


def test_static_assets_served_with_script_and_css_types(page, map_app_server):
    for path, kind in [
        ("/app/static/vendor/leaflet/leaflet.js", "javascript"),
        ("/app/static/vendor/leaflet/leaflet.css", "text/css"),
        ("/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js", "javascript"),
        ("/app/static/vendor/fontawesome/webfonts/fa-solid-900.woff2", "font"),
    ]:
        r = page.request.get(map_app_server.url + path)
        assert r.ok, path
        assert kind in r.headers["content-type"], (path, r.headers["content-type"])


def test_filter_change_reaches_the_map(page, map_app_server, watch):
    page.goto(map_app_server.url)
    frame = page.frame_locator(MAP_IFRAME)
    legend = frame.locator(".hw-legend")
    expect(legend).to_contain_text("Incidents (420)", timeout=30_000)
    # remove "Kent" from the Forces multiselect
    remove_kent = page.get_by_test_id("stSidebar").get_by_role("button", name="Remove Kent")
    t0 = time.perf_counter()
    remove_kent.click()
    # while Streamlit swaps the map, the old and new iframes can both be there: look in any
    page.wait_for_function(
        """(want) => [...document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]')]
            .some(f => (f.contentDocument?.querySelector('.hw-legend')?.innerText || '').includes(want))""",
        arg="Incidents (360)",
        timeout=15_000,
    )
    dt = time.perf_counter() - t0
    print(f"\n[map_app] Forces filter change -> map legend updated in {dt:.2f} s")
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(re.compile(r"^360$"))
    assert watch.hosts <= {"127.0.0.1"}

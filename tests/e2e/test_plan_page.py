"""The Plan page in a real browser at 1280x720: one circle per crew on the map, force borders drawn."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import MAP_IFRAME, screenshot

pytestmark = pytest.mark.browser
SLOW_MS = 120_000


def test_plan_page_shows_one_circle_per_crew(page, app_server, watch):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(app_server.url + "/plan?crews=3&radius=3000&pdays=fri,sat&phours=18-02")
    expect(page.get_by_role("heading", level=1).first).to_contain_text("Plan", timeout=SLOW_MS)
    frame = page.frame_locator(MAP_IFRAME).first
    circles = frame.locator("path.hw-patrol")
    expect(circles).to_have_count(3, timeout=SLOW_MS)
    labels = frame.locator(".hw-patrol-label")
    expect(labels).to_have_count(3)
    assert sorted(labels.all_inner_texts()) == ["#1", "#2", "#3"]
    n_paths = frame.locator("path.leaflet-interactive").count()
    assert n_paths >= 3 + 9  # the circles and the force borders (seven forces and neighbours)
    expect(frame.locator(".hw-legend")).to_contain_text("Patrol circles (3 crews")
    expect(page.get_by_text("this plan would have covered").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    circles.first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    path = screenshot(page, "plan-1280x720")
    print(f"\n[plan] {n_paths} interactive paths; screenshot {path}")
    assert "pdays=fri%2Csat" in page.url or "pdays=fri,sat" in page.url, page.url
    assert watch.hosts <= {"127.0.0.1"}, watch.hosts
    assert not watch.errors, watch.errors
    assert watch.dialogs == []

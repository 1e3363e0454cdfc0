"""Issue 13 on the demo, without a browser: where (place, grid ref), when (days, hours in words,
one-click DBSCAN minimum), briefing title, border-hoppers now-in and filters, demo alerts,
exports = screen columns, demo marker kept through the store, sidebar state kept."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from dashboard.state import Filters
from dashboard.state import SessionKeys as K
from tests.dashboard._apptest import as_int, frame_with, metric, new_app, run_page

GRID_REF = re.compile(r"^[A-Z]{2} \d{3} \d{3}$")
LONDON_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \+0[01]:00$")


@pytest.fixture(scope="module", autouse=True)
def app_env(boundaries_path, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    mp.setenv("HAREWATCH_DATA_DIR", str(tmp_path_factory.mktemp("empty_store")))
    mp.setenv("HAREWATCH_NO_FETCH", "1")
    yield
    mp.undo()


def test_cambridgeshire_friday_saturday_nights_offer_the_minimum_that_gives_hotspots():
    at = new_app(forces="Cambridgeshire", days="fri,sat", hours="20-4")
    at.run()
    run_page(at, "hotspots")
    assert metric(at, "Hotspots") == "0"
    (advice,) = [i.value for i in at.info]
    assert "nowhere has 6 within 1,500 m" in advice and "busiest place has 3" in advice
    assert any("20:00 to 04:59 (overnight)" in c.value for c in at.sidebar.caption)
    at.button(key=K.HOTSPOT_SUGGEST).click().run()
    assert not at.exception
    assert at.sidebar.number_input(key=K.MIN_SAMPLES).value == 3
    assert at.query_params.get("min_samples") in ("3", ["3"])
    assert as_int(metric(at, "Hotspots")) >= 1
    table = frame_with(at, "rank", "place", "grid ref")
    assert table["grid ref"].map(lambda g: bool(GRID_REF.match(g))).all()
    assert table["place"].str.len().gt(0).all() and (table["where"] == "Cambridgeshire").all()
    assert table["last seen"].map(lambda t: bool(LONDON_STAMP.match(t))).all()
    assert len(at.get("component_instance")) == 1  # the hotspots map


def test_hotspot_csv_is_the_table_on_screen(areas):
    from dashboard.views.hotspots import HOTSPOT_TABLE_COLUMNS, hotspot_table, hotspots_csv
    from geo.datasets.demo import demo_result
    from geo.hotspots import hotspots_with_trend

    inc = demo_result(areas)[0].accepted
    table = hotspot_table(hotspots_with_trend(inc, season="2021-22", areas=areas).hotspots, areas)
    back = pd.read_csv(io.BytesIO(hotspots_csv(table)), encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == HOTSPOT_TABLE_COLUMNS == list(table.columns)
    assert back["first seen"].map(lambda t: bool(LONDON_STAMP.match(t))).all()


def test_briefing_title_names_season_forces_days_and_hours():
    at = new_app(briefing="1", forces="Cambridgeshire,Norfolk", days="fri,sat", hours="20-4")
    at.run()
    run_page(at, "briefing")
    title = at.title[0].value.replace("\\", "")
    for part in ("2021-22", "Cambridgeshire, Norfolk", "Fri, Sat", "20:00 to 04:59"):
        assert part in title, title
    top = frame_with(at, "rank", "place", "grid ref")
    assert len(top) <= 5


def test_border_hoppers_vehicles_people_and_now_in_says_how():
    at = new_app()
    at.run()
    run_page(at, "hoppers")
    at.selectbox(key=K.HOP_SUBJECT_KIND).set_value("People").run()
    people = frame_with(at, "subject", "now in", "last seen")
    assert len(people) and (people["kind"] == "person").all()
    assert people["last seen"].str.startswith("incident · ").all()  # people are placed by incidents
    at.selectbox(key=K.HOP_SUBJECT_KIND).set_value("Vehicles").run()
    cars = frame_with(at, "subject", "now in", "last seen")
    assert len(cars) and (cars["kind"] == "vehicle").all()
    assert cars["last seen"].str.startswith("ANPR read · ").any()
    from dashboard.views.hoppers import HOPPER_TABLE_COLUMNS, hoppers_csv

    back = pd.read_csv(io.BytesIO(hoppers_csv(cars, redact=True)), encoding="utf-8-sig", dtype=str)
    assert list(back.columns) == HOPPER_TABLE_COLUMNS  # exactly the columns on screen
    assert back["subject"].str.contains(r"\*").all()


def test_live_alerts_on_the_demo_show_alerts_with_ages_on_the_data_clock():
    at = new_app()
    at.run()
    run_page(at, "alerts")
    assert as_int(metric(at, "Shown")) > 0
    assert not metric(at, "Newest read").endswith("d ago")
    assert frame_with(at, "read", "subject", "now in")["now in"].ne("").all()


def test_sidebar_comes_back_with_the_last_filters_when_streamlit_drops_widget_state():
    """A page link clicked during a fresh tab's slow first run: Streamlit resets widget state to
    what the browser had drawn (nothing). The sidebar used to come back at every widget's minimum
    (all seasons, Jan, no forces, radius 100, min 2) and the next click made them the filters."""
    at = new_app()
    at.session_state[K.SEEDED] = True  # seeded once ...
    at.session_state[K.LAST_FILTERS] = Filters(season="2020-21", forces=("Norfolk", "Suffolk"), eps_m=2500.0,
                                               min_samples=4)  # ... then the widget state was dropped
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sb = at.sidebar
    assert sb.selectbox(key=K.SEASON).value == "2020-21"
    assert sb.selectbox(key=K.START_MONTH).value == 9
    assert sb.multiselect(key=K.FORCES).value == ["Norfolk", "Suffolk"]
    assert (sb.number_input(key=K.EPS_M).value, sb.number_input(key=K.MIN_SAMPLES).value) == (2500.0, 4)
    assert at.query_params.get("season") in ("2020-21", ["2020-21"])


def test_blank_values_sent_for_half_drawn_widgets_do_not_become_the_filters():
    """A click while the page is redrawing: the browser sends the sidebar widgets it was
    redrawing at their blanks (all seasons, Jan, no forces, radius 100, min 2; seen in
    Chromium). The last run's filters come back; one changed widget is still a change."""
    at = new_app(season="2020-21", forces="Norfolk,Suffolk", eps_m="2500", min_samples="4")
    at.run()
    sb = at.sidebar
    assert sb.multiselect(key=K.FORCES).value == ["Norfolk", "Suffolk"]
    for key, blank in ((K.SEASON, "All seasons"), (K.START_MONTH, 1), (K.FORCES, []),
                       (K.EPS_M, 100.0), (K.MIN_SAMPLES, 2)):
        at.session_state[key] = blank
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    sb = at.sidebar
    assert sb.selectbox(key=K.SEASON).value == "2020-21"
    assert sb.multiselect(key=K.FORCES).value == ["Norfolk", "Suffolk"]
    assert (sb.number_input(key=K.EPS_M).value, sb.number_input(key=K.MIN_SAMPLES).value) == (2500.0, 4)
    sb.multiselect(key=K.FORCES).set_value([]).run()  # a person emptying the forces: kept
    assert at.sidebar.multiselect(key=K.FORCES).value == []
    assert at.sidebar.number_input(key=K.EPS_M).value == 2500.0


def test_demo_ingested_into_the_store_keeps_the_demo_banner(tmp_path, boundaries_path, areas, monkeypatch):
    from geo.datasets.demo import write_demo
    from geo.pipeline.ingest import check_file, ingest_check

    paths = write_demo(tmp_path / "demo", areas)
    store = tmp_path / "store"
    assert ingest_check(check_file(paths["incidents"], areas), store)["synthetic"] is True
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(store))
    at = new_app()
    at.run()
    assert any("synthetic" in w.value.lower() for w in at.warning)
    run_page(at, "data")
    assert any("some ingested from the synthetic demo" in c.value for c in at.caption)

"""Every dashboard page under ``streamlit.testing.v1.AppTest`` (no browser).

Most tests run on an empty temporary store, so the app shows the synthetic
demo scenario (published totals: 2,044 incidents in 2020-21, 1,415 in
2021-22). The Data page is driven through AppTest's file uploader. The Live
alerts tests each get their own store: two hand-made incidents (so the
dashboard shows store data, not the demo) and, where needed, alerts written
through ``geo.io.alert_db.AlertStore.add``, exactly as the watcher writes them.

The first run in a process builds the demo and every cached layer (about
15-20 s on two cores); later runs hit ``dashboard.cache``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

from dashboard.state import SEVEN, Filters
from tests.dashboard._apptest import as_int, frame_with, metric, new_app, rendered_bytes, run_page
from tests.dashboard.test_views_alerts import PLATES, XSS, alerts_frame

PAGES = {
    "map": "Map",
    "hotspots": "Hotspots",
    "hoppers": "Border-hoppers",
    "casefile": "Case file",
    "alerts": "Live alerts",
    "trends": "Trends",
    "data": "Data",
    "briefing": "Hare coursing briefing",
}
MASKED_PLATE = re.compile(r"^[A-Z0-9]{1,4}( [A-Z0-9]\**)?\**$")


@pytest.fixture(scope="module")
def app_env(boundaries_path, tmp_path_factory):
    """HAREWATCH_BOUNDARIES set, HAREWATCH_DATA_DIR an empty folder (demo data)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    mp.setenv("HAREWATCH_DATA_DIR", str(tmp_path_factory.mktemp("empty_store")))
    mp.setenv("HAREWATCH_NO_FETCH", "1")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def map_app(app_env) -> AppTest:
    at = new_app()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# ------------------------------------------------------------------ pages
def test_default_page_is_the_map_with_incidents_metric_and_demo_banner(map_app):
    assert [t.value for t in map_app.title] == ["Map"]
    assert as_int(metric(map_app, "Incidents")) > 0
    for label in ("Hotspots", "Border-hoppers", "Not in a hotspot"):
        metric(map_app, label)
    assert any("synthetic" in w.value.lower() for w in map_app.warning), "demo banner missing"
    assert not map_app.error


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_runs_without_exception(app_env, page):
    at = new_app()
    at.run()
    run_page(at, page)
    titles = [t.value for t in at.title]
    assert titles and titles[0].replace("\\", "").startswith(PAGES[page])
    assert not at.error, [e.value for e in at.error]
    assert any("synthetic" in w.value.lower() for w in at.warning)


def folium_scripts(at: AppTest) -> list[str]:
    import json

    return [json.loads(c.proto.json_args).get("script", "") for c in at.get("component_instance")]


def test_map_survives_reruns_unchanged(app_env):
    """st_folium mutates a map it renders: every run must get an intact, identical copy."""
    at = new_app()
    at.run()
    first = folium_scripts(at)
    at.run()  # e.g. the rerun after a click on the map
    second = folium_scripts(at)
    assert len(first) == len(second) == 1
    script = second[0]
    used = set(re.findall(r"feature_group_[0-9a-f]{32}", script))
    defined = set(re.findall(r"var (feature_group_[0-9a-f]{32})", script))
    assert used <= defined, used - defined
    assert first == second  # same HTML: the browser keeps the map and its view


def test_sidebar_widgets_have_the_agreed_labels(map_app):
    sb = map_app.sidebar
    assert [s.label for s in sb.selectbox] == ["Season", "Season starts in"]
    # "Crime types" is offered only for data that records them (the demo does not)
    assert [m.label for m in sb.multiselect] == ["Forces", "Days of the week"]
    assert sb.multiselect[0].value == list(SEVEN)
    assert sb.multiselect[1].value == []
    assert [d.label for d in sb.date_input] == ["Date range"]
    assert [s.label for s in sb.slider] == ["Hours of the day"]
    assert sb.slider[0].value == (0, 23)
    assert [n.label for n in sb.number_input] == ["Hotspot radius eps (m)", "Min incidents per hotspot"]
    assert [t.label for t in sb.toggle] == ["Across midnight", "Briefing mode", "Mask plates and ids",
                                           "Map tiles (online only)"]
    assert [t.value for t in sb.toggle] == [False, False, False, False]


def test_filter_change_changes_the_incidents_metric(app_env):
    at = new_app()
    at.run()
    total = as_int(metric(at, "Incidents"))
    at.sidebar.multiselect(key="w_forces").set_value(["Norfolk"]).run()
    assert not at.exception
    norfolk = as_int(metric(at, "Incidents"))
    assert 0 < norfolk < total
    assert at.query_params["forces"] in ("Norfolk", ["Norfolk"])
    at.sidebar.multiselect(key="w_forces").set_value([]).run()
    assert as_int(metric(at, "Incidents")) == 0


def test_map_options_heat_tiles_and_traced_vehicles(app_env):
    at = new_app(redact="1")
    at.run()
    at.toggle(key="map_heat").set_value(True)
    at.sidebar.toggle(key="w_tiles").set_value(True)
    vehicles = at.multiselect(key="map_vehicles")
    assert vehicles.options and all("*" in o for o in vehicles.options[:20])  # masked labels
    vehicles.select(vehicles.options[0]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Traced vehicles" in [h.value for h in at.subheader]
    traced = frame_with(at, "vrm", "trips", "reads")
    assert len(traced) == 1 and "*" in traced["vrm"].iloc[0]
    assert at.query_params["tiles"] in ("1", ["1"])


def test_hours_filter_narrows_the_incidents(app_env):
    at = new_app()
    at.run()
    total = as_int(metric(at, "Incidents"))
    at.sidebar.slider(key="w_hours").set_value((6, 9)).run()
    assert not at.exception
    assert as_int(metric(at, "Incidents")) < total


def test_hours_across_midnight(app_env):
    at = new_app()
    at.run()
    total = as_int(metric(at, "Incidents"))
    at.sidebar.slider(key="w_hours").set_value((5, 19)).run()
    day = as_int(metric(at, "Incidents"))
    at.sidebar.toggle(key="w_hours_wrap").set_value(True).run()
    assert not at.exception
    night = as_int(metric(at, "Incidents"))
    assert at.query_params["hours"] in ("19-5", ["19-5"])
    # 05:00-19:59 and 20:00-04:59 share hour 5 and hour 19 only partly: 5..19 vs 19..5
    assert 0 < night < total and 0 < day < total
    at2 = new_app(hours="20-4")
    at2.run()
    assert at2.sidebar.slider(key="w_hours").value == (4, 20)
    assert at2.sidebar.toggle(key="w_hours_wrap").value is True


def test_query_params_reproduce_the_view(app_env):
    wanted = Filters(season="2020-21", forces=("Suffolk", "Essex"), hours=(5, 20), eps_m=2000.0,
                     min_samples=5, briefing=True, redact=True)
    at = new_app(**wanted.to_query_params())
    at.run()
    assert not at.exception
    sb = at.sidebar
    assert sb.selectbox(key="w_season").value == "2020-21"
    assert sb.multiselect(key="w_forces").value == ["Suffolk", "Essex"]
    assert sb.slider(key="w_hours").value == (5, 20)
    assert sb.number_input(key="w_eps_m").value == 2000.0
    assert sb.toggle(key="w_briefing").value is True
    got = {k: at.query_params[k] for k in wanted.to_query_params()}
    got = {k: (v[-1] if isinstance(v, list) else v) for k, v in got.items()}
    assert Filters.from_query_params(got) == wanted


def test_garbage_query_params_fall_back_to_defaults(app_env):
    at = new_app(season="<script>", forces="Atlantis", hours="25-99", eps_m="nan", start_month="0",
                 briefing="maybe", **{"from": "yesterday"})
    at.run()
    assert not at.exception
    assert at.sidebar.multiselect(key="w_forces").value == list(SEVEN)
    assert at.sidebar.slider(key="w_hours").value == (0, 23)
    assert at.sidebar.selectbox(key="w_season").value == "2021-22"  # latest season
    assert as_int(metric(at, "Incidents")) > 0


def test_briefing_mode_turns_masking_on(app_env):
    at = new_app()
    at.run()
    at.sidebar.toggle(key="w_briefing").set_value(True).run()
    assert at.sidebar.toggle(key="w_redact").value is True
    assert at.query_params["redact"] in ("1", ["1"])


def test_redaction_masks_plates_in_border_hoppers_table(app_env):
    at = new_app()
    at.run()
    run_page(at, "hoppers")
    plain = frame_with(at, "subject", "action")
    vehicles = plain[plain["kind"] == "vehicle"]["subject"]
    assert len(vehicles) > 0
    assert not vehicles.str.match(MASKED_PLATE.pattern).all()  # real plates shown
    at.sidebar.toggle(key="w_redact").set_value(True).run()
    assert not at.exception
    masked = frame_with(at, "subject", "action")
    mv = masked[masked["kind"] == "vehicle"]["subject"]
    assert len(mv) == len(vehicles)
    assert mv.str.contains(r"\*", regex=True).all()
    assert not set(mv) & set(vehicles)
    people = masked[masked["kind"] == "person"]["subject"]
    assert people.str.contains(r"\*", regex=True).all()


def test_border_hopper_timeline_and_trail(app_env):
    at = new_app(redact="1")
    at.run()
    run_page(at, "hoppers")
    pick = at.multiselect(key="hop_subjects")
    first = pick.options[0]
    assert "*" in first  # option labels are masked too
    pick.select(first).run()
    assert not at.exception, [e.value for e in at.exception]
    tl = frame_with(at, "subject", "at", "what", "force", "ref")
    assert len(tl) >= 2 and "incident" in set(tl["what"])
    assert tl["subject"].str.contains(r"\*", regex=True).all()
    assert tl["at"].is_monotonic_increasing or tl["subject"].nunique() > 1


def test_border_hoppers_now_in_force_filter(app_env):
    at = new_app()
    at.run()
    run_page(at, "hoppers")
    at.selectbox(key="hop_now_in").set_value("Suffolk").run()
    assert not at.exception
    rows = frame_with(at, "subject", "now in")
    assert len(rows) == 0 or (rows["now in"] == "Suffolk").all()


def test_trends_reproduce_the_published_season_totals(app_env):
    at = new_app()
    at.run()
    run_page(at, "trends")
    assert metric(at, "Incidents 2020-21") == "2,044"
    assert metric(at, "Incidents 2021-22") == "1,415"
    deltas = [m.delta for m in at.metric if m.label == "Incidents 2021-22"]
    assert deltas and "-31 %" in deltas[0]
    assert any("2,044 → 1,415" in t.value for t in at.text)


def test_briefing_page_masks_by_default_in_briefing_mode(app_env):
    at = new_app(briefing="1")
    at.run()
    run_page(at, "briefing")
    assert metric(at, "Incidents this season") == "1,415"
    assert metric(at, "Change vs last season") == "-31 %"
    hop = frame_with(at, "subject", "action")
    vehicles = hop[hop["kind"] == "vehicle"]["subject"]
    assert vehicles.str.contains(r"\*", regex=True).all()
    assert any(b.label == "Download briefing pack" for b in at.get("download_button"))


def test_briefing_page_masks_even_with_masking_off(app_env):
    at = new_app(briefing="0", redact="0")
    at.run()
    run_page(at, "briefing")
    assert at.sidebar.toggle(key="w_redact").value is False
    hop = frame_with(at, "subject", "action")
    assert len(hop) > 0
    assert hop["subject"].str.contains(r"\*", regex=True).all()


def test_hotspots_page_lists_ranked_hotspots(app_env):
    at = new_app()
    at.run()
    run_page(at, "hotspots")
    table = frame_with(at, "rank", "where", "trend")
    assert len(table) == as_int(metric(at, "Hotspots"))
    assert list(table["rank"]) == sorted(table["rank"])
    assert any("ranked" in c.value.lower() for c in at.caption)  # the ranking rule


# ------------------------------------------------------------------ Data page
UPLOAD_CSV = (
    b"incident_id,occurred_at,lat,lon,vrms,notes\n"
    b"N1,2021-10-02 07:30,52.63,1.10,AB12CDE,ok\n"
    b"N2,not a date,52.63,1.10,,bad time\n"
    b"N3,2021-10-03 08:00,99,1.10,,bad place\n"
    b"N1,2021-10-04 09:00,52.63,1.10,,duplicate id\n"
    b"N5,2021-11-05 16:10,52.40,0.75,XY34ZZZ,\"=HYPERLINK(1)\"\n"
)


def test_data_page_upload_shows_rejects_and_adds_to_the_store(app_env, tmp_path, monkeypatch):
    from geo.io.store.read import read_incidents

    store = tmp_path / "store"
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(store))
    at = new_app()
    at.run()
    run_page(at, "data")
    assert [f.label for f in at.file_uploader] == ["Upload incidents or sightings"]
    at.file_uploader[0].set_value(("incidents.csv", UPLOAD_CSV, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert (metric(at, "Rows"), metric(at, "Accepted"), metric(at, "Rejected")) == ("5", "2", "3")
    rejects = frame_with(at, "row", "id", "reason")
    assert sorted(rejects["row"].tolist()) == [2, 3, 4]
    assert any(b.label == "Download rejected rows (CSV)" for b in at.get("download_button"))
    [add] = [b for b in at.button if b.label == "Add accepted rows to the store"]
    add.click().run()
    assert not at.exception, [e.value for e in at.exception]
    stored = read_incidents(store)
    assert stored is not None and sorted(stored["incident_id"]) == ["N1", "N5"]
    assert any("Added 2" in s.value for s in at.success)
    assert not any("synthetic" in w.value.lower() for w in at.warning)  # store data now, no demo
    # every page copes with a tiny store (one season, no hotspot, no sightings)
    run_page(at, "map")
    assert metric(at, "Incidents") == "2"
    for page in ("hotspots", "hoppers", "trends", "briefing"):
        run_page(at, page)
        assert not at.error, (page, [e.value for e in at.error])


def test_data_page_validates_sightings(app_env):
    at = new_app()
    at.run()
    run_page(at, "data")
    at.radio(key="data_kind").set_value("Sightings")
    csv = (
        b"vrm,read_at,lat,lon,camera_id\n"
        b"AB12CDE,2021-10-02T07:30:00+01:00,52.63,1.10,CAM1\n"
        b",2021-10-02T07:40:00+01:00,52.63,1.10,CAM1\n"
        b"XY34ZZZ,2021-10-02T08:30:00+01:00,52.40,0.75,CAM2\n"
    )
    at.file_uploader[0].set_value(("reads.csv", csv, "text/csv"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert (metric(at, "Rows"), metric(at, "Accepted"), metric(at, "Rejected")) == ("3", "2", "1")
    assert frame_with(at, "row", "id", "reason")["row"].tolist() == [2]


def test_data_page_unreadable_upload_is_an_error(app_env):
    at = new_app()
    at.run()
    run_page(at, "data")
    at.file_uploader[0].set_value(("incidents.csv", b"\xff\xfe\x00\x00garbage\x00", "text/csv"))
    at.run()
    assert not at.exception
    assert at.error and "incidents.csv" in at.error[0].value.replace("\\", "")  # md-escaped


# ------------------------------------------------------------------ Live alerts page
def incidents_raw() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["N1", "S1"],
        "occurred_at": ["2021-10-02 07:30", "2021-10-09 08:00"],
        "lat": ["52.63", "52.24"],
        "lon": ["1.10", "0.90"],
        "vrms": ["AB12CDE", "XY34ZZZ"],
    })


@pytest.fixture
def store(tmp_path, areas, boundaries_path, monkeypatch) -> Iterator[Path]:
    """A store with two incidents; the app's env points at it."""
    from geo.io.store.write import ingest
    from geo.validate.incidents import validate_incidents

    d = tmp_path / "store"
    ingest(validate_incidents(incidents_raw(), areas), d)
    monkeypatch.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(d))
    monkeypatch.setenv("HAREWATCH_NO_FETCH", "1")
    monkeypatch.setenv("HAREWATCH_ANPR_KEEP_DAYS", "36500")  # the 2021 alerts stay inside retention
    yield d


def add_alerts(store: Path) -> int:
    from geo.io.alert_db import AlertStore

    return AlertStore(store).add(alerts_frame())


def alerts_page(**query: str) -> AppTest:
    at = new_app(**query)
    at.run()
    at.switch_page("app_pages/alerts.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Live alerts"]
    return at


def alerts_shown(at: AppTest) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if "camera" in d.value.columns]
    assert len(frames) == 1, [list(d.value.columns) for d in at.dataframe]
    return frames[0]


def test_alerts_on_reads_past_retention_are_held_back_and_counted(store, monkeypatch):
    add_alerts(store)
    monkeypatch.setenv("HAREWATCH_ANPR_KEEP_DAYS", "365")  # the 2021 reads are past it
    at = alerts_page()
    assert not [d for d in at.dataframe if "camera" in d.value.columns]
    notes = [c.value for c in at.caption if "not shown" in c.value]
    assert len(notes) == 1 and notes[0].startswith("3 alerts on reads before "), notes


def test_no_alert_database_gives_the_watch_command(store):
    at = alerts_page()
    infos = [i.value.replace("\\", "") for i in at.info]
    assert any("harewatch watch --incoming DIR --data-dir" in i and str(store.resolve()) in i
               for i in infos), infos
    assert not at.dataframe or all("camera" not in d.value.columns for d in at.dataframe)
    assert not at.error
    assert not any("synthetic" in w.value.lower() for w in at.warning)  # store data, not the demo


def test_alerts_are_listed_newest_read_first(store):
    assert add_alerts(store) == 3
    at = alerts_page()
    table = alerts_shown(at)
    assert table["subject"].tolist() == ["XY34ZZZ", "CD56EFG", "AB12CDE"]  # by read time, newest first
    assert table["now in"].tolist() == ["Essex", "Suffolk", "Cambridgeshire"]
    assert table["stage"].tolist() == ["2: proactive ASB measures", "1: warning", "1: warning"]
    # London time: 19:15 UTC on 2 Oct 2021 is 20:15 BST; the year is shown for past years
    assert table["read"].tolist()[-1] == "Sat 02 Oct 2021 20:15"
    assert table["warned in"].tolist()[-1] == "Norfolk · Sat 02 Oct 2021"
    assert metric(at, "Shown") == "3"
    assert metric(at, "Raised in last 24 h") == "3"
    assert metric(at, "Newest read").endswith("d ago")
    assert not at.info


def test_masking_on_hides_every_full_plate(store):
    add_alerts(store)
    at = alerts_page(redact="1")
    table = alerts_shown(at)
    assert table["subject"].tolist() == ["XY34 Z**", "CD56 E**", "AB12 C**"]
    blob = rendered_bytes(at)
    for plate in PLATES:
        assert plate.encode() not in blob, plate
    # the same page unmasked does carry the plates (the check above can fail)
    plain = rendered_bytes(alerts_page(redact="0"))
    assert all(p.encode() in plain for p in PLATES)


def test_hostile_camera_id_is_shown_as_text(store):
    add_alerts(store)
    at = alerts_page()
    table = alerts_shown(at)
    assert XSS in table["camera"].tolist()  # a plain text cell (st.dataframe never renders HTML)
    for md in at.markdown:  # the only unsafe-HTML markdown is the app's own static CSS
        assert "onerror" not in md.value


def test_sidebar_forces_filter_the_force_the_vehicle_is_now_in(store):
    add_alerts(store)
    at = alerts_page(forces="Essex,Kent")
    assert alerts_shown(at)["now in"].tolist() == ["Essex"]
    assert metric(at, "Shown") == "1"


def test_pause_stops_the_auto_refresh(store):
    add_alerts(store)
    at = alerts_page()
    assert any("next check in 2 s" in c.value for c in at.caption)
    at.toggle(key="alerts_paused").set_value(True).run()
    assert not at.exception
    checked = [c.value for c in at.caption if c.value.startswith("Checked at")]
    assert checked and "next check" not in checked[0]
    assert len(alerts_shown(at)) == 3  # still shown, just not re-read


def test_demo_store_shows_the_demo_note_and_the_command(tmp_path, boundaries_path, monkeypatch):
    monkeypatch.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HAREWATCH_NO_FETCH", "1")
    at = alerts_page()
    assert any("synthetic demo" in c.value for c in at.caption)
    assert any("harewatch watch" in i.value.replace("\\", "") for i in at.info)


# ------------------------------------------------------------ cache key
def test_alerts_key_changes_when_the_watcher_writes(store):
    from dashboard.cache import alerts_key

    before = alerts_key(store)
    assert not before.exists
    add_alerts(store)
    after = alerts_key(store)
    assert after.exists and after != before
    hash(after)  # usable as a cache key

"""The Live alerts page (dashboard/app_pages/alerts.py) under AppTest, and its view helpers.

Each page test gets its own store: two hand-made incidents (so the dashboard
shows store data, not the demo) and, where needed, alerts written through
``geo.alerts.AlertStore.add``, exactly as the watcher writes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
TIMEOUT_S = 180
XSS = "<img src=x onerror=alert(1)>"
PLATES = ["AB12CDE", "XY34ZZZ", "CD56EFG"]
NOW = pd.Timestamp("2026-11-21T18:00:00Z")  # a Saturday; GMT


def incidents_raw() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["N1", "S1"],
        "occurred_at": ["2021-10-02 07:30", "2021-10-09 08:00"],
        "lat": ["52.63", "52.24"],
        "lon": ["1.10", "0.90"],
        "vrms": ["AB12CDE", "XY34ZZZ"],
    })


def alerts_frame() -> pd.DataFrame:
    """Three alerts, added oldest first; read times 2021-10-02 20:15 BST .. 10-04."""
    read_at = pd.to_datetime(["2021-10-02T19:15Z", "2021-10-04T06:00Z", "2021-10-03T12:00Z"], utc=True)
    return pd.DataFrame({
        "raised_at": pd.Timestamp.now(tz="UTC").floor("s") - pd.to_timedelta([30, 20, 10], unit="s"),
        "read_at": read_at,
        "subject": PLATES,
        "stage": [1, 2, 1],
        "stage_label": ["warning", "proactive ASB measures", "warning"],
        "season": ["2021-22"] * 3,
        "warned_in": ["Norfolk", "Suffolk", "Norfolk"],
        "warned_at": pd.to_datetime(["2021-10-02T06:30Z", "2021-10-03T07:00Z", "2021-10-02T06:30Z"],
                                    utc=True),
        "forces": ["Norfolk", "Suffolk;Norfolk", "Norfolk"],
        "now_in": ["Cambridgeshire", "Essex", "Suffolk"],
        "camera_id": ["CAM-C1", XSS, "CAM-S9"],
        "easting": [545000.0, 570000.0, 610000.0],
        "northing": [258000.0, 210000.0, 245000.0],
        "source_file": ["reads-1.csv", "reads-2.csv", "reads-3.csv"],
    })


@pytest.fixture
def store(tmp_path, areas, boundaries_path, monkeypatch) -> Iterator[Path]:
    """A store with two incidents; the app's env points at it."""
    from geo.incidents import validate_incidents
    from geo.store import ingest

    d = tmp_path / "store"
    ingest(validate_incidents(incidents_raw(), areas), d)
    monkeypatch.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(d))
    monkeypatch.setenv("HAREWATCH_NO_FETCH", "1")
    yield d


def add_alerts(store: Path) -> int:
    from geo.alerts import AlertStore

    return AlertStore(store).add(alerts_frame())


def alerts_page(**query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    for k, v in query.items():
        at.query_params[k] = v
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


def metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return values[0]


def rendered_bytes(at: AppTest) -> bytes:
    """Every element's protobuf (text, tables as Arrow bytes), main area and sidebar."""

    def walk(node) -> Iterator[bytes]:
        proto = getattr(node, "proto", None)
        if proto is not None:
            yield proto.SerializeToString()
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return b"\n".join([*walk(at.main), *walk(at.sidebar)])


# ------------------------------------------------------------------ page
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


# ------------------------------------------------------------ pure helpers
def test_alerts_table_known_answer_and_masking():
    from dashboard.views import ALERT_TABLE_COLUMNS, alerts_table

    df = alerts_frame().iloc[[0]]
    out = alerts_table(df, redact=False, now=NOW)
    assert list(out.columns) == ALERT_TABLE_COLUMNS
    assert out.iloc[0].to_dict() == {
        "read": "Sat 02 Oct 2021 20:15", "subject": "AB12CDE", "stage": "1: warning",
        "warned in": "Norfolk · Sat 02 Oct 2021", "now in": "Cambridgeshire", "camera": "CAM-C1",
        "season": "2021-22",
    }
    assert alerts_table(df, redact=True, now=NOW)["subject"].tolist() == ["AB12 C**"]
    this_year = df.assign(read_at=pd.Timestamp("2026-11-21T17:05:00Z"))
    assert alerts_table(this_year, redact=False, now=NOW)["read"].tolist() == ["Sat 21 Nov 17:05"]
    assert len(alerts_table(df.iloc[0:0], redact=True)) == 0


def test_alert_metrics_and_age():
    from dashboard.views import alert_metrics, fmt_age

    df = alerts_frame().assign(
        raised_at=NOW - pd.to_timedelta([25, 2, 1], unit="h"),
        read_at=NOW - pd.to_timedelta([26, 3, 0.5], unit="h"),
    )
    assert alert_metrics(df, now=NOW) == [
        ("Raised in last 24 h", "2", None), ("Shown", "3", None), ("Newest read", "30 min ago", None),
    ]
    assert alert_metrics(df.iloc[1:], now=NOW, capped=True)[0] == ("Raised in last 24 h", "2+", None)
    assert alert_metrics(df.iloc[0:0], now=NOW)[2] == ("Newest read", "–", None)
    assert [fmt_age(s) for s in (5, 125, 7300, 3 * 86400, float("nan"))] == [
        "5 s ago", "2 min ago", "2 h ago", "3 d ago", "–"]


def test_alerts_view_keeps_order_and_filters_now_in():
    from dashboard.views import alerts_view

    df = alerts_frame()
    assert alerts_view(df, forces=None)["subject"].tolist() == PLATES
    assert alerts_view(df, forces=("Suffolk", "Cambridgeshire"))["subject"].tolist() == ["AB12CDE", "CD56EFG"]
    assert len(alerts_view(df, forces=())) == 0
    assert len(df) == 3  # input untouched


def test_watch_command_quotes_the_folder():
    from dashboard.views import watch_command

    assert watch_command("/data/store") == "harewatch watch --incoming DIR --data-dir /data/store"
    assert watch_command("/data/my store") == "harewatch watch --incoming DIR --data-dir '/data/my store'"

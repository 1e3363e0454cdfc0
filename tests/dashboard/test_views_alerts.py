"""dashboard.views.alerts: the Live alerts table, metrics and filter (plain frames, no Streamlit)."""

from __future__ import annotations

import pandas as pd

XSS = "<img src=x onerror=alert(1)>"
PLATES = ["AB12CDE", "XY34ZZZ", "CD56EFG"]
NOW = pd.Timestamp("2026-11-21T18:00:00Z")  # a Saturday; GMT


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


def test_alerts_table_known_answer_and_masking():
    from dashboard.views.alerts import ALERT_TABLE_COLUMNS, alerts_table

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
    from dashboard.views.alerts import alert_metrics
    from dashboard.views.format import fmt_age

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
    from dashboard.views.alerts import alerts_view

    df = alerts_frame()
    assert alerts_view(df, forces=None)["subject"].tolist() == PLATES
    assert alerts_view(df, forces=("Suffolk", "Cambridgeshire"))["subject"].tolist() == ["AB12CDE", "CD56EFG"]
    assert len(alerts_view(df, forces=())) == 0
    assert len(df) == 3  # input untouched


def test_watch_command_quotes_the_folder():
    from dashboard.views.alerts import watch_command

    assert watch_command("/data/store") == "harewatch watch --incoming DIR --data-dir /data/store"
    assert watch_command("/data/my store") == "harewatch watch --incoming DIR --data-dir '/data/my store'"

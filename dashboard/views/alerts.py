"""Live alerts page: which alerts to show, their table and metrics (``geo.io.alert_db`` rows)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.views.format import fmt_age, fmt_int, london_when
from geo.privacy import mask_series

__all__ = [
    "ALERTS_LIMIT",
    "ALERTS_REFRESH_S",
    "ALERT_TABLE_COLUMNS",
    "alert_metrics",
    "alerts_table",
    "alerts_view",
    "data_clock",
    "watch_command",
]


#: Seconds between two refreshes of the Live alerts table (``st.fragment(run_every=...)``).
ALERTS_REFRESH_S = 2.0
#: Most alerts read per refresh (newest first).
ALERTS_LIMIT = 500
ALERT_TABLE_COLUMNS = ["read", "subject", "stage", "warned in", "now in", "camera", "season"]


def watch_command(data_dir: Any) -> str:
    """The shell command that starts the watcher on this store (the folder quoted for a shell)."""
    import shlex

    return f"harewatch watch --incoming DIR --data-dir {shlex.quote(str(data_dir))}"


def data_clock(alerts: pd.DataFrame) -> pd.Timestamp:
    """"Now" on the data's own clock: its newest read (now, UTC, when there is none).

    Used for replayed demo alerts, so ages read "12 min ago" rather than "1,556 d ago".
    """
    read = pd.to_datetime(pd.DataFrame(alerts).get("read_at", pd.Series(dtype=object)), utc=True,
                          errors="coerce")
    newest = read.max() if len(read) else pd.NaT
    return pd.Timestamp.now(tz="UTC") if pd.isna(newest) else pd.Timestamp(newest)


def alerts_view(alerts: pd.DataFrame, *, forces: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Alerts whose vehicle is *now in* one of ``forces`` (None: all), order kept (newest first).

    The sidebar's force filter is what a planner sets to "my force": an alert
    matters to the force the vehicle has just been read in.
    """
    df = pd.DataFrame(alerts).copy()
    if forces is None or not len(df):
        return df.reset_index(drop=True)
    keep = df["now_in"].astype(str).isin(list(forces)).to_numpy()
    return df[keep].reset_index(drop=True)


def alerts_table(alerts: pd.DataFrame, *, redact: bool, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Display table of alerts (``geo.alerts.ALERT_COLUMNS``), order kept (newest first).

    Columns :data:`ALERT_TABLE_COLUMNS`: London read time, plate (masked with
    ``geo.privacy`` when ``redact``), ladder stage, force and day of the
    warning, force now, camera id, season. All plain text for
    ``st.dataframe`` (which never interprets cell text). No free text is
    shown: the source file name stays out of the table.
    """
    if alerts is None or not len(alerts):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_TABLE_COLUMNS})
    a = pd.DataFrame(alerts)
    subject = a["subject"].astype(object).fillna("").astype(str)
    if redact:
        subject = mask_series(subject, "plate")
    stage = pd.to_numeric(a["stage"], errors="coerce")
    stage_txt = stage.map(lambda s: "" if pd.isna(s) else str(int(s)))
    label = a["stage_label"].astype(object).fillna("").astype(str)
    warned_day = london_when(a["warned_at"], now, with_time=False)
    warned = a["warned_in"].astype(object).fillna("").astype(str)
    warned = warned.where(warned_day.eq("").to_numpy(), warned + " · " + warned_day)
    return pd.DataFrame(
        {
            "read": london_when(a["read_at"], now).to_numpy(),
            "subject": subject.to_numpy(),
            "stage": (stage_txt + ": " + label).where(stage_txt.ne("").to_numpy(), label).to_numpy(),
            "warned in": warned.to_numpy(),
            "now in": a["now_in"].astype(object).fillna("").astype(str).to_numpy(),
            "camera": a["camera_id"].astype(object).fillna("").astype(str).to_numpy(),
            "season": a["season"].astype(object).fillna("").astype(str).to_numpy(),
        }
    )[ALERT_TABLE_COLUMNS]


def alert_metrics(alerts: pd.DataFrame, *, now: pd.Timestamp | None = None,
                  capped: bool = False) -> list[tuple[str, str, str | None]]:
    """(label, value, delta) for the Live alerts metric row, over the alerts shown.

    "Raised in last 24 h": raised by the watcher in the last 24 hours (``"500+"``
    when ``capped``, i.e. the read stopped at its row limit, and every row is
    that recent); "Shown": rows in the table; "Newest read": age of the most
    recent read.
    """
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    n = 0 if alerts is None else len(alerts)
    if not n:
        return [("Raised in last 24 h", "0", None), ("Shown", "0", None), ("Newest read", "–", None)]
    raised = pd.to_datetime(alerts["raised_at"], utc=True, errors="coerce")
    recent = int((raised >= now_ts - pd.Timedelta(hours=24)).sum())
    capped = capped and recent == n
    read = pd.to_datetime(alerts["read_at"], utc=True, errors="coerce")
    newest = read.max()
    age = None if pd.isna(newest) else (now_ts - newest).total_seconds()
    return [
        ("Raised in last 24 h", fmt_int(recent) + ("+" if capped else ""), None),
        ("Shown", fmt_int(n), None),
        ("Newest read", fmt_age(age), None),
    ]

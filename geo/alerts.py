"""Cross-border alerts: a plate already on the ladder is read by a camera in another force.

When a vehicle warned in Norfolk is read by an ANPR camera in Cambridgeshire,
Cambridgeshire should know now. This module finds those reads
(:func:`find_alerts`), applies a cooldown (:func:`apply_cooldown`) and keeps
the alerts in a local SQLite database (:class:`AlertStore`), together with
the ledger of ANPR files the watcher (:mod:`geo.watch`) has processed. The
dashboard polls :func:`read_alerts`.

Decisions (documented so analysts can check them):

- Subjects are plates: ANPR reads carry only plates, so persons (nominals)
  never alert.
- The ladder is the agreement's (:mod:`geo.offenders`), per season: only
  incidents in the seven forces (``in_agreement`` True) count, and the stage
  is ``min(n incidents, 3)``.
- A read raises an alert when, counting only the plate's counted incidents
  of the read's season that occurred at or before the read time, the plate
  has at least one incident (it is on the ladder: at least warned), the read
  is in one of the seven forces, and its force is none of the forces those
  incidents happened in. ``stage``, ``forces`` (``;``-joined, order of first
  appearance) and ``warned_in``/``warned_at`` (the first incident: the
  warning) are as of the read time: an incident after the read does not
  count, and the ladder restarts each season.
- Cooldown: at most one alert per (plate, force now in) per ``cooldown_h``
  hours (default 6). A read is suppressed when an alert of the same plate in
  the same force (raised from an earlier read of the same batch, or already
  stored) lies at or within ``cooldown_h`` before it. Suppressed reads do not
  extend the cooldown, so a vehicle that stays in a force gets a reminder
  every ``cooldown_h`` hours.
- Alerts are unique on (plate, force now in, read time, camera): processing
  the same reads again stores nothing new (``INSERT OR IGNORE``).

Storage: ``<data_dir>/alerts/alerts.sqlite`` (stdlib :mod:`sqlite3`, WAL
journal, so readers never block the writer). Times are stored as integer
microseconds since the epoch (UTC) and returned as tz-aware UTC datetimes.
Table ``alerts`` has :data:`ALERT_COLUMNS`; table ``processed_files`` has
:data:`LEDGER_COLUMNS` (one row per file name + content hash). One writer
(one watcher) per data folder; any number of readers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from geo._config import DEFAULTS
from geo._frames import (
    US_PER_H,
    as_arrow,
    as_text,
    check_hours_positive,
    epoch_us,
    from_arrow,
    group_bounds,
    isin_strings,
    require_columns,
    utc_us,
)
from geo.errors import InputError
from geo.offenders import INCIDENT_REQUIRED, STAGES, incident_links
from geo.schema import UTC_US
from geo.seasons import season_of

__all__ = [
    "ALERT_COLUMNS",
    "apply_cooldown",
    "find_alerts",
    "replay_alerts",
]

#: Columns of :func:`read_alerts` (``raised_at``, ``read_at``, ``warned_at`` tz-aware UTC).
ALERT_COLUMNS: list[str] = [
    "alert_id",
    "raised_at",
    "read_at",
    "subject",
    "stage",
    "stage_label",
    "season",
    "warned_in",
    "warned_at",
    "forces",
    "now_in",
    "camera_id",
    "easting",
    "northing",
    "source_file",
]


ALERT_TIME_COLUMNS = ("raised_at", "read_at", "warned_at")
_KEY = ["subject", "now_in", "read_at", "camera_id"]
_READ_REQUIRED = ["vrm", "read_at", "force", "in_agreement", "camera_id", "easting", "northing"]



# --------------------------------------------------------------------------- helpers




















# --------------------------------------------------------------------------- finding alerts


def _counted_links(incidents: pd.DataFrame | None, start_month: int, plates) -> pd.DataFrame:
    """Counted incidents of these plates, one row each, in ladder order, with the
    incident's rank in its (plate, season) and the forces so far (``;``-joined)."""
    if incidents is None or len(incidents) == 0:
        return pd.DataFrame(columns=["subject", "season", "occurred_at", "force", "rank",
                                     "forces_so_far"])
    links = incident_links(incidents, start_month)
    links = links[(links["kind"] == "vehicle").to_numpy(dtype=bool)]
    links = links[isin_strings(links["subject"], plates)].reset_index(drop=True)
    starts, ends = group_bounds(links[["subject", "season"]])
    gid = np.repeat(np.arange(len(starts)), ends - starts)
    rank = np.arange(len(links)) - (starts[gid] if len(links) else 0) + 1
    # forces so far: a short loop over the incidents of the batch's plates, never over reads
    forces = links["force"].tolist()
    so_far: list[str] = []
    for x, y in zip(starts.tolist(), ends.tolist(), strict=True):
        seen: list[str] = []
        for f in forces[x:y]:
            if f not in seen:
                seen.append(f)
            so_far.append(";".join(seen))
    return pd.DataFrame(
        {
            "subject": links["subject"].to_numpy(),
            "season": links["season"].to_numpy(),
            "occurred_at": links["occurred_at"].array,
            "force": links["force"].to_numpy(),
            "rank": rank.astype("int64"),
            "forces_so_far": pd.Series(so_far, dtype="str").array,
        }
    )


def _plates(values: pd.Series) -> pd.Series:
    """Plates upper-cased without spaces, as the ladder keys them (pyarrow, no Python loop)."""
    arr = pc.replace_substring_regex(pc.utf8_upper(as_arrow(values)), r"\s+", "")
    return from_arrow(arr, index=values.index)


def find_alerts(
    reads: pd.DataFrame,
    incidents: pd.DataFrame | None,
    *,
    start_month: int = DEFAULTS.start_month,
    source_file: str = "",
    raised_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Reads of plates on the ladder in a force of the seven where they have no incident.

    No cooldown is applied (see :func:`apply_cooldown`). Vectorised: reads
    are merged with the counted incidents on plate + season, pairs with the
    incident after the read are dropped, and each read's pairs are reduced.

    Parameters
    ----------
    reads : (Geo)DataFrame
        Accepted ANPR reads (``SIGHTING_COLUMNS``; at least ``vrm, read_at``
        (tz-aware), ``force, in_agreement, camera_id, easting, northing``).
        Not modified.
    incidents : (Geo)DataFrame or None
        Accepted incidents (see :func:`geo.offenders.ladder`); None or empty:
        no alerts. Not modified.
    start_month : int, default 9
        Month (1..12) seasons start in.
    source_file : str, default ""
        File name the reads came from (copied into each alert).
    raised_at : Timestamp, optional
        Time the alerts are raised (default: now, UTC).

    Returns
    -------
    DataFrame
        :data:`ALERT_COLUMNS` without ``alert_id``, one row per alerting
        read, sorted by ``read_at``, ``subject``, ``now_in``, ``camera_id``.
    """
    require_columns(reads, _READ_REQUIRED, "reads")
    season_of(pd.Series([], dtype=UTC_US), start_month)  # validates start_month
    if incidents is not None:
        require_columns(incidents, INCIDENT_REQUIRED, "incidents")
    columns = ALERT_COLUMNS[1:]
    if incidents is None or len(incidents) == 0 or len(reads) == 0:
        return empty_alerts(columns)
    raised = pd.Timestamp.now(tz="UTC") if raised_at is None else pd.Timestamp(raised_at)
    if raised.tzinfo is None:
        raise InputError("raised_at must be timezone-aware")
    raised = raised.tz_convert("UTC").as_unit("us")

    plate = _plates(reads["vrm"])
    in_seven = reads["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    links = _counted_links(incidents, start_month, plate[in_seven].unique().to_numpy(dtype=object))
    if links.empty:
        return empty_alerts(columns)
    pos = np.flatnonzero(in_seven & isin_strings(plate, links["subject"].unique()))
    if len(pos) == 0:
        return empty_alerts(columns)
    sub = reads.iloc[pos]
    read_at = utc_us(sub["read_at"], "read_at").reset_index(drop=True)
    r = pd.DataFrame(
        {
            "rid": np.arange(len(pos), dtype="int64"),
            "subject": plate.iloc[pos].to_numpy(),
            "season": season_of(read_at, start_month).astype("str").to_numpy(),
            "read_at": read_at.array,
            "now_in": as_text(sub["force"]).to_numpy(),
        }
    )
    pairs = r.merge(links, on=["subject", "season"], how="inner", sort=False)
    pairs = pairs[(pairs["occurred_at"] <= pairs["read_at"]).to_numpy(dtype=bool)]
    if pairs.empty:
        return empty_alerts(columns)
    pairs = pairs.sort_values(["rid", "rank"], kind="stable", ignore_index=True)
    starts, ends = group_bounds(pairs[["rid"]])
    hit = (pairs["force"].to_numpy(dtype=object) == pairs["now_in"].to_numpy(dtype=object))
    in_warned_force = np.logical_or.reduceat(hit, starts)
    alert = ~in_warned_force
    first, last = starts[alert], ends[alert] - 1
    rid = pairs["rid"].to_numpy()[first]
    src = sub.iloc[rid]
    n = pairs["rank"].to_numpy()[last]
    stage = np.minimum(n, len(STAGES)).astype("int64")
    out = pd.DataFrame(
        {
            "raised_at": pd.Series(raised, index=range(len(rid))).astype(UTC_US).array,
            "read_at": read_at.iloc[rid].array,
            "subject": r["subject"].to_numpy()[rid],
            "stage": stage,
            "stage_label": pd.Series(stage).map(STAGES).to_numpy(),
            "season": r["season"].to_numpy()[rid],
            "warned_in": pairs["force"].to_numpy()[first],
            "warned_at": pairs["occurred_at"].array[first],
            "forces": pairs["forces_so_far"].to_numpy()[last],
            "now_in": r["now_in"].to_numpy()[rid],
            "camera_id": as_text(src["camera_id"]).to_numpy(),
            "easting": src["easting"].to_numpy(dtype="float64"),
            "northing": src["northing"].to_numpy(dtype="float64"),
            "source_file": str(source_file),
        },
        columns=columns,
    ).astype({c: ALERT_DTYPES[c] for c in columns})
    return out.sort_values(["read_at", "subject", "now_in", "camera_id"], kind="stable",
                           ignore_index=True)


def apply_cooldown(
    candidates: pd.DataFrame, prior: pd.DataFrame | None = None, *, cooldown_h: float = 6.0
) -> pd.DataFrame:
    """Keep at most one alert per (plate, force) per ``cooldown_h`` hours.

    Alerts are taken in time order per (``subject``, ``now_in``); one is kept
    unless a kept or prior alert of the same pair lies at or within
    ``cooldown_h`` before it. Candidates identical (same subject, now_in,
    read_at, camera_id) to a prior alert are dropped: they are stored already.

    Parameters
    ----------
    candidates : DataFrame
        From :func:`find_alerts`. Not modified.
    prior : DataFrame, optional
        Alerts already stored (at least ``subject, now_in, read_at,
        camera_id``), e.g. :meth:`AlertStore.alerts_between`. Not modified.
    cooldown_h : float, default 6.0
        Hours (>= 0).

    Returns
    -------
    DataFrame
        The kept candidates, same columns, in the input order.
    """
    cd_us = int(round(check_hours_positive(cooldown_h, "cooldown_h", allow_zero=True)
                      * US_PER_H))
    require_columns(candidates, _KEY, "candidates")
    if candidates.empty:
        return candidates.copy()
    if prior is None:
        prior = candidates.iloc[:0]
    require_columns(prior, _KEY, "prior")

    def keys(df: pd.DataFrame, forced: bool) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "subject": as_text(df["subject"]).to_numpy(dtype=object),
                "now_in": as_text(df["now_in"]).to_numpy(dtype=object),
                "t": epoch_us(utc_us(df["read_at"], "read_at")),
                "camera_id": as_text(df["camera_id"]).to_numpy(dtype=object),
                "forced": forced,
                "pos": np.arange(len(df)),
            }
        )

    cand, old = keys(candidates, False), keys(prior, True).drop_duplicates(
        ["subject", "now_in", "t", "camera_id"])
    stored = cand.merge(old[["subject", "now_in", "t", "camera_id"]], how="left",
                        on=["subject", "now_in", "t", "camera_id"], indicator=True)["_merge"]
    cand = cand[(stored == "left_only").to_numpy(dtype=bool)]
    if cand.empty:
        return candidates.iloc[:0].copy()
    old = old[isin_strings(pd.Series(old["subject"], dtype="str"), cand["subject"].unique())]
    u = pd.concat([old, cand], ignore_index=True)
    # prior first at equal times: a stored alert suppresses a new read at the same instant
    u = u.sort_values(["subject", "now_in", "t", "forced", "camera_id"],
                      ascending=[True, True, True, False, True], kind="stable", ignore_index=True)
    starts, ends = group_bounds(u[["subject", "now_in"]])
    group_end = np.repeat(ends, ends - starts)
    t = u["t"].to_numpy(dtype="int64")
    forced_at = np.flatnonzero(u["forced"].to_numpy(dtype=bool))
    keep = np.zeros(len(u), dtype=bool)
    i, n = 0, len(u)
    while i < n:  # one step per alert kept (or stored), never per read
        keep[i] = True
        end = group_end[i]
        nxt = i + 1 + int(np.searchsorted(t[i + 1:end], t[i] + cd_us, side="right"))
        k = int(np.searchsorted(forced_at, i, side="right"))
        if k < len(forced_at):
            nxt = min(nxt, int(forced_at[k]))
        i = nxt
    chosen = u[keep & ~u["forced"].to_numpy(dtype=bool)]["pos"].to_numpy()
    return candidates.iloc[np.sort(chosen)].copy()


ALERT_DTYPES: dict[str, str] = {
    "alert_id": "int64",
    "raised_at": UTC_US,
    "read_at": UTC_US,
    "subject": "str",
    "stage": "int64",
    "stage_label": "str",
    "season": "str",
    "warned_in": "str",
    "warned_at": UTC_US,
    "forces": "str",
    "now_in": "str",
    "camera_id": "str",
    "easting": "float64",
    "northing": "float64",
    "source_file": "str",
}


def replay_alerts(reads: pd.DataFrame, incidents: pd.DataFrame | None, *,
                  start_month: int = DEFAULTS.start_month, cooldown_h: float = 6.0,
                  limit: int | None = None) -> pd.DataFrame:
    """The alerts the watcher would have raised had it seen ``reads`` arrive as they were read.

    For data that never went through ``harewatch watch`` (the synthetic demo):
    :func:`find_alerts` then :func:`apply_cooldown`, each alert raised at its
    read time, numbered in time order, newest first like
    ``geo.io.alert_db.read_alerts``.

    Parameters
    ----------
    reads, incidents : DataFrame
        As for :func:`find_alerts`. Not modified.
    start_month : int
        Month (1..12) seasons start in.
    cooldown_h : float
        As for :func:`apply_cooldown`.
    limit : int, optional
        Keep the newest ``limit`` alerts.

    Returns
    -------
    DataFrame
        :data:`ALERT_COLUMNS`, newest read first.
    """
    found = find_alerts(reads, incidents, start_month=start_month, source_file="(replayed)")
    kept = apply_cooldown(found, cooldown_h=cooldown_h)
    kept = kept.sort_values(["read_at", "subject"], kind="stable").reset_index(drop=True)
    out = kept.assign(raised_at=kept["read_at"], alert_id=np.arange(1, len(kept) + 1, dtype="int64"))
    out = out[ALERT_COLUMNS].iloc[::-1].reset_index(drop=True)
    return out if limit is None else out.head(int(limit))


def empty_alerts(columns: list[str] = ALERT_COLUMNS) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=ALERT_DTYPES[c]) for c in columns})

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

import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from geo.columns import as_arrow, from_arrow
from geo.movements import (
    _check_hours_positive,
    _group_bounds,
    _isin,
    _require,
    _text,
    _us,
    _utc_us,
)
from geo.offenders import _INCIDENT_REQUIRED, STAGES, _links
from geo.seasons import season_of

__all__ = [
    "ALERT_COLUMNS",
    "LEDGER_COLUMNS",
    "AlertStore",
    "alerts_db_path",
    "apply_cooldown",
    "find_alerts",
    "raise_alerts",
    "read_alerts",
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

#: Columns of the processed-file ledger (:meth:`AlertStore.processed_files`).
LEDGER_COLUMNS: list[str] = [
    "name",
    "size",
    "mtime_ns",
    "sha256",
    "status",
    "reason",
    "rows",
    "rows_added",
    "rows_already_stored",
    "rows_rejected",
    "alerts_raised",
    "processed_at",
]

_TIME = "datetime64[us, UTC]"
_TIME_COLUMNS = ("raised_at", "read_at", "warned_at")
_US_PER_H = 3_600_000_000
_KEY = ["subject", "now_in", "read_at", "camera_id"]
_READ_REQUIRED = ["vrm", "read_at", "force", "in_agreement", "camera_id", "easting", "northing"]
_DTYPES: dict[str, str] = {
    "alert_id": "int64",
    "raised_at": _TIME,
    "read_at": _TIME,
    "subject": "str",
    "stage": "int64",
    "stage_label": "str",
    "season": "str",
    "warned_in": "str",
    "warned_at": _TIME,
    "forces": "str",
    "now_in": "str",
    "camera_id": "str",
    "easting": "float64",
    "northing": "float64",
    "source_file": "str",
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    alert_id    INTEGER PRIMARY KEY,  -- max + 1: increasing (alerts are never deleted)
    raised_at   INTEGER NOT NULL,
    read_at     INTEGER NOT NULL,
    subject     TEXT NOT NULL,
    stage       INTEGER NOT NULL,
    stage_label TEXT NOT NULL,
    season      TEXT NOT NULL,
    warned_in   TEXT NOT NULL,
    warned_at   INTEGER NOT NULL,
    forces      TEXT NOT NULL,
    now_in      TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    easting     REAL,
    northing    REAL,
    source_file TEXT NOT NULL,
    UNIQUE (subject, now_in, read_at, camera_id)
);
CREATE INDEX IF NOT EXISTS alerts_newest ON alerts (read_at DESC, alert_id DESC);
CREATE TABLE IF NOT EXISTS processed_files (
    name                TEXT NOT NULL,
    size                INTEGER NOT NULL,
    mtime_ns            INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('ingested', 'rejected')),
    reason              TEXT NOT NULL DEFAULT '',
    rows                INTEGER NOT NULL DEFAULT 0,
    rows_added          INTEGER NOT NULL DEFAULT 0,
    rows_already_stored INTEGER NOT NULL DEFAULT 0,
    rows_rejected       INTEGER NOT NULL DEFAULT 0,
    alerts_raised       INTEGER NOT NULL DEFAULT 0,
    processed_at        INTEGER NOT NULL,
    PRIMARY KEY (name, sha256)
);
CREATE INDEX IF NOT EXISTS processed_by_sha ON processed_files (sha256, processed_at);
"""


# --------------------------------------------------------------------------- helpers


def alerts_db_path(data_dir: str | os.PathLike) -> Path:
    """``<data_dir>/alerts/alerts.sqlite``."""
    return Path(data_dir) / "alerts" / "alerts.sqlite"


def _empty_alerts(columns: list[str] = ALERT_COLUMNS) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=_DTYPES[c]) for c in columns})


def _from_us(values) -> pd.Series:
    arr = np.asarray(values, dtype="int64").astype("datetime64[us]")
    return pd.Series(arr).dt.tz_localize("UTC")


def _ts_us(ts) -> int:
    """A tz-aware time as integer microseconds since the epoch."""
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        raise ValueError(f"time must be timezone-aware, got {ts!r}")
    return (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def _alerts_frame(rows: list[tuple], columns: list[str] = ALERT_COLUMNS) -> pd.DataFrame:
    """Rows fetched from the ``alerts`` table (times as integer microseconds) as a frame."""
    if not rows:
        return _empty_alerts(columns)
    cols = list(zip(*rows, strict=True))
    data = {}
    for c, values in zip(columns, cols, strict=True):
        if c in _TIME_COLUMNS:
            data[c] = _from_us(values)
        elif _DTYPES[c] == "float64":
            data[c] = pd.Series(np.asarray(values, dtype="float64"))  # NULL -> nan
        else:
            data[c] = pd.Series(values, dtype=_DTYPES[c])
    return pd.DataFrame(data, columns=columns)


def _select_sql(where: str = "", *, limit: bool = True, by_id_range: bool = False) -> str:
    sql = f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts"
    if where:
        sql += f" WHERE {where}"
    # ``+read_at`` keeps SQLite on the id range (few new alerts) instead of the time index
    sql += f" ORDER BY {'+' if by_id_range else ''}read_at DESC, alert_id DESC"
    return sql + (" LIMIT ?" if limit else "")


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return -1  # SQLite: no limit
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 0:
        raise ValueError(f"limit must be an integer >= 0 or None, got {limit!r}")
    return int(limit)


def _recent(con: sqlite3.Connection, limit: int | None, since_id: int | None) -> pd.DataFrame:
    n = _check_limit(limit)
    if since_id is None:
        rows = con.execute(_select_sql(), (n,)).fetchall()
    else:
        rows = con.execute(_select_sql("alert_id > ?", by_id_range=True), (int(since_id), n)).fetchall()
    return _alerts_frame(rows)


def read_alerts(
    data_dir: str | os.PathLike, *, limit: int | None = 500, since_id: int | None = None,
    timeout_s: float = 2.0,
) -> pd.DataFrame:
    """Stored alerts, newest first; cheap and safe while the watcher writes.

    The database is opened read-only (``mode=ro``) for this call only; in WAL
    mode readers see the last committed state and never block the writer.

    Parameters
    ----------
    data_dir : path
        Store root (the database is :func:`alerts_db_path`).
    limit : int or None, default 500
        At most this many alerts (None: all).
    since_id : int, optional
        Only alerts with ``alert_id`` greater than this (stored since a
        previous call that saw that id).
    timeout_s : float, default 2.0
        Seconds to wait if the database is momentarily locked.

    Returns
    -------
    DataFrame
        :data:`ALERT_COLUMNS`, ordered by ``read_at`` then ``alert_id``,
        both descending; times tz-aware UTC. Empty (same columns) when there
        is no database yet.
    """
    path = alerts_db_path(data_dir)
    _check_limit(limit)
    if not path.is_file():
        return _empty_alerts()
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
    try:
        return _recent(con, limit, since_id)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the watcher is creating the database right now
            return _empty_alerts()
        raise
    finally:
        con.close()


# --------------------------------------------------------------------------- finding alerts


def _counted_links(incidents: pd.DataFrame | None, start_month: int, plates) -> pd.DataFrame:
    """Counted incidents of these plates, one row each, in ladder order, with the
    incident's rank in its (plate, season) and the forces so far (``;``-joined)."""
    if incidents is None or len(incidents) == 0:
        return pd.DataFrame(columns=["subject", "season", "occurred_at", "force", "rank",
                                     "forces_so_far"])
    links = _links(incidents, start_month)
    links = links[(links["kind"] == "vehicle").to_numpy(dtype=bool)]
    links = links[_isin(links["subject"], plates)].reset_index(drop=True)
    starts, ends = _group_bounds(links[["subject", "season"]])
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
    start_month: int = 9,
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
    _require(reads, _READ_REQUIRED, "reads")
    season_of(pd.Series([], dtype=_TIME), start_month)  # validates start_month
    if incidents is not None:
        _require(incidents, _INCIDENT_REQUIRED, "incidents")
    columns = ALERT_COLUMNS[1:]
    if incidents is None or len(incidents) == 0 or len(reads) == 0:
        return _empty_alerts(columns)
    raised = pd.Timestamp.now(tz="UTC") if raised_at is None else pd.Timestamp(raised_at)
    if raised.tzinfo is None:
        raise ValueError("raised_at must be timezone-aware")
    raised = raised.tz_convert("UTC").as_unit("us")

    plate = _plates(reads["vrm"])
    in_seven = reads["in_agreement"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    links = _counted_links(incidents, start_month, plate[in_seven].unique().to_numpy(dtype=object))
    if links.empty:
        return _empty_alerts(columns)
    pos = np.flatnonzero(in_seven & _isin(plate, links["subject"].unique()))
    if len(pos) == 0:
        return _empty_alerts(columns)
    sub = reads.iloc[pos]
    read_at = _utc_us(sub["read_at"], "read_at").reset_index(drop=True)
    r = pd.DataFrame(
        {
            "rid": np.arange(len(pos), dtype="int64"),
            "subject": plate.iloc[pos].to_numpy(),
            "season": season_of(read_at, start_month).astype("str").to_numpy(),
            "read_at": read_at.array,
            "now_in": _text(sub["force"]).to_numpy(),
        }
    )
    pairs = r.merge(links, on=["subject", "season"], how="inner", sort=False)
    pairs = pairs[(pairs["occurred_at"] <= pairs["read_at"]).to_numpy(dtype=bool)]
    if pairs.empty:
        return _empty_alerts(columns)
    pairs = pairs.sort_values(["rid", "rank"], kind="stable", ignore_index=True)
    starts, ends = _group_bounds(pairs[["rid"]])
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
            "raised_at": pd.Series(raised, index=range(len(rid))).astype(_TIME).array,
            "read_at": read_at.iloc[rid].array,
            "subject": r["subject"].to_numpy()[rid],
            "stage": stage,
            "stage_label": pd.Series(stage).map(STAGES).to_numpy(),
            "season": r["season"].to_numpy()[rid],
            "warned_in": pairs["force"].to_numpy()[first],
            "warned_at": pairs["occurred_at"].array[first],
            "forces": pairs["forces_so_far"].to_numpy()[last],
            "now_in": r["now_in"].to_numpy()[rid],
            "camera_id": _text(src["camera_id"]).to_numpy(),
            "easting": src["easting"].to_numpy(dtype="float64"),
            "northing": src["northing"].to_numpy(dtype="float64"),
            "source_file": str(source_file),
        },
        columns=columns,
    ).astype({c: _DTYPES[c] for c in columns})
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
    cd_us = int(round(_check_hours_positive(cooldown_h, "cooldown_h", allow_zero=True)
                      * _US_PER_H))
    _require(candidates, _KEY, "candidates")
    if candidates.empty:
        return candidates.copy()
    if prior is None:
        prior = candidates.iloc[:0]
    _require(prior, _KEY, "prior")

    def keys(df: pd.DataFrame, forced: bool) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "subject": _text(df["subject"]).to_numpy(dtype=object),
                "now_in": _text(df["now_in"]).to_numpy(dtype=object),
                "t": _us(_utc_us(df["read_at"], "read_at")),
                "camera_id": _text(df["camera_id"]).to_numpy(dtype=object),
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
    old = old[_isin(pd.Series(old["subject"], dtype="str"), cand["subject"].unique())]
    u = pd.concat([old, cand], ignore_index=True)
    # prior first at equal times: a stored alert suppresses a new read at the same instant
    u = u.sort_values(["subject", "now_in", "t", "forced", "camera_id"],
                      ascending=[True, True, True, False, True], kind="stable", ignore_index=True)
    starts, ends = _group_bounds(u[["subject", "now_in"]])
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


# --------------------------------------------------------------------------- store


class AlertStore:
    """The alerts database and processed-file ledger of one data folder (single writer).

    Parameters
    ----------
    data_dir : path
        Store root; the database is created at :func:`alerts_db_path`.
    timeout_s : float, default 10.0
        Seconds to wait for a lock held by a reader or another process.

    Notes
    -----
    The connection may be used from another thread than the one that made
    it, but by one thread at a time. Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, data_dir: str | os.PathLike, *, timeout_s: float = 10.0) -> None:
        self.path = alerts_db_path(data_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None,
                                    check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")  # an alert committed survives a power cut
        self._con.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")

    # -- lifecycle
    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def __enter__(self) -> AlertStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # -- alerts
    def insert(self, alerts: pd.DataFrame) -> pd.DataFrame:
        """Store alerts; those already stored (same key) are ignored.

        Parameters
        ----------
        alerts : DataFrame
            :data:`ALERT_COLUMNS` (``alert_id`` not needed; ignored). Not modified.

        Returns
        -------
        DataFrame
            The alerts newly stored, with their ``alert_id``, oldest id first.
        """
        cols = ALERT_COLUMNS[1:]
        _require(alerts, cols, "alerts")
        if alerts.empty:
            return _empty_alerts()
        values = {}
        for c in cols:
            s = alerts[c]
            if c in _TIME_COLUMNS:
                values[c] = _us(_utc_us(s, c)).tolist()
            elif _DTYPES[c] == "str":
                values[c] = _text(s).tolist()
            elif c == "stage":
                values[c] = s.to_numpy(dtype="int64").tolist()
            else:
                values[c] = s.to_numpy(dtype="float64").tolist()
        rows = list(zip(*(values[c] for c in cols), strict=True))
        sql = (f"INSERT OR IGNORE INTO alerts ({', '.join(cols)}) "
               f"VALUES ({', '.join('?' * len(cols))})")
        with self._write() as con:
            before = con.execute("SELECT COALESCE(MAX(alert_id), 0) FROM alerts").fetchone()[0]
            con.executemany(sql, rows)
            new = con.execute(
                f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE alert_id > ? "
                "ORDER BY alert_id", (before,)).fetchall()
        return _alerts_frame(new)

    def add(self, alerts: pd.DataFrame) -> int:
        """Store alerts (see :meth:`insert`); returns how many were new."""
        return len(self.insert(alerts))

    def recent(self, *, limit: int | None = 500, since_id: int | None = None) -> pd.DataFrame:
        """As :func:`read_alerts`, through this store's connection."""
        return _recent(self._con, limit, since_id)

    def alerts_between(
        self, start: pd.Timestamp, end: pd.Timestamp, subjects: Collection[str] | None = None
    ) -> pd.DataFrame:
        """Stored alerts with ``start <= read_at <= end`` (tz-aware), optionally of some plates.

        Returns
        -------
        DataFrame
            :data:`ALERT_COLUMNS`, newest first.
        """
        lo, hi = _ts_us(start), _ts_us(end)
        rows = self._con.execute(_select_sql("read_at BETWEEN ? AND ?", limit=False),
                                 (lo, hi)).fetchall()
        out = _alerts_frame(rows)
        if subjects is not None and len(out):
            out = out[_isin(out["subject"], subjects)].reset_index(drop=True)
        return out

    # -- ledger of processed files
    def known_files(self) -> set[tuple[str, int, int]]:
        """(name, size, mtime_ns) of every ledger row: files not to look at again."""
        rows = self._con.execute("SELECT name, size, mtime_ns FROM processed_files").fetchall()
        return {(str(a), int(b), int(c)) for a, b, c in rows}

    def _entry(self, where: str, params: tuple) -> dict | None:
        row = self._con.execute(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM processed_files WHERE {where} "
            "ORDER BY processed_at, name LIMIT 1", params).fetchone()
        if row is None:
            return None
        entry = dict(zip(LEDGER_COLUMNS, row, strict=True))
        entry["processed_at"] = _from_us([entry["processed_at"]]).iloc[0]
        return entry

    def ledger_entry(self, name: str, sha256: str) -> dict | None:
        """The ledger row of this file name with this content, or None."""
        return self._entry("name = ? AND sha256 = ?", (name, sha256))

    def ledger_by_content(self, sha256: str) -> dict | None:
        """The first ledger row (any name) with this content hash, or None."""
        return self._entry("sha256 = ?", (sha256,))

    def record_file(self, entry: Mapping[str, object]) -> None:
        """Write (or replace) one ledger row; ``entry`` has :data:`LEDGER_COLUMNS`.

        ``processed_at`` is a tz-aware timestamp.
        """
        missing = [c for c in LEDGER_COLUMNS if c not in entry]
        if missing:
            raise ValueError(f"ledger entry lacks {', '.join(missing)}")
        values = [entry[c] for c in LEDGER_COLUMNS]
        i = LEDGER_COLUMNS.index("processed_at")
        values[i] = _ts_us(values[i])
        sql = (f"INSERT OR REPLACE INTO processed_files ({', '.join(LEDGER_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})")
        with self._write() as con:
            con.execute(sql, values)

    def processed_files(self) -> pd.DataFrame:
        """The ledger, oldest first (:data:`LEDGER_COLUMNS`, ``processed_at`` UTC)."""
        rows = self._con.execute(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM processed_files "
            "ORDER BY processed_at, name").fetchall()
        df = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
        df["processed_at"] = _from_us(df["processed_at"].to_numpy(dtype="int64")) if len(df) \
            else pd.Series([], dtype=_TIME)
        return df


def raise_alerts(
    reads: pd.DataFrame,
    incidents: pd.DataFrame | None,
    store: AlertStore,
    *,
    start_month: int = 9,
    cooldown_h: float = 6.0,
    source_file: str = "",
    raised_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Find a batch's alerts, apply the cooldown against stored alerts, store the new ones.

    Idempotent: the same reads processed again store nothing new.

    Parameters
    ----------
    reads, incidents, start_month, source_file, raised_at
        As :func:`find_alerts`.
    store : AlertStore
        Where alerts are stored (and prior alerts for the cooldown read from).
    cooldown_h : float, default 6.0
        As :func:`apply_cooldown`.

    Returns
    -------
    DataFrame
        The alerts newly stored (:data:`ALERT_COLUMNS`), oldest id first.
    """
    cand = find_alerts(reads, incidents, start_month=start_month, source_file=source_file,
                       raised_at=raised_at)
    if cand.empty:
        return _empty_alerts()
    cooldown = pd.Timedelta(hours=float(cooldown_h))
    prior = store.alerts_between(cand["read_at"].min() - cooldown, cand["read_at"].max(),
                                 cand["subject"].unique())
    kept = apply_cooldown(cand, prior, cooldown_h=cooldown_h)
    return store.insert(kept)

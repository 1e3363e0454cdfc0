"""The durable alert store: alerts and the processed-file ledger in SQLite (WAL).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from geo._frames import (
    as_text,
    epoch_us,
    isin_strings,
    require_columns,
    utc_us,
)
from geo.alerts import ALERT_COLUMNS, ALERT_DTYPES, ALERT_TIME_COLUMNS, empty_alerts
from geo.errors import InputError
from geo.schema import UTC_US

__all__ = [
    "LEDGER_COLUMNS",
    "LEDGER_STATUSES",
    "alerts_db_path",
    "read_alerts",
    "count_alerts",
    "purge_alerts",
    "AlertStore",
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
    "rejects_path",
]

#: Ledger statuses: rows stored (some may be rejected); nothing usable in a readable file;
#: the file could not be read at all (retried when it changes or on request).
LEDGER_STATUSES = ("ingested", "rejected", "unreadable")




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
""" + """
CREATE TABLE IF NOT EXISTS processed_files ({ledger});
CREATE INDEX IF NOT EXISTS processed_by_sha ON processed_files (sha256, processed_at);
"""

_LEDGER_TABLE = """
    name                TEXT NOT NULL,
    size                INTEGER NOT NULL,
    mtime_ns            INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('ingested', 'rejected', 'unreadable')),
    reason              TEXT NOT NULL DEFAULT '',
    rows                INTEGER NOT NULL DEFAULT 0,
    rows_added          INTEGER NOT NULL DEFAULT 0,
    rows_already_stored INTEGER NOT NULL DEFAULT 0,
    rows_rejected       INTEGER NOT NULL DEFAULT 0,
    alerts_raised       INTEGER NOT NULL DEFAULT 0,
    processed_at        INTEGER NOT NULL,
    rejects_path        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, sha256)
"""

#: Ledger columns of harewatch 0.2.0 (before ``unreadable`` and ``rejects_path``).
_LEDGER_V1 = LEDGER_COLUMNS[:-1]


def _migrate_ledger(con: sqlite3.Connection) -> None:
    """Rebuild a 0.2.0 ledger (its CHECK lacks ``unreadable``; no ``rejects_path``)."""
    row = con.execute("SELECT sql FROM sqlite_master WHERE name = 'processed_files'").fetchone()
    if row is None or "'unreadable'" in row[0]:
        return
    cols = ", ".join(_LEDGER_V1)
    con.executescript(
        "BEGIN IMMEDIATE;"
        "ALTER TABLE processed_files RENAME TO processed_files_v1;"
        f"CREATE TABLE processed_files ({_LEDGER_TABLE});"
        f"INSERT INTO processed_files ({cols}) SELECT {cols} FROM processed_files_v1;"
        "DROP TABLE processed_files_v1;"
        "CREATE INDEX IF NOT EXISTS processed_by_sha ON processed_files (sha256, processed_at);"
        "COMMIT;")


def alerts_db_path(data_dir: str | os.PathLike) -> Path:
    """``<data_dir>/alerts/alerts.sqlite``."""
    return Path(data_dir) / "alerts" / "alerts.sqlite"




def _from_us(values) -> pd.Series:
    arr = np.asarray(values, dtype="int64").astype("datetime64[us]")
    return pd.Series(arr).dt.tz_localize("UTC")


def _ts_us(ts) -> int:
    """A tz-aware time as integer microseconds since the epoch."""
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        raise InputError(f"time must be timezone-aware, got {ts!r}")
    return (t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(microseconds=1)


def _alerts_frame(rows: list[tuple], columns: list[str] = ALERT_COLUMNS) -> pd.DataFrame:
    """Rows fetched from the ``alerts`` table (times as integer microseconds) as a frame."""
    if not rows:
        return empty_alerts(columns)
    cols = list(zip(*rows, strict=True))
    data = {}
    for c, values in zip(columns, cols, strict=True):
        if c in ALERT_TIME_COLUMNS:
            data[c] = _from_us(values)
        elif ALERT_DTYPES[c] == "float64":
            data[c] = pd.Series(np.asarray(values, dtype="float64"))  # NULL -> nan
        else:
            data[c] = pd.Series(values, dtype=ALERT_DTYPES[c])
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
        raise InputError(f"limit must be an integer >= 0 or None, got {limit!r}")
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
        return empty_alerts()
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
    try:
        return _recent(con, limit, since_id)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # the watcher is creating the database right now
            return empty_alerts()
        raise
    finally:
        con.close()


def count_alerts(data_dir: str | os.PathLike, *, timeout_s: float = 2.0) -> int:
    """Number of stored alerts (0 when there is no database yet); read-only."""
    path = alerts_db_path(data_dir)
    if not path.is_file():
        return 0
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout_s)
    try:
        return int(con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0])
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return 0
        raise
    finally:
        con.close()


def purge_alerts(data_dir: str | os.PathLike, before: pd.Timestamp, *, dry_run: bool = False,
                 timeout_s: float = 30.0) -> int:
    """Delete the alerts raised on ANPR reads before ``before`` (retention); one transaction.

    Returns the number of such alerts (deleted unless ``dry_run``); 0 without a database.
    """
    if not alerts_db_path(data_dir).is_file():
        return 0
    cut = _ts_us(before)
    with AlertStore(data_dir, timeout_s=timeout_s) as store, store._write() as con:
        n = int(con.execute("SELECT COUNT(*) FROM alerts WHERE read_at < ?", (cut,)).fetchone()[0])
        if n and not dry_run:
            con.execute("DELETE FROM alerts WHERE read_at < ?", (cut,))
    return n


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
        self._con.executescript(
            "BEGIN IMMEDIATE;" + _SCHEMA.format(ledger=_LEDGER_TABLE) + "COMMIT;")
        _migrate_ledger(self._con)

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
        require_columns(alerts, cols, "alerts")
        if alerts.empty:
            return empty_alerts()
        values = {}
        for c in cols:
            s = alerts[c]
            if c in ALERT_TIME_COLUMNS:
                values[c] = epoch_us(utc_us(s, c)).tolist()
            elif ALERT_DTYPES[c] == "str":
                values[c] = as_text(s).tolist()
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
            out = out[isin_strings(out["subject"], subjects)].reset_index(drop=True)
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

        ``processed_at`` is a tz-aware timestamp; ``rejects_path`` may be left out.
        """
        entry = {"rejects_path": "", **entry}
        missing = [c for c in LEDGER_COLUMNS if c not in entry]
        if missing:
            raise InputError(f"ledger entry lacks {', '.join(missing)}")
        values = [entry[c] for c in LEDGER_COLUMNS]
        i = LEDGER_COLUMNS.index("processed_at")
        values[i] = _ts_us(values[i])
        sql = (f"INSERT OR REPLACE INTO processed_files ({', '.join(LEDGER_COLUMNS)}) "
               f"VALUES ({', '.join('?' * len(LEDGER_COLUMNS))})")
        with self._write() as con:
            con.execute(sql, values)

    def forget_files(self, names: Collection[str] | None = None) -> list[str]:
        """Delete ledger rows so the watcher processes those files again (idempotent steps).

        Parameters
        ----------
        names : collection of str, optional
            File names (any status). None: every file recorded as
            ``unreadable`` or ``rejected``.

        Returns
        -------
        list of str
            The names whose rows were deleted, sorted.
        """
        if names is None:
            where, params = "status IN ('unreadable', 'rejected')", ()
        else:
            names = sorted({str(n) for n in names})
            where, params = f"name IN ({', '.join('?' * len(names))})", tuple(names)
            if not names:
                return []
        with self._write() as con:
            found = [r[0] for r in con.execute(
                f"SELECT DISTINCT name FROM processed_files WHERE {where}", params)]
            con.execute(f"DELETE FROM processed_files WHERE {where}", params)
        return sorted(found)

    def changed_elsewhere(self) -> int:
        """SQLite's ``data_version``: changes when another connection commits (e.g. a retry)."""
        return int(self._con.execute("PRAGMA data_version").fetchone()[0])

    def processed_files(self) -> pd.DataFrame:
        """The ledger, oldest first (:data:`LEDGER_COLUMNS`, ``processed_at`` UTC)."""
        rows = self._con.execute(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM processed_files "
            "ORDER BY processed_at, name").fetchall()
        df = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
        df["processed_at"] = _from_us(df["processed_at"].to_numpy(dtype="int64")) if len(df) \
            else pd.Series([], dtype=UTC_US)
        return df

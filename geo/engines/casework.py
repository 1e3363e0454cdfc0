"""Casework reads from the store with duckdb: a subject's reads and its companions', latest reads.

A case file (:func:`geo.casework.casefile.case_file`) needs the subject's
ANPR trail and, for its associates, the reads taken by the subject's cameras
within minutes of the subject's reads; the offenders list needs each plate's
latest read (:func:`geo.casework.actions.latest_positions`). On a large store
neither should load every read: these scans open only the files
:func:`geo.io.store.sightings_paths` names (the plate's bucket; the months of
the subject's trail) and filter inside the scan.

The store is used only through :func:`geo.io.store.sightings_paths`, so a
change of the store's table format that keeps that function keeps these.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import pandas as pd

from geo.io.store import sightings_paths

__all__ = ["READ_COLUMNS", "subject_reads_store", "latest_reads_store"]

#: Columns of :func:`subject_reads_store` (what a case file reads).
READ_COLUMNS = ["vrm", "read_at", "easting", "northing", "force", "camera_id"]

_SELECT = """
    SELECT vrm, CAST(read_at AS TIMESTAMPTZ) AS read_at, CAST(easting AS DOUBLE) AS easting,
           CAST(northing AS DOUBLE) AS northing, coalesce(force, '') AS force,
           coalesce(camera_id, '') AS camera_id
    FROM read_parquet(?, union_by_name = true)
"""


def _connect(threads: int | None):
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # naive stored times are UTC
    con.execute("SET enable_progress_bar = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """READ_COLUMNS with the dtypes of the in-memory reads (UTC microseconds, text)."""
    out = df[READ_COLUMNS].copy()
    out["read_at"] = pd.to_datetime(out["read_at"], utc=True).dt.as_unit("us")
    return out.astype({"vrm": "str", "force": "str", "camera_id": "str"})


def _empty() -> pd.DataFrame:
    return _typed(pd.DataFrame({c: pd.Series([], dtype="str") for c in READ_COLUMNS}).assign(
        read_at=pd.Series([], dtype="datetime64[us, UTC]"),
        easting=pd.Series([], dtype="float64"), northing=pd.Series([], dtype="float64")))


def subject_reads_store(data_dir: str | os.PathLike, plate: str, *, within_min: float = 5.0,
                        threads: int | None = None) -> pd.DataFrame:
    """The reads a case file of ``plate`` needs: its own and those near them at its cameras.

    Parameters
    ----------
    data_dir : path
        Store root.
    plate : str
        The subject's plate (spaces and case ignored).
    within_min : float, default 5
        Minutes either side of each of the subject's reads in which the same
        camera's other reads are kept (the co-read window of
        :func:`geo.casework.convoys.associates`).
    threads : int, optional
        duckdb worker threads (default: all cores).

    Returns
    -------
    DataFrame
        :data:`READ_COLUMNS`, the subject's reads then the others, each in
        time order; empty when the plate has no stored read.
    """
    vrm = "".join(str(plate).split()).upper()
    own_files = [str(p) for p in sightings_paths(data_dir, plates=[vrm])]
    if not own_files:
        return _empty()
    con = _connect(threads)
    try:
        mine = con.execute(_SELECT + " WHERE vrm = ? ORDER BY read_at", [own_files, vrm]).df()
        if mine.empty:
            return _empty()
        mine = _typed(mine)
        w = pd.Timedelta(minutes=float(within_min))
        lo, hi = mine["read_at"].min() - w, mine["read_at"].max() + w
        files = [str(p) for p in sightings_paths(data_dir, time_range=(lo, hi))]
        con.register("mine", mine[mine["camera_id"] != ""][["camera_id", "read_at"]])
        others = con.execute(f"""
            SELECT DISTINCT r.* FROM ({_SELECT}) r JOIN mine m
              ON r.camera_id = m.camera_id
             AND r.read_at BETWEEN m.read_at - to_microseconds(?) AND m.read_at + to_microseconds(?)
            WHERE r.vrm <> ?
            ORDER BY r.read_at, r.vrm, r.camera_id
        """, [files, int(w / pd.Timedelta(microseconds=1)), int(w / pd.Timedelta(microseconds=1)),
              vrm]).df()
    finally:
        con.close()
    return pd.concat([mine, _typed(others)], ignore_index=True) if len(others) else mine


def latest_reads_store(data_dir: str | os.PathLike, plates: Iterable[str], *,
                       threads: int | None = None) -> pd.DataFrame:
    """Each plate's latest stored read that has a force: ``vrm, read_at, force``.

    Feeds :func:`geo.casework.actions.latest_positions` (where each subject is
    now) without loading every read. Only the buckets of ``plates`` are opened.

    Parameters
    ----------
    data_dir : path
        Store root.
    plates : iterable of str
        Plates wanted (normalised: upper case, no spaces).
    threads : int, optional
        duckdb worker threads (default: all cores).

    Returns
    -------
    DataFrame
        One row per plate with a read; ``read_at`` UTC.
    """
    wanted = sorted({str(p) for p in plates if str(p)})
    files = [str(p) for p in sightings_paths(data_dir, plates=wanted)] if wanted else []
    empty = _empty()[["vrm", "read_at", "force"]]
    if not files:
        return empty
    con = _connect(threads)
    try:
        con.register("wanted", pd.DataFrame({"vrm": wanted}))
        out = con.execute(f"""
            SELECT r.vrm, max(r.read_at) AS read_at, arg_max(r.force, r.read_at) AS force
            FROM ({_SELECT}) r SEMI JOIN wanted w ON r.vrm = w.vrm
            WHERE r.force <> ''
            GROUP BY r.vrm ORDER BY r.vrm
        """, [files]).df()
    finally:
        con.close()
    if out.empty:
        return empty
    out["read_at"] = pd.to_datetime(out["read_at"], utc=True).dt.as_unit("us")
    return out.astype({"vrm": "str", "force": "str"})[["vrm", "read_at", "force"]]

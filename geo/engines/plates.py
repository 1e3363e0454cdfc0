"""Partial-plate search over the store's ANPR reads with duckdb (see :mod:`geo.casework.plates`).

Only the files of the London months overlapping the time window are opened
(:func:`geo.io.store.sightings_paths`); the time window, the bounding box of
the search circle and the pattern (with misreads) are filtered inside the
scan, so only matching reads come back; they are ranked by
:func:`geo.casework.plates.rank_candidates`, as the in-memory engine ranks them.
"""

from __future__ import annotations

import os

import pandas as pd

from geo.casework.plates import (
    PlatePattern,
    empty_candidates,
    plate_search,
    rank_candidates,
)
from geo.io.store.read import sightings_paths

__all__ = ["search_plates_store"]


def _store_sql(read_at_type: str) -> str:
    """The scan of :func:`search_plates_store` (parameters: files, lo, hi, box, regex)."""
    at = ("make_timestamptz(epoch_ns(read_at) // 1000)"
          if "NS" in read_at_type.upper() else "read_at")
    return f"""
        SELECT vrm, {at} AS read_at, CAST(easting AS DOUBLE) AS easting,
               CAST(northing AS DOUBLE) AS northing, coalesce(camera_id, '') AS camera_id
        FROM read_parquet(?, union_by_name = true)
        WHERE read_at >= ? AND read_at <= ?
          AND easting BETWEEN ? AND ? AND northing BETWEEN ? AND ?
          AND regexp_full_match(vrm, ?)
    """


def search_plates_store(
    data_dir: str | os.PathLike,
    pattern: str | PlatePattern,
    *,
    easting_m: float,
    northing_m: float,
    at_utc: pd.Timestamp | str,
    km: float = 20.0,
    hours: float = 3.0,
    ladder: pd.DataFrame | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """:func:`geo.casework.plates.search_plates` over the store's ANPR reads, scanned with duckdb.

    Only the files of the London months overlapping the time window are
    opened (:func:`geo.io.store.sightings_paths`); the time window, the
    bounding box of the ``km`` circle and the pattern (with misreads) are
    filtered inside the scan. Parameters and result as :func:`geo.casework.plates.search_plates`;
    ``threads`` sets duckdb's worker threads (default: all cores).
    """
    import duckdb

    search = plate_search(pattern, easting_m=easting_m, northing_m=northing_m, at_utc=at_utc,
                          km=km, hours=hours)
    lo, hi = search.window
    files = [str(p) for p in sightings_paths(data_dir, time_range=(lo, hi))]
    if not files:
        return empty_candidates()
    r_m, e, n = search.km * 1000.0, search.origin.easting_m, search.origin.northing_m
    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET enable_progress_bar = false")
        rtype = con.execute("SELECT typeof(read_at) FROM read_parquet(?, union_by_name = true) "
                            "LIMIT 1", [files]).fetchone()
        sql = _store_sql(rtype[0] if rtype else "TIMESTAMP WITH TIME ZONE")
        params = [files, lo.to_pydatetime(), hi.to_pydatetime(), e - r_m, e + r_m, n - r_m,
                  n + r_m, search.pattern.loose]
        hits = con.execute(sql, params).df()
    finally:
        con.close()
    if hits.empty:
        return empty_candidates()
    hits["read_at"] = pd.to_datetime(hits["read_at"], utc=True).dt.as_unit("us")
    return rank_candidates(hits, search, ladder)

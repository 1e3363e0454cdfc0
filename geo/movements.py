"""Vehicle movements: ANPR reads and incidents as points, trips, border crossings.

A *point* is one place and time a plate (VRM) was seen: an ANPR read
(``kind="read"``, ``ref`` = camera id) or an incident the plate is linked to
(``kind="incident"``, ``ref`` = incident id). Points of one plate, in time
order, are cut into *trips* wherever the gap to the previous point exceeds
``max_gap_h`` hours. A *border crossing* is two consecutive points of the same
trip in different force areas; it is reported at the first point in the new
force.

Two engines compute crossings and give identical results on the same reads
(a third, :func:`geo.dask_engine.crossings_dask`, runs the pandas engine per
plate bucket of the partitioned store on a dask.distributed cluster, again
with identical results):

- :func:`border_crossings` (pandas/numpy, in memory): for the dashboard and
  anything that already holds the points, including incident points.
- :func:`crossings_from_parquet` (duckdb, out of core): scans the sightings
  GeoParquet files of the store, reading only ``vrm, read_at, force,
  camera_id, easting, northing``, and runs ``LAG`` over ``PARTITION BY vrm
  ORDER BY read_at`` inside duckdb, returning only the crossings. This is the
  engine for millions of reads.

Why duckdb: the sort + shift + group step is the whole cost. duckdb runs it
as a parallel sort that spills to disk past its memory limit, straight from
the parquet column chunks: no 10M-row pandas frame is built, and only the
crossings (about 12 % of the reads in the benchmark) come back to Python.
``benchmarks/bench_offenders.py`` measured the core step on 10M reads
(200,000 plates) on a shared 2-core machine under heavy load. CPU time is
the steadier figure there: duckdb 8.3-8.6 s of CPU spread over both cores
(best wall time 6.1 s, 1.65 M rows/s), polars 10-12 s, numpy
(factorize + lexsort) 8.7-10 s single-threaded, and pandas (sort + groupby
shift) 16 s single-threaded with twice duckdb's memory (3.1 GB against
1.5 GB). Polars was as fast as duckdb at 1M rows and slower at 10M, and it
would be a new dependency. Only duckdb filters the plates (semi-join) and
the season while it scans. That makes the realistic query (plates linked
to incidents) cost 2.2 s of CPU for 10M reads.

Conventions shared by both engines (so they agree exactly):

- Order within a plate: time, then ``kind``, ``ref`` (camera id), ``force``,
  ``easting``, ``northing`` (a total order up to identical points).
- Times are compared and returned at microsecond resolution (UTC,
  ``datetime64[us, UTC]``), sub-microsecond parts truncated.
- A gap of exactly ``max_gap_h`` hours stays in the same trip; a longer gap
  starts a new one. Trips are numbered from 0 per plate.
- Points without a plate, a time or a force (outside every force area) are
  ignored: they cannot take part in a crossing.

movingpandas was considered (not installed, not measured) and not used: it builds one shapely
``LineString``/``Trajectory`` object per plate and splits trips with Python
loops over trajectories (``ObservationGapSplitter``), i.e. 200,000 Python
objects and per-trajectory work for 10M reads, plus a full GeoDataFrame with
geometries in memory. The question asked here ("consecutive points of the same
plate in different forces, within a time gap") needs no geometry at all, only
a sort and a shift, which a columnar engine does orders of magnitude faster.
"""

from __future__ import annotations

import glob as _glob
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geo.columns import as_arrow, distinct_plates
from geo.schema import MULTI_SEP

__all__ = [
    "POINT_COLUMNS",
    "CROSSING_COLUMNS",
    "vehicle_points",
    "trips",
    "border_crossings",
    "crossings_near_incidents",
    "crossings_from_parquet",
    "linked_plates",
]

#: Columns of :func:`vehicle_points`.
POINT_COLUMNS: list[str] = ["vrm", "at", "easting", "northing", "force", "kind", "ref"]

#: Columns of :func:`border_crossings` and :func:`crossings_from_parquet`.
CROSSING_COLUMNS: list[str] = [
    "vrm",
    "trip",
    "from_force",
    "to_force",
    "from_at",
    "at",
    "camera_id",
    "easting",
    "northing",
    "from_ref",
    "ref",
]

_SORT_KEYS = ["vrm", "at", "kind", "ref", "force", "easting", "northing"]
_US_PER_H = 3_600_000_000
_TIME = "datetime64[us, UTC]"
#: Columns the parquet scan reads (and nothing else).
_SCAN_COLUMNS = ["vrm", "read_at", "force", "camera_id", "easting", "northing"]


# --------------------------------------------------------------------------- helpers


def _require(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lack required column(s): {', '.join(missing)}")


def _check_hours_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a number of hours, got {value!r}") from exc
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of hours {bound}, got {value!r}")
    return v


def _gap_us(max_gap_h: float) -> int:
    """``max_gap_h`` hours as integer microseconds (the unit both engines compare in)."""
    return int(round(_check_hours_positive(max_gap_h, "max_gap_h") * _US_PER_H))


def _utc_us(values: pd.Series, name: str) -> pd.Series:
    """Tz-aware times as ``datetime64[us, UTC]`` (truncated); ValueError if naive."""
    s = values
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        if len(s) == 0 or s.isna().all():
            return pd.Series(pd.NaT, index=s.index, dtype=_TIME)
        raise ValueError(f"{name} must hold timezone-aware (UTC) datetimes, got {s.dtype}")
    return s.dt.tz_convert("UTC").astype(_TIME)


def _isin(values: pd.Series, lookup: Iterable[str]) -> np.ndarray:
    """Boolean mask "string value is in ``lookup``" (missing values read as ``""``).

    Uses ``pyarrow.compute.is_in`` on the values' Arrow buffers: pandas' ``str``
    ``isin`` converts every lookup value to a pyarrow scalar in Python, far
    slower for thousands.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(lookup, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        lookup = list(lookup)
    keys = pd.Series(lookup, dtype=object).dropna().unique()
    arr = as_arrow(pd.Series(values))
    return pc.is_in(arr, value_set=pa.array(keys, type=pa.string())).to_numpy(
        zero_copy_only=False)


def _us(values: pd.Series) -> np.ndarray:
    """Tz-aware times as int64 microseconds since the epoch (NaT as int64 min)."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]").view("int64")


def _text(values: pd.Series) -> pd.Series:
    """Strings (pandas ``str`` dtype) with missing values as ``""``."""
    if isinstance(values.dtype, pd.StringDtype) and not values.hasnans:
        return values
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("")
    return values.astype("object").where(values.notna(), "").astype("str")


def _group_bounds(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) row positions of runs of equal ``keys`` rows.

    ``keys`` must already be sorted so that each group is one contiguous run.
    Used to build small per-group Python lists by slicing, much faster than
    ``groupby().agg(list)`` (which slices a frame per group).
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for col in keys.columns:
        v = keys[col].to_numpy()
        new[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    return starts, ends


def _check_metres(east: pd.Series, north: pd.Series, what: str) -> None:
    """Refuse longitude/latitude where British National Grid metres are meant."""
    e = pd.to_numeric(east, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    n = pd.to_numeric(north, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(e) & np.isfinite(n)
    if ok.any() and (np.abs(e[ok]) <= 180).all() and (np.abs(n[ok]) <= 90).all():
        raise ValueError(
            f"{what}: easting/northing look like longitude/latitude degrees; "
            "metres in EPSG:27700 (British National Grid) are required"
        )


def _explode_multi(values: pd.Series) -> pd.Series:
    """``"A;B"`` strings exploded to one stripped, non-empty value per row.

    The index holds the source row *positions* (use ``.iloc``), so a
    non-unique index on the input does no harm.
    """
    s = _text(values).reset_index(drop=True).str.split(MULTI_SEP).explode().str.strip()
    return s[s.notna() & (s != "")]


def _empty_points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vrm": pd.Series([], dtype="str"),
            "at": pd.Series([], dtype=_TIME),
            "easting": pd.Series([], dtype="float64"),
            "northing": pd.Series([], dtype="float64"),
            "force": pd.Series([], dtype="str"),
            "kind": pd.Series([], dtype="str"),
            "ref": pd.Series([], dtype="str"),
        }
    )


def _finish_crossings(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes, column order and a fresh RangeIndex (shared by both engines)."""
    out = pd.DataFrame(
        {
            "vrm": _text(df["vrm"]),
            "trip": df["trip"].astype("int64"),
            "from_force": _text(df["from_force"]),
            "to_force": _text(df["to_force"]),
            "from_at": _utc_us(df["from_at"], "from_at"),
            "at": _utc_us(df["at"], "at"),
            "camera_id": _text(df["camera_id"]),
            "easting": df["easting"].astype("float64"),
            "northing": df["northing"].astype("float64"),
            "from_ref": _text(df["from_ref"]),
            "ref": _text(df["ref"]),
        }
    )
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- points


def vehicle_points(
    incidents: pd.DataFrame | None, sightings: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every place and time a plate was seen: incidents (one row per linked plate) and reads.

    Parameters
    ----------
    incidents : (Geo)DataFrame or None
        Accepted incidents with at least ``incident_id, occurred_at`` (tz-aware),
        ``easting, northing`` (metres, EPSG:27700), ``force`` and ``vrms``
        (plates joined by ``;``). An incident linked to *k* plates gives *k*
        points; one with no plate gives none. Not modified.
    sightings : (Geo)DataFrame, optional
        Accepted ANPR reads with at least ``vrm, read_at`` (tz-aware),
        ``easting, northing`` (metres), ``force, camera_id``. Not modified.

    Returns
    -------
    DataFrame
        Columns ``vrm, at`` (``datetime64[us, UTC]``), ``easting, northing``
        (metres), ``force``, ``kind`` (``"read"`` or ``"incident"``), ``ref``
        (camera id or incident id); sorted by plate, time, then ``kind, ref``
        (stable), with a fresh RangeIndex. No geometry column.

    Raises
    ------
    ValueError
        Missing columns, naive times, or coordinates that look like degrees.
    """
    parts = []
    if incidents is not None:
        _require(
            incidents,
            ["incident_id", "occurred_at", "easting", "northing", "force", "vrms"],
            "incidents",
        )
        _check_metres(incidents["easting"], incidents["northing"], "incidents")
        plates = _explode_multi(incidents["vrms"])
        if len(plates):
            src = incidents.iloc[plates.index.to_numpy()]  # positions, in explode order
            inc = pd.DataFrame(
                {
                    "vrm": plates.to_numpy(),
                    "at": _utc_us(src["occurred_at"], "occurred_at").array,
                    "easting": src["easting"].astype("float64").to_numpy(),
                    "northing": src["northing"].astype("float64").to_numpy(),
                    "force": _text(src["force"]).to_numpy(),
                    "kind": "incident",
                    "ref": _text(src["incident_id"]).to_numpy(),
                }
            )
            parts.append(inc.drop_duplicates(["vrm", "ref"]))
    if sightings is not None:
        _require(
            sightings, ["vrm", "read_at", "easting", "northing", "force", "camera_id"], "sightings"
        )
        _check_metres(sightings["easting"], sightings["northing"], "sightings")
        parts.append(
            pd.DataFrame(
                {
                    "vrm": _text(sightings["vrm"]).to_numpy(),
                    "at": _utc_us(sightings["read_at"], "read_at").array,
                    "easting": sightings["easting"].astype("float64").to_numpy(),
                    "northing": sightings["northing"].astype("float64").to_numpy(),
                    "force": _text(sightings["force"]).to_numpy(),
                    "kind": "read",
                    "ref": _text(sightings["camera_id"]).to_numpy(),
                }
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_points()
    points = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    points = points.astype({"vrm": "str", "force": "str", "kind": "str", "ref": "str", "at": _TIME})
    points = points[points["vrm"] != ""]
    return points.sort_values(_SORT_KEYS, kind="stable").reset_index(drop=True)[POINT_COLUMNS]


# --------------------------------------------------------------------------- trips


def _segment(points: pd.DataFrame, gap_us: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Sort points and number trips.

    Returns the sorted copy (with ``trip``), a mask "same plate as the previous
    row and within the gap" and a mask "same plate as the previous row" (one
    entry per row, row 0 False).
    """
    keys = [k for k in _SORT_KEYS if k in points.columns]
    p = points.copy()
    p["at"] = _utc_us(p["at"], "at")
    p = p[(_text(p["vrm"]) != "").to_numpy() & p["at"].notna().to_numpy()]
    p = p.sort_values(keys, kind="stable").reset_index(drop=True)
    n = len(p)
    vrm = _text(p["vrm"]).to_numpy(dtype=object)
    t = _us(p["at"])
    same = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)
    if n > 1:
        same[1:] = vrm[1:] == vrm[:-1]
        gap = t[1:] - t[:-1]
        near[1:] = same[1:] & (gap <= gap_us)
    brk = same & ~near  # new trip of the same plate
    cum = np.cumsum(brk)
    start = np.where(~same, np.arange(n), 0)
    start = np.maximum.accumulate(start) if n else start
    trip = cum - cum[start] if n else np.zeros(0, dtype="int64")
    p["trip"] = trip.astype("int64")
    return p, near, same


def trips(points: pd.DataFrame, max_gap_h: float = 6.0) -> pd.DataFrame:
    """Number each plate's trips: a new trip starts after a gap of more than ``max_gap_h``.

    Parameters
    ----------
    points : DataFrame
        At least ``vrm`` and ``at`` (tz-aware), e.g. from :func:`vehicle_points`.
        Not modified.
    max_gap_h : float, default 6.0
        Largest gap in hours (> 0) between consecutive points of one trip; a
        gap of exactly ``max_gap_h`` stays in the trip.

    Returns
    -------
    DataFrame
        A sorted copy (plate, time, then ``kind, ref, force, easting,
        northing`` where present), times as ``datetime64[us, UTC]``, plus
        ``trip`` (int64, from 0 per plate); rows without plate or time dropped.

    Raises
    ------
    ValueError
        Missing columns, ``max_gap_h <= 0``, naive times.
    """
    _require(points, ["vrm", "at"], "points")
    out, _, _ = _segment(points, _gap_us(max_gap_h))
    return out


def border_crossings(points: pd.DataFrame, max_gap_h: float = 6.0) -> pd.DataFrame:
    """Consecutive points of the same trip in different force areas (pandas engine).

    Parameters
    ----------
    points : DataFrame
        Columns of :func:`vehicle_points` (``vrm, at, easting, northing, force,
        kind, ref``). Not modified. Points with an empty force are ignored.
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0), see :func:`trips`.

    Returns
    -------
    DataFrame
        One row per crossing, columns :data:`CROSSING_COLUMNS`: ``vrm``,
        ``trip``, ``from_force``, ``to_force``, ``from_at`` (time of the last
        point in the old force), ``at`` (time of the first point in the new
        force, ``datetime64[us, UTC]``), ``camera_id`` (of that point, ``""``
        for an incident point), ``easting, northing`` (metres, of that point),
        ``from_ref``, ``ref`` (camera or incident ids of both points). Sorted
        by plate and time.

    Raises
    ------
    ValueError
        Missing columns, ``max_gap_h <= 0``, naive times.
    """
    _require(points, POINT_COLUMNS, "points")
    gap_us = _gap_us(max_gap_h)
    known = points["force"].notna() & (_text(points["force"]) != "")
    p, near, _ = _segment(points.loc[known, POINT_COLUMNS], gap_us)
    if len(p) < 2:
        return _finish_crossings(_empty_crossings_raw())
    force = _text(p["force"]).to_numpy(dtype=object)
    cross = np.zeros(len(p), dtype=bool)
    cross[1:] = near[1:] & (force[1:] != force[:-1])
    idx = np.flatnonzero(cross)
    prev = idx - 1
    ref = _text(p["ref"]).to_numpy(dtype=object)
    kind = _text(p["kind"]).to_numpy(dtype=object)
    raw = pd.DataFrame(
        {
            "vrm": p["vrm"].to_numpy()[idx],
            "trip": p["trip"].to_numpy()[idx],
            "from_force": force[prev],
            "to_force": force[idx],
            "from_at": p["at"].iloc[prev].array,
            "at": p["at"].iloc[idx].array,
            "camera_id": np.where(kind[idx] == "read", ref[idx], ""),
            "easting": p["easting"].to_numpy(dtype="float64")[idx],
            "northing": p["northing"].to_numpy(dtype="float64")[idx],
            "from_ref": ref[prev],
            "ref": ref[idx],
        }
    )
    return _finish_crossings(raw)


def _empty_crossings_raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vrm": pd.Series([], dtype="str"),
            "trip": pd.Series([], dtype="int64"),
            "from_force": pd.Series([], dtype="str"),
            "to_force": pd.Series([], dtype="str"),
            "from_at": pd.Series([], dtype=_TIME),
            "at": pd.Series([], dtype=_TIME),
            "camera_id": pd.Series([], dtype="str"),
            "easting": pd.Series([], dtype="float64"),
            "northing": pd.Series([], dtype="float64"),
            "from_ref": pd.Series([], dtype="str"),
            "ref": pd.Series([], dtype="str"),
        }
    )


# --------------------------------------------------------------------------- incidents near crossings


def linked_plates(incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per (plate, incident) link: ``vrm, incident_id, occurred_at`` (UTC, us).

    Parameters
    ----------
    incidents : DataFrame
        At least ``incident_id, occurred_at, vrms``. Not modified.

    Returns
    -------
    DataFrame
        Distinct links, sorted by plate, time, incident id.
    """
    _require(incidents, ["incident_id", "occurred_at", "vrms"], "incidents")
    plates = _explode_multi(incidents["vrms"])
    src = incidents.iloc[plates.index.to_numpy()]
    links = pd.DataFrame(
        {
            "vrm": plates.to_numpy(),
            "incident_id": _text(src["incident_id"]).to_numpy(),
            "occurred_at": _utc_us(src["occurred_at"], "occurred_at").array,
        }
    ).astype({"vrm": "str", "incident_id": "str", "occurred_at": _TIME})
    links = links.drop_duplicates(["vrm", "incident_id"])
    return links.sort_values(["vrm", "occurred_at", "incident_id"], kind="stable").reset_index(
        drop=True
    )


def crossings_near_incidents(
    crossings: pd.DataFrame, incidents: pd.DataFrame, window_h: float = 3.0
) -> pd.DataFrame:
    """Flag crossings made within ``window_h`` hours of an incident linked to the same plate.

    Parameters
    ----------
    crossings : DataFrame
        At least ``vrm`` and ``at`` (tz-aware), e.g. from :func:`border_crossings`.
        Not modified.
    incidents : DataFrame
        At least ``incident_id, occurred_at, vrms`` (all incidents given are
        used, whatever their force). Not modified.
    window_h : float, default 3.0
        Largest ``|occurred_at - at|`` in hours (>= 0), inclusive.

    Returns
    -------
    DataFrame
        A copy of ``crossings`` (same index) plus ``near_incident_ids`` (str,
        incident ids joined by ``;`` in time order, ``""`` when none) and
        ``near_incident`` (bool).

    Raises
    ------
    ValueError
        Missing columns, negative ``window_h``, naive times.
    """
    _require(crossings, ["vrm", "at"], "crossings")
    window_us = int(round(_check_hours_positive(window_h, "window_h", allow_zero=True) * _US_PER_H))
    links = linked_plates(incidents)
    out = crossings.copy()
    c = pd.DataFrame(
        {
            "_pos": np.arange(len(crossings)),
            "vrm": _text(crossings["vrm"]).to_numpy(),
            "at": _utc_us(crossings["at"], "at").array,
        }
    ).astype({"vrm": "str", "at": _TIME})
    c = c[_isin(c["vrm"], links["vrm"].unique())]
    m = c.merge(links, on="vrm", how="inner")  # one row per (crossing, linked incident)
    if len(m):
        dt_us = np.abs(_us(m["occurred_at"]) - _us(m["at"]))
        m = m[dt_us <= window_us]
    ids = np.full(len(crossings), "", dtype=object)
    if len(m):
        m = m.sort_values(["_pos", "occurred_at", "incident_id"], kind="stable")
        starts, ends = _group_bounds(m[["_pos"]])
        inc_ids = m["incident_id"].tolist()
        ids[m["_pos"].to_numpy()[starts]] = [
            MULTI_SEP.join(inc_ids[a:b]) for a, b in zip(starts, ends, strict=True)
        ]
    out["near_incident_ids"] = pd.Series(ids, index=crossings.index, dtype="str")
    out["near_incident"] = out["near_incident_ids"] != ""
    return out


# --------------------------------------------------------------------------- duckdb scan


def _resolve_paths(paths_or_glob: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Parquet files from a file, a directory (its ``*.parquet`` at any depth, hidden
    files and folders skipped), a glob, or a list of these."""
    items = [paths_or_glob] if isinstance(paths_or_glob, str | os.PathLike) else list(paths_or_glob)
    files: list[str] = []
    for item in items:
        text = os.fspath(item)
        p = Path(text)
        if p.is_dir():
            # recursive (the store's season=/month=/bucket= folders); skip hidden files and
            # folders, e.g. the store's ".tmp-*.parquet" being written
            files.extend(
                sorted(
                    str(f)
                    for f in p.rglob("*.parquet")
                    if not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        elif any(ch in text for ch in "*?["):
            files.extend(sorted(_glob.glob(text)))
        elif p.is_file():
            files.append(text)
        else:
            raise ValueError(f"no parquet file or directory at {text}")
    return files


def _scan_sql(read_at: str, where: list[str], gap_us: int, *, season_start: bool) -> str:
    """The duckdb query of :func:`crossings_from_parquet` (one ``?`` for the file list,
    then the ``where`` parameters, then the season start when ``season_start``)."""
    order = "read_at, camera_id, force, easting, northing"
    return f"""
    WITH src AS (
        SELECT vrm, {read_at} AS read_at, force, coalesce(camera_id, '') AS camera_id,
               CAST(easting AS DOUBLE) AS easting, CAST(northing AS DOUBLE) AS northing
        FROM read_parquet(?, union_by_name = true)
        WHERE {" AND ".join(where)}
    ),
    w AS (
        SELECT *,
               lag(force) OVER win AS from_force,
               lag(read_at) OVER win AS from_at,
               lag(camera_id) OVER win AS from_ref,
               epoch_us(read_at) - epoch_us(lag(read_at) OVER win) AS gap_us,
               row_number() OVER win AS rn
        FROM src
        WINDOW win AS (PARTITION BY vrm ORDER BY {order})
    ),
    ev AS (  -- trip breaks and crossings only: a small fraction of the reads
        SELECT *, gap_us > {gap_us} AS brk
        FROM w
        WHERE gap_us > {gap_us} OR force <> from_force
    ),
    t AS (
        SELECT *, sum(CAST(brk AS INTEGER)) OVER (
            PARTITION BY vrm ORDER BY rn ROWS UNBOUNDED PRECEDING) AS trip
        FROM ev
    )
    SELECT vrm, trip, from_force, force AS to_force, from_at, read_at AS "at", camera_id,
           easting, northing, from_ref, camera_id AS ref
    FROM t
    WHERE NOT brk {"AND read_at >= ?" if season_start else ""}
    ORDER BY vrm, rn
    """


def crossings_from_parquet(
    paths_or_glob: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    max_gap_h: float = 6.0,
    plates: Iterable[str] | None = None,
    season: str | None = None,
    start_month: int = 9,
    threads: int | None = None,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """Border crossings of ANPR reads scanned straight from GeoParquet files (duckdb engine).

    Reads only ``vrm, read_at, force, camera_id, easting, northing``; the
    sort and the ``LAG`` window over ``PARTITION BY vrm ORDER BY read_at``
    run inside duckdb (parallel, spilling to disk past ``memory_limit``) and
    only crossings come back. Gives the same rows as
    ``border_crossings(vehicle_points(None, reads), max_gap_h)`` on the same
    reads.

    Parameters
    ----------
    paths_or_glob : str, path, or sequence of them
        Parquet files, directories (their ``*.parquet`` at any depth) or glob
        patterns, e.g. ``geo.store.sightings_paths(data_dir)`` or ``"<data_dir>/sightings"``.
    max_gap_h : float, default 6.0
        Trip gap in hours (> 0), see :func:`trips`.
    plates : iterable of str, optional
        Only these plates (normalised: upper case, no spaces). An empty
        iterable gives no crossings.
    season : str, optional
        Only crossings whose ``at`` lies in this season (label as in
        :func:`geo.seasons.season_bounds`). Reads from ``max_gap_h`` before
        the season start are scanned too, so a crossing just after the start
        is not lost; trip numbers then count from that point, not from the
        plate's first read ever.
    start_month : int, default 9
        Month seasons start in.
    threads : int, optional
        duckdb worker threads (default: all cores).
    memory_limit : str, optional
        duckdb memory limit such as ``"2GB"`` (default: duckdb's own, 80 % of RAM).

    Returns
    -------
    DataFrame
        Columns :data:`CROSSING_COLUMNS` (``camera_id == ref``), sorted by plate
        and time.

    Raises
    ------
    ValueError
        No such files, missing columns, naive ``read_at``, ``max_gap_h <= 0``,
        bad season label.
    """
    import duckdb

    gap_us = _gap_us(max_gap_h)
    files = _resolve_paths(paths_or_glob)
    plate_list = None if plates is None else distinct_plates(plates)
    if not files or (plate_list is not None and not plate_list):
        return _finish_crossings(_empty_crossings_raw())
    lo = hi = None
    if season is not None:
        from geo.seasons import season_bounds

        start, hi = season_bounds(season, start_month)
        lo = start - pd.Timedelta(microseconds=gap_us)

    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            con.execute("SET memory_limit = ?", [str(memory_limit)])
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        # spill (if the sort outgrows memory_limit) to the system temp dir, not the cwd
        con.execute(
            "SET temp_directory = ?", [os.path.join(tempfile.gettempdir(), "harewatch-duckdb")]
        )
        schema = con.execute(
            "DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [files]
        ).fetchall()
        types = {row[0]: str(row[1]) for row in schema}
        missing = [c for c in _SCAN_COLUMNS if c not in types]
        if missing:
            raise ValueError(f"sightings parquet lacks required column(s): {', '.join(missing)}")
        rtype = types["read_at"].upper()
        if rtype == "TIMESTAMP WITH TIME ZONE":
            read_at = "read_at"
        elif rtype in ("TIMESTAMP_NS WITH TIME ZONE", "TIMESTAMPTZ_NS"):
            # truncate to microseconds, as the pandas engine does
            read_at = "make_timestamptz(epoch_ns(read_at) // 1000)"
        else:
            raise ValueError(
                f"read_at must be a timezone-aware (UTC) timestamp, got {types['read_at']}"
            )

        where = [
            "vrm IS NOT NULL",
            "vrm <> ''",
            "read_at IS NOT NULL",
            "force IS NOT NULL",
            "force <> ''",
        ]
        params: list = [files]
        if lo is not None:
            where.append("read_at >= ? AND read_at < ?")
            params += [lo.to_pydatetime(), hi.to_pydatetime()]
        if plate_list is not None:
            con.register("_plates", pd.DataFrame({"vrm": pd.Series(plate_list, dtype="str")}))
            where.append("vrm IN (SELECT vrm FROM _plates)")
        sql = _scan_sql(read_at, where, gap_us, season_start=lo is not None)
        if lo is not None:
            params.append(start.to_pydatetime())
        raw = con.sql(sql, params=params).to_arrow_table().to_pandas()
    finally:
        con.close()
    return _finish_crossings(raw)

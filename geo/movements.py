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

import numpy as np
import pandas as pd

from geo._config import DEFAULTS
from geo._frames import (
    US_PER_H,
    as_text,
    check_hours_positive,
    check_metres,
    epoch_us,
    explode_multi,
    gap_us_of,
    group_bounds,
    isin_strings,
    require_columns,
    utc_us,
)
from geo.schema import MULTI_SEP, UTC_US

__all__ = [
    "POINT_COLUMNS",
    "CROSSING_COLUMNS",
    "vehicle_points",
    "trips",
    "border_crossings",
    "crossings_near_incidents",
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


# --------------------------------------------------------------------------- helpers






















def _empty_points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vrm": pd.Series([], dtype="str"),
            "at": pd.Series([], dtype=UTC_US),
            "easting": pd.Series([], dtype="float64"),
            "northing": pd.Series([], dtype="float64"),
            "force": pd.Series([], dtype="str"),
            "kind": pd.Series([], dtype="str"),
            "ref": pd.Series([], dtype="str"),
        }
    )


def finish_crossings(df: pd.DataFrame) -> pd.DataFrame:
    """Canonical dtypes, column order and a fresh RangeIndex (shared by both engines)."""
    out = pd.DataFrame(
        {
            "vrm": as_text(df["vrm"]),
            "trip": df["trip"].astype("int64"),
            "from_force": as_text(df["from_force"]),
            "to_force": as_text(df["to_force"]),
            "from_at": utc_us(df["from_at"], "from_at"),
            "at": utc_us(df["at"], "at"),
            "camera_id": as_text(df["camera_id"]),
            "easting": df["easting"].astype("float64"),
            "northing": df["northing"].astype("float64"),
            "from_ref": as_text(df["from_ref"]),
            "ref": as_text(df["ref"]),
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
        require_columns(
            incidents,
            ["incident_id", "occurred_at", "easting", "northing", "force", "vrms"],
            "incidents",
        )
        check_metres(incidents["easting"], incidents["northing"], "incidents")
        plates = explode_multi(incidents["vrms"])
        if len(plates):
            src = incidents.iloc[plates.index.to_numpy()]  # positions, in explode order
            inc = pd.DataFrame(
                {
                    "vrm": plates.to_numpy(),
                    "at": utc_us(src["occurred_at"], "occurred_at").array,
                    "easting": src["easting"].astype("float64").to_numpy(),
                    "northing": src["northing"].astype("float64").to_numpy(),
                    "force": as_text(src["force"]).to_numpy(),
                    "kind": "incident",
                    "ref": as_text(src["incident_id"]).to_numpy(),
                }
            )
            parts.append(inc.drop_duplicates(["vrm", "ref"]))
    if sightings is not None:
        require_columns(
            sightings, ["vrm", "read_at", "easting", "northing", "force", "camera_id"], "sightings"
        )
        check_metres(sightings["easting"], sightings["northing"], "sightings")
        parts.append(
            pd.DataFrame(
                {
                    "vrm": as_text(sightings["vrm"]).to_numpy(),
                    "at": utc_us(sightings["read_at"], "read_at").array,
                    "easting": sightings["easting"].astype("float64").to_numpy(),
                    "northing": sightings["northing"].astype("float64").to_numpy(),
                    "force": as_text(sightings["force"]).to_numpy(),
                    "kind": "read",
                    "ref": as_text(sightings["camera_id"]).to_numpy(),
                }
            )
        )
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_points()
    points = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    points = points.astype({"vrm": "str", "force": "str", "kind": "str", "ref": "str", "at": UTC_US})
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
    p["at"] = utc_us(p["at"], "at")
    p = p[(as_text(p["vrm"]) != "").to_numpy() & p["at"].notna().to_numpy()]
    p = p.sort_values(keys, kind="stable").reset_index(drop=True)
    n = len(p)
    vrm = as_text(p["vrm"]).to_numpy(dtype=object)
    t = epoch_us(p["at"])
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


def trips(points: pd.DataFrame, max_gap_h: float = DEFAULTS.max_gap_h) -> pd.DataFrame:
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
    require_columns(points, ["vrm", "at"], "points")
    out, _, _ = _segment(points, gap_us_of(max_gap_h))
    return out


def border_crossings(points: pd.DataFrame, max_gap_h: float = DEFAULTS.max_gap_h) -> pd.DataFrame:
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
    require_columns(points, POINT_COLUMNS, "points")
    gap_us = gap_us_of(max_gap_h)
    known = points["force"].notna() & (as_text(points["force"]) != "")
    p, near, _ = _segment(points.loc[known, POINT_COLUMNS], gap_us)
    if len(p) < 2:
        return finish_crossings(empty_crossings_raw())
    force = as_text(p["force"]).to_numpy(dtype=object)
    cross = np.zeros(len(p), dtype=bool)
    cross[1:] = near[1:] & (force[1:] != force[:-1])
    idx = np.flatnonzero(cross)
    prev = idx - 1
    ref = as_text(p["ref"]).to_numpy(dtype=object)
    kind = as_text(p["kind"]).to_numpy(dtype=object)
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
    return finish_crossings(raw)


def empty_crossings_raw() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "vrm": pd.Series([], dtype="str"),
            "trip": pd.Series([], dtype="int64"),
            "from_force": pd.Series([], dtype="str"),
            "to_force": pd.Series([], dtype="str"),
            "from_at": pd.Series([], dtype=UTC_US),
            "at": pd.Series([], dtype=UTC_US),
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
    require_columns(incidents, ["incident_id", "occurred_at", "vrms"], "incidents")
    plates = explode_multi(incidents["vrms"])
    src = incidents.iloc[plates.index.to_numpy()]
    links = pd.DataFrame(
        {
            "vrm": plates.to_numpy(),
            "incident_id": as_text(src["incident_id"]).to_numpy(),
            "occurred_at": utc_us(src["occurred_at"], "occurred_at").array,
        }
    ).astype({"vrm": "str", "incident_id": "str", "occurred_at": UTC_US})
    links = links.drop_duplicates(["vrm", "incident_id"])
    return links.sort_values(["vrm", "occurred_at", "incident_id"], kind="stable").reset_index(
        drop=True
    )


def crossings_near_incidents(
    crossings: pd.DataFrame, incidents: pd.DataFrame, window_h: float = DEFAULTS.window_h
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
    require_columns(crossings, ["vrm", "at"], "crossings")
    window_us = int(round(check_hours_positive(window_h, "window_h", allow_zero=True) * US_PER_H))
    links = linked_plates(incidents)
    out = crossings.copy()
    c = pd.DataFrame(
        {
            "_pos": np.arange(len(crossings)),
            "vrm": as_text(crossings["vrm"]).to_numpy(),
            "at": utc_us(crossings["at"], "at").array,
        }
    ).astype({"vrm": "str", "at": UTC_US})
    c = c[isin_strings(c["vrm"], links["vrm"].unique())]
    m = c.merge(links, on="vrm", how="inner")  # one row per (crossing, linked incident)
    if len(m):
        dt_us = np.abs(epoch_us(m["occurred_at"]) - epoch_us(m["at"]))
        m = m[dt_us <= window_us]
    ids = np.full(len(crossings), "", dtype=object)
    if len(m):
        m = m.sort_values(["_pos", "occurred_at", "incident_id"], kind="stable")
        starts, ends = group_bounds(m[["_pos"]])
        inc_ids = m["incident_id"].tolist()
        ids[m["_pos"].to_numpy()[starts]] = [
            MULTI_SEP.join(inc_ids[a:b]) for a, b in zip(starts, ends, strict=True)
        ]
    out["near_incident_ids"] = pd.Series(ids, index=crossings.index, dtype="str")
    out["near_incident"] = out["near_incident_ids"] != ""
    return out


# --------------------------------------------------------------------------- duckdb scan







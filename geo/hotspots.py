"""Coursing hotspots: DBSCAN on incident locations in metres (EPSG:27700).

:func:`dbscan_labels` returns exactly the labels of
``sklearn.cluster.DBSCAN(eps=eps_m, min_samples=min_samples).fit(xy).labels_``
but runs the much faster exact ``dbscan`` package (``pip install dbscan``) and
renumbers its answer the way scikit-learn numbers clusters:

- core points (at least ``min_samples`` points, itself included, within
  ``eps_m``, distance ``<= eps_m``) are the same in both;
- clusters are the connected components of core points, numbered 0, 1, ... in
  order of their lowest-index core point (scikit-learn scans points in index
  order and expands each new cluster completely before the next);
- a border point (not core, but within ``eps_m`` of a core point) gets the
  lowest cluster number among the core points within ``eps_m`` of it (the
  first expansion that reaches it wins);
- everything else is noise (-1).

Without the ``dbscan`` package scikit-learn itself is used.

:func:`find_hotspots` turns the clusters into ranked hotspots with a polygon
(convex hull of the incidents buffered by ``eps_m / 2``), the forces it
intersects, when it is busiest and how it changed since the previous season.
Everything is computed for all hotspots at once with numpy/shapely array
operations; the only Python loops run once per hotspot (building its lists).
"""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo._config import DEFAULTS
from geo._frames import check_start_month
from geo.areas import ForceAreas
from geo.errors import InputError
from geo.schema import BNG, SEVEN_FORCES, WGS84
from geo.seasons import filter_incidents, previous_season
from geo.times import NAT_INT, knows_hour, knows_weekday, london_fields


def _load_dbscan():
    """The ``dbscan`` package's compiled extension (the exact, parallel DBSCAN of Wang, Gu &
    Shun, SIGMOD 2020), or None without the package.

    ``import dbscan`` runs the package's ``__init__``, which imports scikit-learn (about
    1.2 s) for a wrapper class we never use: load the extension module directly.
    """
    import importlib.util
    import sys

    loaded = sys.modules.get("dbscan._dbscan") or sys.modules.get("dbscan")
    if loaded is not None:
        return loaded
    try:
        spec = importlib.util.find_spec("dbscan")
    except (ImportError, ValueError):  # pragma: no cover - exercised only without the package
        return None
    folder = spec.submodule_search_locations if spec is not None else None
    for base in folder or ():
        for ext in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(base, "_dbscan" + ext)
            if os.path.isfile(path):
                ext_spec = importlib.util.spec_from_file_location("dbscan._dbscan", path)
                module = importlib.util.module_from_spec(ext_spec)
                ext_spec.loader.exec_module(module)
                sys.modules["dbscan._dbscan"] = module
                return module
    try:  # pragma: no cover - an unusual install: the package as published
        import dbscan
    except ImportError:  # pragma: no cover - exercised only without the package
        return None
    return dbscan  # pragma: no cover


_dbscan_pkg = _load_dbscan()

__all__ = [
    "RANKING_RULE",
    "HOTSPOT_COLUMNS",
    "HotspotResult",
    "dbscan_labels",
    "find_hotspots",
    "hotspots_with_trend",
    "largest_min_samples",
]

#: How hotspots are ranked (rank 1 = top); ``hotspot_id`` follows the rank.
RANKING_RULE = (
    "Hotspots are ranked by number of incidents, most first; ties go to the one "
    "whose latest incident is more recent; remaining ties (same size, same last "
    "incident) are broken by the centroid, west to east then south to north, so "
    "the order is always the same for the same data. Hotspot ids follow the rank: "
    "H001 is rank 1."
)

#: Columns of ``HotspotResult.hotspots`` (then ``geometry``).
HOTSPOT_COLUMNS: list[str] = [
    "hotspot_id",
    "rank",
    "n",
    "incident_ids",
    "forces",
    "cross_border",
    "first_at",
    "last_at",
    "busiest_month",
    "busiest_weekday",
    "busiest_hours",
    "previous_n",
    "change",
    "change_pct",
    "centroid_e",
    "centroid_n",
    "centroid_lat",
    "centroid_lon",
    "area_km2",
    "label",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HOURS_WINDOW = 3
_QUAD_SEGS = 8  # segments per quarter circle of the eps/2 buffer
_BNG_CRS = CRS.from_user_input(BNG)


# --------------------------------------------------------------------------- DBSCAN


def _check_dbscan_args(xy_m, eps_m, min_samples) -> tuple[np.ndarray, float, int]:
    xy = np.ascontiguousarray(np.asarray(xy_m, dtype="float64"))
    if xy.ndim != 2 or xy.shape[1] < 1:
        raise InputError(
            f"xy_m must be an (n, d) array of coordinates in metres, got shape {xy.shape}"
        )
    if not np.isfinite(xy).all():
        raise InputError("xy_m contains NaN or infinite coordinates")
    if isinstance(eps_m, bool) or not isinstance(eps_m, int | float | np.number):
        raise InputError(f"eps_m must be a number of metres, got {eps_m!r}")
    eps = float(eps_m)
    if not (math.isfinite(eps) and eps > 0):
        raise InputError(f"eps_m must be a positive number of metres, got {eps_m!r}")
    if isinstance(min_samples, bool) or not isinstance(min_samples, int | np.integer):
        raise InputError(f"min_samples must be an integer >= 1, got {min_samples!r}")
    if min_samples < 1:
        raise InputError(f"min_samples must be >= 1, got {min_samples}")
    return xy, eps, int(min_samples)


def _near_cells(points: np.ndarray, targets: np.ndarray, eps: float) -> np.ndarray:
    """Mask of ``points`` in a grid cell (side ``eps``) touching a cell of a target.

    Every point within ``eps`` of a target passes (it lies in one of the 3**d
    cells around the target's cell); most far points are dropped.
    """
    d = points.shape[1]
    if d > 4:
        return np.ones(len(points), dtype=bool)
    side = eps * (1 + 1e-9)  # a hair over eps: neighbours are never two cells apart
    # column by column: numpy reductions over axis 0 of an (n, 2) array are slow
    pc, tc, extent = [], [], []
    for j in range(d):
        p, t = points[:, j], targets[:, j]
        lo = min(p.min(), t.min())
        pc.append(np.floor((p - lo) / side).astype("int64") + 1)
        tc.append(np.floor((t - lo) / side).astype("int64") + 1)
        extent.append(max(int(pc[j].max()), int(tc[j].max())) + 2)
    if math.prod(float(e) for e in extent) > 2.0**62:
        return np.ones(len(points), dtype=bool)  # too fine a grid to index: no filter
    strides = [math.prod(extent[:j]) for j in range(d)]

    def keys(cells: list[np.ndarray]) -> np.ndarray:  # integer matmul is slow in numpy
        out = cells[0] * strides[0]
        for j in range(1, d):
            out += cells[j] * strides[j]
        return out

    offsets = np.array(np.meshgrid(*[[-1, 0, 1]] * d, indexing="ij")).reshape(d, -1)
    shifts = keys(list(offsets))
    wanted = (keys(tc)[:, None] + shifts[None, :]).ravel()
    n_cells = math.prod(extent)
    if n_cells <= 8 * (len(points) + len(targets)) + 1_000_000:  # dense lookup table: O(n)
        table = np.zeros(n_cells, dtype=bool)
        table[wanted] = True
        return table[keys(pc)]
    return np.isin(keys(pc), np.unique(wanted))


def _sklearn_order(
    xy: np.ndarray, eps: float, min_samples: int, raw: np.ndarray, core: np.ndarray
) -> np.ndarray:
    """Renumber a DBSCAN answer (``raw`` labels, ``core`` mask) the way scikit-learn does."""
    labels = np.full(len(xy), -1, dtype=np.intp)
    core_idx = np.flatnonzero(core)
    if core_idx.size == 0:
        return labels
    raw = np.asarray(raw, dtype=np.intp)
    raw_core = raw[core_idx]
    # clusters = components of cores; number them by their lowest-index core
    lowest = np.full(int(raw_core.max()) + 1, len(xy), dtype=np.intp)
    np.minimum.at(lowest, raw_core, core_idx)
    present = np.flatnonzero(lowest < len(xy))
    new_number = np.full(lowest.size, -1, dtype=np.intp)
    new_number[present[np.argsort(lowest[present], kind="stable")]] = np.arange(present.size)
    labels[core_idx] = new_number[raw_core]

    # border points: non-core points the package put in a cluster. A non-core
    # point has fewer than min_samples points within eps (itself included), so
    # its min_samples - 1 nearest cores include every core within eps.
    border = np.flatnonzero(~core & (raw >= 0))
    if border.size:
        near = _near_cells(xy[core_idx], xy[border], eps)  # only cores that can matter
        core_idx = core_idx[near]
        k = min(max(min_samples - 1, 1), core_idx.size)
        from scipy.spatial import cKDTree  # only here: importing scipy.spatial costs ~0.3 s

        tree = cKDTree(xy[core_idx], balanced_tree=False, compact_nodes=False)  # quick build
        # cKDTree's bound is strict (<); widen it a hair, then test exactly below
        _, j = tree.query(xy[border], k=k, distance_upper_bound=eps * (1 + 1e-9) + 1e-9)
        j = j.reshape(border.size, k)
        found = j < core_idx.size
        nearest = core_idx[np.where(found, j, 0)]
        diff = xy[border][:, None, :] - xy[nearest]
        d2 = np.einsum("bkd,bkd->bk", diff, diff)  # same sum of squares as sklearn's KD-tree
        within = found & (d2 <= eps * eps)
        big = np.iinfo(np.intp).max
        best = np.where(within, labels[nearest], big).min(axis=1)
        # floating-point disagreement at exactly eps: keep the nearest core's cluster
        lost = best == big
        best[lost] = np.where(found[lost, 0], labels[nearest[lost, 0]], -1)
        labels[border] = best
    return labels


def dbscan_labels(xy_m: np.ndarray, eps_m: float, min_samples: int) -> np.ndarray:
    """DBSCAN cluster labels, identical to scikit-learn's.

    Parameters
    ----------
    xy_m : ndarray, shape (n, d)
        Coordinates in metres (EPSG:27700 eastings/northings, or any
        Euclidean space in metres); not modified.
    eps_m : float
        Neighbourhood radius in metres (points at distance ``<= eps_m`` are
        neighbours).
    min_samples : int
        Points (the point itself included) within ``eps_m`` for a core point.

    Returns
    -------
    ndarray of intp, shape (n,)
        Exactly ``sklearn.cluster.DBSCAN(eps=eps_m, min_samples=min_samples)
        .fit(xy_m).labels_``: clusters numbered 0.. in order of their
        lowest-index core point, -1 for noise.

    Raises
    ------
    ValueError
        Non-finite coordinates, ``eps_m <= 0`` or ``min_samples < 1``.
    """
    xy, eps, min_samples = _check_dbscan_args(xy_m, eps_m, min_samples)
    if len(xy) == 0:
        return np.empty(0, dtype=np.intp)
    if _dbscan_pkg is None:  # pragma: no cover - fallback without the package
        from sklearn.cluster import DBSCAN

        return DBSCAN(eps=eps, min_samples=min_samples).fit(xy).labels_.astype(np.intp)
    raw, core = _dbscan_pkg.DBSCAN(xy, eps=eps, min_samples=min_samples)
    return _sklearn_order(xy, eps, min_samples, raw, np.asarray(core, dtype=bool))


def largest_min_samples(xy_m: np.ndarray, eps_m: float) -> int:
    """The largest DBSCAN ``min_samples`` that still gives at least one hotspot.

    A cluster exists exactly when some point is a core point, i.e. has at
    least ``min_samples`` points (itself included) within ``eps_m``; so the
    answer is the largest such neighbourhood count. "No hotspot with 6? The
    busiest place has 3 within 1,500 m: try 3."

    Parameters
    ----------
    xy_m : ndarray, shape (n, 2)
        EPSG:27700 metres; not modified.
    eps_m : float
        Neighbourhood radius in metres.

    Returns
    -------
    int
        0 for no points; 1 when no two points are within ``eps_m`` (then no
        ``min_samples`` >= 2 gives a hotspot).
    """
    xy, eps, _ = _check_dbscan_args(xy_m, eps_m, 1)
    if len(xy) == 0:
        return 0
    from scipy.spatial import cKDTree

    counts = cKDTree(xy).query_ball_point(xy, r=eps, return_length=True)
    return int(np.max(counts))


# --------------------------------------------------------------------------- hotspots


@dataclass(frozen=True, eq=False)
class HotspotResult:
    """Result of :func:`find_hotspots`.

    Attributes
    ----------
    labels : Series of int
        DBSCAN cluster label of each incident (aligned to the incidents'
        index; -1 = noise). Same numbers as scikit-learn; the ``label`` column
        of ``hotspots`` links a cluster to its hotspot row.
    hotspots : GeoDataFrame
        One row per hotspot in rank order, EPSG:27700, columns
        :data:`HOTSPOT_COLUMNS` + ``geometry``.
    noise : int
        Number of incidents in no hotspot.
    params : dict
        Parameters used (``eps_m``, ``min_samples``, ``start_month``,
        ``window_days``, ``n_incidents``, ``n_previous``, ``engine``).
    """

    labels: pd.Series
    hotspots: gpd.GeoDataFrame
    noise: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def hotspot_ids(self) -> pd.Series:
        """Hotspot id (``"H001"``...) of each incident, ``""`` for noise."""
        by_label = dict(zip(self.hotspots["label"], self.hotspots["hotspot_id"], strict=True))
        return self.labels.map(by_label).fillna("").astype(str).rename("hotspot_id")


def _points_xy(gdf, what: str) -> tuple[np.ndarray, gpd.GeoSeries]:
    """Point coordinates (n, 2) in EPSG:27700 metres; refuse geographic or missing CRS.

    In EPSG:27700 the schema's ``easting``/``northing`` columns are used when
    present; otherwise the point geometry (converted to EPSG:27700).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame in EPSG:27700")
    crs = gdf.crs
    if crs is None:
        raise InputError(f"{what} have no CRS; expected projected metres (EPSG:27700)")
    if crs.is_geographic:
        raise InputError(
            f"{what} are in a geographic CRS ({crs.to_string()}); DBSCAN needs metres: "
            "convert to EPSG:27700 first"
        )
    geom = gdf.geometry
    in_bng = crs.equals(_BNG_CRS)
    if in_bng and {"easting", "northing"} <= set(gdf.columns):
        # the schema's easting/northing columns are the points' coordinates in
        # EPSG:27700 metres: reading them is much cheaper than the geometry
        return _schema_xy(gdf, what), geom
    if not in_bng:
        geom = geom.to_crs(BNG)
    values = geom.values
    if len(values) and not (shapely.get_type_id(values) == 0).all():
        raise InputError(f"{what} geometry must be non-empty points")
    xy = shapely.get_coordinates(values)
    if len(xy) != len(values) or not np.isfinite(xy).all():
        raise InputError(f"{what} have empty or non-finite point coordinates")
    return xy, geom


def _schema_xy(frame: pd.DataFrame, what: str) -> np.ndarray:
    """The schema's ``easting``/``northing`` (EPSG:27700 metres) as an (n, 2) array."""
    xy = np.column_stack(
        [frame["easting"].to_numpy(dtype="float64"), frame["northing"].to_numpy(dtype="float64")]
    )
    if not np.isfinite(xy).all():
        raise InputError(f"{what} have missing or non-finite easting/northing")
    return xy


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(BNG, WGS84, always_xy=True)


def _empty_hotspots() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "hotspot_id": pd.Series([], dtype=object),
            "rank": pd.Series([], dtype="int64"),
            "n": pd.Series([], dtype="int64"),
            "incident_ids": pd.Series([], dtype=object),
            "forces": pd.Series([], dtype=object),
            "cross_border": pd.Series([], dtype=bool),
            "first_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "last_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "busiest_month": pd.Series([], dtype=object),
            "busiest_weekday": pd.Series([], dtype=object),
            "busiest_hours": pd.Series([], dtype=object),
            "previous_n": pd.Series([], dtype="int64"),
            "change": pd.Series([], dtype="int64"),
            "change_pct": pd.Series([], dtype="float64"),
            "centroid_e": pd.Series([], dtype="float64"),
            "centroid_n": pd.Series([], dtype="float64"),
            "centroid_lat": pd.Series([], dtype="float64"),
            "centroid_lon": pd.Series([], dtype="float64"),
            "area_km2": pd.Series([], dtype="float64"),
            "label": pd.Series([], dtype="int64"),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=BNG), crs=BNG)


def _object_array(items: list) -> np.ndarray:
    """1-D object array holding ``items`` (lists stay lists)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):  # one per hotspot; slice assignment would broadcast lists
        out[i] = item
    return out


def _utc_from_ns(ns: np.ndarray) -> pd.DatetimeIndex:
    """int64 nanoseconds since the epoch (int64 min = NaT) as UTC timestamps."""
    return pd.DatetimeIndex(ns.astype("int64").view("datetime64[ns]")).tz_localize("UTC")












#: Shown for a busiest weekday or hours that the dates cannot tell (month-only or day-only).
NOT_KNOWN_MONTH_ONLY = "not known (month-only dates)"
NOT_KNOWN_DAY_ONLY = "not known (dates without times)"


def _busiest_periods(
    utc_ns: np.ndarray, labels: np.ndarray, k: int, start_month: int,
    precision: pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Busiest month, weekday and 3-hour window (London time) of each hotspot.

    ``utc_ns``: time of each incident (int64 ns, NaT = int64 min); ``labels``
    its hotspot label (-1 none); ``precision`` its ``time_precision``. The
    weekday counts only incidents whose day is known, the hours only those
    whose clock time is known; a hotspot with none says "not known (...)".
    """
    n = len(utc_ns)
    timed = (labels >= 0) & (utc_ns != NAT_INT)
    month, wday, hour = (np.zeros(n, dtype="int64") for _ in range(3))
    month[timed], wday[timed], hour[timed] = london_fields(utc_ns[timed])
    month_counts = _per_label(labels, month, timed, k, 12)
    any_t = month_counts.sum(axis=1) > 0
    season_cols = (np.arange(12) + start_month - 1) % 12  # ties: earlier in the season
    busiest_month = np.array(_MONTHS, dtype=object)[season_cols[month_counts[:, season_cols].argmax(1)]]
    wday_counts = _per_label(labels, wday, timed & knows_weekday(precision, n), k, 7)
    busiest_weekday = np.array(_WEEKDAYS, dtype=object)[wday_counts.argmax(1)]
    hour_counts = _per_label(labels, hour, timed & knows_hour(precision, n), k, 24)
    windows = sum(np.roll(hour_counts, -s, axis=1) for s in range(_HOURS_WINDOW))
    middle = np.roll(hour_counts, -(_HOURS_WINDOW // 2), axis=1)
    # ties: the window whose middle hour is busiest, then the earliest start
    h_arg = (windows * (int(hour_counts.sum(axis=1).max(initial=0)) + 1) + middle).argmax(1)
    hour_labels = np.array(
        [f"{h:02d}:00-{(h + _HOURS_WINDOW) % 24:02d}:00" for h in range(24)], dtype=object
    )
    blank = np.array("", dtype=object)
    has_day = wday_counts.sum(axis=1) > 0
    has_hour = hour_counts.sum(axis=1) > 0
    no_day = np.where(any_t, NOT_KNOWN_MONTH_ONLY, blank)
    no_hour = np.where(has_day, NOT_KNOWN_DAY_ONLY, no_day)
    return (
        np.where(any_t, busiest_month, blank),
        np.where(has_day, busiest_weekday, no_day),
        np.where(has_hour, hour_labels[h_arg], no_hour),
    )


def _per_label(labels: np.ndarray, values: np.ndarray, use: np.ndarray, k: int, m: int) -> np.ndarray:
    """Counts of ``values`` (0..m-1) per hotspot label over the rows ``use``: shape (k, m)."""
    return np.bincount(labels[use] * m + values[use], minlength=k * m).reshape(k, m)


def _hotspot_forces(
    incidents: pd.DataFrame,
    labels: np.ndarray,
    polys: np.ndarray,
    areas: ForceAreas | None,
) -> list[list[str]]:
    """Forces of each hotspot: its incidents' forces plus the areas its polygon intersects."""
    k = len(polys)
    names: list[str] = []
    uid: dict[str, int] = {}

    def code_of(name) -> int:
        """Code of a force name (new names appended to ``names``); -1 for blank."""
        if name is None or (isinstance(name, float) and math.isnan(name)):
            return -1
        name = str(name).strip()
        if not name:
            return -1
        if name not in uid:
            uid[name] = len(names)
            names.append(name)
        return uid[name]

    pair_label, pair_code = [np.empty(0, dtype="int64")], [np.empty(0, dtype="int64")]
    if "force" in incidents.columns:
        codes, uniques = pd.factorize(incidents["force"], sort=False)
        remap = np.array([code_of(v) for v in uniques] + [-1], dtype="int64")
        all_codes = remap[codes]  # factorize's -1 (missing) hits the trailing -1
        ok = (labels >= 0) & (all_codes >= 0)
        pair_label.append(labels[ok].astype("int64"))
        pair_code.append(all_codes[ok])
    area_order: dict[str, int] = {}
    if areas is not None:
        agdf = areas.gdf if isinstance(areas, ForceAreas) else areas
        if agdf.crs is not None and not agdf.crs.equals(_BNG_CRS):
            agdf = agdf.to_crs(BNG)
        area_geoms = agdf.geometry.values
        area_names = agdf["force"].astype(str).tolist()
        area_order = {name: i for i, name in reversed(list(enumerate(area_names)))}
        area_codes = np.array([code_of(v) for v in area_names], dtype="int64")
        # the force areas are the query geometries (prepared by GEOS): fast
        a_hit, p_hit = shapely.STRtree(polys).query(area_geoms, predicate="intersects")
        use = area_codes[a_hit] >= 0
        pair_label.append(p_hit[use].astype("int64"))
        pair_code.append(area_codes[a_hit[use]])
    n_names = len(names)
    if n_names == 0:
        return [[] for _ in range(k)]
    seven = {name: i for i, name in enumerate(SEVEN_FORCES.values())}
    sort_key = [
        (area_order.get(name, len(area_order) + seven.get(name, len(seven))), name)
        for name in names
    ]
    rank_of = np.empty(n_names, dtype="int64")
    rank_of[sorted(range(n_names), key=sort_key.__getitem__)] = np.arange(n_names)
    name_by_rank = np.empty(n_names, dtype=object)
    name_by_rank[rank_of] = names
    lab = np.concatenate(pair_label)
    code = np.concatenate(pair_code)
    # presence matrix (hotspot x force, columns in force order): no sort over incidents
    present = (
        np.bincount(lab * n_names + rank_of[code], minlength=k * n_names).reshape(k, n_names) > 0
    )
    hs_idx, force_rank = np.nonzero(present)  # row-major: by hotspot, then force order
    ends = np.cumsum(np.bincount(hs_idx, minlength=k)).tolist()
    flat = name_by_rank[force_rank].tolist()
    return [flat[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _count_in_polygons(polys: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Number of points (n, 2) inside or on the edge of each polygon."""
    out = np.zeros(len(polys), dtype="int64")
    if len(xy) == 0 or len(polys) == 0:
        return out
    order = np.argsort(xy[:, 0], kind="stable")
    sx, sy = xy[order, 0], xy[order, 1]
    bounds = shapely.bounds(polys)
    shapely.prepare(polys)  # our own polygons (made by find_hotspots), not an input
    lo = np.searchsorted(sx, bounds[:, 0], side="left")
    hi = np.searchsorted(sx, bounds[:, 2], side="right")
    for i in np.flatnonzero(hi > lo):  # one cheap step per hotspot, not per point
        x, y = sx[lo[i] : hi[i]], sy[lo[i] : hi[i]]
        band = (y >= bounds[i, 1]) & (y <= bounds[i, 3])
        if band.any():
            out[i] = int(shapely.intersects_xy(polys[i], x[band], y[band]).sum())
    return out


def find_hotspots(
    incidents: gpd.GeoDataFrame,
    *,
    eps_m: float = DEFAULTS.eps_m,
    min_samples: int = DEFAULTS.min_samples,
    areas: ForceAreas | None = None,
    previous: gpd.GeoDataFrame | None = None,
    start_month: int = DEFAULTS.start_month,
    window_days: float | None = None,
    time_col: str = "occurred_at",
) -> HotspotResult:
    """Cluster incidents with DBSCAN and describe each cluster as a ranked hotspot.

    Parameters
    ----------
    incidents : GeoDataFrame
        Accepted incidents (``geo.schema.INCIDENT_COLUMNS``; uses
        ``incident_id``, ``occurred_at``, ``force`` and ``easting``/``northing``
        or the point geometry) in a projected CRS in metres, normally
        EPSG:27700 (other projected CRSs are converted to it). Not modified.
    eps_m : float, default 1500
        DBSCAN radius in metres.
    min_samples : int, default 6
        Incidents (itself included) within ``eps_m`` for a core incident.
    areas : ForceAreas, optional
        Force boundaries. When given, ``forces`` lists every force area the
        hotspot polygon intersects plus the forces of its incidents;
        otherwise the forces of its incidents only.
    previous : GeoDataFrame, optional
        Incidents of the previous season (same CRS rules); ``previous_n``
        counts those inside (or on the edge of) each hotspot polygon.
    start_month : int, default 9
        First month of the season; ties for ``busiest_month`` go to the month
        that comes first in the season.
    window_days : float, optional
        Space-time mode, "the same gang, the same week": cluster on
        ``(easting, northing, t_days * eps_m / window_days)``, so two incidents
        are neighbours only when close in place *and* time; at the same spot
        they may be up to ``window_days`` days apart. Every incident then
        needs a time.
    time_col : str, default "occurred_at"
        Name of the tz-aware time column.

    Returns
    -------
    HotspotResult
        ``hotspots`` columns (EPSG:27700): ``hotspot_id`` ("H001" = rank 1),
        ``rank`` (see :data:`RANKING_RULE`), ``n``, ``incident_ids`` (in
        input order), ``forces`` (list; boundary-file order, the seven first),
        ``cross_border`` (two or more forces), ``first_at``/``last_at`` (UTC),
        ``busiest_month`` ("Oct"), ``busiest_weekday`` ("Sat"),
        ``busiest_hours`` ("20:00-23:00": the 3-hour window of London clock
        hours, wrapping midnight, with most incidents; ties go to the window
        whose middle hour has most, then the earliest start from 00:00),
        ``previous_n``, ``change`` (``n - previous_n``),
        ``change_pct`` (percent, NaN when ``previous_n == 0`` or no
        ``previous``), ``centroid_e``/``centroid_n`` (mean incident position,
        metres), ``centroid_lat``/``centroid_lon`` (WGS84 degrees),
        ``area_km2`` (polygon area), ``label`` (DBSCAN label) and ``geometry``
        (convex hull of the incidents buffered by ``eps_m / 2``, 8 segments
        per quarter circle). ``labels`` holds the DBSCAN labels (identical to
        scikit-learn's), aligned to ``incidents.index``.

    Raises
    ------
    ValueError
        Geographic or missing CRS, non-point or empty geometry, bad
        parameters, missing times in space-time mode.
    """
    start_month = check_start_month(start_month)
    _, eps, min_samples = _check_dbscan_args(np.empty((0, 2)), eps_m, min_samples)
    window_days = _check_window_days(window_days)
    xy, times = _points_and_times(incidents, time_col)
    labels = dbscan_labels(_features(xy, times, eps, window_days), eps, min_samples)
    params = {
        "eps_m": eps,
        "min_samples": min_samples,
        "start_month": start_month,
        "window_days": window_days,
        "n_incidents": int(len(xy)),
        "n_previous": None if previous is None else int(len(previous)),
        "engine": "sklearn" if _dbscan_pkg is None else "dbscan",
    }
    label_series = pd.Series(labels.astype("int64"), index=incidents.index, name="hotspot_label")
    noise = int((labels < 0).sum())
    if not len(xy) or labels.max() < 0:
        return HotspotResult(label_series, _empty_hotspots(), noise, params)
    groups = _Groups.of(labels, noise)
    cols = _describe(incidents, xy, times, groups, eps, areas, start_month)
    cols.update(_compare_previous(cols["polys"], groups.counts, previous))
    return HotspotResult(label_series, _ranked_frame(cols, groups), noise, params)


def hotspots_with_trend(
    incidents: gpd.GeoDataFrame,
    *,
    season: str | None = None,
    forces: Collection[str] | None = None,
    hours: tuple[int, int] | None = None,
    days: Collection[int] | None = None,
    crime_types: Collection[str] | None = None,
    date_from=None,
    date_to=None,
    eps_m: float = DEFAULTS.eps_m,
    min_samples: int = DEFAULTS.min_samples,
    areas: ForceAreas | None = None,
    start_month: int = DEFAULTS.start_month,
    significance: bool = False,
    seed: int = 0,
) -> HotspotResult:
    """Hotspots of the filtered incidents, with the trend against the previous season.

    The incidents are filtered with :func:`geo.seasons.filter_incidents`
    (``season``, ``forces``, ``hours``, ``days``, ``crime_types``,
    ``date_from``/``date_to``); when a season is chosen, the same forces, hours,
    days and crime types in the season before it (whole season, no date range)
    give ``previous_n`` and ``change``. The CLI's ``hotspots`` and the
    dashboard both call this.

    With ``significance=True`` the hotspots also get the columns of
    :func:`geo.significance.significance_columns` (``gi_z``, ``gi_p`` after
    FDR, ``significant``, ``trend``): Gi* on the filtered incidents, the
    trend class over every season of the incidents with the same forces,
    hours, days and crime types (``seed`` seeds the randomisations).
    """
    same = {"forces": forces, "hours": hours, "days": days, "crime_types": crime_types,
            "start_month": start_month}
    current = filter_incidents(incidents, season=season, date_from=date_from, date_to=date_to,
                               **same)
    previous = None
    if season is not None:
        previous = filter_incidents(incidents, season=previous_season(season), **same)
    result = find_hotspots(current, eps_m=eps_m, min_samples=min_samples, areas=areas,
                           previous=previous, start_month=start_month)
    if not significance:
        return result
    from geo.significance import significance_columns

    history = filter_incidents(incidents, **same)
    extra = significance_columns(result.hotspots, current, result.labels, history=history,
                                 areas=areas, start_month=start_month, seed=seed)
    return replace(result, hotspots=result.hotspots.join(extra))


def _check_window_days(window_days: float | None) -> float | None:
    if window_days is None:
        return None
    value = float(window_days)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"window_days must be a positive number of days, got {window_days!r}")
    return value


def _points_and_times(incidents: gpd.GeoDataFrame, time_col: str) -> tuple[np.ndarray, pd.Series]:
    """Incident positions (metres, EPSG:27700) and UTC times; refuses naive times."""
    xy, _ = _points_xy(incidents, "incidents")
    if time_col not in incidents.columns:
        raise KeyError(f"no time column {time_col!r} in the incidents")
    times = pd.to_datetime(incidents[time_col])
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise InputError(f"{time_col} must be timezone-aware (UTC)")
    return xy, times.dt.tz_convert("UTC")


def _features(xy: np.ndarray, times: pd.Series, eps: float, window_days: float | None) -> np.ndarray:
    """DBSCAN features: the positions, plus scaled days in space-time mode."""
    if window_days is None or not len(xy):
        return xy
    if times.isna().any():
        raise InputError("space-time hotspots (window_days) need a time for every incident")
    t_days = (times - times.min()).dt.total_seconds().to_numpy() / 86400.0
    return np.column_stack([xy, t_days * (eps / window_days)])


@dataclass(frozen=True)
class _Groups:
    """Members of each cluster, grouped by label in input order."""

    labels: np.ndarray
    k: int
    members: np.ndarray  # input positions, grouped by label
    mlab: np.ndarray  # label of each member (== labels[members])
    counts: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @classmethod
    def of(cls, labels: np.ndarray, noise: int) -> _Groups:
        k = int(labels.max()) + 1
        small = labels.astype(np.int16 if k < 2**15 - 1 else np.int32)
        members = np.argsort(small, kind="stable")[noise:]  # stable radix sort on small ints
        counts = np.bincount(labels[labels >= 0], minlength=k)
        ends = np.cumsum(counts)
        return cls(labels, k, members, np.repeat(np.arange(k), counts), counts, ends - counts, ends)


def _describe(incidents, xy, times, g: _Groups, eps: float, areas, start_month: int) -> dict:
    """Per-cluster geometry, centroid, ids, first/last times, busiest periods, forces."""
    mxy = xy[g.members]
    # convex hull buffered by eps/2, all at once: a linestring per hotspot (its first
    # point repeated, so never a single point) is cheaper than a multipoint, same hull.
    line_xy = np.insert(mxy, g.ends, mxy[g.starts], axis=0)
    line_ix = np.insert(g.mlab, g.ends, np.arange(g.k))
    hulls = shapely.convex_hull(shapely.linestrings(line_xy, indices=line_ix))
    polys = shapely.buffer(hulls, eps / 2.0, quad_segs=_QUAD_SEGS)
    cent_e = np.bincount(g.mlab, weights=mxy[:, 0], minlength=g.k) / g.counts
    cent_n = np.bincount(g.mlab, weights=mxy[:, 1], minlength=g.k) / g.counts
    lon, lat = _to_wgs84().transform(cent_e, cent_n)
    id_col = incidents["incident_id"]
    if not pd.api.types.is_string_dtype(id_col):
        id_col = id_col.astype(str)
    ids = id_col.take(g.members).to_numpy(dtype=object)  # grouped, strings made in order
    id_lists = [ids[a:b].tolist() for a, b in zip(g.starts.tolist(), g.ends.tolist(), strict=True)]
    utc_ns = times.dt.tz_localize(None).to_numpy().astype("datetime64[ns]").view("int64")
    first_ns, last_ns = _first_last_ns(utc_ns, g.labels, g.k)
    precision = incidents["time_precision"] if "time_precision" in incidents.columns else None
    month, weekday, hours = _busiest_periods(utc_ns, g.labels, g.k, start_month, precision)
    forces = _hotspot_forces(incidents, g.labels, polys, areas)
    return {"polys": polys, "cent_e": cent_e, "cent_n": cent_n, "lat": np.asarray(lat, "float64"),
            "lon": np.asarray(lon, "float64"), "id_lists": id_lists, "first_ns": first_ns,
            "last_ns": last_ns, "busiest_month": month, "busiest_weekday": weekday,
            "busiest_hours": hours, "forces": forces,
            "cross": np.fromiter((len(f) >= 2 for f in forces), dtype=bool, count=g.k)}


def _first_last_ns(utc_ns: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last time (int ns, NaT as :data:`NAT_INT`) per cluster; missing times ignored."""
    timed = (labels >= 0) & (utc_ns != NAT_INT)
    first_ns = np.full(k, np.iinfo("int64").max)
    np.minimum.at(first_ns, labels[timed], utc_ns[timed])
    first_ns[first_ns == np.iinfo("int64").max] = NAT_INT  # no time at all: NaT
    last_ns = np.full(k, NAT_INT)
    np.maximum.at(last_ns, labels[timed], utc_ns[timed])
    return first_ns, last_ns


def _compare_previous(polys: np.ndarray, counts: np.ndarray, previous) -> dict:
    """Previous-season incidents inside each polygon (edge included) and the change."""
    previous_n = np.zeros(len(counts), dtype="int64")
    change_pct = np.full(len(counts), np.nan)
    if previous is not None:
        pxy, _ = _points_xy(previous, "previous incidents")
        previous_n = _count_in_polygons(polys, pxy)
    change = counts.astype("int64") - previous_n
    if previous is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            change_pct = np.where(previous_n > 0, 100.0 * change / np.maximum(previous_n, 1), np.nan)
    return {"previous_n": previous_n, "change": change, "change_pct": change_pct}


def _ranked_frame(c: dict, g: _Groups) -> gpd.GeoDataFrame:
    """The hotspots frame in rank order (:data:`RANKING_RULE`)."""
    recency = np.where(c["last_ns"] == NAT_INT, np.iinfo("int64").max, -c["last_ns"])
    order = np.lexsort((c["cent_n"], c["cent_e"], recency, -g.counts))
    columns = {
        "hotspot_id": np.array([f"H{r:03d}" for r in range(1, g.k + 1)], dtype=object),
        "rank": np.arange(1, g.k + 1, dtype="int64"),
        "n": g.counts[order].astype("int64"),
        "incident_ids": _object_array([c["id_lists"][i] for i in order]),
        "forces": _object_array([c["forces"][i] for i in order]),
        "cross_border": c["cross"][order],
        "first_at": _utc_from_ns(c["first_ns"][order]),
        "last_at": _utc_from_ns(c["last_ns"][order]),
        "busiest_month": c["busiest_month"][order],
        "busiest_weekday": c["busiest_weekday"][order],
        "busiest_hours": c["busiest_hours"][order],
        "previous_n": c["previous_n"][order],
        "change": c["change"][order],
        "change_pct": c["change_pct"][order],
        "centroid_e": c["cent_e"][order],
        "centroid_n": c["cent_n"][order],
        "centroid_lat": c["lat"][order],
        "centroid_lon": c["lon"][order],
        "area_km2": shapely.area(c["polys"])[order] / 1e6,
        "label": order.astype("int64"),
    }
    return gpd.GeoDataFrame(columns, geometry=c["polys"][order], crs=_BNG_CRS)


# --------------------------------------------------------------------------- output















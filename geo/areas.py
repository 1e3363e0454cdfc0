"""Police force areas: the :class:`ForceAreas` container and fast point-in-force lookup.

Pure: no file or network access (reading and fetching boundary files is
:mod:`geo.io.boundaries`). Everything is in British National Grid
(EPSG:27700); :func:`display_boundaries` gives a simplified WGS84 copy for maps.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.forces import force_codes
from geo.schema import BNG, SEVEN_FORCES, WGS84

__all__ = [
    "ATTRIBUTION",
    "PFA_CODE_RE",
    "PFA_NAME_RE",
    "ForceAreas",
    "INDEX_FORMAT",
    "assignment_index",
    "use_assignment_index",
    "areas_from_frame",
    "display_boundaries",
    "assign_force",
    "nearest_force",
]

#: Must be shown wherever the boundaries are drawn.
ATTRIBUTION = (
    "Police force areas: Contains National Statistics and Ordnance Survey data "
    "\u00a9 Crown copyright and database right, Open Government Licence v3.0."
)


PFA_CODE_RE = re.compile(r"^pfa\d{2}cd$", re.IGNORECASE)


PFA_NAME_RE = re.compile(r"^pfa\d{2}nm$", re.IGNORECASE)




@dataclass(frozen=True)
class ForceAreas:
    """Force areas in EPSG:27700.

    Attributes
    ----------
    gdf : GeoDataFrame
        Columns ``force_code``, ``force``, ``in_agreement`` (bool) and
        ``geometry`` (polygonal, metres); the seven forces first (in
        ``SEVEN_FORCES`` order), then neighbours sorted by name.
    source : str
        Where the file came from (path or URL), for display.
    attribution : str
        Licence text to show with every map.
    """

    gdf: gpd.GeoDataFrame
    source: str
    attribution: str = ATTRIBUTION

    @property
    def seven(self) -> gpd.GeoDataFrame:
        """The seven forces of the agreement."""
        return self.gdf[self.gdf["in_agreement"]]

    @property
    def neighbours(self) -> gpd.GeoDataFrame:
        """Every other force in the file (context only)."""
        return self.gdf[~self.gdf["in_agreement"]]

    @property
    def names(self) -> list[str]:
        """Names of the seven forces, in canonical order."""
        return list(self.seven["force"])

    def __getstate__(self) -> dict[str, Any]:
        # The point-assignment index is a cache: rebuilt on demand, never pickled.
        return {k: v for k, v in self.__dict__.items() if k not in (_INDEX_ATTR, _EDGES_ATTR)}


def _find_column(columns, pattern: re.Pattern, fallbacks: tuple[str, ...]) -> str | None:
    for c in columns:
        if pattern.match(str(c)):
            return c
    lowered = {str(c).lower(): c for c in columns}
    for f in fallbacks:
        if f in lowered:
            return lowered[f]
    return None


_EMPTY_POLYGON = shapely.Polygon()


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Repair geometries and keep their polygonal parts (empty polygon when none)."""
    repaired = shapely.make_valid(geoms)
    out = np.empty(len(repaired), dtype=object)
    for i, g in enumerate(repaired):  # one iteration per force area, not per point
        if g is None or g.is_empty:
            out[i] = _EMPTY_POLYGON
        elif g.geom_type in ("Polygon", "MultiPolygon"):
            out[i] = g
        else:  # GeometryCollection from make_valid: drop stray lines/points
            parts = shapely.get_parts(shapely.get_parts(g))
            polys = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
            out[i] = shapely.multipolygons(polys) if len(polys) else _EMPTY_POLYGON
    return out


def areas_from_frame(raw: gpd.GeoDataFrame, source: str) -> ForceAreas:
    """Normalise a raw boundary frame (any columns, any CRS) into ForceAreas."""
    code_col = _find_column(raw.columns, PFA_CODE_RE, ("code", "pfa_code", "force_code"))
    name_col = _find_column(raw.columns, PFA_NAME_RE, ("name", "pfa_name", "force", "force_name"))
    if name_col is None or name_col == raw.geometry.name:
        raise InputError(
            f"{source}: no police force name column (expected PFAyyNM, e.g. PFA23NM, or 'name'); "
            f"columns are {[c for c in raw.columns if c != raw.geometry.name]}"
        )
    if len(raw) == 0:
        raise InputError(f"{source}: the file has no features")
    geo = raw.geometry
    if geo.crs is None:
        xmin, ymin, xmax, ymax = geo.total_bounds
        if all(np.isfinite([xmin, ymin, xmax, ymax])) and max(abs(xmin), abs(xmax)) <= 180 and max(abs(ymin), abs(ymax)) <= 90:
            geo = geo.set_crs(WGS84)
        elif xmin >= -1e5 and ymin >= -1e5 and xmax <= 8e5 and ymax <= 1.4e6:
            warnings.warn(
                f"{source}: no CRS declared; coordinates look like British National Grid, assuming EPSG:27700",
                stacklevel=3,
            )
            geo = geo.set_crs(BNG)
        else:
            raise InputError(f"{source}: the file declares no CRS and its coordinates are neither lon/lat nor EPSG:27700")
    geoms = _polygonal(np.asarray(geo.to_crs(BNG).values, dtype=object))
    unusable = shapely.is_empty(geoms)

    names = raw[name_col].astype("string").fillna("").str.strip()
    from_name = pd.Series(force_codes(names), index=names.index).astype("string")
    if code_col is not None:
        codes = raw[code_col].astype("string").fillna("").str.strip().str.upper()
        codes = codes.where(codes != "", from_name)
    else:
        codes = from_name
    in_agreement = codes.isin(list(SEVEN_FORCES)).to_numpy(dtype=bool)
    if not in_agreement.any():
        raise InputError(
            f"{source}: none of the seven forces ({', '.join(SEVEN_FORCES.values())}) is in the file "
            f"(looked at column {code_col!r} for ONS codes and {name_col!r} for names)"
        )
    # The seven get their canonical names; neighbours keep the file's.
    force = names.where(~in_agreement, codes.map(SEVEN_FORCES))
    if unusable.any():
        bad = ", ".join(str(n) for n in force[unusable])
        warnings.warn(f"{source}: unusable (empty) geometry for {bad}; no point will be assigned to it", stacklevel=3)

    gdf = gpd.GeoDataFrame(
        {
            "force_code": codes.astype(object).to_numpy(),
            "force": force.astype(object).to_numpy(),
            "in_agreement": in_agreement,
        },
        geometry=gpd.GeoSeries(geoms, crs=BNG).values,
        crs=BNG,
    )
    order = {code: i for i, code in enumerate(SEVEN_FORCES)}
    gdf["_order"] = gdf["force_code"].map(order).fillna(len(order))
    gdf = gdf.sort_values(["_order", "force"], kind="stable").drop(columns="_order").reset_index(drop=True)
    gdf = gdf[["force_code", "force", "in_agreement", "geometry"]]
    return ForceAreas(gdf=gdf, source=str(source))


def nearest_force(areas: ForceAreas, easting_m, northing_m, max_distance_m: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest force area within ``max_distance_m`` of each point, for points outside them all.

    A point covered by an area gets it at distance 0 (the first in order, as
    :func:`assign_force`). Otherwise the distance is to the areas' rings, cut
    into short pieces in an R-tree; equal distances go to the first area in
    order.

    Parameters
    ----------
    areas : ForceAreas
    easting_m, northing_m : array-like of float
        British National Grid metres.
    max_distance_m : float
        Farther than this from every area: no force.

    Returns
    -------
    index : ndarray of int64
        Row of ``areas.gdf`` (-1 where none is that close).
    distance_m : ndarray of float64
        Metres to that area (NaN where none).
    """
    e = np.asarray(easting_m, dtype="float64")
    n = np.asarray(northing_m, dtype="float64")
    idx = np.full(len(e), -1, dtype="int64")
    dist = np.full(len(e), np.nan)
    if not len(e) or not max_distance_m > 0:
        return idx, dist
    index = _index_for(areas)
    # most points far out at sea are nowhere near an area: only the others are queried
    cand = np.flatnonzero(_maybe_near(index, e, n, float(max_distance_m)))
    if not len(cand):
        return idx, dist
    covered = _lookup(index, e[cand], n[cand]).astype("int64")  # distance 0
    idx[cand], dist[cand] = covered, np.where(covered >= 0, 0.0, np.nan)
    out = cand[covered < 0]
    near, d = _nearest_edge(_edges_for(areas), e[out], n[out], float(max_distance_m))
    idx[out], dist[out] = near, d
    return idx, dist


@dataclass(frozen=True)
class _Edges:
    """The areas' rings cut into short pieces in an R-tree, each piece's area row in ``owner``."""

    key: tuple[int, ...]
    tree: shapely.STRtree
    owner: np.ndarray


#: Segments per boundary piece: the distance to a piece of a few segments is
#: cheap, and a point's nearest pieces are few (0.68 s -> 0.18 s for 45,000
#: coastal points against the ONS file, same areas and distances).
_EDGE_SEGMENTS = 16


def _edges_for(areas: ForceAreas) -> _Edges:
    return _cached_on(areas, _EDGES_ATTR, _build_edges)


def _build_edges(geoms: np.ndarray, key: tuple[int, ...]) -> _Edges:
    parts, part_row = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    ends = np.r_[np.flatnonzero(np.diff(ring_of)) + 1, len(ring_of)]
    starts = np.r_[0, ends[:-1]]
    pieces, owner = [], []
    for a, b in zip(starts, ends, strict=True):  # one per ring (hundreds)
        for first in range(a, b - 1, _EDGE_SEGMENTS):
            pieces.append(np.arange(first, min(first + _EDGE_SEGMENTS, b - 1) + 1))
            owner.append(part_row[ring_part[ring_of[a]]])
    which = np.repeat(np.arange(len(pieces)), [len(p) for p in pieces])
    take = np.concatenate(pieces) if pieces else np.zeros(0, dtype="int64")
    lines = shapely.linestrings(coords[take], indices=which) if len(take) else np.empty(0, object)
    return _Edges(key, shapely.STRtree(lines), np.asarray(owner, dtype="int64"))


def _nearest_edge(edges: _Edges, x: np.ndarray, y: np.ndarray, max_distance_m: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Area of the nearest boundary piece within reach of each point (outside every area).

    Outside an area, the distance to it is the distance to its rings. Equal
    distances (a vertex two areas share) go to the first area in order.
    """
    idx = np.full(len(x), -1, dtype="int64")
    dist = np.full(len(x), np.nan)
    if not len(x) or not len(edges.owner):
        return idx, dist
    (src, hit), d = edges.tree.query_nearest(shapely.points(x, y), max_distance=max_distance_m,
                                             return_distance=True, all_matches=True)
    order = np.lexsort((edges.owner[hit], d, src))
    src, hit, d = src[order], hit[order], d[order]
    first = np.r_[True, src[1:] != src[:-1]] if len(src) else np.zeros(0, dtype=bool)
    idx[src[first]] = edges.owner[hit[first]]
    dist[src[first]] = d[first]
    return idx, dist


def _dilate(mask: np.ndarray, r: int, axis: int) -> np.ndarray:
    """True where ``mask`` has a True within ``r`` cells along ``axis`` (a running window sum)."""
    m = np.moveaxis(mask, axis, 0).astype(np.int32)
    c = np.zeros((m.shape[0] + 1, *m.shape[1:]), dtype=np.int32)
    np.cumsum(m, axis=0, out=c[1:])
    k = m.shape[0]
    hi = np.minimum(np.arange(k) + r + 1, k)
    lo = np.maximum(np.arange(k) - r, 0)
    return np.moveaxis((c[hi] - c[lo]) > 0, 0, axis)


def _maybe_near(index: _CellIndex, x: np.ndarray, y: np.ndarray, max_distance_m: float
                ) -> np.ndarray:
    """False only for points certainly farther than ``max_distance_m`` from every area.

    A point within that distance of an area is within ``ceil(d / cell) + 1``
    grid cells of a cell some area touches (``lut != -1``): such cells, grown
    by that many cells on every side, keep their points.
    """
    if index.nx == 0 or not np.isfinite(max_distance_m):
        return np.ones(len(x), dtype=bool)
    r = int(math.ceil(max_distance_m * index.inv_cell)) + 1
    nx, ny = index.nx, index.ny
    grown = np.zeros((ny + 2 * r, nx + 2 * r), dtype=bool)
    grown[r:r + ny, r:r + nx] = (index.lut != -1).reshape(ny, nx)
    grown = _dilate(_dilate(grown, r, 0), r, 1)
    with np.errstate(invalid="ignore"):
        fx = np.floor((x - index.x0) * index.inv_cell) + r
        fy = np.floor((y - index.y0) * index.inv_cell) + r
    ok = (fx >= 0) & (fx < nx + 2 * r) & (fy >= 0) & (fy < ny + 2 * r)  # NaN -> False
    out = np.zeros(len(x), dtype=bool)
    out[ok] = grown[fy[ok].astype(np.intp), fx[ok].astype(np.intp)]
    return out


def display_boundaries(
    areas: ForceAreas, tolerance_m: float = 100.0, *, precision_deg: float | None = 1e-5
) -> gpd.GeoDataFrame:
    """Lightweight copy of the boundaries for web maps, in EPSG:4326.

    Each area is simplified in EPSG:27700 (Douglas-Peucker with
    ``preserve_topology=True``, so no area collapses), re-projected, and its
    coordinates snapped to a ``precision_deg`` grid (shorter numbers in
    GeoJSON); any geometry left invalid is repaired. Shared borders are simplified independently per area,
    so slivers of up to about ``tolerance_m`` can appear between neighbours:
    fine for display, never use this copy for analysis. ``areas`` is not
    modified.

    Parameters
    ----------
    areas : ForceAreas
        Boundaries as read by :func:`read_boundaries`.
    tolerance_m : float
        Simplification tolerance in metres (0 keeps every vertex).
    precision_deg : float or None
        Coordinate grid in degrees after re-projection (1e-5 degrees is about
        1.1 m north-south, 0.7 m east-west here); None keeps full precision.

    Returns
    -------
    GeoDataFrame
        Columns ``force_code``, ``force``, ``in_agreement``, ``geometry``
        (EPSG:4326), same rows and order as ``areas.gdf``.
    """
    if not (math.isfinite(tolerance_m) and tolerance_m >= 0):
        raise InputError(f"tolerance_m must be a finite number of metres >= 0, got {tolerance_m!r}")
    src = areas.gdf
    geoms = shapely.simplify(np.asarray(src.geometry.values, dtype=object), tolerance_m, preserve_topology=True)
    out = gpd.GeoDataFrame(
        {c: src[c].to_numpy(copy=True) for c in ("force_code", "force", "in_agreement")},
        geometry=gpd.GeoSeries(geoms, crs=src.crs if src.crs is not None else BNG).values,
    )
    out = out.to_crs(WGS84)
    if precision_deg is not None:
        if not (math.isfinite(precision_deg) and precision_deg > 0):
            raise InputError(f"precision_deg must be a positive number of degrees or None, got {precision_deg!r}")
        out["geometry"] = shapely.set_precision(np.asarray(out.geometry.values, dtype=object), precision_deg)
    geoms = np.asarray(out.geometry.values, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = _polygonal(geoms[invalid])
        out["geometry"] = gpd.GeoSeries(geoms, crs=WGS84).values
    return out


_INDEX_ATTR = "_assign_index"
_EDGES_ATTR = "_nearest_edges"


#: Upper bound on grid cells of the assignment index (int32 each: 8 MB).
_MAX_CELLS = 2_000_000


#: Grid cells per boundary vertex aimed at when sizing the grid.
_CELLS_PER_VERTEX = 64


@dataclass(frozen=True)
class _CellIndex:
    """Uniform grid over the areas' bounds, each cell pre-classified.

    ``lut[cell]`` >= 0: every point of the cell belongs to that area row;
    -1: no area covers the cell; <= -2: a boundary crosses the cell, and
    ``states[-2 - lut[cell]]`` holds, per area, 0 (cell outside), 1 (cell
    inside) or 2 (boundary crosses the cell: exact test needed).
    """

    key: tuple[int, ...]
    geoms: np.ndarray
    x0: float
    y0: float
    inv_cell: float
    nx: int
    ny: int
    lut: np.ndarray
    states: np.ndarray


def _closed_first_hit(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First area (in order) covering each point: bbox prefilter + ``intersects_xy``."""
    out = np.full(x.shape, -1, dtype=np.int32)
    for i, g in enumerate(geoms):  # one iteration per area
        if g.is_empty:
            continue
        xmin, ymin, xmax, ymax = g.bounds
        cand = np.flatnonzero((out == -1) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        if cand.size:
            out[cand[shapely.intersects_xy(g, x[cand], y[cand])]] = i
    return out


def _prepared_copies(geoms_in: np.ndarray) -> np.ndarray:
    # Private prepared copies: the caller's geometries are left untouched.
    geoms = shapely.from_wkb(shapely.to_wkb(geoms_in))
    geoms = np.array([_EMPTY_POLYGON if g is None else g for g in geoms], dtype=object)
    shapely.prepare(geoms)
    return geoms


def _build_index(geoms_in: np.ndarray, key: tuple[int, ...]) -> _CellIndex:
    geoms = _prepared_copies(geoms_in)
    n = len(geoms)
    usable = ~shapely.is_empty(geoms)
    empty_lut = np.zeros(0, dtype=np.int32)
    if not usable.any():
        return _CellIndex(key, geoms, 0.0, 0.0, 1.0, 0, 0, empty_lut, np.zeros((0, n), np.int8))
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms[usable])
    w, h = max(xmax - xmin, 1e-6), max(ymax - ymin, 1e-6)
    target = int(np.clip(_CELLS_PER_VERTEX * shapely.get_num_coordinates(geoms).sum(), 4096, _MAX_CELLS))
    cell = max(math.sqrt(w * h / target), max(w, h) / 4096)
    nx, ny = int(w // cell) + 1, int(h // cell) + 1  # grid strictly covers [min, max]
    ncell = nx * ny
    # Cells are tested grown by eps, so a point that rounding puts in a
    # neighbouring cell is still classified correctly.
    eps = cell * 1e-3 + 1e-9 * max(abs(xmin), abs(xmax), abs(ymin), abs(ymax))
    inv = 1.0 / cell

    # 1. Cells each boundary crosses: candidates are the 3x3 neighbourhoods of
    #    boundary vertices after densifying to cell/2, then an exact test.
    touched = np.zeros(ncell, dtype=bool)
    crossing: list[tuple[int, np.ndarray]] = []
    offs = np.array([-1, 0, 1])
    for i in np.flatnonzero(usable):  # one iteration per area
        ring = shapely.segmentize(shapely.boundary(geoms[i]), cell / 2)
        xy = shapely.get_coordinates(ring)
        ix = np.clip(np.floor((xy[:, 0] - xmin) * inv).astype(np.intp), 0, nx - 1)
        iy = np.clip(np.floor((xy[:, 1] - ymin) * inv).astype(np.intp), 0, ny - 1)
        cx = np.clip(ix[:, None, None] + offs[None, :, None], 0, nx - 1)
        cy = np.clip(iy[:, None, None] + offs[None, None, :], 0, ny - 1)
        cand = np.unique((cy * nx + cx).ravel())
        bx, by = cand % nx, cand // nx
        boxes = shapely.box(
            xmin + bx * cell - eps, ymin + by * cell - eps, xmin + (bx + 1) * cell + eps, ymin + (by + 1) * cell + eps
        )
        shapely.prepare(ring)
        hit = cand[shapely.intersects(ring, boxes)]
        crossing.append((i, hit))
        touched[hit] = True

    lut = np.empty(ncell, dtype=np.int32)
    # 2. Cells no boundary crosses: connected groups of them are uniformly
    #    inside/outside every area; classify one cell centre per group.
    from scipy import ndimage  # only when an index is built (not when loaded from the cache)

    labels, nlab = ndimage.label(~touched.reshape(ny, nx))
    labels = labels.ravel()
    rep = np.zeros(nlab + 1, dtype=np.intp)
    rep[labels] = np.arange(ncell)  # any member cell represents its group
    rep = rep[1:]
    value = np.full(nlab + 1, -1, dtype=np.int32)
    value[1:] = _closed_first_hit(geoms, xmin + (rep % nx + 0.5) * cell, ymin + (rep // nx + 0.5) * cell)
    free = labels > 0
    lut[free] = value[labels[free]]

    # 3. Crossed cells: per-area state; the first area (in order) that is not
    #    "outside" decides, unless its boundary crosses the cell (mixed).
    tcells = np.flatnonzero(touched)
    pos = np.full(ncell, -1, dtype=np.intp)
    pos[tcells] = np.arange(tcells.size)
    states = np.zeros((tcells.size, n), dtype=np.int8)
    for i, hit in crossing:
        states[pos[hit], i] = 2
    ccx = xmin + (tcells % nx + 0.5) * cell
    ccy = ymin + (tcells // nx + 0.5) * cell
    for i in np.flatnonzero(usable):
        need = np.flatnonzero(states[:, i] == 0)
        if need.size:
            inside = shapely.intersects_xy(geoms[i], ccx[need], ccy[need])
            states[need[inside], i] = 1
    nonzero = states != 0
    has = nonzero.any(axis=1)
    first = nonzero.argmax(axis=1)
    first_state = states[np.arange(tcells.size), first]
    mixed = has & (first_state == 2)
    tval = np.where(has, first, -1).astype(np.int32)
    tval[mixed] = -2 - np.arange(int(mixed.sum()), dtype=np.int32)
    lut[tcells] = tval
    return _CellIndex(key, geoms, float(xmin), float(ymin), inv, nx, ny, lut, states[mixed].copy())


def _index_for(areas: ForceAreas) -> _CellIndex:
    return _cached_on(areas, _INDEX_ATTR, _build_index)


def _cached_on(areas: ForceAreas, attr: str, build):
    """``build(geoms, key)``, kept on ``areas`` until its geometries change.

    A cache on a frozen dataclass: stored directly in ``__dict__``, invisible
    to eq/repr/pickle (``__getstate__`` leaves it out).
    """
    geoms = np.asarray(areas.gdf.geometry.values, dtype=object)
    key = tuple(map(id, geoms))
    cached = areas.__dict__.get(attr)
    if cached is not None and cached.key == key:
        return cached
    areas.__dict__[attr] = built = build(geoms, key)
    return built


#: Layout version of :func:`assignment_index` arrays; a cached index of another one is rebuilt.
INDEX_FORMAT = 1


def assignment_index(areas: ForceAreas) -> dict[str, np.ndarray]:
    """The grid index :func:`assign_force` uses, as plain arrays (for an on-disk cache).

    Built (about 0.5 s for the 43 ONS forces) when ``areas`` has none yet.
    :func:`use_assignment_index` attaches such arrays to another ``ForceAreas``
    read from the same boundary file, so a new process need not build it again.
    """
    ix = _index_for(areas)
    return {
        "format": np.array([INDEX_FORMAT], dtype=np.int64),
        "n_areas": np.array([len(ix.geoms)], dtype=np.int64),
        "origin": np.array([ix.x0, ix.y0, ix.inv_cell], dtype=np.float64),
        "shape": np.array([ix.nx, ix.ny], dtype=np.int64),
        "lut": ix.lut,
        "states": ix.states,
    }


def use_assignment_index(areas: ForceAreas, arrays: dict[str, np.ndarray]) -> bool:
    """Attach arrays of :func:`assignment_index` (made from the same boundaries) to ``areas``.

    Returns False, attaching nothing, when they do not fit ``areas`` (another
    format, another number of areas, inconsistent sizes); the index is then
    built on first use as usual.
    """
    try:
        fmt = int(arrays["format"][0])
        n = int(arrays["n_areas"][0])
        x0, y0, inv = (float(v) for v in arrays["origin"])
        nx, ny = (int(v) for v in arrays["shape"])
        lut = np.ascontiguousarray(arrays["lut"], dtype=np.int32)
        states = np.ascontiguousarray(arrays["states"], dtype=np.int8)
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    geoms_in = np.asarray(areas.gdf.geometry.values, dtype=object)
    fits = (fmt == INDEX_FORMAT and n == len(geoms_in) and lut.shape == (nx * ny,)
            and states.ndim == 2 and states.shape[1] == n and inv > 0
            and (lut.size == 0 or int(lut.min()) >= -1 - states.shape[0]))
    if not fits:
        return False
    key = tuple(map(id, geoms_in))
    areas.__dict__[_INDEX_ATTR] = _CellIndex(key, _prepared_copies(geoms_in), x0, y0, inv, nx, ny,
                                             lut, states)
    return True


def _resolve_mixed(index: _CellIndex, rows: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact answer for points in cells a boundary crosses."""
    states = index.states[rows]
    out = np.full(rows.shape, -1, dtype=np.int32)
    pending = np.arange(rows.size)
    for i, g in enumerate(index.geoms):  # one iteration per area
        if not pending.size:
            break
        s = states[pending, i]
        hit = s == 1
        test = np.flatnonzero(s == 2)
        if test.size:
            p = pending[test]
            hit[test] = shapely.intersects_xy(g, x[p], y[p])
        out[pending[hit]] = i
        pending = pending[~hit]
    return out


def _lookup(index: _CellIndex, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, -1, dtype=np.int32)
    if index.nx == 0 or x.size == 0:
        return out
    fx = x - index.x0
    fx *= index.inv_cell
    fy = y - index.y0
    fy *= index.inv_cell
    ok = (fx >= 0) & (fx < index.nx) & (fy >= 0) & (fy < index.ny)  # NaN -> False
    sel = None
    if not ok.all():
        sel = np.flatnonzero(ok)
        fx, fy = fx[sel], fy[sel]
    cell = fy.astype(np.intp)
    cell *= index.nx
    cell += fx.astype(np.intp)
    val = index.lut[cell]
    mixed = np.flatnonzero(val <= -2)
    if mixed.size:
        pts = mixed if sel is None else sel[mixed]
        val[mixed] = _resolve_mixed(index, -2 - val[mixed], x[pts], y[pts])
    if sel is None:
        return val
    out[sel] = val
    return out


def assign_force(areas: ForceAreas, easting_m: np.ndarray, northing_m: np.ndarray) -> np.ndarray:
    """Row of ``areas.gdf`` whose force area covers each point, -1 if none.

    Boundary rule: areas are closed, so a point exactly on a boundary is
    covered; where several areas cover a point (shared edge or vertex,
    overlap) the first in ``areas.gdf`` order wins. The result equals, point
    for point, ``shapely.intersects_xy`` per area in order with first hit
    kept; away from boundaries that is the same as ``shapely.contains_xy``.

    Fast path: a uniform grid index (built once per ``ForceAreas`` and
    cached on it) labels whole cells as inside one area or outside all;
    only points in cells a boundary crosses get an exact point-in-polygon test.

    Parameters
    ----------
    areas : ForceAreas
        Force areas in EPSG:27700.
    easting_m, northing_m : array-like of float
        Point coordinates in EPSG:27700 metres, same shape. NaN gives -1.

    Returns
    -------
    ndarray of int32
        Same shape as the inputs; row index into ``areas.gdf`` or -1.

    Raises
    ------
    ValueError
        Shapes differ, or the coordinates look like longitude/latitude
        degrees (every finite |x| <= 180 and |y| <= 90).
    """
    x = np.asarray(easting_m, dtype="float64")
    y = np.asarray(northing_m, dtype="float64")
    if x.shape != y.shape:
        raise InputError(f"easting_m and northing_m must have the same shape, got {x.shape} and {y.shape}")
    shape = x.shape
    x, y = x.ravel(), y.ravel()
    if x.size:
        xmax, xmin = np.fmax.reduce(x), np.fmin.reduce(x)
        ymax, ymin = np.fmax.reduce(y), np.fmin.reduce(y)
        if max(abs(xmax), abs(xmin)) <= 180 and max(abs(ymax), abs(ymin)) <= 90:
            raise InputError(
                "expected EPSG:27700 metres (easting, northing), but every coordinate is within "
                "|x| <= 180, |y| <= 90: these look like longitude/latitude degrees; "
                "convert with GeoSeries.to_crs('EPSG:27700') first"
            )
    return _lookup(_index_for(areas), x, y).reshape(shape)

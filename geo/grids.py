"""Square cell grids and study regions in British National Grid metres (EPSG:27700).

Small shared pieces for the patrol planner (:mod:`geo.planning`) and the
hotspot significance tests (:mod:`geo.significance`):

- :class:`CellGrid`: a square grid whose origin is snapped to whole multiples
  of the cell side, so two grids with the same ``cell_m`` line up;
- :func:`incident_xy_m`: the (n, 2) easting/northing array of incidents;
- :func:`bin_points`: per-cell sums and weighted centroids of points;
- :func:`points_in_polygons`: which points lie in (or on the edge of) each polygon;
- :func:`study_region`: the area analyses are measured against (force areas
  when known, else the buffered convex hull of the incidents).

Everything is pure: inputs are never modified.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.areas import ForceAreas
from geo.schema import BNG

__all__ = [
    "CellGrid",
    "CellSums",
    "grid_over",
    "incident_xy_m",
    "bin_points",
    "points_in_polygons",
    "study_region",
]

_BNG_CRS = CRS.from_user_input(BNG)


@dataclass(frozen=True)
class CellGrid:
    """A square grid in EPSG:27700 metres.

    Attributes
    ----------
    x0_m, y0_m : float
        South-west corner of cell 0 (a whole multiple of ``cell_m``).
    cell_m : float
        Cell side in metres.
    nx, ny : int
        Number of columns (west to east) and rows (south to north).
        Cell ``(col, row)`` has flat index ``row * nx + col``.
    """

    x0_m: float
    y0_m: float
    cell_m: float
    nx: int
    ny: int

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    def cell_of(self, xy_m: np.ndarray) -> np.ndarray:
        """Flat cell index of each point (n, 2); -1 for points off the grid."""
        xy = np.asarray(xy_m, dtype="float64").reshape(-1, 2)
        col = np.floor((xy[:, 0] - self.x0_m) / self.cell_m)
        row = np.floor((xy[:, 1] - self.y0_m) / self.cell_m)
        ok = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        out = np.full(len(xy), -1, dtype="int64")
        out[ok] = row[ok].astype("int64") * self.nx + col[ok].astype("int64")
        return out

    def centres(self, cells: np.ndarray) -> np.ndarray:
        """Centre (easting, northing) in metres of each flat cell index, shape (k, 2)."""
        cells = np.asarray(cells, dtype="int64")
        col, row = cells % self.nx, cells // self.nx
        return np.column_stack(
            [self.x0_m + (col + 0.5) * self.cell_m, self.y0_m + (row + 0.5) * self.cell_m]
        )


@dataclass(frozen=True)
class CellSums:
    """Per-cell totals of binned points (only cells holding at least one point).

    Attributes
    ----------
    cells : ndarray of int64
        Flat cell indices, ascending.
    total : ndarray of float64
        Sum of the point weights in each cell.
    count : ndarray of int64
        Number of points in each cell.
    centroid_m : ndarray, shape (k, 2)
        Weighted mean position (metres) of the points in each cell; the
        plain mean where the weights sum to zero.
    """

    cells: np.ndarray
    total: np.ndarray
    count: np.ndarray
    centroid_m: np.ndarray


def _check_positive(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a positive number of metres, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0):
        raise ValueError(f"{name} must be a positive number of metres, got {value!r}")
    return out


def grid_over(xy_m: np.ndarray, cell_m: float, pad_m: float = 0.0) -> CellGrid:
    """The smallest snapped grid covering the points grown by ``pad_m`` on every side.

    Parameters
    ----------
    xy_m : ndarray, shape (n, 2)
        Points in EPSG:27700 metres (n >= 1).
    cell_m : float
        Cell side in metres.
    pad_m : float, default 0
        Margin in metres added around the points' bounding box.

    Returns
    -------
    CellGrid
    """
    cell = _check_positive(cell_m, "cell_m")
    xy = np.asarray(xy_m, dtype="float64").reshape(-1, 2)
    if len(xy) == 0:
        raise ValueError("a grid needs at least one point")
    lo = np.floor((xy.min(axis=0) - pad_m) / cell) * cell
    hi = xy.max(axis=0) + pad_m
    nx, ny = (np.floor((hi - lo) / cell).astype("int64") + 1).tolist()
    return CellGrid(float(lo[0]), float(lo[1]), cell, int(nx), int(ny))


def incident_xy_m(incidents: pd.DataFrame) -> np.ndarray:
    """Easting/northing (n, 2) in EPSG:27700 metres of incidents.

    Uses the schema's ``easting``/``northing`` columns when present, else the
    point geometry of a GeoDataFrame in a projected CRS (converted to
    EPSG:27700).

    Raises
    ------
    ValueError
        No coordinates, a geographic or missing CRS, or non-finite values.
    """
    if {"easting", "northing"} <= set(incidents.columns):
        xy = np.column_stack(
            [
                incidents["easting"].to_numpy(dtype="float64"),
                incidents["northing"].to_numpy(dtype="float64"),
            ]
        )
    elif isinstance(incidents, gpd.GeoDataFrame):
        crs = incidents.crs
        if crs is None or crs.is_geographic:
            raise ValueError("incidents need easting/northing or a projected CRS (EPSG:27700)")
        geom = incidents.geometry if crs.equals(_BNG_CRS) else incidents.geometry.to_crs(BNG)
        xy = shapely.get_coordinates(geom.values)
        if len(xy) != len(incidents):
            raise ValueError("incident geometry must be one point per row")
    else:
        raise ValueError("incidents need easting/northing columns (metres, EPSG:27700)")
    if not np.isfinite(xy).all():
        raise ValueError("incidents have missing or non-finite easting/northing")
    return xy


def bin_points(grid: CellGrid, xy_m: np.ndarray, weights: np.ndarray | None = None) -> CellSums:
    """Sum point weights per grid cell (points off the grid are dropped).

    Parameters
    ----------
    grid : CellGrid
    xy_m : ndarray, shape (n, 2)
        Points in metres.
    weights : ndarray, shape (n,), optional
        Non-negative weight per point (default 1).

    Returns
    -------
    CellSums
    """
    xy = np.asarray(xy_m, dtype="float64").reshape(-1, 2)
    w = np.ones(len(xy)) if weights is None else np.asarray(weights, dtype="float64")
    cell = grid.cell_of(xy)
    on = cell >= 0
    cells, inverse = np.unique(cell[on], return_inverse=True)
    k = len(cells)
    wx, xy_on = w[on], xy[on]
    total = np.bincount(inverse, weights=wx, minlength=k)
    count = np.bincount(inverse, minlength=k).astype("int64")
    # centroid weights: the point weights, or 1 each in a cell whose weights sum to 0
    cw = np.where((total > 0)[inverse], wx, 1.0)
    norm = np.bincount(inverse, weights=cw, minlength=k)
    centroid = np.column_stack(
        [np.bincount(inverse, weights=cw * xy_on[:, j], minlength=k) / norm for j in (0, 1)]
    )
    return CellSums(cells.astype("int64"), total, count, centroid)


def points_in_polygons(polys: np.ndarray, xy_m: np.ndarray) -> list[np.ndarray]:
    """Row positions of the points inside or on the edge of each polygon, ascending.

    Same points as ``shapely.STRtree(shapely.points(xy_m)).query(polys,
    predicate="intersects")``, without building a point per row: the points
    are sorted by x once, and each polygon tests only the points in its
    bounding box (``shapely.intersects_xy``).

    Parameters
    ----------
    polys : ndarray of shapely geometries
        Polygons (same CRS as ``xy_m``). They get prepared (a cache; their
        value is unchanged).
    xy_m : ndarray, shape (n, 2)
        Point coordinates.

    Returns
    -------
    list of ndarray of int64
        One array per polygon: positions in ``xy_m``, in ascending order.
    """
    polys = np.asarray(polys, dtype=object)
    xy_m = np.asarray(xy_m, dtype="float64").reshape(-1, 2)
    empty = np.empty(0, dtype="int64")
    if len(xy_m) == 0 or len(polys) == 0:
        return [empty] * len(polys)
    order = np.argsort(xy_m[:, 0], kind="stable")
    sx, sy = xy_m[order, 0], xy_m[order, 1]
    bounds = np.asarray(shapely.bounds(polys), dtype="float64").reshape(-1, 4)
    shapely.prepare(polys)
    lo = np.searchsorted(sx, bounds[:, 0], side="left")
    hi = np.searchsorted(sx, bounds[:, 2], side="right")
    out = []
    for i in range(len(polys)):  # one cheap step per polygon, not per point
        if not hi[i] > lo[i]:  # also NaN bounds (empty or missing geometry)
            out.append(empty)
            continue
        x, y = sx[lo[i] : hi[i]], sy[lo[i] : hi[i]]
        band = np.flatnonzero((y >= bounds[i, 1]) & (y <= bounds[i, 3]))
        hit = band[shapely.intersects_xy(polys[i], x[band], y[band])]
        out.append(np.sort(order[lo[i] + hit]).astype("int64", copy=False))
    return out


def study_region(
    xy_m: np.ndarray,
    *,
    buffer_m: float,
    areas: ForceAreas | None = None,
    forces: Collection[str] | None = None,
    present_forces: Collection[str] | None = None,
) -> shapely.Geometry:
    """The region an analysis is measured against (EPSG:27700 polygon).

    Parameters
    ----------
    xy_m : ndarray, shape (n, 2)
        Incident positions in metres (used without ``areas``).
    buffer_m : float
        Without ``areas``: the convex hull of the points grown by this many
        metres (a lone point gives a disc).
    areas : ForceAreas, optional
        Force boundaries. With them the region is the union of the force
        areas named in ``forces``; without ``forces``, of the areas named in
        ``present_forces`` (usually the incidents' ``force`` values); if none
        of those names is in ``areas``, of every area in the file.
    forces, present_forces : collection of str, optional
        Force names (exact match on ``areas.gdf["force"]``).

    Returns
    -------
    shapely Geometry
        Polygonal (empty when there are no points and no areas).
    """
    if areas is not None:
        gdf = (
            areas.gdf
            if areas.gdf.crs is None or areas.gdf.crs.equals(_BNG_CRS)
            else (areas.gdf.to_crs(BNG))
        )
        names = gdf["force"].astype(str)
        wanted = set(forces) if forces is not None else set(present_forces or ())
        pick = names.isin(wanted).to_numpy()
        if forces is None and not pick.any():
            pick = np.ones(len(gdf), dtype=bool)
        return shapely.union_all(gdf.geometry.values[pick])
    buffer = _check_positive(buffer_m, "buffer_m")
    xy = np.asarray(xy_m, dtype="float64").reshape(-1, 2)
    if len(xy) == 0:
        return shapely.Polygon()
    hull = shapely.convex_hull(shapely.multipoints(xy))
    return shapely.buffer(hull, buffer)

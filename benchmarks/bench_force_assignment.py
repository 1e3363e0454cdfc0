"""Benchmark: points per second for assigning points to police force areas.

Usage::

    HAREWATCH_BOUNDARIES=/path/to/police_force_areas.geojson \\
        python benchmarks/bench_force_assignment.py [--n 1000000] [--repeat 3]

Prints points/s (best of ``--repeat``) for ``geo.areas.assign_force`` on
seeded uniform random points over the areas' bounding box (EPSG:27700), the
one-off cost of building its grid index, the plain prefiltered
``shapely.contains_xy`` loop it replaced, and ``geopandas.sjoin`` for
comparison. Also checks that all three agree.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from geo.areas import ForceAreas, _index_for, assign_force
from geo.io.boundaries import read_boundaries, resolve_boundaries_path

__all__ = ["main"]


def _best_of(fn: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """Fastest wall time (seconds) of ``repeat`` calls, and the last result."""
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _plain(areas: ForceAreas, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The previous implementation: bbox prefilter + contains_xy per area."""
    out = np.full(x.shape, -1, dtype=np.int32)
    for i, geom in enumerate(areas.gdf.geometry.values):
        xmin, ymin, xmax, ymax = geom.bounds
        cand = np.flatnonzero((out == -1) & (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        if cand.size:
            out[cand[shapely.contains_xy(geom, x[cand], y[cand])]] = i
    return out


def _sjoin(areas: ForceAreas, pts: gpd.GeoDataFrame) -> np.ndarray:
    """First covering area per point via geopandas.sjoin (predicate 'intersects').

    Areas on the left, points on the right: sjoin builds its STRtree on the
    points and tests each (prepared) area against them, the fast orientation
    (points-left/areas-right tests every point against an unprepared polygon
    and is about 100x slower here).
    """
    joined = gpd.sjoin(areas.gdf[["geometry"]], pts, how="inner", predicate="intersects")
    first = joined.reset_index(names="area").groupby("index_right")["area"].min()
    out = np.full(len(pts), -1, dtype=np.int32)
    out[first.index.to_numpy()] = first.to_numpy()
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of points")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per method (best is printed)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-sjoin", action="store_true", help="skip the geopandas.sjoin comparison")
    args = ap.parse_args(argv)

    path = resolve_boundaries_path()
    areas = read_boundaries(path)
    xmin, ymin, xmax, ymax = areas.gdf.total_bounds
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(xmin, xmax, args.n)
    y = rng.uniform(ymin, ymax, args.n)
    print(f"boundaries: {path} ({len(areas.gdf)} areas)")
    print(f"points: {args.n:,} uniform over {xmax - xmin:,.0f} m x {ymax - ymin:,.0f} m, seed {args.seed}")

    t0 = time.perf_counter()
    index = _index_for(areas)
    build_s = time.perf_counter() - t0
    n_mixed = int((index.lut <= -2).sum())
    print(
        f"index build (once per ForceAreas): {build_s * 1e3:8.1f} ms  "
        f"grid {index.nx} x {index.ny}, cell {1 / index.inv_cell:.0f} m, "
        f"{n_mixed / index.lut.size:.1%} cells need an exact test"
    )

    t_fast, fast = _best_of(lambda: assign_force(areas, x, y), args.repeat)
    print(f"assign_force (grid index):         {args.n / t_fast / 1e6:8.2f} M points/s  ({t_fast * 1e3:.1f} ms)")
    t_plain, plain = _best_of(lambda: _plain(areas, x, y), args.repeat)
    print(f"plain prefiltered contains_xy:     {args.n / t_plain / 1e6:8.2f} M points/s  ({t_plain * 1e3:.1f} ms)")
    agree = bool(np.array_equal(fast, plain))
    if not args.no_sjoin:
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=areas.gdf.crs)
        t_sj, sj = _best_of(lambda: _sjoin(areas, pts), args.repeat)
        print(f"geopandas.sjoin (intersects):      {args.n / t_sj / 1e6:8.2f} M points/s  ({t_sj * 1e3:.1f} ms)")
        agree = agree and bool(np.array_equal(fast, sj))
    print(f"results identical: {agree}")


if __name__ == "__main__":
    main()

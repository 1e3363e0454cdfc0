"""Map payload and build time with N synthetic incidents (default 100,000).

Prints the rendered HTML size (what the browser receives, before gzip), the
script streamlit-folium sends, and the build/render times. Target: payload
under 3 MB with 100,000 incidents in the store.

    .venv/bin/python benchmarks/bench_map_payload.py [--n 100000] [--boundaries FILE]
"""

from __future__ import annotations

import argparse
import gzip
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.maps import MapLayers, build_map
from geo.areas import ATTRIBUTION, display_boundaries
from geo.io.boundaries import read_boundaries, resolve_boundaries_path
from geo.schema import BNG, INCIDENT_COLUMNS


def synthetic_incidents(areas, n: int, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` incidents: 70 % around 40 hotspot centres, 30 % uniform, inside the seven forces."""
    rng = np.random.default_rng(seed)
    union = areas.seven.geometry.union_all()
    shapely.prepare(union)
    xmin, ymin, xmax, ymax = union.bounds
    out_x, out_y, have = [], [], 0
    centres = np.column_stack([rng.uniform(xmin, xmax, 400), rng.uniform(ymin, ymax, 400)])
    centres = centres[shapely.contains_xy(union, centres[:, 0], centres[:, 1])][:40]
    while have < n:
        k = 2 * n
        near = rng.random(k) < 0.7
        c = centres[rng.integers(0, len(centres), k)]
        x = np.where(near, c[:, 0] + rng.normal(0, 2500, k), rng.uniform(xmin, xmax, k))
        y = np.where(near, c[:, 1] + rng.normal(0, 2500, k), rng.uniform(ymin, ymax, k))
        ok = shapely.contains_xy(union, x, y)
        out_x.append(x[ok])
        out_y.append(y[ok])
        have += int(ok.sum())
    x, y = np.concatenate(out_x)[:n], np.concatenate(out_y)[:n]
    df = pd.DataFrame(
        {
            "incident_id": np.char.add("INC", np.arange(n).astype(str)),
            "occurred_at": pd.Timestamp("2023-09-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min"),
            "easting": x,
            "northing": y,
            "force": "Norfolk",
            "force_code": "E23000024",
            "in_agreement": True,
            "reported_force": "",
            "force_mismatch": False,
            "vrms": "AB12CDE",
            "nominals": "N1234567",
            "dogs": "2",
            "outcome": "advice",
            "notes": "seen near the A47 heading east with two lurchers",
            "source_row": np.arange(1, n + 1),
        }
    )
    return gpd.GeoDataFrame(df[INCIDENT_COLUMNS], geometry=gpd.points_from_xy(x, y), crs=BNG)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--boundaries", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    areas = read_boundaries(resolve_boundaries_path(args.boundaries))
    t = time.perf_counter()
    bounds = display_boundaries(areas)
    print(f"display_boundaries (100 m): {time.perf_counter() - t:.3f} s")
    inc = synthetic_incidents(areas, args.n)
    print(f"incidents: {len(inc):,}")
    for label, kw in [
        ("default (aggregated above max_markers)", {}),
        ("briefing + masked", {"briefing": True, "redact": True}),
    ]:
        builds, renders = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            m = build_map(
                MapLayers(boundaries=bounds, incidents=inc, attribution=ATTRIBUTION), **kw
            )
            t1 = time.perf_counter()
            html = m.get_root().render()
            t2 = time.perf_counter()
            builds.append(t1 - t0)
            renders.append(t2 - t1)
        size = len(html.encode("utf-8"))
        gz = len(gzip.compress(html.encode("utf-8"), 6))
        print(
            f"{label}: HTML {size / 1e6:.2f} MB ({gz / 1e6:.2f} MB gzipped), "
            f"build {builds[0]:.2f} s first / {min(builds):.2f} s best, render {min(renders):.2f} s "
            f"(of {args.repeat}); "
            f"{'OK' if size < 3_000_000 else 'OVER'} vs 3 MB"
        )
    for n_small in (1_000, 5_000):
        m = build_map(
            MapLayers(boundaries=bounds, incidents=inc.iloc[:n_small], attribution=ATTRIBUTION)
        )
        html = m.get_root().render()
        print(
            f"{n_small:,} incidents (one marker + popup each): HTML {len(html.encode()) / 1e6:.2f} MB"
        )
    bare = build_map(MapLayers(boundaries=bounds, attribution=ATTRIBUTION)).get_root().render()
    print(f"boundaries only: HTML {len(bare.encode()) / 1e6:.3f} MB")


if __name__ == "__main__":
    main()

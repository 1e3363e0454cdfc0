"""Benchmark: DBSCAN hotspots on seeded synthetic incidents (prints figures, asserts nothing).

Usage::

    .venv/bin/python benchmarks/bench_hotspots.py            # 100k and 1M
    .venv/bin/python benchmarks/bench_hotspots.py --sizes 100000 --no-sklearn

Incidents: 200 gaussian clusters (sigma 800 m, pareto-distributed sizes) with
centres spread over East Anglia plus uniform noise (0.3 per km2), EPSG:27700,
times spread over one season. ``find_hotspots`` and the bare ``dbscan`` call
are timed interleaved in one subprocess per size (best of ``--repeat``), so the
ratio is fair on a busy machine; each subprocess has its own peak resident
memory (``ru_maxrss``). Parameters are the CLI defaults
(``eps_m=1500``, ``min_samples=6``). Targets: full ``find_hotspots`` <= 1.5x
the bare ``dbscan`` call at 100k; 1M in < 5 s and < 2 GB peak.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["make_incidents", "main"]

EPS_M = 1500.0
MIN_SAMPLES = 6
REGION = (480_000.0, 150_000.0, 650_000.0, 340_000.0)  # xmin, ymin, xmax, ymax (m)


def make_xy(
    n: int,
    *,
    seed: int = 0,
    n_clusters: int = 200,
    sigma_m: float = 800.0,
    noise_per_km2: float = 0.3,
):
    """Seeded clustered coordinates (n, 2) in EPSG:27700 metres.

    Uniform noise has a fixed density (default 0.3 incidents per km2, about
    2 within 1.5 km: below ``min_samples``), so it stays noise at any ``n``
    instead of merging the whole region into one cluster.
    """
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = REGION
    n_noise = min(n // 2, int(noise_per_km2 * (xmax - xmin) * (ymax - ymin) / 1e6))
    centres = np.column_stack(
        [rng.uniform(xmin, xmax, n_clusters), rng.uniform(ymin, ymax, n_clusters)]
    )
    weights = rng.pareto(1.5, n_clusters) + 1.0  # a few big hotspots, many small
    which = rng.choice(n_clusters, size=n - n_noise, p=weights / weights.sum())
    clustered = centres[which] + rng.normal(scale=sigma_m, size=(n - n_noise, 2))
    scattered = np.column_stack(
        [rng.uniform(xmin, xmax, n_noise), rng.uniform(ymin, ymax, n_noise)]
    )
    xy = np.vstack([clustered, scattered])
    return xy[rng.permutation(n)]


def make_incidents(n: int, *, seed: int = 0, areas=None):
    """Seeded synthetic incidents GeoDataFrame (INCIDENT_COLUMNS + geometry, EPSG:27700)."""
    import geopandas as gpd
    import pandas as pd

    from geo.areas import assign_force
    from geo.schema import BNG, INCIDENT_COLUMNS

    rng = np.random.default_rng(seed + 1)
    xy = make_xy(n, seed=seed)
    start = pd.Timestamp("2021-08-31 23:00", tz="UTC")
    times = start + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    if areas is not None:
        idx = assign_force(areas, xy[:, 0], xy[:, 1])
        names = areas.gdf["force"].to_numpy(dtype=object)
        force = np.where(idx >= 0, names[np.maximum(idx, 0)], "")
    else:
        force = np.full(n, "Cambridgeshire", dtype=object)
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series(np.arange(n)).map("INC{:07d}".format),
            "occurred_at": times,
            "easting": xy[:, 0],
            "northing": xy[:, 1],
            "force": force,
            "force_code": "",
            "in_agreement": True,
            "reported_force": "",
            "force_mismatch": False,
            "vrms": "",
            "nominals": "",
            "dogs": "",
            "outcome": "",
            "notes": "",
            "source_row": np.arange(1, n + 1),
        }
    )[INCIDENT_COLUMNS]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _worker(mode: str, n: int, seed: int, repeat: int) -> dict:
    """Measurements in this process.

    ``pair``: find_hotspots and the bare ``dbscan`` call on the same
    coordinates, interleaved ``repeat`` times (best of each), so that both see
    the same machine load; peak RSS is taken after the first full run.
    ``sklearn``: scikit-learn's DBSCAN once.
    """
    out: dict = {"mode": mode, "n": n, "loadavg_1min": os.getloadavg()[0]}
    if mode == "pair":
        import dbscan

        from geo.errors import BoundariesNotFound
        from geo.hotspots import find_hotspots
        from geo.io.boundaries import read_boundaries, resolve_boundaries_path

        try:  # $HAREWATCH_BOUNDARIES or data/boundaries; without them, no areas
            areas = read_boundaries(resolve_boundaries_path())
        except BoundariesNotFound:
            areas = None
        incidents = make_incidents(n, seed=seed, areas=areas)
        xy = np.column_stack([incidents["easting"].to_numpy(), incidents["northing"].to_numpy()])
        warm = make_incidents(5_000, seed=seed + 1)
        find_hotspots(warm, areas=areas)  # warm-up (PROJ, imports, thread pool)
        dbscan.DBSCAN(xy[:5_000], eps=EPS_M, min_samples=MIN_SAMPLES)
        out["rss_before_mb"] = _rss_mb()
        full, bare = [], []
        for i in range(repeat):
            t0 = time.perf_counter()
            result = find_hotspots(incidents, eps_m=EPS_M, min_samples=MIN_SAMPLES, areas=areas)
            full.append(time.perf_counter() - t0)
            if i == 0:
                out["peak_rss_mb"] = _rss_mb()
                out["hotspots"] = len(result.hotspots)
                out["noise"] = result.noise
            del result
            t0 = time.perf_counter()
            dbscan.DBSCAN(xy, eps=EPS_M, min_samples=MIN_SAMPLES)
            bare.append(time.perf_counter() - t0)
        out["full_s"], out["bare_s"] = min(full), min(bare)
        out["with_areas"] = areas is not None
    else:
        from sklearn.cluster import DBSCAN

        xy = make_xy(n, seed=seed)
        DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit(xy[:5_000])
        t0 = time.perf_counter()
        DBSCAN(eps=EPS_M, min_samples=MIN_SAMPLES).fit(xy)
        out["seconds"] = time.perf_counter() - t0
        out["peak_rss_mb"] = _rss_mb()
    return out


def _run(mode: str, n: int, seed: int, repeat: int) -> dict:
    """Run one worker in a fresh subprocess (its own peak memory)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", mode]
    cmd += ["--n", str(n), "--seed", str(seed), "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Print bare DBSCAN, full find_hotspots and sklearn timings."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (best time kept)")
    p.add_argument("--no-sklearn", action="store_true", help="skip the sklearn reference")
    p.add_argument("--worker", choices=["pair", "sklearn"], help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.n, args.seed, args.repeat)))
        return

    print(f"eps_m={EPS_M:g} min_samples={MIN_SAMPLES} seed={args.seed} (best of {args.repeat})")
    print(f"machine: {os.cpu_count()} CPUs, 1-min load average now {os.getloadavg()[0]:.1f}")
    for n in args.sizes:
        res = _run("pair", n, args.seed, args.repeat)
        ratio = res["full_s"] / res["bare_s"]
        print(
            f"\nn = {n:,}  ({res['hotspots']} hotspots, {res['noise']:,} noise, "
            f"areas={res['with_areas']}, load average {res['loadavg_1min']:.1f})"
        )
        print(f"  dbscan package (bare call) : {res['bare_s']:7.3f} s")
        print(
            f"  find_hotspots (full)       : {res['full_s']:7.3f} s   ratio {ratio:4.2f}x "
            "(target <= 1.5x at 100k)"
        )
        print(
            f"  find_hotspots peak RSS     : {res['peak_rss_mb']:7.0f} MB "
            f"(data alone {res['rss_before_mb']:.0f} MB; target < 2048 MB at 1M)"
        )
        if n >= 1_000_000:
            status = "OK" if res["full_s"] < 5 else "MISSED"
            print(f"  1M target < 5 s            : {status}")
        if not args.no_sklearn and n <= 200_000:
            sk = _run("sklearn", n, args.seed, 1)
            print(
                f"  sklearn DBSCAN (reference) : {sk['seconds']:7.3f} s   "
                f"({sk['seconds'] / res['bare_s']:.1f}x the dbscan package; "
                f"peak {sk['peak_rss_mb']:.0f} MB)"
            )


if __name__ == "__main__":
    main()

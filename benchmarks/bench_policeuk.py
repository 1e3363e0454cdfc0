"""Benchmark: validating a 1M-row data.police.uk street file, against its bare peer.

The peer does the least any tool must: a pyarrow CSV read of the same file,
longitude/latitude to British National Grid with pyproj, and a vectorised
point-in-polygon of every point against the boundary file's forces
(``shapely.contains_xy``). Harewatch does all of that plus layout and alias
detection, month precision, content ids for ASB rows, duplicate checks,
coastal nearest force, reporting-force comparison and the reject reasons.

Each side runs in its own fresh process (imports and the boundary file read
are excluded from both), in paired alternating runs; the ratio is the median
of the per-pair ratios.

Usage::

    .venv/bin/python benchmarks/bench_policeuk.py [--rows 1000000] [--pairs 3]

Target (issue 11): ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ONS = Path(__file__).resolve().parents[1] / "data" / "boundaries" / \
    "Police_Force_Areas_December_2023_EW_BUC.geojson"

PEER = r"""
import json, sys, time
import geopandas as gpd, numpy as np, pyarrow.csv as pacsv, shapely
from pyproj import Transformer
forces = gpd.read_file(sys.argv[1]).to_crs(27700)
geoms = forces.geometry.to_numpy()
for g in geoms: shapely.prepare(g)
t0 = time.perf_counter()
table = pacsv.read_csv(sys.argv[2])
lon = table.column("Longitude").to_numpy(zero_copy_only=False)
lat = table.column("Latitude").to_numpy(zero_copy_only=False)
e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
force = np.full(len(e), -1)
for i, g in enumerate(geoms):
    force[(force < 0) & shapely.contains_xy(g, e, n)] = i
print(json.dumps({"seconds": time.perf_counter() - t0, "located": int((force >= 0).sum())}))
"""

HAREWATCH = r"""
import json, sys, time
from geo.io.boundaries import read_boundaries
from geo.pipeline.ingest import check_file
areas = read_boundaries(sys.argv[1])
check_file(sys.argv[3], areas)  # warm the force index and imports on a tiny file
t0 = time.perf_counter()
check = check_file(sys.argv[2], areas)
r = check.result
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": r.rows, "accepted": r.n_accepted,
                  "rejected": r.n_rejected, "read_as": check.read_as,
                  "in_own_force": float((r.accepted["force"] == "Essex").mean())}))
"""

HEADER = ("Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
          "Crime type,Last outcome category,Context\n")
TYPES = ["Anti-social behaviour", "Violence and sexual offences", "Criminal damage and arson",
         "Other theft", "Burglary", "Vehicle crime", "Other crime", "Public order"]


def make_street_file(path: Path, rows: int, seed: int = 0) -> None:
    """Essex-like rows: ~30 % ASB (no id), monthly, snap points inland, 1 % without location."""
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 20_000, rows)  # snap points repeat, as on data.police.uk
    lon = np.round(0.30 + (points % 200) * 0.003, 6)
    lat = np.round(51.60 + (points // 200) * 0.0025, 6)
    months = rng.integers(0, 36, rows)
    kind = rng.choice(len(TYPES), rows, p=[0.3, 0.25, 0.1, 0.1, 0.08, 0.07, 0.05, 0.05])
    lines = [HEADER]
    for i in range(rows):
        crime_id = "" if kind[i] == 0 else hashlib.sha256(str(i).encode()).hexdigest()
        month = f"{2019 + (months[i] + 8) // 12}-{(months[i] + 8) % 12 + 1:02d}"
        where = (f"{lon[i]},{lat[i]},On or near Road {points[i]},E0102{points[i] % 10000:04d},"
                 f"Area {points[i] % 400:03d}A") if i % 100 else ",,No Location,,"
        outcome = "" if kind[i] == 0 else "Under investigation"
        lines.append(f"{crime_id},{month},Essex Police,Essex Police,{where},{TYPES[kind[i]]},"
                     f"{outcome},\n")
    path.write_text("".join(lines), encoding="utf-8")


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big, small = Path(tmp) / "street.csv", Path(tmp) / "small.csv"
        make_street_file(big, args.rows)
        make_street_file(small, 50, seed=1)
        print(f"{args.rows:,} rows, {big.stat().st_size / 1e6:.0f} MB")
        ratios = []
        for k in range(args.pairs):
            order = [("peer", PEER), ("harewatch", HAREWATCH)]
            got = {name: run(code, str(ONS), str(big), str(small))
                   for name, code in (order if k % 2 == 0 else order[::-1])}
            ratios.append(got["harewatch"]["seconds"] / got["peer"]["seconds"])
            print(f"pair {k + 1}: peer {got['peer']['seconds']:.2f} s, harewatch "
                  f"{got['harewatch']['seconds']:.2f} s, ratio {ratios[-1]:.2f}  "
                  f"({got['harewatch']['accepted']:,} accepted, {got['harewatch']['rejected']:,} "
                  f"rejected, {got['harewatch']['in_own_force']:.1%} in Essex; "
                  f"{got['harewatch']['read_as']})")
        print(f"median ratio harewatch / peer: {statistics.median(ratios):.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()

"""Benchmark: read CSV -> validate -> ingest to GeoParquet for N ANPR reads.

Generates a seeded ANPR CSV (vrm, read_at ISO 8601, lat, lon, camera_id) of
points inside the seven forces into a temporary directory, then runs the
whole pipeline in a child process and prints rows/s and the child's peak
resident memory (``ru_maxrss`` of the child, which includes Arrow buffers).

Usage::

    HAREWATCH_BOUNDARIES=... .venv/bin/python benchmarks/bench_ingest.py [--rows 1000000]

Targets: >= 500,000 rows/s, peak < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from geo.io.boundaries import read_boundaries
from geo.io.readers import read_table
from geo.validate.sightings import validate_sightings
from geo.io.store import ingest
areas = read_boundaries(sys.argv[1])
t1 = time.perf_counter()
c1 = time.process_time()
raw = read_table(sys.argv[2])
t2 = time.perf_counter()
res = validate_sightings(raw, areas)
t3 = time.perf_counter()
rep = ingest(res, sys.argv[3])
t4 = time.perf_counter()
c4 = time.process_time()
again = {}
if len(sys.argv) > 4:
    t5 = time.perf_counter()
    rep2 = ingest(res, sys.argv[3])
    again = {"reingest_s": time.perf_counter() - t5, "already": rep2.rows_already_stored,
             "added_again": rep2.rows_added}
print(json.dumps({**again, "rows": res.rows, "accepted": res.n_accepted, "rejected": res.n_rejected,
                  "added": rep.rows_added, "read_s": t2 - t1, "validate_s": t3 - t2,
                  "ingest_s": t4 - t3, "total_s": t4 - t1, "cpu_s": c4 - c1,
                  "reasons": res.rejects["reason"].str.split(" [(]").str[0].value_counts()
                  .head(5).to_dict()}))
"""


def make_csv(path: Path, rows: int, boundaries: str, seed: int = 0) -> None:
    """Write ``rows`` seeded ANPR reads inside the seven forces to ``path``."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    from geo.areas import assign_force
    from geo.io.boundaries import read_boundaries

    rng = np.random.default_rng(seed)
    areas = read_boundaries(boundaries)
    seven = areas.seven
    xmin, ymin, xmax, ymax = seven.total_bounds
    # 2,000 cameras inside the seven forces
    cams_e = rng.uniform(xmin, xmax, 20_000)
    cams_n = rng.uniform(ymin, ymax, 20_000)
    idx = assign_force(areas, cams_e, cams_n)
    inside = np.flatnonzero((idx >= 0) & areas.gdf["in_agreement"].to_numpy()[np.maximum(idx, 0)])
    cams = inside[:2_000]
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        cams_e[cams], cams_n[cams])
    which = rng.integers(0, len(cams), rows)
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUVWXYZ"))
    plates = (pd.Series(letters[rng.integers(0, 24, rows)]) + letters[rng.integers(0, 24, rows)]
              + pd.Series(rng.integers(10, 99, rows)).astype(str) + " "
              + letters[rng.integers(0, 24, rows)] + letters[rng.integers(0, 24, rows)]
              + letters[rng.integers(0, 24, rows)])
    start = np.datetime64("2021-09-01T00:00:00")
    secs = np.sort(rng.integers(0, 180 * 86400, rows))
    times = pd.Series(start + secs.astype("timedelta64[s]")).dt.strftime("%Y-%m-%dT%H:%M:%S")
    table = pa.table({
        "vrm": pa.array(plates.to_numpy(dtype=object), pa.string()),
        "read_at": pa.array(times.to_numpy(dtype=object), pa.string()),
        "lat": pa.array(np.round(lat[which], 6)),
        "lon": pa.array(np.round(lon[which], 6)),
        "camera_id": pa.array((pd.Series(cams[which]).astype(str).radd("CAM")).to_numpy(
            dtype=object), pa.string()),
    })
    pacsv.write_csv(table, path)


def main(argv: list[str] | None = None) -> None:
    """Generate the file, run the pipeline in a child process, print figures."""
    import os

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--boundaries", default=os.environ.get("HAREWATCH_BOUNDARIES"))
    ap.add_argument("--reingest", action="store_true",
                    help="ingest the same result a second time (idempotency cost)")
    args = ap.parse_args(argv)
    if not args.boundaries:
        sys.exit("set HAREWATCH_BOUNDARIES or pass --boundaries")
    with tempfile.TemporaryDirectory(prefix="harewatch-bench-") as tmp:
        csv_path = Path(tmp) / "reads.csv"
        t = time.perf_counter()
        make_csv(csv_path, args.rows, args.boundaries, args.seed)
        print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - t:.1f} s")
        wall = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, args.boundaries, str(csv_path), str(Path(tmp) / "store"),
             *(["reingest"] if args.reingest else [])],
            check=True, capture_output=True, text=True,
        )
        wall = time.perf_counter() - wall
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    rate = figures["rows"] / figures["total_s"]
    print(f"rows {figures['rows']:,}  accepted {figures['accepted']:,}  "
          f"rejected {figures['rejected']:,}  stored {figures['added']:,}")
    print(f"read {figures['read_s']:.2f} s  validate {figures['validate_s']:.2f} s  "
          f"ingest {figures['ingest_s']:.2f} s  total {figures['total_s']:.2f} s "
          f"(child wall incl. imports {wall:.2f} s)")
    if "reingest_s" in figures:
        print(f"re-ingest of the same rows: {figures['reingest_s']:.2f} s, added "
              f"{figures['added_again']:,}, already stored {figures['already']:,}")
    if figures["reasons"]:
        print(f"reject reasons: {figures['reasons']}")
    print(f"throughput {rate:,.0f} rows/s wall (target >= 500,000); CPU time "
          f"{figures['cpu_s']:.2f} s all threads; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"peak RSS of child {peak_kb / 1024:,.0f} MiB (target < 2048)")


if __name__ == "__main__":
    main()

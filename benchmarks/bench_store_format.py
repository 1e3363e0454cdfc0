"""Benchmark: the 0.2.0 store (GeoParquet files renamed into hive folders) vs the Delta Lake store.

The same seeded ANPR reads (default 1,000,000 reads of 20,000 plates over two
seasons, 16 plate buckets) go through both stores, each measured in a fresh
subprocess running that version's own code: the 0.2.0 code is exported from
git (``--baseline-rev``, default the commit the Delta store replaced) into a
temporary folder and put first on ``PYTHONPATH``; the Delta store is this
checkout. Printed per store:

* ``ingest``: one validated batch of all reads into an empty store (the
  store step only; validation is the same code in both), rows/s;
* ``re-ingest``: the same batch again (every read already stored: the
  duplicate check), rows/s;
* ``list``: ``sightings_paths(store)`` (the Delta store also checks every
  file's SHA-256 here, once per process; the second call is cached);
* ``full scan``: ``crossings_from_parquet(sightings_paths(store))``, every plate;
* ``pruned scan``: season 2021-22 and 5 plates (month and bucket pruning);
* ``read_sightings``: the whole table into a GeoDataFrame;
* ``small batches``: the same reads in time order as 20 ingests of 50,000
  (a watcher's feed), rows/s, files; then the full scan on those files,
  compaction, and the full scan again.

Both stores must give identical crossings (checked). Usage::

    .venv/bin/python benchmarks/bench_store_format.py [--reads 1000000] [--plates 20000]
        [--baseline-rev aa1d8b3] [--batches 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]

#: The last commit with the 0.2.0 store layout (the Delta store replaced it).
BASELINE_REV = "aa1d8b3"

# force, rough centre (m, EPSG:27700), in the agreement
_FORCES = [("Norfolk", (610000, 310000), True), ("Suffolk", (610000, 255000), True),
           ("Essex", (570000, 210000), True), ("Cambridgeshire", (530000, 280000), True),
           ("Lincolnshire", (510000, 370000), False)]

CHILD = r"""
import inspect, json, sys, time
import geopandas as gpd, pandas as pd
from geo.engines.duckdb import crossings_from_parquet
from geo.io.store.read import read_sightings, sightings_paths
from geo.io.store.write import ingest
from geo.validate.common import ValidationResult
import geo.io.store.maintain as maintain

reads_path, store, small_store, out, batches = sys.argv[1:6]
batches = int(batches)
frame = pd.read_parquet(reads_path)
gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["easting"], frame["northing"]),
                       crs="EPSG:27700")
empty = pd.DataFrame({"row": pd.Series([], dtype="int64"), "id": [], "reason": []})
def result(part):
    return ValidationResult(kind="sightings", accepted=part, rejects=empty, rows=len(part))
def timed(fn):
    t = time.perf_counter(); value = fn(); return value, time.perf_counter() - t
n = len(gdf)
fig = {"rows": n}
rep, fig["ingest_s"] = timed(lambda: ingest(result(gdf), store))
assert rep.rows_added == n, rep
rep, fig["reingest_s"] = timed(lambda: ingest(result(gdf), store))
assert rep.rows_already_stored == n, rep
paths, fig["list_s"] = timed(lambda: sightings_paths(store))
_, fig["list_again_s"] = timed(lambda: sightings_paths(store))
if "verify" in inspect.signature(sightings_paths).parameters:
    _, fig["list_unverified_s"] = timed(lambda: sightings_paths(store, verify=False))
fig["files"], fig["bytes"] = len(paths), sum(p.stat().st_size for p in paths)
full = []
for _ in range(2):
    crossings, s = timed(lambda: crossings_from_parquet(sightings_paths(store), threads=2))
    full.append(s)
fig["full_scan_s"] = full
fig["crossings"] = len(crossings)
crossings.to_parquet(out + "-full.parquet")
plates = sorted(frame["vrm"].drop_duplicates().sample(5, random_state=1))
pruned = []
for _ in range(2):
    got, s = timed(lambda: crossings_from_parquet(
        sightings_paths(store, season="2021-22", plates=plates, margin_h=6.0), plates=plates,
        season="2021-22", threads=2))
    pruned.append(s)
fig["pruned_scan_s"], fig["pruned_files"] = pruned, len(
    sightings_paths(store, season="2021-22", plates=plates, margin_h=6.0))
got.to_parquet(out + "-pruned.parquet")
back, fig["read_sightings_s"] = timed(lambda: read_sightings(store))
assert len(back) == n
size = n // batches
feed = gdf.sort_values("read_at", kind="stable")
t = time.perf_counter()
for i in range(batches):
    ingest(result(feed.iloc[i * size:(i + 1) * size]), small_store)
fig["small_ingest_s"] = time.perf_counter() - t
fig["small_files"] = len(sightings_paths(small_store))
_, fig["small_full_scan_s"] = timed(
    lambda: crossings_from_parquet(sightings_paths(small_store), threads=2))
_, fig["compact_s"] = timed(lambda: maintain.compact_sightings(small_store))
fig["compacted_files"] = len(sightings_paths(small_store))
again, fig["compacted_full_scan_s"] = timed(
    lambda: crossings_from_parquet(sightings_paths(small_store), threads=2))
assert len(again) == len(crossings)
print(json.dumps(fig))
"""


def generate(path: Path, n_reads: int, n_plates: int, seed: int = 0) -> None:
    """Seeded reads over two seasons from September 2021, at night, in five forces."""
    rng = np.random.default_rng(seed)
    plates = np.array([f"BM{i:05d}X" for i in range(n_plates)], dtype=object)
    plate = rng.integers(0, n_plates, n_reads)
    start_us = pd.Timestamp("2021-09-01T00:00Z").value // 1000
    night = rng.integers(0, 600, n_reads)  # two seasons of nights
    at_us = start_us + ((night * 24 + 20) * 60 + rng.integers(0, 480, n_reads)) * 60_000_000
    force = rng.integers(0, len(_FORCES), n_reads)
    east = np.array([f[1][0] for f in _FORCES], dtype="float64")[force] + rng.normal(0, 3e3, n_reads)
    north = np.array([f[1][1] for f in _FORCES], dtype="float64")[force] + rng.normal(0, 3e3, n_reads)
    frame = pd.DataFrame({
        "vrm": pd.Series(plates[plate], dtype="str"),
        "read_at": pd.to_datetime(at_us, unit="us", utc=True),
        "easting": east.round(1), "northing": north.round(1),
        "force": pd.Series(np.array([f[0] for f in _FORCES], dtype=object)[force], dtype="str"),
        "force_code": pd.Series([""] * n_reads, dtype="str"),
        "in_agreement": np.array([f[2] for f in _FORCES])[force],
        "camera_id": pd.Series([f"CAM{c:03d}" for c in rng.integers(0, 400, n_reads)],
                               dtype="str"),
        "source_row": np.arange(1, n_reads + 1, dtype="int64"),
    }).drop_duplicates(["vrm", "read_at", "camera_id"])
    frame.to_parquet(path, index=False)


def export_baseline(rev: str, dest: Path) -> Path:
    """The ``geo`` package at ``rev`` (git archive) under ``dest``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "geo"], check=True,
                             capture_output=True).stdout
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def run(code_dir: Path, reads: Path, work: Path, label: str, batches: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(reads), str(work / f"{label}-store"),
         str(work / f"{label}-small"), str(work / label), str(batches)],
        env=env, cwd=work, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(label: str, f: dict) -> list[str]:
    n = f["rows"]
    rows = [
        f"{label}",
        f"  ingest {n:,} reads         {f['ingest_s']:7.2f} s  {n / f['ingest_s']:>10,.0f} rows/s",
        f"  re-ingest (all stored)    {f['reingest_s']:7.2f} s  {n / f['reingest_s']:>10,.0f} rows/s",
        f"  files / MB                {f['files']:>7,}    {f['bytes'] / 1e6:10.1f}",
        f"  list (verify) / again     {f['list_s']:7.2f} s  {f['list_again_s']:7.2f} s",
    ]
    if "list_unverified_s" in f:
        rows.append(f"  list, no hash check       {f['list_unverified_s']:7.2f} s")
    rows += [
        f"  full scan (2 runs)        {f['full_scan_s'][0]:7.2f} s  {f['full_scan_s'][1]:7.2f} s"
        f"  ({f['crossings']:,} crossings)",
        f"  pruned scan (2 runs)      {f['pruned_scan_s'][0]:7.2f} s  "
        f"{f['pruned_scan_s'][1]:7.2f} s  ({f['pruned_files']} files)",
        f"  read_sightings            {f['read_sightings_s']:7.2f} s",
        f"  small batches: ingest     {f['small_ingest_s']:7.2f} s  "
        f"{n / f['small_ingest_s']:>10,.0f} rows/s, {f['small_files']:,} files",
        f"    full scan               {f['small_full_scan_s']:7.2f} s",
        f"    compact                 {f['compact_s']:7.2f} s  -> {f['compacted_files']} files",
        f"    full scan after         {f['compacted_full_scan_s']:7.2f} s",
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reads", type=int, default=1_000_000)
    ap.add_argument("--plates", type=int, default=20_000)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="harewatch-bench-store-") as tmp:
        work = Path(tmp)
        reads = work / "reads.parquet"
        generate(reads, args.reads, args.plates)
        baseline = export_baseline(args.baseline_rev, work / "v020")
        figures = {"0.2.0 layout": run(baseline, reads, work, "v020", args.batches),
                   "Delta Lake": run(REPO, reads, work, "delta", args.batches)}
        for kind in ("full", "pruned"):
            a = pd.read_parquet(work / f"v020-{kind}.parquet")
            b = pd.read_parquet(work / f"delta-{kind}.parquet")
            pd.testing.assert_frame_equal(a, b)
    for label, f in figures.items():
        print("\n".join(_fmt(label, f)))
    print("crossings identical in both stores (full and pruned scans)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

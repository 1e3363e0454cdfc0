"""Benchmark: partial-plate search over 10 million ANPR reads (target: under 2 s).

The store (``<dir>/sightings/season=*/month=*/bucket=*/part-*.parquet``, the
partitioned layout of :mod:`geo.io.store`) is generated once with
:func:`bench_offenders.generate_store` (10M reads, 200,000 plates, two
seasons, 1,800 cameras) into ``--store`` (default
``/tmp/harewatch-bench-plates``) and reused by later runs; generation time
is printed but not part of the figures.

Queries: for seeded random reads of the store, the witness's partial plate
is made from the read's plate (first four characters and ``*``; two
characters hidden with ``?``; one character swapped for its misread
partner) and the search is centred 3 km and 40 minutes away from the read,
with the CLI defaults (20 km, 3 h); a fourth, "wide" kind gives only the
first two characters and ``*`` and searches 50 km and 24 h. Each query is timed with
:func:`geo.engines.plates.search_plates_store` (duckdb over the store,
files pruned to the London months of the window, a fresh connection per
query as the CLI makes it) and, after loading every read once, with
:func:`geo.casework.plates.search_plates` in memory; both must give the
same candidates and must find the read's plate. Usage::

    .venv/bin/python benchmarks/bench_plates.py [--reads 10000000] [--plates 200000]
        [--store /tmp/harewatch-bench-plates] [--queries 5] [--threads N] [--no-memory]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

_HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(_HERE.parent), str(_HERE)]  # this checkout's geo, then bench_offenders

__all__ = ["ensure_store", "queries", "main"]


def ensure_store(store: Path, n_reads: int, n_plates: int) -> dict:
    """Generate the store unless a complete one (``bench_plates.json`` marker) is there."""
    marker = store / "bench_plates.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        if info.get("reads") == n_reads and info.get("plates") == n_plates:
            return {**info, "generated_now": False}
        raise SystemExit(f"{store} holds another store ({info}); pass another --store")
    if store.exists() and any(store.iterdir()):
        raise SystemExit(f"{store} exists without {marker.name}; remove it or pass another --store")
    from bench_offenders import generate_store

    t = time.perf_counter()
    info = generate_store(store, n_reads=n_reads, n_plates=n_plates, n_incidents=20_000)
    info["generate_s"] = round(time.perf_counter() - t, 1)
    marker.write_text(json.dumps(info))
    return {**info, "generated_now": True}


def _swap_one(plate: str, rng: np.random.Generator) -> str | None:
    from geo.casework.plates import MISREADS

    pos = [i for i, c in enumerate(plate) if c in MISREADS]
    if not pos:
        return None
    i = int(rng.choice(pos))
    return plate[:i] + MISREADS[plate[i]] + plate[i + 1:]


def queries(store: Path, n: int, seed: int = 7) -> list[dict]:
    """Seeded queries made from random reads of the store (plate, pattern, place, time)."""
    from geo.io.store.read import sightings_paths

    rng = np.random.default_rng(seed)
    files = sightings_paths(store)
    out = []
    while len(out) < n:
        t = pq.read_table(files[int(rng.integers(0, len(files)))],
                          columns=["vrm", "read_at", "easting", "northing"])
        r = t.slice(int(rng.integers(0, t.num_rows)), 1).to_pylist()[0]
        plate = r["vrm"]
        hide = sorted(rng.choice(np.arange(1, len(plate)), 2, replace=False).tolist())
        hidden = "".join("?" if i in hide else c for i, c in enumerate(plate))
        kind = ["prefix", "hidden", "misread", "wide"][len(out) % 4]
        pattern = {"prefix": plate[:4] + "*", "hidden": hidden,
                   "misread": _swap_one(plate, rng), "wide": plate[:2] + "*"}[kind]
        if pattern is None:
            continue
        angle = rng.uniform(0, 2 * np.pi)
        out.append({"plate": plate, "kind": kind, "pattern": pattern,
                    "easting_m": r["easting"] + 3000 * np.cos(angle),
                    "northing_m": r["northing"] + 3000 * np.sin(angle),
                    "at_utc": pd.Timestamp(r["read_at"]) + pd.Timedelta(minutes=40),
                    "km": 50.0 if kind == "wide" else 20.0,
                    "hours": 24.0 if kind == "wide" else 3.0})
    return out


def _run(fn, q: dict, **kw) -> tuple[float, pd.DataFrame]:
    t = time.perf_counter()
    res = fn(pattern=q["pattern"], easting_m=q["easting_m"], northing_m=q["northing_m"],
             at_utc=q["at_utc"], km=q["km"], hours=q["hours"], **kw)
    return time.perf_counter() - t, res


def _store_runs(store: Path, qs: list[dict], threads: int | None) -> list[dict]:
    from geo.engines.plates import search_plates_store

    rows = []
    for q in qs:
        times, res = [], None
        for _ in range(3):  # first run cold (file metadata), then warm
            s, res = _run(lambda **k: search_plates_store(store, **k), q, threads=threads)
            times.append(s)
        rank = res.index[res["plate"] == q["plate"]].tolist()
        rows.append({"kind": q["kind"], "pattern": q["pattern"], "km": q["km"],
                     "hours": q["hours"], "first_s": round(times[0], 3),
                     "warm_median_s": round(statistics.median(times[1:]), 3),
                     "candidates": len(res), "rank_of_true_plate": rank[0] + 1 if rank else None,
                     "result": res})
    return rows


def _memory_runs(store: Path, qs: list[dict], store_rows: list[dict]) -> dict:
    from geo.casework.plates import search_plates
    from geo.io.store.read import read_sightings

    t = time.perf_counter()
    reads = read_sightings(store, columns=["vrm", "read_at", "easting", "northing", "camera_id"])
    load_s = time.perf_counter() - t
    runs = []
    for q, ref in zip(qs, store_rows, strict=True):
        s, res = _run(lambda **k: search_plates(reads, **k), q)
        same = res.reset_index(drop=True).equals(ref["result"].reset_index(drop=True))
        runs.append({"pattern": q["pattern"], "seconds": round(s, 3), "same_as_store": same})
    return {"load_s": round(load_s, 1), "rows": len(reads), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reads", type=int, default=10_000_000)
    ap.add_argument("--plates", type=int, default=200_000)
    ap.add_argument("--store", type=Path, default=Path("/tmp/harewatch-bench-plates"))
    ap.add_argument("--queries", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--no-memory", action="store_true", help="skip the in-memory engine")
    args = ap.parse_args(argv)

    info = ensure_store(args.store, args.reads, args.plates)
    print(json.dumps({"store": str(args.store), **info}))
    qs = queries(args.store, args.queries)
    store_rows = _store_runs(args.store, qs, args.threads)
    for r in store_rows:
        print(json.dumps({k: v for k, v in r.items() if k != "result"}))
    worst = max(max(r["first_s"], r["warm_median_s"]) for r in store_rows)
    summary = {"engine": "duckdb store", "reads": info["reads"], "queries": len(qs),
               "worst_s": round(worst, 3),
               "median_warm_s": round(statistics.median(r["warm_median_s"] for r in store_rows), 3),
               "target_s": 2.0, "met": worst < 2.0,
               "all_found": all(r["rank_of_true_plate"] for r in store_rows)}
    print(json.dumps(summary))
    if not args.no_memory:
        mem = _memory_runs(args.store, qs, store_rows)
        print(json.dumps({"engine": "in memory", **mem}))
    print(json.dumps({"peak_rss_mb": round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
    return 0 if summary["met"] and summary["all_found"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

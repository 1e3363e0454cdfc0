"""Benchmark: the all-plates border-crossing scan on dask.distributed, out of core.

Generates (seeded) ANPR reads of one season (2021-22) into the partitioned
sightings store (``season=/month=/bucket=``, :func:`geo.io.store.write_sightings`),
one plate bucket at a time so the generator's memory stays bounded and the
files are large (one file per month and bucket). A marker file
(``<store>/bench_params.json``) lets a later run reuse the store when it
was generated with the same parameters.

Then, on a :class:`distributed.LocalCluster` of ``--workers`` worker
processes (1 thread each, ``--memory-limit`` each), it times
:func:`geo.engines.dask.crossings_dask`:

1. ``all``: every plate (one task per bucket, all reads sorted), the
   crossings written by the workers (:func:`geo.engines.dask.write_crossings_dask`)
   so the client holds none of them;
2. ``linked``: ``--linked`` random plates (the realistic query: plates
   linked to incidents).
3. with ``--collect-all`` (or ``--check`` up to 5M reads): every plate's
   crossings collected on the client (:func:`geo.engines.dask.crossings_dask`).

While a scan runs, each worker process's RSS is sampled every 0.2 s
(psutil; pids from ``client.run(os.getpid)``); the report says whether any
worker was paused, spilled or restarted (worker and nanny logs, pids).
With ``--check`` (default) the linked query, and for up to 5M reads also the
all-plates scan, is compared with the embedded duckdb engine
(:func:`geo.movements.crossings_from_parquet`): identical frames or an error.

Usage::

    .venv/bin/python benchmarks/bench_dask_scan.py [--reads 100_000_000] [--plates N]
        [--buckets 64] [--store DIR] [--workers 2] [--memory-limit 3GB] [--linked 5000]
        [--no-check] [--regenerate]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import threading
import time
from pathlib import Path

import bench_offenders  # same folder: python puts it on sys.path
import numpy as np
import pandas as pd

__all__ = ["generate_store", "main"]

SEASON = "2021-22"
# The ring of forces of benchmarks/bench_offenders.py (name, ONS code, in the agreement,
# home-force weight, rough centre in m, EPSG:27700).
_RING = bench_offenders._RING
_CAMERAS_PER_FORCE = 200


def _plates(n: int) -> np.ndarray:
    """``n`` distinct UK-style plates (AB12CDE) from their index (deterministic)."""
    letters = np.array(list("ABCDEFGHJKLMNOPRSTUVWXYZ"))
    i = np.arange(n, dtype="int64")
    digits = (10 + i % 90).astype(str)
    rest = i // 90
    chars = []
    for _ in range(5):
        chars.append(letters[rest % 24])
        rest //= 24
    s = pd.Series(chars[4]).str.cat([pd.Series(chars[3]), pd.Series(digits), pd.Series(chars[2]),
                                     pd.Series(chars[1]), pd.Series(chars[0])])
    return s.to_numpy(dtype=object)


def _bucket_reads(
    rng: np.random.Generator, plates: np.ndarray, n_reads: int, t0_us: int, span_us: int
) -> pd.DataFrame:
    """``n_reads`` reads of ``plates``: trips of 1 + Poisson(4) reads ~20 min apart, moving
    to a ring neighbour force with probability 0.15 per read; sorted by time."""
    names = np.array([r[0] for r in _RING], dtype=object)
    codes = np.array([r[1] for r in _RING], dtype=object)
    agree = np.array([r[2] for r in _RING])
    weights = np.array([r[3] for r in _RING])
    centres = np.array([r[4] for r in _RING], dtype="float64")
    nf = len(_RING)

    sizes = 1 + rng.poisson(4.0, int(n_reads / 5 * 1.2) + 10)
    n_trips = int(np.searchsorted(np.cumsum(sizes), n_reads) + 1)
    sizes = sizes[:n_trips]
    sizes[-1] -= int(sizes.sum() - n_reads)
    trip_of = np.repeat(np.arange(n_trips), sizes)
    first_pos = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    first = np.zeros(n_reads, dtype=bool)
    first[first_pos] = True

    plate_of_trip = rng.integers(0, len(plates), n_trips)
    home = rng.choice(nf, len(plates), p=weights / weights.sum())
    start_us = t0_us + rng.integers(0, span_us, n_trips)
    gaps = rng.exponential(20 * 60e6, n_reads).astype("int64")
    gaps[first] = 0
    cg = np.cumsum(gaps)
    t_us = start_us[trip_of] + (cg - cg[first_pos][trip_of])
    del gaps, cg
    step = np.where(rng.random(n_reads) < 0.15, rng.choice([-1, 1], n_reads), 0)
    step[first] = 0
    cs = np.cumsum(step)
    force = (home[plate_of_trip][trip_of] + cs - cs[first_pos][trip_of]) % nf
    del step, cs, first
    vrm_idx = plate_of_trip[trip_of]
    cam = force * _CAMERAS_PER_FORCE + rng.integers(0, _CAMERAS_PER_FORCE, n_reads)
    cam_names = np.array(
        [f"CAM{f:02d}{k:03d}" for f in range(nf) for k in range(_CAMERAS_PER_FORCE)], dtype=object
    )
    order = np.argsort(t_us, kind="stable")  # ANPR exports arrive in time order
    f = force[order]
    return pd.DataFrame(
        {
            "vrm": pd.Series(plates[vrm_idx[order]], dtype="str"),
            "read_at": pd.to_datetime(t_us[order], unit="us", utc=True),
            "easting": centres[f, 0] + rng.normal(0, 15000, n_reads),
            "northing": centres[f, 1] + rng.normal(0, 15000, n_reads),
            "force": pd.Series(names[f], dtype="str"),
            "force_code": pd.Series(codes[f], dtype="str"),
            "in_agreement": agree[f],
            "camera_id": pd.Series(cam_names[cam[order]], dtype="str"),
            "source_row": np.arange(1, n_reads + 1, dtype="int64"),
        }
    )


def generate_store(
    store: Path, *, n_reads: int, n_plates: int, buckets: int, seed: int = 0
) -> dict:
    """Write the synthetic season into the partitioned store at ``store``; returns a summary."""
    from geo.io.store.layout import init_sightings_store, plate_buckets
    from geo.io.store.write import write_sightings
    from geo.seasons import season_bounds

    rng = np.random.default_rng(seed)
    init_sightings_store(store, buckets=buckets)
    plates = _plates(n_plates)
    of = plate_buckets(plates, buckets)
    start, end = season_bounds(SEASON)
    t0_us = start.value // 1000
    span_us = (end.value - start.value) // 1000 - 2 * 86_400_000_000  # trips end in the season
    counts = np.bincount(of, minlength=buckets)
    # reads per bucket proportional to its plates, summing exactly to n_reads
    quota = np.diff(np.round(np.concatenate([[0], np.cumsum(counts)]) * n_reads / n_plates))
    t = time.perf_counter()
    files = 0
    for b in range(buckets):
        n_b = int(quota[b])
        if n_b == 0:
            continue
        reads = _bucket_reads(rng, plates[of == b], n_b, t0_us, span_us)
        files += len(write_sightings(reads, store))
        del reads
        done = b + 1
        if done % max(1, buckets // 8) == 0 or done == buckets:
            print(f"  generated bucket {done}/{buckets} ({time.perf_counter() - t:.0f} s)",
                  flush=True)
    return {"files_written": files, "generation_s": round(time.perf_counter() - t, 1)}


def _store_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


def _store_stats(store: Path) -> tuple[int, int, int]:
    """(reads, files, bytes) of the store's sightings, from parquet footers."""
    import pyarrow.parquet as pq

    from geo.io.store.read import sightings_paths

    paths = sightings_paths(store)
    reads = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    return reads, len(paths), sum(p.stat().st_size for p in paths)


class _RssSampler:
    """Peak RSS (bytes) of the given pids, sampled every ``every_s`` seconds in a thread."""

    def __init__(self, pids: dict[str, int], every_s: float = 0.2):
        import psutil

        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peak = dict.fromkeys(self._procs, 0)
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for name, proc in self._procs.items():
                with contextlib.suppress(psutil.Error):  # worker gone (restarted)
                    self.peak[name] = max(self.peak[name], proc.memory_info().rss)
            self._stop.wait(self._every_s)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


_TROUBLE = ("Pausing worker", "Worker is at", "Restarting worker", "Worker process",
            "memory limit", "Unmanaged memory", "Spill", "spill", "killed")


def _trouble(client) -> list[str]:
    """Worker/nanny log lines about pausing, spilling, memory limits or restarts."""
    lines = []
    for nanny in (False, True):
        for addr, logs in client.get_worker_logs(nanny=nanny).items():
            for _level, msg in logs:
                if any(k in msg for k in _TROUBLE):
                    lines.append(f"{addr}: {msg.splitlines()[0][:160]}")
    return lines


def _timed_scan(client, label: str, fn) -> tuple[pd.DataFrame, dict]:
    pids = client.run(os.getpid)
    with _RssSampler(pids) as sampler:
        t = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - t
    after = client.run(os.getpid)
    return out, {
        "query": label,
        "wall_s": round(wall, 2),
        "peak_rss_gb": {a: round(v / 1e9, 2) for a, v in sampler.peak.items()},
        "workers_restarted": sorted(set(pids.items()) ^ set(after.items())) != [],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reads", type=lambda s: int(s.replace("_", "")), default=100_000_000)
    ap.add_argument("--plates", type=lambda s: int(s.replace("_", "")), default=None,
                    help="default: reads / 50")
    ap.add_argument("--buckets", type=int, default=64)
    ap.add_argument("--store", default=None,
                    help="default: /tmp/harewatch-bench-<reads in millions>m")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3GB")
    ap.add_argument("--linked", type=int, default=5000, help="plates of the realistic query")
    ap.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                    help="compare with the duckdb engine: the linked query, and the all-plates "
                         "scan too when reads <= 5M (default: on)")
    ap.add_argument("--regenerate", action="store_true")
    ap.add_argument("--check-all", action="store_true",
                    help="compare the workers' all-plates files with the duckdb engine at any size "
                         "(duckdb sorts every read: minutes and several GB at 100M)")
    ap.add_argument("--collect-all", action="store_true",
                    help="also collect every plate's crossings on the client (needs memory: "
                         "about 140 B per crossing, ~12 %% of reads)")
    args = ap.parse_args(argv)
    n_plates = args.plates or max(1, args.reads // 50)
    store = Path(args.store or f"/tmp/harewatch-bench-{args.reads / 1e6:g}m")
    from geo.io.store.layout import PLATE_HASH

    params = {"version": 1, "hash": PLATE_HASH, "reads": args.reads, "plates": n_plates, "buckets": args.buckets,
              "seed": args.seed, "season": SEASON}

    marker = store / "bench_params.json"
    have = json.loads(marker.read_text()) if marker.is_file() else None
    if have is None or have.get("params") != params or args.regenerate:
        if store.exists():
            if not marker.is_file() and any(store.iterdir()):
                raise SystemExit(f"{store} exists and is not a benchmark store; pick --store")
            shutil.rmtree(store)
        print(f"generating {args.reads:,} reads of {n_plates:,} plates into {store} "
              f"({args.buckets} buckets)", flush=True)
        gen = generate_store(store, n_reads=args.reads, n_plates=n_plates, buckets=args.buckets,
                             seed=args.seed)
        gen["generator_peak_rss_gb"] = round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
        marker.write_text(json.dumps({"params": params, "generation": gen}, indent=2))
    else:
        gen = have["generation"]
        print(f"reusing {store} (generated with the same parameters)")
    reads, files, size = _store_stats(store)
    print(json.dumps({"store": str(store), "reads": reads, "plates": n_plates, "files": files,
                      "on_disk_gb": round(size / 1e9, 2), **gen}), flush=True)

    from distributed import Client, LocalCluster

    from geo.engines.dask import crossings_dask, write_crossings_dask
    from geo.io.store.read import sightings_partitions, sightings_paths

    parts = sightings_partitions(store)
    print(f"partitions (tasks): {len(parts)}, files per task: "
          f"{min(map(len, parts.values()))}-{max(map(len, parts.values()))}, "
          f"reads per task: ~{reads / len(parts):,.0f}")
    rng = np.random.default_rng(args.seed + 1)
    linked = _plates(n_plates)[rng.choice(n_plates, min(args.linked, n_plates), replace=False)]
    results = []
    with (
        LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                     memory_limit=args.memory_limit, dashboard_address=None,
                     scheduler_kwargs={"dashboard": False,
                                       "dashboard_address": "127.0.0.1:0"}) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("geo.engines.dask"))  # imports out of the timings
        out_dir = store.parent / f"{store.name}-crossings"
        shutil.rmtree(out_dir, ignore_errors=True)
        n_written, stats = _timed_scan(
            client, "all plates, written by the workers",
            lambda: write_crossings_dask(store, out_dir, client=client))
        stats.update(reads_per_s=round(reads / stats["wall_s"]), crossings=n_written,
                     crossings_on_disk_mb=round(_store_size(out_dir) / 1e6, 1),
                     client_peak_rss_gb_so_far=round(
                         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2))
        results.append(stats)
        print(json.dumps(stats), flush=True)
        linked_x, stats = _timed_scan(
            client, f"{len(linked):,} linked plates",
            lambda: crossings_dask(store, plates=linked, season=SEASON, client=client))
        stats.update(reads_per_s=round(reads / stats["wall_s"]), crossings=len(linked_x))
        results.append(stats)
        print(json.dumps(stats), flush=True)
        crossings = None
        if args.collect_all or (args.check and reads <= 5_000_000):
            crossings, stats = _timed_scan(client, "all plates, collected on the client",
                                           lambda: crossings_dask(store, client=client))
            stats.update(reads_per_s=round(reads / stats["wall_s"]), crossings=len(crossings),
                         crossings_mb=round(crossings.memory_usage(deep=True).sum() / 1e6, 1))
            results.append(stats)
            print(json.dumps(stats), flush=True)
        trouble = _trouble(client)
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"client + scheduler process peak RSS: {client_rss:.2f} GB")
    print("workers paused / spilled / restarted: "
          + ("; ".join(trouble[:10]) if trouble else "none (no such log lines)"))
    if args.check:
        from geo.engines.duckdb import crossings_from_parquet

        t = time.perf_counter()
        want = crossings_from_parquet(sightings_paths(store), plates=linked, season=SEASON,
                                      memory_limit=args.memory_limit)
        duck_s = time.perf_counter() - t
        pd.testing.assert_frame_equal(linked_x, want)
        print(f"linked plates identical to the duckdb engine: yes (duckdb: {duck_s:.2f} s)")
        if crossings is not None and reads <= 5_000_000:
            t = time.perf_counter()
            want = crossings_from_parquet(sightings_paths(store))
            duck_s = time.perf_counter() - t
            pd.testing.assert_frame_equal(crossings, want)
            print(f"all plates identical to the duckdb engine: yes (duckdb: {duck_s:.2f} s)")
    if args.check_all:
        from geo.engines.duckdb import crossings_from_parquet

        t = time.perf_counter()
        want = crossings_from_parquet(sightings_paths(store))
        duck_s = time.perf_counter() - t
        files = sorted(out_dir.glob("part.*.parquet"))
        got = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        got = got.sort_values("vrm", kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False)
        print(f"all plates (workers' files) identical to the duckdb engine: yes "
              f"({len(want):,} crossings; duckdb: {duck_s:.1f} s)")
    shutil.rmtree(out_dir, ignore_errors=True)
    over = [w for r in results for w, v in r["peak_rss_gb"].items() if v * 1e9 >= _bytes(
        args.memory_limit)]
    print("every worker under the memory limit: " + ("yes" if not over else f"NO: {over}"))
    return 0 if not over else 1


def _bytes(text: str) -> float:
    from dask.utils import parse_bytes

    return float(parse_bytes(text))


if __name__ == "__main__":
    raise SystemExit(main())

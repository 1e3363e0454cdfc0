"""Latency from an ANPR file landing to its alert on the open Live alerts page.

Setup: a temporary store with incidents this season (a few hundred
background incidents plus ``--laddered`` plates per repetition, each warned
in one of the seven forces), the dashboard server (``python -m
dashboard.serve``) on 127.0.0.1 with the Live alerts page open in Chromium,
and ``harewatch watch --incoming DIR`` as a subprocess. Each repetition
writes a fresh seeded CSV of ``--reads`` reads (mostly innocent plates at
300 cameras; that repetition's laddered plates read once each by a camera
in another force) into a staging folder and renames it into the incoming
folder. Measured from the rename to the moment the page's "Shown" metric
counts the new alerts (DOM polled every 50 ms), without reloading the page.

Also printed: when the watcher logged the file as processed (its stderr is
timestamped here as it arrives), so the figure splits into watcher time
(settle + poll + read, validate, ingest, alerts) and page time (the page's
auto-refresh interval, 2 s, plus rendering). Target: < 10 s for 100,000 reads.

    HAREWATCH_BOUNDARIES=... .venv/bin/python benchmarks/bench_alert_latency.py \
        [--reads 100000] [--reps 3] [--laddered 5] [--seed 0] [--poll-s 0.5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.e2e.conftest: the browser tests' server helpers

N_CAMERAS = 300
N_BACKGROUND = 300
_LETTERS = np.array(list("ABCDEFGHJKLMNOPRSTUVWXYZ"))


# ------------------------------------------------------------------ data
def plates(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct plates in the current format (AB12CDE)."""
    out: np.ndarray = np.array([], dtype=str)
    while len(out) < n:
        k = 2 * n
        parts = [_LETTERS[rng.integers(0, len(_LETTERS), k)] for _ in range(2)]
        parts.append(np.char.zfill(rng.integers(0, 100, k).astype(str), 2))
        parts += [_LETTERS[rng.integers(0, len(_LETTERS), k)] for _ in range(3)]
        p = parts[0]
        for q in parts[1:]:
            p = np.char.add(p, q)
        out = np.unique(np.concatenate([out, p]))
    return rng.permutation(out)[:n]


def points_in(geom, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random points (easting, northing) inside ``geom`` (metres)."""
    shapely.prepare(geom)
    xmin, ymin, xmax, ymax = geom.bounds
    got: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = np.column_stack([rng.uniform(xmin, xmax, 4 * n), rng.uniform(ymin, ymax, 4 * n)])
        xy = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        got.append(xy)
        have += len(xy)
    return np.round(np.concatenate(got)[:n])


def cameras(areas, rng: np.random.Generator) -> pd.DataFrame:
    """Camera sites spread over the seven forces: camera_id, force, easting, northing."""
    seven = areas.seven
    per = np.full(len(seven), N_CAMERAS // len(seven))
    parts = []
    for (force, geom), k in zip(zip(seven["force"], seven.geometry, strict=True), per, strict=True):
        xy = points_in(geom, rng, int(k))
        parts.append(pd.DataFrame({"force": force, "easting": xy[:, 0], "northing": xy[:, 1]}))
    cams = pd.concat(parts, ignore_index=True)
    cams.insert(0, "camera_id", [f"CAM{i:04d}" for i in range(len(cams))])
    return cams


def make_store(store: Path, areas, laddered: np.ndarray, warned_force: np.ndarray,
               background: np.ndarray, warned_at: pd.Timestamp, rng: np.random.Generator) -> None:
    """Incidents: one per laddered plate (in ``warned_force``) plus background incidents."""
    from geo.io.store.write import ingest
    from geo.validate.incidents import validate_incidents

    geoms = dict(zip(areas.seven["force"], areas.seven.geometry, strict=True))
    rows = []
    for i, (plate, force) in enumerate(zip(laddered, warned_force, strict=True)):
        x, y = points_in(geoms[force], rng, 1)[0]
        rows.append((f"L{i:04d}", warned_at + pd.Timedelta(minutes=i), x, y, plate))
    forces = list(geoms)
    for i, plate in enumerate(background):
        x, y = points_in(geoms[forces[i % len(forces)]], rng, 1)[0]
        rows.append((f"B{i:04d}", warned_at - pd.Timedelta(hours=i % 500), x, y, plate))
    raw = pd.DataFrame(rows, columns=["incident_id", "occurred_at", "easting", "northing", "vrms"])
    raw["occurred_at"] = raw["occurred_at"].map(pd.Timestamp.isoformat)
    raw = raw.astype(str)
    res = validate_incidents(raw, areas)
    if res.n_rejected:
        raise SystemExit(f"benchmark incidents rejected: {res.rejects.head()}")
    ingest(res, store)


def reads_frame(n: int, innocent: np.ndarray, cams: pd.DataFrame, hits: np.ndarray,
                hit_force: np.ndarray, now: pd.Timestamp, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` reads in the last 30 minutes: ``len(hits)`` laddered plates, one read each at a
    camera outside their warned force; the rest innocent plates at random cameras."""
    k = n - len(hits)
    cam_i = rng.integers(0, len(cams), k)
    hit_cam = np.array([rng.choice(np.flatnonzero(cams["force"].to_numpy() != f)) for f in hit_force])
    cam_i = np.concatenate([cam_i, hit_cam])
    vrm = np.concatenate([innocent[rng.integers(0, len(innocent), k)], hits])
    secs = rng.uniform(60, 1800, n)
    df = pd.DataFrame({
        "vrm": vrm,
        "read_at": (now - pd.to_timedelta(secs, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "easting": cams["easting"].to_numpy()[cam_i],
        "northing": cams["northing"].to_numpy()[cam_i],
        "camera_id": cams["camera_id"].to_numpy()[cam_i],
    })
    return df.iloc[rng.permutation(n)].reset_index(drop=True)


# ------------------------------------------------------------------ processes
class LogTail:
    """Reads a process's output line by line, stamping each with ``time.perf_counter``."""

    def __init__(self, stream, path: Path) -> None:
        self.lines: list[tuple[float, str]] = []
        self._fh = open(path, "w")  # noqa: SIM115 (closed by the reader thread)
        self._t = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._t.start()

    def _run(self, stream) -> None:
        for raw in iter(stream.readline, ""):
            self.lines.append((time.perf_counter(), raw.rstrip("\n")))
            self._fh.write(raw)
            self._fh.flush()
        self._fh.close()

    def first(self, needle: str, after: float = 0.0) -> tuple[float, str] | None:
        for t, line in list(self.lines):
            if t >= after and needle in line:
                return t, line
        return None


def wait_for(fn, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise SystemExit(f"timed out after {timeout_s:g} s waiting for {what}")


SHOWN_JS = """(want) => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const label = m.querySelector('[data-testid="stMetricLabel"]');
    const value = m.querySelector('[data-testid="stMetricValue"]');
    if (label && value && label.innerText.trim() === 'Shown') {
      return parseInt(value.innerText.replace(/,/g, ''), 10) >= want;
    }
  }
  return false;
}"""


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reads", type=int, default=100_000, help="reads per file")
    ap.add_argument("--reps", type=int, default=3, help="files dropped, one after another")
    ap.add_argument("--laddered", type=int, default=5, help="laddered plates read per file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--poll-s", type=float, default=0.5, help="watcher poll interval")
    ap.add_argument("--timeout-s", type=float, default=120.0, help="per repetition")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from geo.io.boundaries import read_boundaries, resolve_boundaries_path
    from geo.seasons import season_bounds, season_of
    from tests.e2e.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, start_streamlit, stop

    bpath = resolve_boundaries_path()
    areas = read_boundaries(bpath)
    rng = np.random.default_rng(args.seed)
    now = pd.Timestamp.now(tz="UTC").floor("s")
    start, _ = season_bounds(season_of(pd.Series([now]), 9).iloc[0], 9)
    warned_at = max(start + pd.Timedelta(hours=1), now - pd.Timedelta(days=7)).floor("min")
    if warned_at >= now - pd.Timedelta(hours=1):
        raise SystemExit("run this benchmark later than the first hours of a season")

    n_hit = args.laddered * args.reps
    pool = plates(rng, 20_000 + n_hit + N_BACKGROUND)
    laddered, background, innocent = pool[:n_hit], pool[n_hit:n_hit + N_BACKGROUND], pool[n_hit + N_BACKGROUND:]
    seven = np.array(areas.names)
    warned_force = seven[rng.integers(0, len(seven), n_hit)]
    cams = cameras(areas, rng)

    tmp = Path(tempfile.mkdtemp(prefix="hw-alert-latency-"))
    store, incoming, staging = tmp / "store", tmp / "incoming", tmp / "staging"
    incoming.mkdir()
    staging.mkdir()
    make_store(store, areas, laddered, warned_force, background, warned_at, rng)
    files = []
    for r in range(args.reps):
        sl = slice(r * args.laddered, (r + 1) * args.laddered)
        df = reads_frame(args.reads, innocent, cams, laddered[sl], warned_force[sl], now, rng)
        path = staging / f"anpr-{r + 1:03d}.csv"
        df.to_csv(path, index=False)
        files.append(path)
    print(f"store {store}: {n_hit + N_BACKGROUND} incidents; {args.reps} files of "
          f"{args.reads:,} reads ({files[0].stat().st_size / 1e6:.1f} MB each), "
          f"{args.laddered} laddered plates read in another force per file")

    server = watcher = None
    hosts: set[str] = set()
    results = []
    try:
        server = start_streamlit(REPO / "dashboard" / "app.py", "alert-latency", {
            "HAREWATCH_BOUNDARIES": str(bpath), "HAREWATCH_DATA_DIR": str(store)})
        exe = Path(sys.executable).with_name("harewatch")
        cmd = [str(exe)] if exe.is_file() else [sys.executable, "-m", "geo.cli"]
        cmd += ["watch", "--incoming", str(incoming), "--data-dir", str(store), "--boundaries",
                str(bpath), "--poll-s", str(args.poll_s)]
        watcher = subprocess.Popen(cmd, cwd=REPO, text=True, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE,
                                   env={**os.environ, "HAREWATCH_NO_FETCH": "1",
                                        "PYTHONUNBUFFERED": "1"})
        log = LogTail(watcher.stderr, ARTIFACTS / "watch-alert-latency.log")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.on("request", lambda req: hosts.add(urlparse(req.url).hostname or ""))
            t0 = time.perf_counter()
            page.goto(server.url + "/alerts?redact=1")
            page.get_by_role("heading", name="Live alerts").wait_for(timeout=120_000)
            page.get_by_test_id("stAlert").filter(has_text="No alerts yet").wait_for(timeout=120_000)
            print(f"dashboard ready in {server.ready_s:.1f} s; page open in "
                  f"{time.perf_counter() - t0:.1f} s")
            wait_for(lambda: log.first("watching"), 120, "the watcher to start")
            page.evaluate("() => { window.__hwSamePage = true; }")
            for r, path in enumerate(files):
                os.replace(path, incoming / path.name)
                landed = time.perf_counter()
                page.wait_for_function(SHOWN_JS, arg=args.laddered * (r + 1), polling=50,
                                       timeout=args.timeout_s * 1000)
                seen = time.perf_counter() - landed
                done = wait_for(lambda n=path.name, t=landed: log.first(f"{n}: ", t), args.timeout_s,
                                f"the watcher's line for {path.name}")
                watcher_s = done[0] - landed
                results.append((seen, watcher_s))
                print(f"rep {r + 1}: file landed -> alert visible {seen:.2f} s "
                      f"(watcher logged it after {watcher_s:.2f} s; page {seen - watcher_s:.2f} s)")
                print(f"       watcher: {done[1]}")
            if not page.evaluate("() => window.__hwSamePage === true"):
                raise SystemExit("the page reloaded during the benchmark")
            (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "screenshots" / "alerts_latency.png"))
            browser.close()
    finally:
        if watcher is not None:
            watcher.terminate()
            try:
                watcher.wait(timeout=15)
            except subprocess.TimeoutExpired:
                watcher.kill()
        if server is not None:
            stop(server.proc)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    seen = [s for s, _ in results]
    wt = [w for _, w in results]
    print(f"median over {len(results)}: landed -> visible {statistics.median(seen):.2f} s "
          f"(max {max(seen):.2f} s; target < 10 s); landed -> watcher done "
          f"{statistics.median(wt):.2f} s; page refresh + render {statistics.median(seen) - statistics.median(wt):.2f} s")
    print(f"hosts contacted by the page: {sorted(hosts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

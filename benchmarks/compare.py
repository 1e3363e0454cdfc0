"""Issue 17: every main job against its bare peer script, side by side, ratios printed.

Each row runs a harewatch job and a peer script that does the least any tool
must for the same input and writes a comparable output, in fresh processes,
in paired runs whose order alternates (peer first, then harewatch first, ...).
The machine's cores are shared, so a row reports the **median of the
per-pair ratios** harewatch / peer (wall time), plus the medians of each side's
wall and CPU seconds (user + system of the child, from ``os.wait4``) and
peak resident memory. Each side gets one untimed warm-up run first (OS file
cache, the user cache of the force index and of the demo).

Rows (ratio goals from issue 17 and issue 11):

==============  ===========================================================  ======
row             peer                                                         goal
==============  ===========================================================  ======
ingest          pyarrow CSV + pyproj + shapely.contains_xy + Parquet write    0.8
force_assign    shapely.contains_xy per force / geopandas.sjoin (in process)  keep
hotspots_100k   pyarrow CSV + pyproj + ``dbscan`` + JSON of the clusters      1.1
hotspots_1m     same, 1M incidents                                            1.2
offenders       one duckdb query for the linked plates, JSON written          1.2
offenders_all   the same query for every plate                                1.2
policeuk        pyarrow CSV + pyproj + contains_xy (bench_policeuk.py)        1.5
dashboard_*     a trivial streamlit-folium app (real browser, Chromium)       1.0
==============  ===========================================================  ======

``hotspots_100k_clusters`` and ``hotspots_1m_clusters`` run the same two
against ``harewatch hotspots --no-significance`` (clusters only, what the peer
does); the plain hotspots rows include the Gi* significance and trend classes
that ``harewatch hotspots`` adds by default.

Whole-process rows (ingest, hotspots, offenders) time the process from spawn
to exit, imports included, as a user running the command sees it. The force
assignment and data.police.uk rows time the work inside the process (as
``bench_force_assignment.py`` / ``bench_policeuk.py`` do).

Inputs are generated once (seeded) into ``--work`` (default: a folder in the
system temp dir, reused by later runs) and never timed. Usage::

    .venv/bin/python benchmarks/compare.py [--pairs 3] [--only ingest hotspots_100k ...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
ONS = REPO / "data" / "boundaries" / "Police_Force_Areas_December_2023_EW_BUC.geojson"
PY = sys.executable
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

# --------------------------------------------------------------------------- peers

PEER_INGEST = r"""
import sys
import geopandas as gpd, numpy as np, pyarrow as pa, pyarrow.csv as pacsv, pyarrow.parquet as pq
import shapely
from pyproj import Transformer
boundaries, csv, out = sys.argv[1:4]
forces = gpd.read_file(boundaries).to_crs(27700)
geoms = forces.geometry.to_numpy()
names = forces["PFA23NM"].to_numpy(dtype=object)
shapely.prepare(geoms)
t = pacsv.read_csv(csv)
lon = t["lon"].to_numpy(zero_copy_only=False)
lat = t["lat"].to_numpy(zero_copy_only=False)
e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
force = np.full(len(e), -1)
for i, g in enumerate(geoms):
    xmin, ymin, xmax, ymax = g.bounds
    cand = np.flatnonzero((force < 0) & (e >= xmin) & (e <= xmax) & (n >= ymin) & (n <= ymax))
    force[cand[shapely.contains_xy(g, e[cand], n[cand])]] = i
ok = force >= 0
t = t.append_column("easting", pa.array(e)).append_column("northing", pa.array(n))
t = t.append_column("force", pa.array(np.where(ok, names[np.maximum(force, 0)], "")))
t = t.append_column("read_at_utc", pa.compute.cast(t["read_at"], pa.timestamp("us", "UTC")))
pq.write_table(t.filter(pa.array(ok)), out)
"""

PEER_HOTSPOTS = r"""
import json, sys
import numpy as np, pyarrow.csv as pacsv
from pyproj import Transformer
import dbscan
t = pacsv.read_csv(sys.argv[1])
lon = t["lon"].to_numpy(zero_copy_only=False)
lat = t["lat"].to_numpy(zero_copy_only=False)
e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(lon, lat)
xy = np.column_stack([e, n])
labels, core = dbscan.DBSCAN(xy, eps=1500.0, min_samples=6)
ids = t["incident_id"].to_numpy(zero_copy_only=False)
k = int(labels.max()) + 1
order = np.argsort(labels, kind="stable")
counts = np.bincount(labels[labels >= 0], minlength=k)
start = int((labels < 0).sum())
out = []
ce = np.bincount(labels[labels >= 0], weights=e[labels >= 0], minlength=k) / np.maximum(counts, 1)
cn = np.bincount(labels[labels >= 0], weights=n[labels >= 0], minlength=k) / np.maximum(counts, 1)
for c in range(k):
    members = order[start:start + counts[c]]
    start += counts[c]
    out.append({"label": c, "n": int(counts[c]), "incident_ids": ids[members].tolist(),
                "centroid_e": float(ce[c]), "centroid_n": float(cn[c])})
json.dump({"hotspots": out}, sys.stdout)
"""

# The ladder's counterpart for the same plates: one duckdb query that reads the stored
# incidents and reads, finds each plate's crossings (a LAG over PARTITION BY vrm) and
# lists per plate and season the incident ids and the crossings; written as JSON.
PEER_OFFENDERS = r"""
import json, sys
import duckdb
store, all_plates = sys.argv[1], sys.argv[2] == "all"
inc = f"{store}/tables/incidents/**/*.parquet"
reads = f"{store}/tables/sightings/**/*.parquet"
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
plates = "" if all_plates else "WHERE vrm IN (SELECT subject FROM links)"
sql = f'''
WITH links AS (
  SELECT DISTINCT upper(trim(unnest(string_split(vrms, ';')))) AS subject, incident_id, force,
         occurred_at,
         CASE WHEN month(occurred_at AT TIME ZONE 'Europe/London') >= 9
              THEN year(occurred_at AT TIME ZONE 'Europe/London')
              ELSE year(occurred_at AT TIME ZONE 'Europe/London') - 1 END AS season
  FROM read_parquet('{inc}') WHERE in_agreement AND vrms <> ''
),
w AS (
  SELECT vrm, read_at, force, camera_id,
         lag(force) OVER win AS from_force, lag(read_at) OVER win AS from_at
  FROM read_parquet('{reads}') {plates}
  WINDOW win AS (PARTITION BY vrm ORDER BY read_at, camera_id)
),
cx AS (
  SELECT vrm AS subject,
         CASE WHEN month(read_at AT TIME ZONE 'Europe/London') >= 9
              THEN year(read_at AT TIME ZONE 'Europe/London')
              ELSE year(read_at AT TIME ZONE 'Europe/London') - 1 END AS season,
         list({{'from': from_force, 'to': force, 'at': strftime(read_at, '%Y-%m-%dT%H:%M:%SZ'),
                'camera_id': camera_id}} ORDER BY read_at) AS crossings
  FROM w WHERE from_force <> force AND read_at - from_at <= INTERVAL 6 HOUR
  GROUP BY ALL
),
lad AS (
  SELECT subject, season, list(incident_id ORDER BY occurred_at, incident_id) AS incidents,
         list(DISTINCT force) AS forces, count(*) AS n_incidents
  FROM links GROUP BY ALL
)
SELECT lad.*, coalesce(cx.crossings, []) AS crossings
FROM lad LEFT JOIN cx USING (subject, season)
ORDER BY least(n_incidents, 3) DESC, n_incidents DESC, subject, season
'''
cur = con.execute(sql)
cols = [d[0] for d in cur.description]
rows = [dict(zip(cols, r)) for r in cur.fetchall()]
json.dump({"offenders": rows}, sys.stdout, default=str)
"""

PEER_FORCE = r"""
import json, sys, time
import geopandas as gpd, numpy as np, shapely
forces = gpd.read_file(sys.argv[1]).to_crs(27700)
geoms = forces.geometry.to_numpy()
xmin, ymin, xmax, ymax = forces.total_bounds
rng = np.random.default_rng(0)
x = rng.uniform(xmin, xmax, 1_000_000); y = rng.uniform(ymin, ymax, 1_000_000)
t0 = time.perf_counter()
if sys.argv[2] == "contains_xy":
    shapely.prepare(geoms)
    out = np.full(len(x), -1)
    for i, g in enumerate(geoms):
        a, b, c, d = g.bounds
        cand = np.flatnonzero((out < 0) & (x >= a) & (x <= c) & (y >= b) & (y <= d))
        out[cand[shapely.contains_xy(g, x[cand], y[cand])]] = i
else:
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=forces.crs)
    j = gpd.sjoin(forces[["geometry"]], pts, how="inner", predicate="intersects")
    first = j.reset_index(names="area").groupby("index_right")["area"].min()
    out = np.full(len(x), -1); out[first.index.to_numpy()] = first.to_numpy()
print(json.dumps({"seconds": time.perf_counter() - t0, "located": int((out >= 0).sum())}))
"""

HW_FORCE = r"""
import json, sys, time
import numpy as np
from geo.io.boundaries import read_boundaries
areas = read_boundaries(sys.argv[1])
xmin, ymin, xmax, ymax = areas.gdf.total_bounds
rng = np.random.default_rng(0)
x = rng.uniform(xmin, xmax, 1_000_000); y = rng.uniform(ymin, ymax, 1_000_000)
from geo.areas import assign_force
t0 = time.perf_counter()
out = assign_force(areas, x, y)  # the first call in this process: index loaded or built
print(json.dumps({"seconds": time.perf_counter() - t0, "located": int((out >= 0).sum())}))
"""


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    rss_mb: float
    inner_s: float | None = None  # time the child measured itself (in-process rows)


# A small launcher process forks and execs the measured command. Linux carries
# a process's peak RSS across fork and exec, so a command started straight from
# this (large) benchmark process would report this process's peak as its own;
# the launcher is small, so its child's ``ru_maxrss`` is the command's.
LAUNCH = r"""
import json, os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(report, "w") as fh:
    json.dump({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss}, fh)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(cmd: list[str], *, stdout: Path | None = None, env: dict | None = None,
        cwd: Path | None = None) -> Run:
    """Run ``cmd`` to completion: wall seconds, CPU seconds and peak RSS of that child."""
    out = open(stdout, "wb") if stdout else subprocess.PIPE  # noqa: SIM115
    fd, report = tempfile.mkstemp(suffix=".json", prefix="harewatch-run-")
    os.close(fd)
    proc = subprocess.Popen([PY, "-c", LAUNCH, report, *map(str, cmd)], stdout=out,
                            stderr=subprocess.PIPE, env=env, cwd=cwd)
    text = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read()
    proc.wait()
    if stdout:
        out.close()
    try:
        child = json.loads(Path(report).read_text() or "null")
    finally:
        os.unlink(report)
    if child is None:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))}: the launcher reported nothing:\n"
                           f"{err.decode(errors='replace')[-3000:]}")
    if proc.returncode not in (0, 1):  # harewatch exits 1 when some rows were rejected
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed ({proc.returncode}):\n"
                           f"{err.decode(errors='replace')[-3000:]}")
    inner = None
    if text.strip().startswith(b"{") and b"seconds" in text:
        inner = json.loads(text.strip().splitlines()[-1])["seconds"]
    return Run(child["wall"], child["cpu"], child["maxrss_kb"] / 1024, inner)


@dataclass
class Row:
    name: str
    peer: str
    goal: float | None
    pairs: list[tuple[Run, Run]] = field(default_factory=list)
    inner: bool = False  # compare the child's own timing instead of the process wall time
    note: str = ""

    def seconds(self, r: Run) -> float:
        return r.inner_s if self.inner else r.wall_s

    def ratio(self) -> float:
        return statistics.median(self.seconds(h) / self.seconds(p) for p, h in self.pairs)

    def line(self) -> str:
        med = statistics.median
        p = [x for x, _ in self.pairs]
        h = [y for _, y in self.pairs]
        ratio = self.ratio()
        met = "n/a" if self.goal is None else ("yes" if ratio <= self.goal else "NO")
        goal = "keep" if self.goal is None else f"<= {self.goal:g}"
        return (f"{self.name:<22} {med(self.seconds(r) for r in p):7.2f} s {med(r.cpu_s for r in p):6.2f} "
                f"{med(r.rss_mb for r in p):6.0f} | {med(self.seconds(r) for r in h):7.2f} s "
                f"{med(r.cpu_s for r in h):6.2f} {med(r.rss_mb for r in h):6.0f} | {ratio:5.2f} "
                f"{goal:>6} {met:>4}  {self.peer}{'; ' + self.note if self.note else ''}")


def paired(row: Row, peer, harewatch, pairs: int) -> Row:
    """Warm each side once, then ``pairs`` alternating pairs."""
    peer()
    harewatch()
    for k in range(pairs):
        if k % 2 == 0:
            p = peer()
            h = harewatch()
        else:
            h = harewatch()
            p = peer()
        row.pairs.append((p, h))
        print(f"  {row.name} pair {k + 1}: peer {row.seconds(p):.2f} s, harewatch "
              f"{row.seconds(h):.2f} s", file=sys.stderr, flush=True)
    return row


def harewatch_cmd(*args: str) -> list[str]:
    return [PY, "-m", "geo.cli", *args]


# --------------------------------------------------------------------------- inputs


def _incidents_csv(path: Path, n: int) -> None:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from bench_hotspots import make_xy
    from pyproj import Transformer

    xy = make_xy(n, seed=0)
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    rng = np.random.default_rng(1)
    t = pd.Timestamp("2021-09-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 365 * 86400, n), unit="s")
    pacsv.write_csv(pa.table({
        "incident_id": [f"INC{i:07d}" for i in range(n)],
        "occurred_at": pa.array(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object), pa.string()),
        "lat": np.round(lat, 6),
        "lon": np.round(lon, 6),
    }), path)


def _offenders_store(root: Path, reads: int) -> None:
    import geopandas as gpd
    from bench_offenders import generate_store

    from geo.io.store.layout import writer_lock
    from geo.io.store.table import write_guard
    from geo.io.store.write import store_incidents

    generate_store(root, n_reads=reads, n_plates=reads // 50, n_incidents=reads // 500)
    inc = gpd.read_parquet(root / "bench-incidents.parquet")
    with writer_lock(root, 60), write_guard(root, "bench incidents") as pending:
        store_incidents(root, inc, pending)
        pending.clear()


def prepare(work: Path, args) -> dict[str, Path]:
    """Generate (once) every input under ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    paths = {
        "reads": work / f"reads-{args.reads}.csv",
        "inc100k": work / "incidents-100000.csv",
        "inc1m": work / "incidents-1000000.csv",
        "store": work / f"store-{args.store_reads}",
        "street": work / f"street-{args.street_rows}.csv",
        "street_small": work / "street-small.csv",
    }
    if not paths["reads"].is_file():
        from bench_ingest import make_csv

        print(f"generating {paths['reads']}", file=sys.stderr)
        make_csv(paths["reads"], args.reads, str(ONS))
    for key, n in (("inc100k", 100_000), ("inc1m", 1_000_000)):
        if not paths[key].is_file():
            print(f"generating {paths[key]}", file=sys.stderr)
            _incidents_csv(paths[key], n)
    if not (paths["store"] / "tables" / "incidents").is_dir():
        print(f"generating {paths['store']} (takes a few minutes)", file=sys.stderr)
        _offenders_store(paths["store"], args.store_reads)
    if not paths["street"].is_file():
        from bench_policeuk import make_street_file

        make_street_file(paths["street"], args.street_rows)
        make_street_file(paths["street_small"], 50, seed=1)
    return paths


# --------------------------------------------------------------------------- rows


def row_ingest(paths, work: Path, env, pairs: int) -> Row:
    counter = iter(range(10**6))

    def peer():
        return run([PY, "-c", PEER_INGEST, str(ONS), str(paths["reads"]), str(work / "peer.parquet")],
                   env=env)

    def hw():
        store = work / f"ingest-store-{next(counter)}"
        r = run(harewatch_cmd("ingest", "sightings", str(paths["reads"]), "--data-dir", str(store)),
                env=env, stdout=work / "ingest.json")
        subprocess.run(["rm", "-rf", str(store)], check=True)
        return r

    return paired(Row("ingest", "pyarrow+pyproj+shapely -> Parquet", 0.8), peer, hw, pairs)


def row_force(paths, work: Path, env, pairs: int) -> list[Row]:
    def side(code, *a):
        return lambda: run([PY, "-c", code, str(ONS), *a], env=env)

    rows = []
    for method, label in (("contains_xy", "shapely.contains_xy per force"),
                          ("sjoin", "geopandas.sjoin")):
        rows.append(paired(Row(f"force_{method}", label + " (first call in a fresh process)",
                               None, inner=True),
                           side(PEER_FORCE, method), side(HW_FORCE), pairs))
    return rows


def row_hotspots(paths, work: Path, env, pairs: int, name: str, goal: float) -> Row:
    """``hotspots_100k``/``hotspots_1m``: the whole job (Gi* significance and trend
    included, as ``harewatch hotspots`` runs by default); ``..._clusters``: the
    same job with ``--no-significance``, which does what the peer does."""
    csv = paths["inc1m" if "1m" in name else "inc100k"]
    extra = ["--no-significance"] if name.endswith("_clusters") else []

    def peer():
        return run([PY, "-c", PEER_HOTSPOTS, str(csv)], env=env, stdout=work / "peer-hot.json")

    def hw():
        return run(harewatch_cmd("hotspots", "--incidents", str(csv), "--data-dir",
                                 str(work / "empty-store"), *extra),
                   env=env, stdout=work / "hw-hot.json")

    peer_text = "pyarrow CSV+pyproj+dbscan -> JSON"
    note = "clusters only (--no-significance)" if extra else "with Gi* significance and trend"
    return paired(Row(name, peer_text, goal, note=note), peer, hw, pairs)


def row_offenders(paths, work: Path, env, pairs: int, all_plates: bool) -> Row:
    store = paths["store"]

    def peer():
        return run([PY, "-c", PEER_OFFENDERS, str(store), "all" if all_plates else "linked"],
                   env=env, stdout=work / "peer-off.json")

    def hw():
        return run(harewatch_cmd("offenders", "--data-dir", str(store),
                                 *(["--all-plates"] if all_plates else [])),
                   env=env, stdout=work / "hw-off.json")

    name = "offenders_all" if all_plates else "offenders"
    return paired(Row(name, "one duckdb query -> JSON", 1.2), peer, hw, pairs)


def row_policeuk(paths, work: Path, env, pairs: int) -> Row:
    from bench_policeuk import HAREWATCH, PEER

    def side(code):
        return lambda: run([PY, "-c", code, str(ONS), str(paths["street"]),
                            str(paths["street_small"])], env=env)

    return paired(Row("policeuk", "pyarrow CSV+pyproj+contains_xy (work only)", 1.5, inner=True),
                  side(PEER), side(HAREWATCH), pairs)


ROWS = ["ingest", "force", "hotspots_100k", "hotspots_100k_clusters", "hotspots_1m",
        "hotspots_1m_clusters", "offenders", "offenders_all", "policeuk", "dashboard"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=ROWS, default=ROWS)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "harewatch-compare")
    ap.add_argument("--reads", type=int, default=1_000_000)
    ap.add_argument("--store-reads", type=int, default=10_000_000)
    ap.add_argument("--street-rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)

    paths = prepare(args.work, args)
    # an installed tool: sources byte-compiled, as scripts/install.sh does
    subprocess.run([PY, "-m", "compileall", "-q", str(REPO / "geo"), str(REPO / "dashboard")],
                   check=True, stdout=subprocess.DEVNULL)
    env = {**os.environ, "HAREWATCH_BOUNDARIES": str(ONS), "HAREWATCH_NO_FETCH": "1",
           "PYTHONPATH": str(REPO)}
    rows: list[Row] = []
    for name in args.only:
        if name == "ingest":
            rows.append(row_ingest(paths, args.work, env, args.pairs))
        elif name == "force":
            rows += row_force(paths, args.work, env, args.pairs)
        elif name.startswith("hotspots_"):
            goal = 1.1 if "100k" in name else 1.2
            rows.append(row_hotspots(paths, args.work, env, args.pairs, name, goal))
        elif name in ("offenders", "offenders_all"):
            rows.append(row_offenders(paths, args.work, env, args.pairs, name == "offenders_all"))
        elif name == "policeuk":
            rows.append(row_policeuk(paths, args.work, env, args.pairs))
        elif name == "dashboard":
            from compare_dashboard import dashboard_rows

            rows += dashboard_rows(args.work, env, args.pairs)
    print(f"\n{os.cpu_count()} cores shared with other users; load average "
          f"{os.getloadavg()[0]:.1f}; {args.pairs} alternating pairs per row; medians")
    print(f"{'row':<22} {'peer':>9} {'cpu':>6} {'MB':>6} | {'harewatch':>9} {'cpu':>6} {'MB':>6} | "
          f"{'ratio':>5} {'goal':>6} {'met':>4}  peer script")
    for r in rows:
        print(r.line())


if __name__ == "__main__":
    main()

"""Benchmark: patrol planning and its backtest on seeded synthetic incidents.

Usage::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_plan.py   # 100k incidents
    .venv/bin/python benchmarks/bench_plan.py --n 20000 --repeat 1

Incidents: 300 gaussian places (sigma 700 m, pareto-distributed sizes) spread
over East Anglia (EPSG:27700) plus 20 % uniform noise, over four seasons
(September to March, 2020-21 .. 2023-24); each place has its own weekday and
evening/dawn habit, so a Friday/Saturday-night window keeps about a third.
Timed (best of ``--repeat``): ``plan_patrols(crews=3, radius_m=3000,
days="fri,sat", hours="18-02")``, the same with no window, and ``backtest``
over the three later seasons. Target: the plan in < 5 s at 100,000
incidents. With ``--significance`` also times DBSCAN hotspots (CLI defaults)
plus ``hotspot_significance`` and ``hotspot_trends`` on the same incidents.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.planning import backtest, backtest_sentence, plan_patrols
from geo.schema import BNG, INCIDENT_COLUMNS, INCIDENT_DEFAULTS

REGION = (480_000.0, 150_000.0, 650_000.0, 340_000.0)  # xmin, ymin, xmax, ymax (m)
SEASON_STARTS = ("2020-09-01", "2021-09-01", "2022-09-01", "2023-09-01")


def make_incidents(n: int, *, seed: int = 0, n_places: int = 300) -> gpd.GeoDataFrame:
    """Seeded synthetic incidents (schema columns, EPSG:27700) with weekly habits."""
    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = REGION
    centres = np.column_stack(
        [rng.uniform(xmin, xmax, n_places), rng.uniform(ymin, ymax, n_places)]
    )
    size = rng.pareto(1.5, n_places) + 1.0
    n_noise = n // 5
    place = rng.choice(n_places, size=n - n_noise, p=size / size.sum())
    xy = np.vstack(
        [
            centres[place] + rng.normal(scale=700.0, size=(len(place), 2)),
            np.column_stack([rng.uniform(xmin, xmax, n_noise), rng.uniform(ymin, ymax, n_noise)]),
        ]
    )
    habit_day = rng.integers(0, 7, n_places)  # favourite weekday of each place
    habit_hour = rng.choice([5, 6, 19, 21, 23], n_places)
    fav = np.concatenate([place, rng.integers(0, n_places, n_noise)])
    season = rng.integers(0, len(SEASON_STARTS), n)
    start = pd.to_datetime(np.array(SEASON_STARTS)[season])
    day = start + pd.to_timedelta(rng.integers(0, 210, n), unit="D")
    shift = (habit_day[fav] - day.day_of_week.to_numpy()) % 7  # move to the favourite weekday
    day = day + pd.to_timedelta(np.where(rng.random(n) < 0.7, shift, 0), unit="D")
    hour = np.where(rng.random(n) < 0.7, habit_hour[fav], rng.integers(0, 24, n))
    local = (
        day + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(rng.integers(0, 60, n), unit="min")
    )
    times = local.tz_localize("Europe/London", ambiguous=True, nonexistent="shift_forward")
    data = {c: np.full(n, INCIDENT_DEFAULTS.get(c, ""), dtype=object) for c in INCIDENT_COLUMNS}
    data.update(
        incident_id=np.array([f"B{i:07d}" for i in range(n)], dtype=object),
        occurred_at=times.tz_convert("UTC"),
        easting=xy[:, 0],
        northing=xy[:, 1],
        force=np.where(xy[:, 0] < 565_000, "Cambridgeshire", "Suffolk").astype(object),
        in_agreement=np.ones(n, dtype=bool),
        force_mismatch=np.zeros(n, dtype=bool),
        source_row=np.arange(1, n + 1),
    )
    frame = pd.DataFrame(data)[INCIDENT_COLUMNS]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=BNG)


def _best(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--significance", action="store_true", help="also time Gi* and trends")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    inc = make_incidents(args.n)
    print(f"made {len(inc):,} incidents in {time.perf_counter() - t0:.1f} s")
    window = {"days": "fri,sat", "hours": "18-02"}
    secs, plan = _best(lambda: plan_patrols(inc, crews=3, radius_m=3000.0, **window), args.repeat)
    print(
        f"plan_patrols, window fri,sat 18-02: {secs:.2f} s "
        f"({plan.params['n_used']:,} incidents in the window, {len(plan.areas)} areas)"
    )
    secs, _ = _best(lambda: plan_patrols(inc, crews=3, radius_m=3000.0), args.repeat)
    print(f"plan_patrols, no window:            {secs:.2f} s")
    secs, table = _best(lambda: backtest(inc, crews=3, radius_m=3000.0, **window), 1)
    print(f"backtest ({table['season'].nunique()} seasons x 3 methods): {secs:.2f} s")
    print(table.to_string(index=False))
    print(backtest_sentence(table, **window))
    if args.significance:
        _bench_significance(inc)


def _bench_significance(inc: gpd.GeoDataFrame) -> None:
    from geo.hotspots import find_hotspots
    from geo.significance import hotspot_significance, hotspot_trends

    res = find_hotspots(inc)
    secs, sig = _best(lambda: hotspot_significance(inc, res.hotspots, res.labels), 1)
    print(
        f"hotspot_significance: {secs:.2f} s ({len(res.hotspots)} hotspots, "
        f"{int(sig['significant'].sum())} significant)"
    )
    secs, tr = _best(lambda: hotspot_trends(inc, res.hotspots, res.labels), 1)
    print(f"hotspot_trends ({len(tr['seasons'].iloc[0]) if len(tr) else 0} seasons): {secs:.2f} s")


if __name__ == "__main__":
    main()

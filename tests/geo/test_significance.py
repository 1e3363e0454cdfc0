"""Hotspot significance (Gi* with permutations and FDR) and trend classes.

Hand-made scenes with known answers: a dense cluster in uniform background
noise, DBSCAN run loosely enough to find "clusters" in the noise too; places
whose yearly counts rise, fall, appear or stop.
"""

from __future__ import annotations

import json
import math

import factories
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from esda import G_Local
from libpysal.weights import DistanceBand

from geo.grids import grid_over
from geo.hotspots import find_hotspots
from geo.significance import (
    SIGNIFICANCE_COLUMNS,
    TREND_CLASSES,
    cell_frame,
    gi_star,
    hotspot_significance,
    hotspot_trends,
    mann_kendall,
    significance_columns,
    significance_records,
    trend_class,
)

DENSE = (548_000.0, 252_000.0)
BOX = ((540_000.0, 240_000.0), (560_000.0, 260_000.0))


def make_incidents(xy: np.ndarray, times_utc) -> gpd.GeoDataFrame:
    """Incidents (schema columns, EPSG:27700) from metres and UTC times."""
    xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
    n = len(xy)
    return factories.incidents(n, incident_id=[f"S{i:05d}" for i in range(n)],
                               occurred_at=list(pd.to_datetime(list(times_utc), utc=True)),
                               easting=xy[:, 0], northing=xy[:, 1], in_agreement=True)


def noise_and_dense(seed: int):
    """400 uniform incidents over 20 km x 20 km plus 30 within ~300 m of DENSE."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(*BOX, size=(400, 2))
    dense = np.asarray(DENSE) + rng.normal(scale=150.0, size=(30, 2))
    inc = make_incidents(np.vstack([noise, dense]), ["2023-10-01T20:00Z"] * 430)
    res = find_hotspots(inc, eps_m=800, min_samples=4)  # loose: noise forms clusters too
    return inc, res


# ------------------------------------------------------------------ Gi*


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_cluster_significant_noise_clusters_not(seed) -> None:
    inc, res = noise_and_dense(seed)
    hs = res.hotspots
    sig = hotspot_significance(inc, hs, res.labels, seed=0)
    dense = shapely.contains_xy(hs.geometry.values, *DENSE)
    assert dense.sum() == 1
    assert sig["significant"][dense].all()
    assert sig["gi_z"][dense].iloc[0] > 5
    # noise clusters away from the dense one (Gi* sums a 1.5 km neighbourhood,
    # so a noise cluster next to the dense one sits in a genuinely hot area)
    far = np.hypot(hs["centroid_e"] - DENSE[0], hs["centroid_n"] - DENSE[1]).to_numpy() > 4_000
    assert (~dense & far).sum() >= 15  # the loose DBSCAN did find noise "hotspots"
    assert not sig["significant"][~dense & far].any()


def test_fdr_adjustment_raises_p_values_and_removes_chance_hits() -> None:
    inc, res = noise_and_dense(1)
    sig = hotspot_significance(inc, res.hotspots, res.labels, seed=0)
    raw, adj = sig["gi_p_raw"].to_numpy(), sig["gi_p"].to_numpy()
    assert (adj >= raw - 1e-12).all()
    assert (adj > raw).any()
    order = np.argsort(raw, kind="stable")
    assert (np.diff(adj[order]) >= -1e-12).all()  # BH keeps the order of the p-values
    # some noise clusters pass at 5 % before the correction, none after
    dense = shapely.contains_xy(res.hotspots.geometry.values, *DENSE)
    chance = (~dense) & (raw <= 0.05)
    assert chance.any()
    assert not sig["significant"][chance].any()


def test_significance_is_reproducible_with_a_seed() -> None:
    inc, res = noise_and_dense(2)
    a = hotspot_significance(inc, res.hotspots, res.labels, seed=7)
    b = hotspot_significance(inc, res.hotspots, res.labels, seed=7)
    c = hotspot_significance(inc, res.hotspots, res.labels, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a["gi_p_raw"], c["gi_p_raw"])
    assert list(a.columns) == ["hotspot_id", "gi_star", "gi_z", "gi_p_raw", "gi_p", "significant"]


def test_sprawling_cluster_is_tested_where_its_incidents_are() -> None:
    """A ring of incidents 3 km across: its centroid lies in the empty middle."""
    rng = np.random.default_rng(4)
    angle = rng.uniform(0, 2 * np.pi, 80)
    ring = np.column_stack([DENSE[0] + 3_000 * np.cos(angle), DENSE[1] + 3_000 * np.sin(angle)])
    noise = rng.uniform(*BOX, size=(200, 2))
    inc = make_incidents(np.vstack([ring, noise]), ["2023-10-01T20:00Z"] * 280)
    res = find_hotspots(inc, eps_m=800, min_samples=4)
    hs = res.hotspots
    top = hs.iloc[0]
    centroid = np.array([top["centroid_e"], top["centroid_n"]])
    assert top["n"] >= 80 and math.hypot(*(centroid - DENSE)) < 1_500
    # tested at its centroid, the ring would look like background
    xy = inc[["easting", "northing"]].to_numpy()
    frame = cell_frame(xy, cell_m=500.0, band_m=1_500.0)
    at_centroid = frame.positions(centroid[None, :])
    wrong = gi_star(frame.counts(xy), at_centroid, frame.neighbours(at_centroid, 1_500.0))
    assert wrong.p_raw[0] > 0.05
    sig = hotspot_significance(inc, hs, res.labels)
    assert sig["significant"].iloc[0] and sig["gi_z"].iloc[0] > 3


def test_without_labels_the_polygon_is_used() -> None:
    inc, res = noise_and_dense(0)
    with_labels = hotspot_significance(inc, res.hotspots, res.labels)
    with_polygons = hotspot_significance(inc, res.hotspots)
    dense = shapely.contains_xy(res.hotspots.geometry.values, *DENSE)
    assert with_polygons["significant"][dense].all()
    assert with_labels["gi_z"][dense].iloc[0] == pytest.approx(with_polygons["gi_z"][dense].iloc[0])


def _small_grid(seed: int):
    """20 x 20 cells of 500 m: Poisson(0.5) background plus a hot patch."""
    rng = np.random.default_rng(seed)
    grid = grid_over(np.array([[0.0, 0.0], [9_999.0, 9_999.0]]), 500.0)
    y = rng.poisson(0.5, grid.n_cells).astype("float64")
    centres = grid.centres(np.arange(grid.n_cells))
    hot = np.hypot(*(centres - [3_000, 7_000]).T) < 900
    y[hot] += rng.poisson(3.0, hot.sum())
    return grid, centres, y


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # esda's own notices
def test_gi_star_matches_esda_on_the_full_grid() -> None:
    grid, centres, y = _small_grid(0)
    w = DistanceBand(centres, threshold=1_500.0 * (1 + 1e-9), binary=True, silence_warnings=True)
    full = G_Local(y, w, transform="B", star=True, permutations=999, seed=3)
    # esda's own upper-tail p from its simulations (its p_sim folds the two tails)
    upper_p = ((full.rGs >= full.Gs[:, None]).sum(axis=1) + 1) / 1000
    hot = np.flatnonzero((full.Zs > 0) & (upper_p < 0.4))
    focal = np.concatenate([hot[:: max(1, len(hot) // 8)], [5, 210, 399]])
    near = [
        np.flatnonzero((np.hypot(*(centres - centres[f]).T) <= 1_500.0) & (np.arange(len(y)) != f))
        for f in focal
    ]
    ours = gi_star(y, focal, near, permutations=999, max_permutations=999, seed=3)
    np.testing.assert_allclose(ours.gi, full.Gs[focal], rtol=1e-12)
    np.testing.assert_allclose(ours.z, full.Zs[focal], rtol=1e-9)
    # the same randomisation scheme, other random draws: p agree within Monte Carlo error
    upper = np.isin(focal, hot)
    assert upper.sum() >= 5 and (upper_p[focal][upper] > 0.01).any()
    assert np.abs(ours.p_raw - upper_p[focal]).max() < 0.05


def test_strong_hotspots_get_more_randomisations() -> None:
    grid, centres, y = _small_grid(1)
    f = int(np.argmax(y))
    near = [
        np.flatnonzero((np.hypot(*(centres - centres[f]).T) <= 1_500.0) & (np.arange(len(y)) != f))
    ]
    fixed = gi_star(y, [f], near, permutations=999, max_permutations=999)
    adaptive = gi_star(y, [f], near, permutations=999, max_permutations=9999)
    assert fixed.p_raw[0] == pytest.approx(1 / 1000)  # stuck at the floor
    assert adaptive.p_raw[0] < 1 / 1000
    assert adaptive.p_raw[0] >= 1 / 10_000


def test_no_incidents_means_nothing_significant() -> None:
    inc, res = noise_and_dense(0)
    out = gi_star(np.zeros(50), np.array([1, 2]), [np.array([3]), np.array([4])])
    assert np.isnan(out.z).all() and (out.p_raw == 1).all()
    empty = hotspot_significance(inc.iloc[:0], res.hotspots)
    assert not empty["significant"].any()


# ------------------------------------------------------------------ trend classes


@pytest.mark.parametrize(
    "counts, sig, expected",
    [
        ([0, 0, 0, 9], [False, False, False, True], "new"),
        ([0, 1, 8, 9], [False, False, True, True], "consecutive"),
        ([2, 4, 6, 8, 10, 12], [True] * 6, "intensifying"),
        ([12, 10, 8, 6, 4, 2], [True] * 6, "diminishing"),
        ([5, 6, 5, 6, 5, 6], [True] * 6, "persistent"),
        ([2, 4, 8], [True] * 3, "persistent"),  # 3 seasons: no trend can be significant
        ([5, 0, 6, 0, 7], [True, False, True, False, True], "sporadic"),
        ([8, 9, 8, 0], [True, True, True, False], "historical"),
        ([8, 0, 0, 0], [True, False, False, False], "none"),
        ([1, 1, 1], [False, False, False], "none"),
        ([7], [True], "new"),
    ],
)
def test_trend_classes_by_hand(counts, sig, expected) -> None:
    assert trend_class(counts, sig) == expected
    assert expected in TREND_CLASSES


def test_trend_class_checks_lengths_and_mann_kendall() -> None:
    with pytest.raises(ValueError):
        trend_class([1, 2], [True])
    with pytest.raises(ValueError):
        trend_class([], [])
    tau, p = mann_kendall([2, 4, 6, 8, 10, 12])
    assert tau == pytest.approx(1.0) and p < 0.01
    assert mann_kendall([3, 3, 3, 3]) == (0.0, 1.0)
    assert mann_kendall([1, 2]) == (0.0, 1.0)


def _seasons_scene() -> gpd.GeoDataFrame:
    """Six seasons (2018-19 .. 2023-24) of background noise and four places.

    GROW: 20, 23, .., 35 a season; NEW: only 25 in the last season; GONE: 25
    a season, none in the last; FALL: 35, 32, .., 20. Places spread ~300 m,
    60 background incidents a season over 20 km x 20 km.
    """
    rng = np.random.default_rng(21)
    places = {
        "GROW": ((544_000.0, 244_000.0), [20, 23, 26, 29, 32, 35]),
        "NEW": ((556_000.0, 244_000.0), [0, 0, 0, 0, 0, 25]),
        "GONE": ((544_000.0, 256_000.0), [25, 25, 25, 25, 25, 0]),
        "FALL": ((556_000.0, 256_000.0), [35, 32, 29, 26, 23, 20]),
    }
    xy, times = [], []
    for s, year in enumerate(range(2018, 2024)):
        when = f"{year}-11-15T21:00Z"
        xy.append(rng.uniform(*BOX, size=(60, 2)))
        times += [when] * 60
        for centre, counts in places.values():
            xy.append(np.asarray(centre) + rng.normal(scale=300.0, size=(counts[s], 2)))
            times += [when] * counts[s]
    return make_incidents(np.vstack(xy), times), {k: v[0] for k, v in places.items()}


def test_hotspot_trends_on_six_seasons() -> None:
    inc, centres = _seasons_scene()
    res = find_hotspots(inc, eps_m=800, min_samples=6)
    trends = hotspot_trends(inc, res.hotspots, res.labels, permutations=499)
    assert trends["seasons"].iloc[0] == [
        "2018-19",
        "2019-20",
        "2020-21",
        "2021-22",
        "2022-23",
        "2023-24",
    ]
    expected = {"GROW": "intensifying", "NEW": "new", "GONE": "historical", "FALL": "diminishing"}
    for name, centre in centres.items():
        row = trends[shapely.contains_xy(res.hotspots.geometry.values, *centre)]
        assert len(row) == 1, name
        assert row["trend"].iloc[0] == expected[name], (name, row.iloc[0].to_dict())
    grow = trends[shapely.contains_xy(res.hotspots.geometry.values, *centres["GROW"])].iloc[0]
    assert grow["counts"][0] >= 20 and grow["counts"][-1] >= 35  # its own incidents (+ noise)
    assert grow["trend_tau"] > 0.8


def test_significance_columns_and_records() -> None:
    inc, centres = _seasons_scene()
    res = find_hotspots(inc, eps_m=800, min_samples=6)
    cols = significance_columns(res.hotspots, inc, res.labels, permutations=199, seed=1)
    assert list(cols.columns) == SIGNIFICANCE_COLUMNS
    assert cols.index.equals(res.hotspots.index)
    records = json.loads(json.dumps(significance_records(cols), allow_nan=False))
    assert len(records) == len(res.hotspots)
    assert set(records[0]) == {"gi_z", "gi_p", "significant", "trend"}
    assert all(r["trend"] in TREND_CLASSES for r in records)
    assert all(isinstance(r["significant"], bool) for r in records)
    grow = int(
        np.flatnonzero(shapely.contains_xy(res.hotspots.geometry.values, *centres["GROW"]))[0]
    )
    assert records[grow]["significant"] and records[grow]["trend"] == "intensifying"
    assert math.isfinite(records[grow]["gi_z"])

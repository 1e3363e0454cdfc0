"""DBSCAN hotspots: sklearn-identical labels and hand-made clusters with known answers."""

from __future__ import annotations

import json
import math
import re

import factories
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sklearn.cluster import DBSCAN

import geo.hotspots as hs
from geo.areas import assign_force
from geo.hotspots import HOTSPOT_COLUMNS, RANKING_RULE, dbscan_labels, find_hotspots
from geo.io.formats import hotspots_to_frame, hotspots_to_geojson, hotspots_to_json
from geo.schema import BNG
from geo.times import london_fields

CAMBRIDGE = (545000.0, 258000.0)


def make_incidents(ids, times, easting, northing, forces=None, index=None) -> gpd.GeoDataFrame:
    """Incidents (EPSG:27700) from ids, UTC times and coordinates in metres."""
    return factories.incidents(len(ids), incident_id=ids, occurred_at=times, easting=easting, northing=northing,
                     force=forces if forces is not None else "Cambridgeshire", in_agreement=True,
                     index=index)




# ------------------------------------------------------------------ dbscan_labels


def _border_ties(x: np.ndarray, eps: float, min_samples: int) -> int:
    """Border points within eps of cores of two or more different sklearn clusters."""
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
    core = np.zeros(len(x), dtype=bool)
    core[model.core_sample_indices_] = True
    d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    near_core = (d2 <= eps * eps) & core[None, :]
    lab = np.where(near_core, model.labels_[None, :], -1)
    ties = 0
    for i in np.flatnonzero(~core & (model.labels_ >= 0)):
        ties += len(set(lab[i][lab[i] >= 0].tolist())) >= 2
    return ties


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_labels_identical_to_sklearn_on_integer_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 30, size=(int(rng.integers(50, 500)), 2)).astype("float64")
    for eps, min_samples in [(1.0, 3), (1.5, 4), (2.0, 6), (1.0, 1), (3.0, 12)]:
        expected = DBSCAN(eps=eps, min_samples=min_samples).fit(x).labels_
        got = dbscan_labels(x, eps, min_samples)
        np.testing.assert_array_equal(got, expected)


def test_grid_cases_really_contain_border_ties() -> None:
    # the cases above are only meaningful if border points sit between clusters
    # and the dbscan package numbers clusters differently from sklearn
    import dbscan

    ties = 0
    renumbered = 0
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 30, size=(int(rng.integers(50, 500)), 2)).astype("float64")
        ties += _border_ties(x, 2.0, 6) + _border_ties(x, 1.5, 4)
        raw, _ = dbscan.DBSCAN(x, eps=2.0, min_samples=6)
        renumbered += not np.array_equal(raw, DBSCAN(eps=2.0, min_samples=6).fit(x).labels_)
    assert ties > 0
    assert renumbered > 0


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_labels_identical_to_sklearn_on_gaussian_clusters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 50_000, size=(15, 2))
    pts = centres[rng.integers(0, 15, 3000)] + rng.normal(scale=700.0, size=(3000, 2))
    x = np.vstack([pts, rng.uniform(0, 50_000, size=(1000, 2))])
    rng.shuffle(x)
    for eps, min_samples in [(1500.0, 6), (400.0, 3), (800.0, 10)]:
        expected = DBSCAN(eps=eps, min_samples=min_samples).fit(x).labels_
        np.testing.assert_array_equal(dbscan_labels(x, eps, min_samples), expected)


def test_labels_identical_to_sklearn_in_three_dimensions() -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 12, size=(400, 3)).astype("float64")
    for eps, min_samples in [(1.0, 4), (1.5, 8)]:
        expected = DBSCAN(eps=eps, min_samples=min_samples).fit(x).labels_
        np.testing.assert_array_equal(dbscan_labels(x, eps, min_samples), expected)


def test_eps_inclusive_and_min_samples_counts_the_point_itself() -> None:
    x = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    # middle point has 3 points (itself included) at distance <= 1
    assert dbscan_labels(x, 1.0, 3).tolist() == [0, 0, 0]
    assert dbscan_labels(x, 0.999, 3).tolist() == [-1, -1, -1]
    assert dbscan_labels(x, 1.0, 4).tolist() == [-1, -1, -1]
    assert dbscan_labels(x, 1.0, 1).tolist() == [0, 0, 0]
    assert dbscan_labels(x[:1], 1.0, 1).tolist() == [0]


def test_border_point_takes_lowest_cluster_number() -> None:
    # two clusters (min_samples=4, eps=1); point 0 at x=0 is 1 m from a core of
    # each; the right-hand cluster has the lower-index core, so it is cluster 0
    right = [[1.0, 0.0], [1.5, 0.0], [2.0, 0.0], [1.5, 0.5]]
    left = [[-1.0, 0.0], [-1.5, 0.0], [-2.0, 0.0], [-1.5, 0.5]]
    x = np.array([[0.0, 0.0], *right, *left])
    expected = DBSCAN(eps=1.0, min_samples=4).fit(x).labels_
    assert expected.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert dbscan_labels(x, 1.0, 4).tolist() == expected.tolist()


def test_sklearn_fallback_without_package(monkeypatch) -> None:
    monkeypatch.setattr(hs, "_dbscan_pkg", None)
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, size=(200, 2)).astype("float64")
    expected = DBSCAN(eps=1.5, min_samples=4).fit(x).labels_
    np.testing.assert_array_equal(dbscan_labels(x, 1.5, 4), expected)


def test_dbscan_labels_validation_and_no_mutation() -> None:
    x = np.array([[0.0, 0.0], [1.0, 1.0]])
    before = x.copy()
    dbscan_labels(x, 2.0, 2)
    np.testing.assert_array_equal(x, before)
    assert dbscan_labels(np.empty((0, 2)), 1.0, 2).shape == (0,)
    for bad in [(x, 0.0, 2), (x, -1.0, 2), (x, float("nan"), 2), (x, 1.0, 0), (x, 1.0, 2.5)]:
        with pytest.raises(ValueError):
            dbscan_labels(*bad)
    with pytest.raises(ValueError):
        dbscan_labels(np.array([[0.0, np.nan]]), 1.0, 1)
    with pytest.raises(ValueError):
        dbscan_labels(np.zeros(3), 1.0, 1)


# ------------------------------------------------------------------ hand-made hotspots


@pytest.fixture(scope="module")
def border_point(areas) -> tuple[float, float]:
    """A point on the Cambridgeshire / Hertfordshire boundary (EPSG:27700 metres)."""
    g = areas.gdf.set_index("force").geometry
    shared = shapely.intersection(
        shapely.boundary(g["Cambridgeshire"]), shapely.boundary(g["Hertfordshire"])
    )
    parts = shapely.get_parts(shapely.line_merge(shared))
    longest = parts[np.argmax(shapely.length(parts))]
    p = shapely.line_interpolate_point(longest, 0.5, normalized=True)
    return p.x, p.y


# Cambridge cluster A: 8 incidents within 200 m; October 2021 (BST, London = UTC+1)
A_IDS = [f"A{i}" for i in range(8)]
A_TIMES = [
    "2021-10-02 19:10:00",  # Sat 20:10 London
    "2021-10-09 19:40:00",  # Sat 20:40
    "2021-10-16 19:55:00",  # Sat 20:55
    "2021-10-23 20:15:00",  # Sat 21:15
    "2021-10-30 20:50:00",  # Sat 21:50
    "2021-10-08 20:05:00",  # Fri 21:05
    "2021-10-15 21:20:00",  # Fri 22:20
    "2021-10-17 21:40:00",  # Sun 22:40
]
A_OFFSETS = np.array(
    [[0, 0], [150, 0], [-150, 0], [0, 150], [0, -150], [100, 100], [-100, -100], [100, -100]]
)
# border cluster B: 7 incidents within 150 m of a point on the boundary; winter (GMT)
B_IDS = [f"B{i}" for i in range(7)]
B_TIMES = [
    "2021-11-06 00:10:00",  # Sat 00:10
    "2021-11-13 00:40:00",  # Sat 00:40
    "2021-11-20 01:20:00",  # Sat 01:20
    "2021-11-27 01:50:00",  # Sat 01:50
    "2021-11-05 23:30:00",  # Fri 23:30
    "2021-12-04 00:05:00",  # Sat 00:05 (latest of all)
    "2021-11-14 01:00:00",  # Sun 01:00
]
B_OFFSETS = np.array([[0, 0], [120, 0], [-120, 0], [0, 120], [0, -120], [80, 80], [-80, -80]])
# scattered noise, >= 10 km from everything else
NOISE_XY = np.array(
    [[560000 + 10000 * i, 290000] for i in range(5)]
    + [[575000 + 10000 * i, 225000] for i in range(5)],
    dtype="float64",
)


@pytest.fixture(scope="module")
def incidents(areas, border_point) -> gpd.GeoDataFrame:
    a_xy = np.array(CAMBRIDGE) + A_OFFSETS
    b_xy = np.array(border_point) + B_OFFSETS
    # B rows first and noise interleaved: DBSCAN label 0 is B, but A ranks first
    xy = np.vstack([b_xy, NOISE_XY[:5], a_xy, NOISE_XY[5:]])
    ids = B_IDS + [f"N{i}" for i in range(5)] + A_IDS + [f"N{i}" for i in range(5, 10)]
    times = B_TIMES + ["2021-10-01 12:00:00"] * 5 + A_TIMES + ["2022-02-01 12:00:00"] * 5
    names = areas.gdf["force"].to_numpy()
    where = assign_force(areas, xy[:, 0], xy[:, 1])
    forces = np.where(where >= 0, names[np.maximum(where, 0)], "").tolist()
    index = [100 + 3 * i for i in range(len(ids))]  # not a RangeIndex
    return make_incidents(ids, times, xy[:, 0], xy[:, 1], forces, index)


@pytest.fixture(scope="module")
def previous() -> gpd.GeoDataFrame:
    # previous season: 4 incidents inside A's polygon, 1 far from everything
    xy = np.array(
        [[545000, 258000], [545300, 258000], [545000, 257500], [544500, 258200], [600000, 300000]]
    )
    times = ["2020-10-10 20:00:00"] * 5
    return make_incidents([f"P{i}" for i in range(5)], times, xy[:, 0], xy[:, 1])


def test_border_cluster_really_straddles(incidents) -> None:
    b = incidents[incidents["incident_id"].str.startswith("B")]
    assert set(b["force"]) == {"Cambridgeshire", "Hertfordshire"}
    a = incidents[incidents["incident_id"].str.startswith("A")]
    assert set(a["force"]) == {"Cambridgeshire"}


def test_known_hotspots(incidents, areas, previous) -> None:
    result = find_hotspots(incidents, areas=areas, previous=previous)
    h = result.hotspots
    assert list(h.columns) == [*HOTSPOT_COLUMNS, "geometry"]
    assert h.crs == BNG
    assert len(h) == 2
    assert result.noise == 10
    assert h["hotspot_id"].tolist() == ["H001", "H002"]
    assert h["rank"].tolist() == [1, 2]
    assert h["n"].tolist() == [8, 7]
    # members, in input order
    assert h.loc[0, "incident_ids"] == A_IDS
    assert h.loc[1, "incident_ids"] == B_IDS
    # forces and cross-border
    assert h.loc[0, "forces"] == ["Cambridgeshire"]
    assert h.loc[1, "forces"] == ["Cambridgeshire", "Hertfordshire"]
    assert h["cross_border"].tolist() == [False, True]
    # times and busiest periods (London time)
    assert h.loc[0, "first_at"] == pd.Timestamp("2021-10-02 19:10", tz="UTC")
    assert h.loc[0, "last_at"] == pd.Timestamp("2021-10-30 20:50", tz="UTC")
    assert h.loc[1, "last_at"] == pd.Timestamp("2021-12-04 00:05", tz="UTC")
    assert h["busiest_month"].tolist() == ["Oct", "Nov"]
    assert h["busiest_weekday"].tolist() == ["Sat", "Sat"]
    assert h["busiest_hours"].tolist() == ["20:00-23:00", "23:00-02:00"]
    # previous season
    assert h["previous_n"].tolist() == [4, 0]
    assert h["change"].tolist() == [4, 7]
    assert h.loc[0, "change_pct"] == pytest.approx(100.0)
    assert math.isnan(h.loc[1, "change_pct"])
    # geometry and centroid
    assert h.loc[0, "centroid_e"] == pytest.approx(CAMBRIDGE[0] + A_OFFSETS[:, 0].mean())
    assert h.loc[0, "centroid_n"] == pytest.approx(CAMBRIDGE[1] + A_OFFSETS[:, 1].mean())
    assert h.loc[0, "centroid_lat"] == pytest.approx(52.2, abs=0.01)
    assert h.loc[0, "centroid_lon"] == pytest.approx(0.12, abs=0.01)
    assert h.geometry.is_valid.all()
    # hull reaches 150 m east of the centre, plus eps/2 = 750 m of buffer
    assert h.geometry.contains(shapely.Point(CAMBRIDGE[0] + 850, CAMBRIDGE[1])).tolist() == [
        True,
        False,
    ]
    assert not h.geometry.iloc[0].contains(shapely.Point(CAMBRIDGE[0] + 950, CAMBRIDGE[1]))
    # Steiner: buffered convex area = hull area + perimeter * r + pi r^2 (r = 750 m)
    hull = shapely.convex_hull(shapely.multipoints(np.array(CAMBRIDGE) + A_OFFSETS))
    steiner = (hull.area + hull.length * 750 + math.pi * 750**2) / 1e6
    assert h.loc[0, "area_km2"] == pytest.approx(steiner, rel=0.01)
    assert h.loc[0, "area_km2"] == pytest.approx(h.geometry.area.iloc[0] / 1e6)


def test_labels_aligned_to_incidents(incidents, areas) -> None:
    result = find_hotspots(incidents, areas=areas)
    assert result.labels.index.equals(incidents.index)
    ids = incidents["incident_id"]
    # sklearn numbering: B has the lowest-index core point, so it is label 0
    assert set(result.labels[ids.str.startswith("B")]) == {0}
    assert set(result.labels[ids.str.startswith("A")]) == {1}
    assert set(result.labels[ids.str.startswith("N")]) == {-1}
    assert result.hotspots["label"].tolist() == [1, 0]
    hid = result.hotspot_ids
    assert set(hid[ids.str.startswith("A")]) == {"H001"}
    assert set(hid[ids.str.startswith("B")]) == {"H002"}
    assert set(hid[ids.str.startswith("N")]) == {""}
    xy = np.column_stack([incidents["easting"], incidents["northing"]])
    np.testing.assert_array_equal(
        result.labels.to_numpy(), DBSCAN(eps=1500, min_samples=6).fit(xy).labels_
    )


def test_without_areas_forces_come_from_incidents(incidents) -> None:
    h = find_hotspots(incidents).hotspots
    assert h["forces"].tolist() == [["Cambridgeshire"], ["Cambridgeshire", "Hertfordshire"]]
    assert h["cross_border"].tolist() == [False, True]
    assert h["previous_n"].tolist() == [0, 0]
    assert h["change"].tolist() == [8, 7]
    assert h["change_pct"].isna().all()


def test_polygon_reaching_into_a_second_force_is_cross_border(
    incidents, areas, border_point
) -> None:
    # all B incidents relabelled as one force: the polygon still overlaps both
    only_one = incidents.assign(force="Cambridgeshire")
    with_areas = find_hotspots(only_one, areas=areas).hotspots
    assert with_areas["cross_border"].tolist() == [False, True]
    without = find_hotspots(only_one).hotspots
    assert without["cross_border"].tolist() == [False, False]


def test_ranking_ties_broken_by_recency() -> None:
    # two clusters of 6; the eastern one is older, the western one more recent
    off = np.array([[0, 0], [100, 0], [0, 100], [-100, 0], [0, -100], [50, 50]])
    east = np.array([560000.0, 260000.0]) + off
    west = np.array([530000.0, 260000.0]) + off
    xy = np.vstack([east, west])
    times = ["2021-10-01 20:00:00"] * 6 + ["2021-11-01 20:00:00"] * 6
    inc = make_incidents(
        [f"E{i}" for i in range(6)] + [f"W{i}" for i in range(6)], times, xy[:, 0], xy[:, 1]
    )
    h = find_hotspots(inc).hotspots
    assert [ids[0] for ids in h["incident_ids"]] == ["W0", "E0"]
    # same recency: west before east (centroid easting)
    same = make_incidents(
        inc["incident_id"].tolist(), ["2021-10-01 20:00:00"] * 12, xy[::-1, 0], xy[::-1, 1]
    )
    h2 = find_hotspots(same).hotspots
    assert h2["centroid_e"].is_monotonic_increasing
    assert "number of incidents" in RANKING_RULE


def test_geographic_or_missing_crs_refused(incidents, previous) -> None:
    with pytest.raises(ValueError, match="geographic"):
        find_hotspots(incidents.to_crs("EPSG:4326"))
    with pytest.raises(ValueError, match="no CRS"):
        find_hotspots(incidents.set_crs(None, allow_override=True))
    with pytest.raises(ValueError, match="geographic"):
        find_hotspots(incidents, previous=previous.to_crs("EPSG:4326"))
    with pytest.raises(ValueError):
        find_hotspots(pd.DataFrame(incidents.drop(columns="geometry")))


def test_other_projected_crs_converted(incidents) -> None:
    base = find_hotspots(incidents)
    moved = find_hotspots(incidents.to_crs("EPSG:3857"))
    pd.testing.assert_series_equal(moved.labels, base.labels)
    assert moved.hotspots["incident_ids"].tolist() == base.hotspots["incident_ids"].tolist()


def test_inputs_not_mutated(incidents, areas, previous) -> None:
    inc_before = incidents.copy(deep=True)
    prev_before = previous.copy(deep=True)
    areas_before = areas.gdf.copy(deep=True)
    find_hotspots(incidents, areas=areas, previous=previous, window_days=7)
    pd.testing.assert_frame_equal(incidents, inc_before)
    pd.testing.assert_frame_equal(previous, prev_before)
    pd.testing.assert_frame_equal(areas.gdf, areas_before)


def test_empty_and_all_noise(incidents) -> None:
    empty = find_hotspots(incidents.iloc[:0])
    assert len(empty.hotspots) == 0
    assert list(empty.hotspots.columns) == [*HOTSPOT_COLUMNS, "geometry"]
    assert empty.noise == 0
    assert len(empty.labels) == 0
    assert hotspots_to_json(empty)["hotspots"] == []
    assert hotspots_to_geojson(empty)["features"] == []
    assert len(hotspots_to_frame(empty)) == 0

    none = find_hotspots(incidents, min_samples=50)
    assert len(none.hotspots) == 0
    assert none.noise == len(incidents)
    assert (none.labels == -1).all()


def test_parameters_validated(incidents) -> None:
    for kwargs in [
        {"eps_m": 0},
        {"eps_m": -5.0},
        {"min_samples": 0},
        {"start_month": 13},
        {"window_days": 0},
    ]:
        with pytest.raises(ValueError):
            find_hotspots(incidents, **kwargs)


def test_busiest_month_tie_goes_to_earlier_in_season() -> None:
    off = np.array([[0, 0], [100, 0], [0, 100], [-100, 0], [0, -100], [50, 50]])
    xy = np.array([545000.0, 258000.0]) + off
    times = ["2022-01-10 20:00:00"] * 3 + ["2021-12-10 20:00:00"] * 3
    inc = make_incidents([f"X{i}" for i in range(6)], times, xy[:, 0], xy[:, 1])
    assert find_hotspots(inc).hotspots["busiest_month"].tolist() == ["Dec"]
    assert find_hotspots(inc, start_month=1).hotspots["busiest_month"].tolist() == ["Jan"]


def test_space_time_separates_bursts_at_the_same_place() -> None:
    off = np.array([[0, 0], [100, 0], [0, 100], [-100, 0], [0, -100], [50, 50]])
    xy = np.vstack([np.array(CAMBRIDGE) + off] * 2)
    times = [f"2021-10-0{d} 20:00:00" for d in range(1, 7)] + [
        f"2021-12-0{d} 20:00:00" for d in range(1, 7)
    ]
    inc = make_incidents([f"S{i}" for i in range(12)], times, xy[:, 0], xy[:, 1])
    assert find_hotspots(inc).hotspots["n"].tolist() == [12]
    st_result = find_hotspots(inc, window_days=7)
    assert st_result.hotspots["n"].tolist() == [6, 6]
    assert st_result.hotspots["incident_ids"].tolist()[0][0] == "S6"  # December is more recent
    assert st_result.hotspots["incident_ids"].tolist()[1] == [f"S{i}" for i in range(6)]
    assert st_result.params["window_days"] == 7


def test_json_contract(incidents, areas, previous) -> None:
    result = find_hotspots(incidents, areas=areas, previous=previous)
    out = hotspots_to_json(result)
    text = json.dumps(out, allow_nan=False)  # plain JSON types, no NaN
    assert json.loads(text) == out
    assert out["noise"] == 10
    assert out["params"]["eps_m"] == 1500.0
    assert out["params"]["min_samples"] == 6
    first, second = out["hotspots"]
    assert first["id"] == "H001"
    assert first["rank"] == 1
    assert first["n"] == 8
    assert first["incident_ids"] == result.hotspots.loc[0, "incident_ids"]
    assert set(first["centroid"]) >= {"lat", "lon"}
    assert first["cross_border"] is False
    assert second["cross_border"] is True
    assert second["forces"] == ["Cambridgeshire", "Hertfordshire"]
    # where, in words: nearest named place and the 6-figure grid reference of the centroid
    assert first["place"] and first["place_distance_km"] >= 0
    assert re.fullmatch(r"[A-Z]{2} \d{3} \d{3}", first["grid_ref"])
    assert first["first_at"] == "2021-10-02T19:10:00+00:00"
    assert first["change_pct"] == 100.0
    assert second["change_pct"] is None
    for key in (
        "busiest_month",
        "busiest_weekday",
        "busiest_hours",
        "previous_n",
        "change",
        "area_km2",
        "last_at",
    ):
        assert key in first


def test_geojson_and_frame(incidents, areas) -> None:
    result = find_hotspots(incidents, areas=areas)
    gj = hotspots_to_geojson(result)
    json.dumps(gj, allow_nan=False)
    assert gj["type"] == "FeatureCollection"
    assert [f["properties"]["id"] for f in gj["features"]] == ["H001", "H002"]
    lon, lat = np.array(gj["features"][0]["geometry"]["coordinates"][0]).T
    assert ((lon > -1) & (lon < 1)).all()
    assert ((lat > 51) & (lat < 53)).all()
    frame = hotspots_to_frame(result)
    assert "geometry" not in frame.columns
    assert frame.loc[1, "forces"] == "Cambridgeshire;Hertfordshire"
    assert frame.loc[0, "incident_ids"].split(";") == result.hotspots.loc[0, "incident_ids"]
    # the result itself still holds lists
    assert isinstance(result.hotspots.loc[1, "forces"], list)


# ------------------------------------------------------------------ reference check


def _reference_busiest(local: pd.Series, start_month: int) -> tuple[str, str, str]:
    """Plain per-hotspot loop: busiest month (season order), weekday, 3-hour window."""
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    local = local.dropna()
    if local.empty:
        return "", "", ""
    m_counts = local.dt.month.value_counts()
    season = [(start_month - 1 + i) % 12 + 1 for i in range(12)]
    month = max(season, key=lambda m: (m_counts.get(m, 0), -season.index(m)))
    w_counts = local.dt.day_of_week.value_counts()
    wday = max(range(7), key=lambda d: (w_counts.get(d, 0), -d))
    h_counts = local.dt.hour.value_counts()
    c = [int(h_counts.get(h, 0)) for h in range(24)]
    best = max(
        range(24), key=lambda h: (c[h] + c[(h + 1) % 24] + c[(h + 2) % 24], c[(h + 1) % 24], -h)
    )
    return months[month - 1], days[wday], f"{best:02d}:00-{(best + 3) % 24:02d}:00"


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_a_plain_reference_implementation(areas, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # clusters near the Cambridgeshire / Hertfordshire / Essex / Suffolk borders and inland
    centres = np.array(
        [
            [530000, 238000],
            [545000, 258000],
            [555000, 243000],
            [565000, 250000],
            [600000, 290000],
            [520000, 250000],
        ],
        dtype="float64",
    )
    sizes = rng.integers(6, 60, len(centres))
    pts = np.vstack(
        [c + rng.normal(scale=900, size=(s, 2)) for c, s in zip(centres, sizes, strict=True)]
    )
    pts = np.vstack([pts, rng.uniform([500000, 220000], [620000, 300000], size=(150, 2))])
    order = rng.permutation(len(pts))
    pts = pts[order]
    n = len(pts)
    t0 = pd.Timestamp("2021-09-01", tz="UTC").value
    times = list(pd.to_datetime(rng.integers(t0, t0 + 365 * 86400 * 10**9, n), utc=True))
    times[3] = None  # one incident without a time
    names = areas.gdf["force"].to_numpy()
    where = assign_force(areas, pts[:, 0], pts[:, 1])
    forces = np.where(where >= 0, names[np.maximum(where, 0)], "").tolist()
    ids = [f"R{i:04d}" for i in range(n)]
    inc = make_incidents(ids, list(times), pts[:, 0], pts[:, 1], forces)
    prev_xy = np.vstack([centres + rng.normal(scale=900, size=centres.shape) for _ in range(20)])
    prev = make_incidents(
        [f"P{i}" for i in range(len(prev_xy))],
        ["2020-10-01"] * len(prev_xy),
        prev_xy[:, 0],
        prev_xy[:, 1],
    )

    result = find_hotspots(inc, areas=areas, previous=prev, eps_m=1500, min_samples=6)
    h = result.hotspots
    labels = DBSCAN(eps=1500, min_samples=6).fit(pts).labels_
    np.testing.assert_array_equal(result.labels.to_numpy(), labels)
    assert len(h) == labels.max() + 1 >= 4
    assert result.noise == int((labels < 0).sum())
    local = inc["occurred_at"].dt.tz_convert("Europe/London")
    area_geoms = list(areas.gdf.geometry)
    expected_rank = []
    for row in h.itertuples():
        members = np.flatnonzero(labels == row.label)
        assert row.incident_ids == [ids[i] for i in members]
        assert row.n == len(members)
        poly = shapely.MultiPoint(pts[members]).convex_hull.buffer(750, quad_segs=8)
        assert shapely.equals_exact(row.geometry.normalize(), poly.normalize(), tolerance=1e-6)
        inter = [names[j] for j, g in enumerate(area_geoms) if g.intersects(poly)]
        own = {forces[i] for i in members} - {""}
        assert row.forces == [f for f in names if f in set(inter) | own]
        assert row.cross_border == (len(row.forces) >= 2)
        t = inc["occurred_at"].iloc[members]
        assert row.first_at == t.min()
        assert row.last_at == t.max()
        assert (row.busiest_month, row.busiest_weekday, row.busiest_hours) == _reference_busiest(
            local.iloc[members], 9
        )
        prev_in = sum(poly.intersects(shapely.Point(x, y)) for x, y in prev_xy)
        assert row.previous_n == prev_in
        assert row.change == row.n - prev_in
        if prev_in:
            assert row.change_pct == pytest.approx(100 * (row.n - prev_in) / prev_in)
        else:
            assert math.isnan(row.change_pct)
        assert row.centroid_e == pytest.approx(pts[members, 0].mean())
        assert row.area_km2 == pytest.approx(poly.area / 1e6)
        expected_rank.append((-row.n, -t.max().value, row.centroid_e, row.centroid_n))
    assert expected_rank == sorted(expected_rank)
    assert h["rank"].tolist() == list(range(1, len(h) + 1))
    assert any(h["cross_border"]) and not all(h["cross_border"])


@pytest.mark.parametrize("span_years", [1, 300])
def test_london_fields_match_pandas(span_years: int) -> None:
    # private helper, both paths: per-hour table (short spans) and direct (long)
    rng = np.random.default_rng(span_years)
    start = pd.Timestamp("2021-01-01" if span_years == 1 else "1850-01-01", tz="UTC").value
    utc_ns = rng.integers(start, start + span_years * 365 * 86400 * 10**9, 5000)
    # plus the instants around the 2021 changes (28 Mar, 31 Oct at 01:00 UTC)
    edges = pd.to_datetime(
        [
            "2021-03-28 00:59:59",
            "2021-03-28 01:00:00",
            "2021-10-31 00:59:59",
            "2021-10-31 01:00:00",
        ],
        utc=True,
    )
    utc_ns = np.concatenate([utc_ns, edges.as_unit("ns").asi8])
    local = (
        pd.DatetimeIndex(utc_ns.view("datetime64[ns]"))
        .tz_localize("UTC")
        .tz_convert("Europe/London")
    )
    month, wday, hour = london_fields(utc_ns)
    np.testing.assert_array_equal(month, local.month.to_numpy() - 1)
    np.testing.assert_array_equal(wday, local.day_of_week.to_numpy())
    np.testing.assert_array_equal(hour, local.hour.to_numpy())

"""Patrol planning: time windows, maximal cover, recency, month-only dates, backtest.

Every scenario is hand-made with a known answer, and each test also checks
that the wrong answer would look different (so the test can fail).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from zoneinfo import ZoneInfo

import factories
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.areas import assign_force
from geo.grids import bin_points, grid_over
from geo.planning import (
    BACKTEST_COLUMNS,
    DAY_TOKENS,
    PLAN_AREA_COLUMNS,
    PlanInputError,
    backtest,
    backtest_sentence,
    parse_days,
    parse_hours,
    plan_patrols,
    plan_to_frame,
    plan_to_geojson,
    plan_to_json,
    window_mask,
)

LONDON = ZoneInfo("Europe/London")
WINDOW = {"days": "fri,sat", "hours": "18-02"}


def make_incidents(
    xy: np.ndarray,
    local_times: list,
    forces: list[str] | None = None,
    precision: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Incidents (schema columns, EPSG:27700) from metres and London wall-clock times."""
    xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
    n = len(xy)
    times = pd.DatetimeIndex(pd.to_datetime(list(local_times)))
    if times.tz is None:
        times = times.tz_localize("Europe/London", ambiguous=True)
    return factories.incidents(
        n, incident_id=[f"T{i:04d}" for i in range(n)], occurred_at=list(times.tz_convert("UTC")),
        easting=xy[:, 0], northing=xy[:, 1], force=list(forces) if forces else "Cambridgeshire",
        in_agreement=True, time_precision=list(precision) if precision else "minute")


def blob(rng: np.random.Generator, centre, n: int, sd_m: float = 250.0) -> np.ndarray:
    return np.asarray(centre, dtype="float64") + rng.normal(scale=sd_m, size=(n, 2))


def weekly(first_local: str, n: int, step_days: int = 7) -> list[pd.Timestamp]:
    """``n`` London wall-clock times, ``step_days`` apart, from ``first_local``."""
    start = pd.Timestamp(first_local)
    return [start + pd.Timedelta(days=step_days * i) for i in range(n)]


def near(area_row, centre, tol_m: float) -> bool:
    return math.hypot(area_row["easting"] - centre[0], area_row["northing"] - centre[1]) <= tol_m


# ------------------------------------------------------------------ parsers (hypothesis)


@settings(max_examples=200, deadline=None)
@given(
    days=st.sets(st.integers(0, 6), min_size=1),
    full=st.lists(st.booleans(), min_size=7, max_size=7),
    upper=st.booleans(),
    order=st.randoms(use_true_random=False),
)
def test_parse_days_reads_any_spelling_and_order(days, full, upper, order) -> None:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    tokens = [names[d] if full[d] else DAY_TOKENS[d] for d in days]
    order.shuffle(tokens)
    text = " , ".join(t.upper() if upper else t for t in tokens)
    assert parse_days(text) == frozenset(days)


@settings(max_examples=200, deadline=None)
@given(token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 ", min_size=1, max_size=8))
def test_parse_days_names_the_bad_token(token) -> None:
    valid = set(DAY_TOKENS) | {
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
    if token.strip().lower() in valid:
        return
    with pytest.raises(PlanInputError) as err:
        parse_days(f"fri,{token}")
    assert repr(token.strip()) in str(err.value) or "empty day" in str(err.value)


def test_parse_days_ranges_wrap() -> None:
    assert parse_days("fri-sun") == {4, 5, 6}
    assert parse_days("sat-mon") == {5, 6, 0}
    assert parse_days("fri") == {4}


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, 23), end=st.integers(0, 24))
def test_parse_hours_round_trip(start, end) -> None:
    text = f"{start:02d}-{end:02d}"
    end_h = 24 if end == 0 else end
    if end_h == start:
        with pytest.raises(PlanInputError, match="same hour"):
            parse_hours(text)
        return
    r = parse_hours(text)
    assert (r.start_h, r.end_h) == (start, end_h)
    assert r.wraps == (end_h <= start)
    length = (end_h - start) % 24 or 24
    assert set(r.hours) == {(start + i) % 24 for i in range(length)}
    assert parse_hours(r.token) == r


@pytest.mark.parametrize(
    "text, bad", [("18-25", "25"), ("24-02", "24"), ("6pm-2am", "6pm-2am"), ("18", "18"), ("", "")]
)
def test_parse_hours_errors_name_the_value(text, bad) -> None:
    with pytest.raises(PlanInputError) as err:
        parse_hours(text)
    assert bad in str(err.value)
    assert isinstance(err.value, ValueError)


# ------------------------------------------------------------------ window_mask


def test_window_across_midnight_belongs_to_the_evening_before() -> None:
    # 2023-10-07 is a Saturday (BST); 2023-12-09 a Saturday (GMT)
    local = [
        "2023-10-07 01:00",  # Sat 01:00 -> Friday night: in
        "2023-10-06 01:00",  # Fri 01:00 -> Thursday night: out
        "2023-10-06 19:30",  # Fri evening: in
        "2023-10-07 02:00",  # Sat 02:00: end is exclusive: out
        "2023-10-08 01:59",  # Sun 01:59 -> Saturday night: in
        "2023-10-09 00:30",  # Mon 00:30 -> Sunday night: out
        "2023-12-09 01:30",  # Sat 01:30 GMT -> Friday night: in
        "2023-12-08 17:59",  # Fri 17:59: before the window: out
    ]
    utc = pd.DatetimeIndex(pd.to_datetime(local)).tz_localize("Europe/London").tz_convert("UTC")
    got = window_mask(utc, "fri,sat", "18-02")
    assert got.inside.tolist() == [True, False, True, False, True, False, True, False]
    # the calendar weekday alone (Saturday) would give the wrong answer for the first one
    assert window_mask(utc[:1], "sat", "18-02").inside.tolist() == [False]
    assert window_mask(utc[1:2], "thu", "18-02").inside.tolist() == [True]
    assert got.n_unjudged == 0
    hours_only = window_mask(utc, None, "18-02").inside.tolist()
    assert hours_only == [True, True, True, False, True, True, True, False]
    days_only = window_mask(utc, "fri", None).inside.tolist()  # calendar Fridays, any hour
    assert days_only == [False, True, True, False, False, False, False, True]


@settings(max_examples=100, deadline=None)
@given(
    stamps=st.lists(st.integers(1_577_836_800, 1_767_225_600), min_size=1, max_size=30),
    days=st.sets(st.integers(0, 6), min_size=1),
    start=st.integers(0, 23),
    span=st.integers(1, 23),
)
def test_window_mask_matches_a_slow_reference(stamps, days, start, span) -> None:
    end = (start + span) % 24
    hours = f"{start:02d}-{end:02d}"
    utc = pd.to_datetime(stamps, unit="s", utc=True)
    got = window_mask(utc, ",".join(DAY_TOKENS[d] for d in days), hours).inside
    r = parse_hours(hours)
    want = []
    for s in stamps:
        local = dt.datetime.fromtimestamp(s, tz=dt.UTC).astimezone(LONDON)
        day = local.weekday()
        if r.wraps and local.hour < r.end_h:
            day = (day - 1) % 7
        want.append(local.hour in r.hours and day in days)
    assert got.tolist() == want


def test_window_mask_precision_rows_are_counted_not_guessed() -> None:
    utc = pd.to_datetime(
        ["2023-10-06 20:00", "2023-10-06 00:00", "2023-10-01 00:00", None], utc=True
    )
    prec = ["minute", "day", "month", "minute"]
    with_hours = window_mask(utc, "fri", "18-02", prec)
    assert with_hours.inside.tolist() == [True, False, False, False]
    assert (with_hours.day_only, with_hours.month_only, with_hours.missing_time) == (0 + 1, 1, 1)
    days_only = window_mask(utc, "fri", None, prec)  # a date has a weekday: judged
    assert days_only.inside.tolist() == [True, True, False, False]
    assert (days_only.day_only, days_only.month_only) == (0, 1)
    everything = window_mask(utc, None, None, prec)
    assert everything.inside.tolist() == [True, True, True, False]
    with pytest.raises(PlanInputError, match="'week'"):
        window_mask(utc, "fri", None, ["minute", "week", "day", "month"])


# ------------------------------------------------------------------ plan_patrols


def test_window_beats_the_biggest_cluster() -> None:
    rng = np.random.default_rng(1)
    big, small = (550_000.0, 250_000.0), (570_000.0, 250_000.0)
    dawns = weekly("2023-10-03 05:30", 50)  # Tuesdays at dawn, 50 weeks
    nights = weekly("2023-10-06 22:15", 5) + weekly("2023-10-07 23:40", 3)  # Fri and Sat nights
    inc = make_incidents(np.vstack([blob(rng, big, 50), blob(rng, small, 8)]), dawns + nights)
    plan = plan_patrols(inc, crews=1, radius_m=3000, **WINDOW)
    assert len(plan.areas) == 1
    assert near(plan.areas.iloc[0], small, 1000)
    assert plan.areas.iloc[0]["incidents"] == 8
    assert plan.excluded["outside_window"] == 50
    # without the window the big cluster is the answer: the window is what changes it
    assert near(plan_patrols(inc, crews=1).areas.iloc[0], big, 1000)


def test_emerging_place_outranks_fading_place_of_the_same_total() -> None:
    rng = np.random.default_rng(2)
    fading, emerging = (540_000.0, 260_000.0), (560_000.0, 260_000.0)
    old = weekly("2021-10-01 21:00", 10)  # Fridays in 2021-22
    new = weekly("2022-10-07 21:00", 10)  # Fridays in 2022-23
    inc = make_incidents(np.vstack([blob(rng, fading, 10), blob(rng, emerging, 10)]), old + new)
    as_of = "2023-09-01"
    plan = plan_patrols(inc, crews=2, as_of=as_of, **WINDOW)
    first, second = plan.areas.iloc[0], plan.areas.iloc[1]
    assert near(first, emerging, 1000) and near(second, fading, 1000)
    assert first["incidents"] == second["incidents"] == 10
    assert first["expected_incidents"] > 2 * second["expected_incidents"]
    assert "rising: 10 in the last 12 months, 0 in the 12 months before" in first["why"]
    assert "falling: 0 in the last 12 months, 10 in the 12 months before" in second["why"]
    assert first["why"].startswith("Fri/Sat nights 18:00-02:00: 10 incidents within 3 km since")
    # with no decay the two are worth exactly the same: recency is what separates them
    flat = plan_patrols(inc, crews=2, as_of=as_of, half_life_days=None, **WINDOW).areas
    assert flat["expected_incidents"].iloc[0] == pytest.approx(flat["expected_incidents"].iloc[1])
    # and an extra old incident does not let the fading place catch up
    inc2 = make_incidents(
        np.vstack([blob(rng, fading, 11), blob(rng, emerging, 10)]),
        weekly("2021-10-01 21:00", 11) + new,
    )
    one = plan_patrols(inc2, crews=1, as_of=as_of, **WINDOW).areas.iloc[0]
    assert near(one, emerging, 1000)
    assert near(
        plan_patrols(inc2, crews=1, as_of=as_of, half_life_days=None, **WINDOW).areas.iloc[0],
        fading,
        1000,
    )


def test_two_crews_never_share_one_cluster() -> None:
    rng = np.random.default_rng(3)
    huge, small = (550_000.0, 250_000.0), (575_000.0, 250_000.0)
    xy = np.vstack([blob(rng, huge, 60, sd_m=900.0), blob(rng, small, 6)])
    inc = make_incidents(xy, weekly("2023-09-01 20:00", 66, step_days=1))
    plan = plan_patrols(inc, crews=2, radius_m=3000, half_life_days=None)
    a, b = plan.areas.iloc[0], plan.areas.iloc[1]
    assert near(a, huge, 1500) and near(b, small, 1000)
    assert plan.areas["incidents"].sum() <= 66  # no incident counted twice
    assert b["incidents"] == 6
    # the trap: the two busiest demand cells both lie in the huge cluster
    cells = bin_points(grid_over(xy, 1000.0), xy)
    top2 = cells.centroid_m[np.argsort(-cells.total)[:2]]
    assert all(math.hypot(*(c - huge)) < 3000 for c in top2)


def test_month_only_rows_are_left_out_and_counted() -> None:
    rng = np.random.default_rng(4)
    place, other = (550_000.0, 250_000.0), (580_000.0, 250_000.0)
    minute = weekly("2023-10-06 21:00", 6)
    month = [pd.Timestamp("2023-11-01 00:00")] * 20
    inc = make_incidents(
        np.vstack([blob(rng, place, 6), blob(rng, other, 20)]),
        minute + month,
        precision=["minute"] * 6 + ["month"] * 20,
    )
    plan = plan_patrols(inc, crews=2, **WINDOW)
    assert plan.excluded["month_only"] == 20
    assert len(plan.areas) == 1 and near(plan.areas.iloc[0], place, 1000)
    # without a window the month-only rows count (and are the bigger place)
    everything = plan_patrols(inc, crews=1)
    assert everything.excluded["month_only"] == 0
    assert near(everything.areas.iloc[0], other, 1000)


def test_window_on_month_only_data_is_refused() -> None:
    rng = np.random.default_rng(5)
    inc = make_incidents(
        blob(rng, (550_000.0, 250_000.0), 12),
        [pd.Timestamp("2023-11-01")] * 12,
        precision=["month"] * 12,
    )
    with pytest.raises(PlanInputError, match="month-only.*without --days/--hours"):
        plan_patrols(inc, crews=1, **WINDOW)
    with pytest.raises(PlanInputError, match="can't be applied"):
        plan_patrols(inc, crews=1, days="sat")
    assert len(plan_patrols(inc, crews=1).areas) == 1


def test_day_only_rows_count_for_days_but_not_hours() -> None:
    rng = np.random.default_rng(6)
    inc = make_incidents(
        blob(rng, (550_000.0, 250_000.0), 5), weekly("2023-10-06 00:00", 5), precision=["day"] * 5
    )  # Fridays, no time of day
    assert plan_patrols(inc, crews=1, days="fri").areas.iloc[0]["incidents"] == 5
    assert plan_patrols(inc, crews=1, days="sat").excluded["outside_window"] == 5
    with pytest.raises(PlanInputError, match="day-only.*--days only"):
        plan_patrols(inc, crews=1, **WINDOW)


def test_as_of_leaves_out_later_incidents() -> None:
    rng = np.random.default_rng(7)
    early, late = (550_000.0, 250_000.0), (580_000.0, 250_000.0)
    inc = make_incidents(
        np.vstack([blob(rng, early, 5), blob(rng, late, 9)]),
        weekly("2022-10-07 21:00", 5) + weekly("2023-10-06 21:00", 9),
    )
    plan = plan_patrols(inc, crews=2, as_of="2023-09-01", **WINDOW)
    assert plan.excluded["after_as_of"] == 9
    assert len(plan.areas) == 1 and near(plan.areas.iloc[0], early, 1000)
    assert plan.params["as_of"] == "2023-08-31T23:00:00+00:00"  # midnight BST
    assert near(plan_patrols(inc, crews=1, **WINDOW).areas.iloc[0], late, 1000)


def test_forces_limit_where_crews_go_but_not_the_demand() -> None:
    rng = np.random.default_rng(8)
    essex, suffolk = (580_000.0, 220_000.0), (600_000.0, 250_000.0)
    xy = np.vstack([blob(rng, essex, 30), blob(rng, suffolk, 4)])
    inc = make_incidents(
        xy, weekly("2023-10-06 21:00", 34, step_days=1), forces=["Essex"] * 30 + ["Suffolk"] * 4
    )
    assert near(plan_patrols(inc, crews=1).areas.iloc[0], essex, 1000)
    only = plan_patrols(inc, crews=1, forces=["Suffolk"])
    assert near(only.areas.iloc[0], suffolk, 1000)
    assert only.areas.iloc[0]["forces"] == ["Suffolk"]
    with pytest.raises(PlanInputError, match="'Suffolkk'"):
        plan_patrols(inc, crews=1, forces=["Suffolkk"])


def test_circle_forces_come_from_the_boundaries(areas) -> None:
    gdf = areas.gdf
    suffolk = gdf.loc[gdf["force"] == "Suffolk", "geometry"].iloc[0]
    essex = gdf.loc[gdf["force"] == "Essex", "geometry"].iloc[0]
    border = shapely.intersection(suffolk.boundary, essex.boundary)
    p = shapely.get_coordinates(border)[len(shapely.get_coordinates(border)) // 2]
    rng = np.random.default_rng(9)
    xy = blob(rng, p, 12, sd_m=200.0)
    codes = assign_force(areas, xy[:, 0], xy[:, 1])
    names = gdf["force"].to_numpy()[codes].tolist()
    inc = make_incidents(xy, weekly("2023-10-06 21:00", 12), forces=names)
    plan = plan_patrols(inc, crews=1, areas=areas)
    assert {"Suffolk", "Essex"} <= set(plan.areas.iloc[0]["forces"])
    centre = plan.areas[["easting", "northing"]].to_numpy()
    assert assign_force(areas, centre[:, 0], centre[:, 1])[0] >= 0  # on land, in a force area
    assert "border" in plan.areas.iloc[0]["why"]
    in_essex = plan_patrols(inc, crews=1, areas=areas, forces=["Essex"]).areas.iloc[0]
    row = assign_force(areas, np.array([in_essex["easting"]]), np.array([in_essex["northing"]]))
    assert gdf["force"].iloc[row[0]] == "Essex"


def test_plan_does_not_modify_its_input_and_validates() -> None:
    rng = np.random.default_rng(10)
    inc = make_incidents(blob(rng, (550_000.0, 250_000.0), 8), weekly("2023-10-06 21:00", 8))
    before = inc.copy(deep=True)
    plan_patrols(inc, crews=2, **WINDOW)
    pd.testing.assert_frame_equal(inc, before)
    for bad in (
        {"crews": 0},
        {"crews": 2.5},
        {"crews": 1, "radius_m": -1},
        {"crews": 1, "hours": "18-18"},
        {"crews": 1, "solver": "magic"},
        {"crews": 1, "as_of": "not a date"},
        {"crews": 1, "half_life_days": 0},
    ):
        with pytest.raises(PlanInputError):
            plan_patrols(inc, **bad)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_cover_is_close_to_the_exact_optimum(seed) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 20_000, size=(8, 2)) + [540_000, 240_000]
    xy = np.vstack([blob(rng, c, int(rng.integers(3, 15)), sd_m=1500.0) for c in centres])
    xy = np.round(xy)  # distinct metre points: with cell_m=1 every incident is a demand point
    inc = make_incidents(xy, weekly("2023-10-06 21:00", len(xy), step_days=1))
    opts = {"crews": 3, "radius_m": 3000, "half_life_days": None, "cell_m": 1.0}
    greedy = plan_patrols(inc, **opts).areas["incidents"].sum()
    exact = plan_patrols(inc, solver="exact", **opts).areas["incidents"].sum()
    assert exact >= greedy >= (1 - 1 / math.e) * exact
    assert greedy >= 0.95 * exact  # the swaps bring it close in practice


# ------------------------------------------------------------------ output


def test_plan_json_geojson_and_frame_shapes() -> None:
    rng = np.random.default_rng(11)
    inc = make_incidents(
        np.vstack([blob(rng, (550_000.0, 250_000.0), 8), blob(rng, (590_000.0, 250_000.0), 5)]),
        weekly("2022-10-07 21:00", 6) + weekly("2023-10-06 21:00", 7),
    )
    plan = plan_patrols(inc, crews=2, **WINDOW)
    assert list(plan.areas.columns) == PLAN_AREA_COLUMNS
    table = backtest(inc, crews=2, min_samples=3, **WINDOW)
    doc = json.loads(json.dumps(plan_to_json(plan, table), allow_nan=False))
    assert set(doc) == {"params", "excluded", "areas", "backtest"}
    assert doc["params"]["days"] == "fri,sat" and doc["params"]["hours"] == "18-02"
    assert set(doc["areas"][0]) == {
        "rank",
        "lat",
        "lon",
        "easting",
        "northing",
        "radius_m",
        "forces",
        "expected_incidents",
        "incidents",
        "recent_12m",
        "previous_12m",
        "why",
    }
    assert 51 < doc["areas"][0]["lat"] < 53 and 0 < doc["areas"][0]["lon"] < 2
    assert set(doc["backtest"]["seasons"][0]) == set(BACKTEST_COLUMNS)
    assert doc["backtest"]["sentence"].startswith("Last season (2023-24)")
    assert plan_to_json(plan)["backtest"] is None
    gj = plan_to_geojson(plan)
    assert [f["properties"]["rank"] for f in gj["features"]] == [1, 2]
    ring = np.array(gj["features"][0]["geometry"]["coordinates"][0])
    assert ring.shape[1] == 2 and 51 < ring[:, 1].mean() < 53
    assert plan_to_frame(plan)["forces"].tolist() == ["Cambridgeshire", "Cambridgeshire"]


# ------------------------------------------------------------------ backtest


def _season_times(season_start_year: int, n: int, months: tuple[int, int], rng) -> list:
    """``n`` Friday/Saturday 20:00-23:00 London times in the given months of a season."""
    first = pd.Timestamp(season_start_year + (months[0] < 9), months[0], 1)
    last = pd.Timestamp(season_start_year + (months[1] < 9), months[1], 28)
    days = pd.date_range(first, last, freq="D")
    days = days[days.day_of_week.isin([4, 5])]
    pick = np.sort(rng.choice(len(days), size=n, replace=n > len(days)))
    return [
        days[i] + pd.Timedelta(hours=int(rng.integers(20, 23)), minutes=int(rng.integers(60)))
        for i in pick
    ]


def backtest_scenario() -> gpd.GeoDataFrame:
    """Three seasons with weekly habits, a pair of neighbouring places and a changing place.

    - DAWN: the biggest place (60 a season) but on Tuesday-Thursday dawns:
      out of the Friday/Saturday-night window;
    - A and A2, 3.5 km apart (two DBSCAN hotspots, one 3 km circle between
      them covers both), 14 and 12 a season; B 11 and C 10 a season;
    - FADE: 16 in 2021-22, 13 in Sep-Oct 2022, then 1;
    - EMERGE: none, then 6 in Feb-Mar 2023, then 15.
    """
    rng = np.random.default_rng(12)
    places = {
        "A": ((530_000.0, 262_000.0), (14, 14, 14)),
        "A2": ((533_500.0, 262_000.0), (12, 12, 12)),
        "B": ((575_000.0, 240_000.0), (11, 11, 11)),
        "C": ((545_000.0, 228_000.0), (10, 10, 10)),
        "FADE": ((565_000.0, 270_000.0), (16, 13, 1)),
        "EMERGE": ((520_000.0, 235_000.0), (0, 6, 15)),
    }
    xy, times = [], []
    for name, (centre, counts) in places.items():
        for season, n in zip((2021, 2022, 2023), counts, strict=True):
            months = {
                "FADE": (9, 10) if season == 2022 else (9, 3),
                "EMERGE": (2, 3) if season == 2022 else (9, 3),
            }.get(name, (9, 3))
            xy.append(blob(rng, centre, n))
            times += _season_times(season, n, months, rng)
    for season in (2021, 2022, 2023):  # DAWN: Tuesdays to Thursdays around 06:00
        days = pd.date_range(f"{season}-09-01", f"{season + 1}-03-28", freq="D")
        days = days[days.day_of_week.isin([1, 2, 3])]
        pick = rng.choice(len(days), size=60, replace=False)
        xy.append(blob(rng, (550_000.0, 250_000.0), 60))
        times += [days[i] + pd.Timedelta(hours=6) for i in pick]
    return make_incidents(np.vstack(xy), times)


def test_backtest_plan_beats_last_seasons_top_hotspots() -> None:
    inc = backtest_scenario()
    table = backtest(inc, crews=3, radius_m=3000, **WINDOW)
    assert list(table.columns) == BACKTEST_COLUMNS
    assert table["season"].unique().tolist() == ["2022-23", "2023-24"]
    last = table[table["season"] == "2023-24"].set_index("method")
    assert last.at["plan", "incidents"] == 14 + 12 + 11 + 10 + 1 + 15
    assert last.at["plan", "hit_rate"] >= last.at["hotspots", "hit_rate"] + 0.15
    both = table.pivot(index="season", columns="method", values="hit_rate")
    assert (both["plan"] > both["hotspots"]).all()
    # same number of circles, so the better hit rate is a better PAI too
    assert (last["circles"] == 3).all()
    assert last.at["plan", "pai"] > last.at["hotspots", "pai"]
    sentence = backtest_sentence(table, **WINDOW)
    assert sentence.startswith("Last season (2023-24) this plan would have covered ")
    assert "the biggest-hotspot plan" in sentence and "Fri/Sat nights 18:00-02:00" in sentence


def test_backtest_pai_by_hand() -> None:
    """Square of corner incidents 20 km wide, one busy place in the middle.

    Region = convex hull buffered by the radius (2 km): 20 km x 20 km +
    4 x 20 km x 2 km + pi x 2 km^2. One circle of 2 km sits inside it.
    2022-23: 8 incidents at the place, 2 at corners -> hit rate 0.8.
    """
    rng = np.random.default_rng(13)
    x0, y0 = 500_000.0, 200_000.0
    corners = np.array([[x0, y0], [x0 + 20_000, y0], [x0, y0 + 20_000], [x0 + 20_000, y0 + 20_000]])
    mid = (x0 + 10_000, y0 + 10_000)
    xy = np.vstack(
        [corners, blob(rng, mid, 10, sd_m=150), blob(rng, mid, 8, sd_m=150), corners[:2]]
    )
    times = (
        _season_times(2021, 4, (9, 3), rng)
        + _season_times(2021, 10, (9, 3), rng)
        + _season_times(2022, 8, (9, 3), rng)
        + _season_times(2022, 2, (9, 3), rng)
    )
    inc = make_incidents(xy, times)
    table = backtest(inc, crews=1, radius_m=2000, **WINDOW).set_index("method")
    region_m2 = 20_000**2 + 4 * 20_000 * 2_000 + math.pi * 2_000**2
    share = math.pi * 2_000**2 / region_m2
    assert table.at["plan", "hits"] == 8 and table.at["plan", "incidents"] == 10
    assert table.at["plan", "hit_rate"] == pytest.approx(0.8)
    assert table.at["plan", "area_share"] == pytest.approx(share, rel=1e-3)
    assert table.at["plan", "pai"] == pytest.approx(0.8 / share, rel=1e-3)
    assert table.at["plan", "pai"] == pytest.approx(36.45, rel=1e-3)


def test_backtest_needs_two_seasons_and_names_a_bad_one() -> None:
    rng = np.random.default_rng(14)
    inc = make_incidents(blob(rng, (550_000.0, 250_000.0), 6), weekly("2023-10-06 21:00", 6))
    table = backtest(inc, crews=1, **WINDOW)
    assert table.empty and list(table.columns) == BACKTEST_COLUMNS
    assert "at least two seasons" in backtest_sentence(table)
    with pytest.raises(PlanInputError, match="'2019-20'"):
        backtest(inc, crews=1, seasons=["2019-20"])

"""Seasons (Europe/London boundaries) and incident filters, with known answers."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from factories import incident_rows, utc
from hypothesis import given
from hypothesis import strategies as st

from geo.seasons import (
    filter_incidents,
    previous_season,
    season_bounds,
    season_of,
    seasons_in,
)


def make_incidents(rows: list[tuple[str, str, str]]) -> gpd.GeoDataFrame:
    """Tiny incidents frame: (incident_id, UTC time 'YYYY-mm-dd HH:MM:SS', force)."""
    return incident_rows(rows, ("incident_id", "occurred_at", "force"),
                         easting=545000.0 + 100.0 * np.arange(len(rows)), northing=258000.0,
                         in_agreement=True)





# ---------------------------------------------------------------- season_of / bounds


def test_september_midnight_in_bst() -> None:
    # 2021-09-01 00:00 BST == 2021-08-31 23:00 UTC starts 2021-22
    s = season_of(utc("2021-08-31 23:00:00", "2021-08-31 22:59:59", "2022-08-31 22:59:59"))
    assert s.tolist() == ["2021-22", "2020-21", "2021-22"]


def test_bounds_bst() -> None:
    start, end = season_bounds("2021-22")
    assert start == pd.Timestamp("2021-08-31 23:00", tz="UTC")
    assert end == pd.Timestamp("2022-08-31 23:00", tz="UTC")
    assert str(start.tz) == "UTC"


def test_november_start_in_gmt() -> None:
    # 1 November is GMT: local midnight == 00:00 UTC
    s = season_of(utc("2021-11-01 00:00:00", "2021-10-31 23:59:59"), start_month=11)
    assert s.tolist() == ["2021-22", "2020-21"]
    assert season_bounds("2021-22", start_month=11) == (
        pd.Timestamp("2021-11-01 00:00", tz="UTC"),
        pd.Timestamp("2022-11-01 00:00", tz="UTC"),
    )


def test_january_start_is_calendar_year() -> None:
    s = season_of(utc("2021-01-01 00:00:00", "2020-12-31 23:59:59"), start_month=1)
    assert s.tolist() == ["2021", "2020"]
    assert season_bounds("2021", start_month=1) == (
        pd.Timestamp("2021-01-01", tz="UTC"),
        pd.Timestamp("2022-01-01", tz="UTC"),
    )
    with pytest.raises(ValueError):
        season_bounds("2021-22", start_month=1)


def test_century_label_and_previous() -> None:
    assert season_of(utc("1999-12-01 00:00:00")).tolist() == ["1999-00"]
    assert season_bounds("1999-00")[1] == pd.Timestamp("2000-08-31 23:00", tz="UTC")
    assert previous_season("2000-01") == "1999-00"
    assert previous_season("2021-22") == "2020-21"
    assert previous_season("2021") == "2020"


def test_series_index_kept_and_other_timezones() -> None:
    t = pd.Series(pd.to_datetime(["2021-09-01 00:00"]).tz_localize("Europe/London"), index=[42])
    out = season_of(t)
    assert out.index.tolist() == [42]
    assert out.tolist() == ["2021-22"]


def test_missing_time_gives_missing_label() -> None:
    s = season_of(pd.Series(pd.to_datetime(["2021-10-01", None], utc=True)))
    assert s.iloc[0] == "2021-22"
    assert pd.isna(s.iloc[1])


def test_seasons_in_sorted_unique() -> None:
    t = utc("2022-10-01", "2020-10-01", "2021-10-01", "2022-11-01")
    assert seasons_in(t) == ["2020-21", "2021-22", "2022-23"]
    assert seasons_in(pd.Series([], dtype="datetime64[ns, UTC]")) == []


@pytest.mark.parametrize("bad", [0, 13, -1, 9.0, True])
def test_start_month_validated(bad) -> None:
    with pytest.raises(ValueError):
        season_of(utc("2021-10-01"), start_month=bad)
    with pytest.raises(ValueError):
        season_bounds("2021-22", start_month=bad)


@pytest.mark.parametrize("label", ["2021-23", "2021/22", "21-22", "2021-2022", ""])
def test_bad_labels(label: str) -> None:
    with pytest.raises(ValueError):
        season_bounds(label)


def test_naive_times_refused() -> None:
    with pytest.raises(ValueError):
        season_of(pd.Series(pd.to_datetime(["2021-10-01"])))


@given(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)),
    st.integers(1, 12),
)
def test_time_lies_within_its_season_bounds(moment: dt.datetime, start_month: int) -> None:
    t = pd.Timestamp(moment, tz="UTC")
    label = season_of(pd.Series([t]), start_month=start_month).iloc[0]
    start, end = season_bounds(label, start_month=start_month)
    assert start <= t < end


# ---------------------------------------------------------------- filter_incidents


@pytest.fixture
def incidents() -> gpd.GeoDataFrame:
    return make_incidents(
        [
            ("a", "2021-08-31 22:59:59", "Cambridgeshire"),  # 23:59:59 BST 31 Aug, 2020-21
            ("b", "2021-08-31 23:00:00", "Cambridgeshire"),  # 00:00 BST 1 Sep, 2021-22
            ("c", "2021-10-02 19:30:00", "Norfolk"),  # 20:30 BST
            ("d", "2021-12-05 04:59:00", "Suffolk"),  # 04:59 GMT
            ("e", "2021-12-05 05:00:00", "Suffolk"),  # 05:00 GMT
            ("f", "2022-01-10 12:00:00", "Essex"),  # noon
            ("g", "2022-09-01 00:00:00", "Kent"),  # 01:00 BST, 2022-23
        ]
    )


def ids(frame: pd.DataFrame) -> list[str]:
    return frame["incident_id"].tolist()


def test_filter_season(incidents) -> None:
    assert ids(filter_incidents(incidents, season="2021-22")) == ["b", "c", "d", "e", "f"]
    assert ids(filter_incidents(incidents, season=["2020-21", "2022-23"])) == ["a", "g"]
    assert ids(filter_incidents(incidents, season="2021-22", start_month=12)) == [
        "d",
        "e",
        "f",
        "g",
    ]


def test_filter_forces(incidents) -> None:
    assert ids(filter_incidents(incidents, forces=["Suffolk", "Kent"])) == ["d", "e", "g"]
    assert ids(filter_incidents(incidents, forces="Essex")) == ["f"]
    assert ids(filter_incidents(incidents, forces=[])) == []


def test_filter_dates_inclusive_london(incidents) -> None:
    # 'b' is 1 Sep in London (31 Aug in UTC); 'd' and 'e' are 5 Dec
    out = filter_incidents(incidents, date_from=dt.date(2021, 9, 1), date_to=dt.date(2021, 12, 5))
    assert ids(out) == ["b", "c", "d", "e"]
    assert ids(filter_incidents(incidents, date_to=dt.date(2021, 8, 31))) == ["a"]
    assert ids(filter_incidents(incidents, date_from=dt.date(2022, 1, 10))) == ["f", "g"]
    with pytest.raises(ValueError):
        filter_incidents(incidents, date_from=dt.date(2022, 1, 2), date_to=dt.date(2022, 1, 1))
    with pytest.raises(ValueError):
        filter_incidents(incidents, date_from=pd.Timestamp("2022-01-01"))


def test_filter_hours_wrap_around(incidents) -> None:
    # London hours: a 23, b 0, c 20, d 4, e 5, f 12, g 1
    assert ids(filter_incidents(incidents, hours=(20, 4))) == ["a", "b", "c", "d", "g"]
    assert ids(filter_incidents(incidents, hours=(5, 12))) == ["e", "f"]
    assert ids(filter_incidents(incidents, hours=(0, 0))) == ["b"]
    assert ids(filter_incidents(incidents, hours=(23, 23))) == ["a"]
    for bad in [(24, 1), (1,), (-1, 3), (1.5, 3), "20"]:
        with pytest.raises(ValueError):
            filter_incidents(incidents, hours=bad)


def test_filters_combine(incidents) -> None:
    out = filter_incidents(
        incidents, season="2021-22", forces={"Suffolk", "Norfolk"}, hours=(20, 4)
    )
    assert ids(out) == ["c", "d"]


def test_filter_returns_copy_and_does_not_mutate(incidents) -> None:
    before = incidents.copy(deep=True)
    out = filter_incidents(incidents, season="2021-22", hours=(20, 4))
    pd.testing.assert_frame_equal(incidents, before)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs == incidents.crs
    assert out.index.tolist() == [1, 2, 3]
    out.loc[1, "force"] = "changed"
    assert incidents.loc[1, "force"] == "Cambridgeshire"


def test_no_filters_returns_everything(incidents) -> None:
    out = filter_incidents(incidents)
    assert ids(out) == ids(incidents)
    assert out is not incidents


def test_empty_frame(incidents) -> None:
    out = filter_incidents(incidents.iloc[:0], season="2021-22", hours=(20, 4))
    assert len(out) == 0

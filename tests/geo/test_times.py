"""Date-time parsing: formats, Europe/London clock changes, reasons."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from geo.times import parse_times


def one(value: str):
    t, r = parse_times(pd.Series([value]))
    return t.iloc[0], r.iloc[0]


def utc(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # spring forward 2021-03-28: 01:00 GMT -> 02:00 BST
        ("2021-03-28 00:59", "2021-03-28 00:59"),
        ("28/03/2021 00:59", "2021-03-28 00:59"),
        ("2021-03-28T02:00:00", "2021-03-28 01:00"),
        ("28/03/2021 02:00", "2021-03-28 01:00"),
        # fall back 2021-10-31: 01:00-01:59 happens twice; first (BST) taken
        ("2021-10-31 01:30", "2021-10-31 00:30"),
        ("31/10/2021 01:30:00", "2021-10-31 00:30"),
        ("2021-10-31 02:00", "2021-10-31 02:00"),
        ("2021-10-31 00:59", "2021-10-30 23:59"),
        # explicit offsets honoured
        ("2021-10-31T01:30:00+00:00", "2021-10-31 01:30"),
        ("2021-10-31T01:30:00+01:00", "2021-10-31 00:30"),
        ("2021-10-31T01:30:00Z", "2021-10-31 01:30"),
        ("2021-07-01T12:00:00-0500", "2021-07-01 17:00"),
        # summer/winter naive local
        ("01/07/2021 12:00", "2021-07-01 11:00"),
        ("01/12/2021 12:00", "2021-12-01 12:00"),
        ("1/7/2021 9:05", "2021-07-01 08:05"),
        ("01/07/21 12:00", "2021-07-01 11:00"),  # two-digit year = 20yy
        ("01/07/99", "2099-06-30 23:00"),
        ("2021-07-01", "2021-06-30 23:00"),  # date only = local midnight
        ("01-07-2021 10:00", "2021-07-01 09:00"),  # dashes / dots with a 4-digit year
        ("1.7.2021", "2021-06-30 23:00"),
        ("2021-07-01T10:00:00.250", "2021-07-01 09:00:00.25"),
    ],
)
def test_parses(value, expected):
    t, r = one(value)
    assert r == ""
    assert t == utc(expected)


def test_spring_forward_gap_rejected_naming_the_clock_change():
    for value in ("2021-03-28 01:30", "28/03/2021 01:00", "2021-03-28T01:59:59"):
        t, r = one(value)
        assert pd.isna(t)
        assert "does not exist" in r and "clocks went forward" in r and "28/03/2021" in r


@pytest.mark.parametrize(
    ("value", "start"),
    [
        ("", "missing time"),
        ("   ", "missing time"),
        ("31/02/2021", "invalid date '31/02/2021'"),
        ("2021-02-29 10:00", "invalid date '2021-02-29 10:00'"),
        ("2021-13-01", "invalid date"),
        ("2021-07-01 25:00", "invalid time"),
        ("yesterday", "unparseable time 'yesterday'"),
        ("12/2021", "unparseable time"),
        ("31-02-2021", "invalid date '31-02-2021'"),  # quoted as written
        ("21-03-28", "unparseable time"),  # yy-mm-dd is not guessed
        ("01/07/2021 24:00", "invalid time"),
    ],
)
def test_rejects(value, start):
    t, r = one(value)
    assert pd.isna(t)
    assert r.startswith(start)


def test_mixed_series_keeps_index_and_order():
    s = pd.Series(["2021-07-01T10:00:00Z", "01/07/2021 11:00", "", "x"], index=[7, 3, 9, 1])
    t, r = parse_times(s)
    assert list(t.index) == [7, 3, 9, 1] and list(r.index) == [7, 3, 9, 1]
    assert t.iloc[0] == t.iloc[1] == utc("2021-07-01 10:00")
    assert list(r.iloc[2:].str.split(" ").str[0]) == ["missing", "unparseable"]
    assert str(t.dtype) == "datetime64[us, UTC]"


def test_input_not_mutated():
    s = pd.Series([" 2021-07-01 10:00 "])
    before = s.copy()
    parse_times(s)
    pd.testing.assert_series_equal(s, before)


@settings(deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
@example(dt.datetime(2058, 3, 31, 1, 0))  # inside the spring-forward gap: refused both ways
def test_uk_equals_iso(d):
    d = d.replace(microsecond=0)
    iso = d.strftime("%Y-%m-%dT%H:%M:%S")
    uk = d.strftime("%d/%m/%Y %H:%M:%S")
    ti, ri = parse_times(pd.Series([iso]))
    tu, ru = parse_times(pd.Series([uk]))
    # same reason, each quoting the value as written (a spring-forward gap time is refused)
    assert ri.iloc[0].replace(iso, "V") == ru.iloc[0].replace(uk, "V")
    if ri.iloc[0] == "":
        assert ti.iloc[0] == tu.iloc[0]
        # a naive local time converts back to the same wall clock
        assert ti.iloc[0].tz_convert("Europe/London").tz_localize(None) == pd.Timestamp(d)
    else:
        assert "does not exist" in ri.iloc[0]


def test_one_bad_value_does_not_spoil_the_fast_path():
    good = [f"2021-11-01T10:{m:02d}:00" for m in range(60)]
    t, r = parse_times(pd.Series([*good, "2021-02-30T10:00:00", "2021-11-01T10:00:00Z"]))
    assert (r.iloc[:60] == "").all() and t.iloc[:60].notna().all()
    assert r.iloc[60].startswith("invalid date")
    assert t.iloc[61] == utc("2021-11-01 10:00")


@settings(deadline=None, max_examples=200)
@given(st.lists(st.text(alphabet=st.sampled_from(list("0123456789/-:.TZ+ ab")), max_size=25),
                max_size=8))
def test_never_raises_and_nothing_lost(values):
    t, r = parse_times(pd.Series(values, dtype="str"))
    assert len(t) == len(r) == len(values)
    # each value is either parsed (no reason) or rejected (a reason), never both/neither
    assert ((t.notna()) == (r == "")).all()


def test_repeated_values_parse_once_each_with_the_same_results():
    # 9,000 rows of a dozen distinct values (a data.police.uk month column): parsed per
    # distinct value, the result is what each value gives alone
    from geo.times import parse_times, time_precision

    distinct = ["2021-10", "2021-1", "2021-13", "", " 2021-03 ", "2021-03-28 01:30", "31/02/2021",
                "2021-10-31 01:30", "02/10/2021", "2021-10-02T21:40:00+00:00", "yesterday",
                "1999-10"]
    values = pd.Series([distinct[i % len(distinct)] for i in range(9_000)], dtype="str",
                       index=pd.RangeIndex(5, 9_005))
    times, reasons = parse_times(values)
    precision = time_precision(values)
    alone = [parse_times(pd.Series([v], dtype="str")) for v in distinct]
    for k, v in enumerate(distinct):
        rows = values.index[k::len(distinct)]
        assert (reasons[rows] == alone[k][1].iloc[0]).all(), v
        want = alone[k][0].iloc[0]
        assert (times[rows].isna().all() if pd.isna(want) else (times[rows] == want).all()), v
        assert (precision[rows] == time_precision(pd.Series([v], dtype="str")).iloc[0]).all(), v
    assert times.index.equals(values.index) and reasons.index.equals(values.index)
    assert str(times.dtype) == "datetime64[us, UTC]" and precision.index.equals(values.index)

"""Coursing seasons and the common incident filters (season, force, dates, hours).

A *season* starts on the 1st of ``start_month`` (default 9, September) at
00:00 Europe/London and ends at the same local instant one year later
(exclusive). Seasons are labelled by their years:

- ``start_month`` 2..12: ``"YYYY-YY"``, the start year and the last two digits
  of the end year, e.g. ``"2021-22"`` for 2021-09-01 00:00 BST up to (not
  including) 2022-09-01 00:00 BST.
- ``start_month == 1``: the season is a calendar year and the label is just
  ``"YYYY"`` (``"2021"``), because ``"2021-22"`` would wrongly suggest that it
  runs into 2022.

All arithmetic on local time (seasons, calendar dates, hours of the day) is in
Europe/London, so the boundaries follow BST/GMT; frames keep UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

from geo._config import DEFAULTS
from geo._frames import check_hours, check_start_month
from geo.errors import InputError
from geo.schema import LONDON
from geo.times import knows_hour, knows_weekday

__all__ = [
    "season_of",
    "season_bounds",
    "seasons_in",
    "previous_season",
    "filter_incidents",
    "crime_type_key",
    "check_days",
]

_SPLIT_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^(\d{4})$")




def _to_london(times) -> pd.Series:
    """Tz-aware times (Series, Index, array or list) as a Series in Europe/London."""
    if isinstance(times, pd.Series):
        s = times
    elif isinstance(times, pd.Index):
        s = pd.Series(times, index=pd.RangeIndex(len(times)))
    else:
        s = pd.Series(list(times) if not isinstance(times, np.ndarray) else times)
    if len(s) == 0 and not isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.astype("datetime64[ns, UTC]")
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        try:
            s = pd.to_datetime(s)
        except (TypeError, ValueError) as exc:
            raise InputError(f"times must be timezone-aware datetimes: {exc}") from exc
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        raise InputError("times must be timezone-aware (e.g. UTC); got naive datetimes")
    return s.dt.tz_convert(LONDON)


def _label(start_year: np.ndarray, start_month: int) -> np.ndarray:
    """Season labels for integer start years (object array of str)."""
    years = pd.Series(start_year, dtype="int64").astype(str)
    if start_month == 1:
        return years.to_numpy(dtype=object)
    end = pd.Series((np.asarray(start_year, dtype="int64") + 1) % 100).astype(str).str.zfill(2)
    return (years + "-" + end).to_numpy(dtype=object)


def season_of(times, start_month: int = DEFAULTS.start_month) -> pd.Series:
    """Season label of each time.

    Parameters
    ----------
    times : Series, DatetimeIndex or array-like of tz-aware datetimes
        Instants (any time zone, usually UTC); converted to Europe/London.
    start_month : int, default 9
        Month (1..12) on whose 1st, 00:00 London time, a season starts.

    Returns
    -------
    Series of str
        ``"2021-22"`` style labels (``"2021"`` when ``start_month == 1``),
        aligned to ``times`` when it is a Series (else a RangeIndex); missing
        times (NaT) give a missing label.

    Raises
    ------
    ValueError
        If ``start_month`` is not 1..12 or the times are naive.
    """
    start_month = check_start_month(start_month)
    local = _to_london(times)
    valid = local.notna().to_numpy()
    values = np.full(len(local), None, dtype=object)
    if valid.any():
        year = local.dt.year.to_numpy()[valid].astype("int64")
        month = local.dt.month.to_numpy()[valid].astype("int64")
        start_year = np.where(month >= start_month, year, year - 1)
        years, which = np.unique(start_year, return_inverse=True)  # each label made once
        values[valid] = _label(years, start_month)[which.reshape(-1)]
    # object array of str/None: pandas 3 infers its string dtype (missing = NaN)
    out = pd.Series(values, index=local.index, name="season")
    return out.astype("str") if len(out) == 0 else out


def _parse_label(label: str, start_month: int) -> int:
    """Start year of a season label; ValueError if malformed for ``start_month``."""
    if not isinstance(label, str):
        raise InputError(f"season label must be a string, got {label!r}")
    text = label.strip()
    if start_month == 1:
        m = _YEAR_RE.match(text)
        if not m:
            raise InputError(
                f"season label {label!r}: with start_month=1 a season is a calendar year, "
                "labelled 'YYYY' (e.g. '2021')"
            )
        return int(m.group(1))
    m = _SPLIT_RE.match(text)
    if not m:
        raise InputError(f"season label {label!r} is not of the form 'YYYY-YY' (e.g. '2021-22')")
    start = int(m.group(1))
    if (start + 1) % 100 != int(m.group(2)):
        raise InputError(f"season label {label!r}: the second year must follow the first")
    return start


def season_bounds(label: str, start_month: int = DEFAULTS.start_month) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC start (inclusive) and end (exclusive) of a season.

    Parameters
    ----------
    label : str
        ``"YYYY-YY"`` (``"YYYY"`` when ``start_month == 1``).
    start_month : int, default 9
        Month (1..12) on whose 1st, 00:00 London time, a season starts.

    Returns
    -------
    (Timestamp, Timestamp)
        Tz-aware UTC instants; an incident at time ``t`` is in the season
        when ``start <= t < end``.

    Examples
    --------
    >>> season_bounds("2021-22")[0]
    Timestamp('2021-08-31 23:00:00+0000', tz='UTC')
    """
    start_month = check_start_month(start_month)
    year = _parse_label(label, start_month)
    start = pd.Timestamp(year=year, month=start_month, day=1).tz_localize(LONDON)
    end = pd.Timestamp(year=year + 1, month=start_month, day=1).tz_localize(LONDON)
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def seasons_in(times, start_month: int = DEFAULTS.start_month) -> list[str]:
    """Sorted distinct season labels of ``times`` (missing times ignored).

    Parameters
    ----------
    times : Series, DatetimeIndex or array-like of tz-aware datetimes
    start_month : int, default 9

    Returns
    -------
    list of str
        Oldest first (labels sort chronologically).
    """
    labels = season_of(times, start_month)
    return sorted({str(v) for v in labels.dropna().unique()})


def previous_season(label: str) -> str:
    """The season before ``label``: ``"2021-22"`` -> ``"2020-21"``, ``"2021"`` -> ``"2020"``.

    The label's form tells whether seasons are calendar years
    (``start_month == 1``) or split years.

    Raises
    ------
    ValueError
        If ``label`` is neither ``"YYYY"`` nor a valid ``"YYYY-YY"``.
    """
    if isinstance(label, str) and _YEAR_RE.match(label.strip()):
        return str(int(label.strip()) - 1)
    start = _parse_label(label, 9)  # any start_month other than 1 has this form
    return str(_label(np.array([start - 1]), 9)[0])




def _as_date(value, name: str) -> dt.date:
    if isinstance(value, pd.Timestamp | dt.datetime):
        raise InputError(f"{name} must be a datetime.date (London calendar day), not a datetime")
    if not isinstance(value, dt.date):
        raise InputError(f"{name} must be a datetime.date, got {value!r}")
    return value


def filter_incidents(
    gdf: pd.DataFrame,
    *,
    season: str | Iterable[str] | None = None,
    forces: Collection[str] | str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    hours: tuple[int, int] | None = None,
    days: Collection[int] | None = None,
    crime_types: Collection[str] | None = None,
    start_month: int = DEFAULTS.start_month,
    time_col: str = "occurred_at",
) -> pd.DataFrame:
    """Rows of ``gdf`` matching every given filter (a filtered copy).

    Rows whose time is less precise than a filter needs (``time_precision``
    "month" for a weekday, a date range cutting its month or an hour; "day"
    for an hour) cannot be judged: they are left out and counted in
    ``attrs["excluded_unknown_time"]`` of the result, never given an invented
    day or hour.

    Parameters
    ----------
    gdf : GeoDataFrame or DataFrame
        Incidents (or anything with a tz-aware ``time_col`` and, when
        ``forces`` is given, a ``force`` column). Not modified.
    season : str or iterable of str, optional
        Season label(s) (see :func:`season_bounds`); rows with
        ``start <= time < end`` of any of them are kept.
    forces : collection of str or str, optional
        Force names to keep (exact match on ``force``); a single string is one
        name. An empty collection keeps nothing.
    date_from, date_to : datetime.date, optional
        Inclusive range of calendar days in Europe/London time.
    hours : (int, int), optional
        ``(start_hour, end_hour)``, each 0..23, in Europe/London time; both
        ends inclusive on whole hours. If ``start <= end`` keeps local hours
        ``h`` with ``start <= h <= end`` (``(9, 17)`` = 09:00:00-17:59:59);
        otherwise the window wraps past midnight and keeps ``h >= start`` or
        ``h <= end`` (``(20, 4)`` = 20:00:00-04:59:59).
    days : collection of int, optional
        Weekdays to keep, 0 = Monday .. 6 = Sunday (Europe/London).
    crime_types : collection of str, optional
        Crime types to keep (``crime_type``, compared ignoring case and
        spacing); an empty collection keeps nothing.
    start_month : int, default 9
        Month (1..12) seasons start in.
    time_col : str, default "occurred_at"
        Name of the tz-aware time column.

    Returns
    -------
    same type as ``gdf``
        A copy with the original index; rows with a missing time are dropped
        by any time-based filter.

    Raises
    ------
    ValueError
        Bad ``start_month``, season label, hours, dates (``date_from`` after
        ``date_to``), naive times; ``KeyError`` for a missing column.
    """
    start_month = check_start_month(start_month)
    n = len(gdf)
    timed = season is not None or date_from is not None or date_to is not None or hours is not None \
        or days is not None
    local = _local_times(gdf, time_col) if timed else None
    keep = np.ones(n, dtype=bool) if local is None else local.notna().to_numpy(dtype=bool, copy=True)
    if season is not None:
        keep &= _in_seasons(local, season, start_month)
    if forces is not None:
        if "force" not in gdf.columns:
            raise KeyError("no 'force' column in the incidents")
        keep &= gdf["force"].isin([forces] if isinstance(forces, str) else list(forces)).to_numpy(bool)
    if crime_types is not None:
        keep &= _crime_type_mask(gdf, crime_types)
    unknown = _unknown_time(gdf, local, hours, days, date_from, date_to)
    in_time = _in_time_filters(local, n, date_from, date_to, hours, days)
    out = gdf.loc[keep & in_time & ~unknown].copy()
    out.attrs["excluded_unknown_time"] = int((keep & unknown).sum())
    return out


def _local_times(gdf: pd.DataFrame, time_col: str) -> pd.Series:
    if time_col not in gdf.columns:
        raise KeyError(f"no time column {time_col!r} in the incidents")
    return _to_london(gdf[time_col])


def _in_seasons(local: pd.Series, season, start_month: int) -> np.ndarray:
    labels = [season] if isinstance(season, str) else list(season)
    utc = local.dt.tz_convert("UTC")
    in_any = np.zeros(len(local), dtype=bool)
    for label in labels:  # a few seasons at most
        start, end = season_bounds(label, start_month)
        in_any |= ((utc >= start) & (utc < end)).to_numpy(dtype=bool, na_value=False)
    return in_any


def _in_time_filters(local, n: int, date_from, date_to, hours, days) -> np.ndarray:
    """Date range, hours and weekdays (Europe/London) together."""
    keep = np.ones(n, dtype=bool)
    if date_from is not None or date_to is not None:
        d_from = _as_date(date_from, "date_from") if date_from is not None else None
        d_to = _as_date(date_to, "date_to") if date_to is not None else None
        if d_from is not None and d_to is not None and d_from > d_to:
            raise InputError(f"date_from {d_from} is after date_to {d_to}")
        day = local.dt.tz_localize(None).dt.normalize()
        if d_from is not None:
            keep &= (day >= pd.Timestamp(d_from)).to_numpy(dtype=bool, na_value=False)
        if d_to is not None:
            keep &= (day <= pd.Timestamp(d_to)).to_numpy(dtype=bool, na_value=False)
    if hours is not None:
        h0, h1 = check_hours(hours)
        hour = local.dt.hour.to_numpy(dtype="float64", na_value=np.nan)
        keep &= ((hour >= h0) & (hour <= h1)) if h0 <= h1 else ((hour >= h0) | (hour <= h1))
    if days is not None:
        wanted = check_days(days)
        keep &= np.isin(local.dt.day_of_week.to_numpy(dtype="float64", na_value=-1), list(wanted))
    return keep


def _crime_type_mask(gdf: pd.DataFrame, crime_types: Collection[str]) -> np.ndarray:
    if "crime_type" not in gdf.columns:
        return np.zeros(len(gdf), dtype=bool) if len(list(crime_types)) else np.ones(len(gdf), bool)
    wanted = {crime_type_key(c) for c in crime_types}
    have = gdf["crime_type"].astype("str").fillna("")
    codes, uniques = pd.factorize(have)
    hit = np.array([crime_type_key(u) in wanted for u in uniques] + [False], dtype=bool)
    return hit[codes]


def crime_type_key(name: object) -> str:
    """Comparable crime type: lower case, spacing collapsed (``"Anti-social  behaviour"``)."""
    return " ".join(str(name).lower().split())


def check_days(days: Collection[int]) -> frozenset[int]:
    """Weekday numbers 0 (Monday) .. 6 (Sunday); InputError naming a bad one."""
    out = set()
    for d in days:
        if isinstance(d, bool) or not isinstance(d, int | np.integer) or not 0 <= int(d) <= 6:
            raise InputError(f"days must be weekday numbers 0 (Monday) .. 6 (Sunday), got {d!r}")
        out.add(int(d))
    return frozenset(out)


def _unknown_time(gdf, local, hours, days, date_from, date_to) -> np.ndarray:
    """Rows a time filter cannot judge for want of precision (see :func:`filter_incidents`)."""
    n = len(gdf)
    if local is None or "time_precision" not in gdf.columns:
        return np.zeros(n, dtype=bool)
    precision = gdf["time_precision"]
    unknown = np.zeros(n, dtype=bool)
    if hours is not None:
        unknown |= ~knows_hour(precision, n)
    if days is not None:
        unknown |= ~knows_weekday(precision, n)
    if date_from is not None or date_to is not None:
        month_only = (precision.astype("str") == "month").to_numpy(dtype=bool)
        if month_only.any():
            first = local.dt.tz_localize(None).dt.normalize()
            last = first + pd.offsets.MonthEnd(0)
            cut = np.zeros(n, dtype=bool)
            if date_from is not None:
                cut |= (first < pd.Timestamp(_as_date(date_from, "date_from"))).to_numpy(bool, na_value=False)
            if date_to is not None:
                cut |= (last > pd.Timestamp(_as_date(date_to, "date_to"))).to_numpy(bool, na_value=False)
            unknown |= month_only & cut
    return unknown

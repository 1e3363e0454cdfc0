"""Parse the date-times people write into tz-aware UTC, vectorised.

Accepted forms
--------------
* ISO 8601 with an offset or ``Z`` (``2021-03-28T01:30:00+01:00``): the offset
  is honoured.
* ISO 8601 without an offset (``2021-03-28T01:30``, ``2021-03-28 01:30:00``,
  ``2021-03-28``), and UK day-first dates ``dd/mm/yyyy[ HH:MM[:SS]]`` (also
  with ``-`` or ``.`` between the date parts): Europe/London local time
  (GMT in winter, BST in summer).
* Two-digit years (``dd/mm/yy``) are read as 20yy.
* A date without a time is midnight local time.
* A month without a day (``2021-10``, as data.police.uk publishes) is the
  first instant of that month, local time. (``10/2021`` stays refused: it may
  be a date cut short.)

Precision
---------
:func:`time_precision` says how much of each value was written: ``"minute"``
(a clock time), ``"day"`` (a date only) or ``"month"`` (a month only). The
time stored for a day or a month is only its first instant: analyses that
need a weekday or an hour must leave the rows that lack it out, and say so
(:data:`PRECISIONS`, :func:`knows_weekday`, :func:`knows_hour`).

Clock changes
-------------
* A local time in the spring-forward gap (e.g. 2021-03-28 01:00-01:59) never
  happened: it is rejected with a reason naming the clock change.
* A local time in the autumn fall-back hour (e.g. 2021-10-31 01:30) happened
  twice: the first occurrence (BST, UTC+1) is taken.

Every format is tried with an explicit ``pandas.to_datetime(format=...,
errors="coerce")`` on the still-unparsed values only; Python-level work is
done on failed values only, to word the reason.
"""

from __future__ import annotations

import calendar
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo._frames import as_arrow, from_arrow
from geo.schema import LONDON

__all__ = [
    "parse_times",
    "time_precision",
    "knows_weekday",
    "knows_hour",
    "PRECISIONS",
    "UK_FORMATS",
    "london_stamps",
]

#: How much of a time was written, finest first.
PRECISIONS: tuple[str, str, str] = ("minute", "day", "month")
_MONTH_ONLY = r"^\d{4}-\d{1,2}$"
_DAY_ONLY = r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4}))$"

#: UK day-first formats tried after ISO 8601, in order.
UK_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d/%m/%y %H:%M:%S",
    "%d/%m/%y %H:%M",
    "%d/%m/%y",
)

_OFFSET_RE = r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_UK_OTHER_SEP = r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})($|[ T])"
_ISO_SHAPE = r"^\d{4}-\d{2}-\d{2}"
_UK_SHAPE = r"^\d{1,2}/\d{1,2}/\d{2}(?:\d{2})?(?:$|[ T])"
_DATE_PARTS_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:$|[ T])")
_DATE_PARTS_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TIME_PART = re.compile(r"[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")


def _describe_failure(value: str, normalised: str | None = None) -> str:
    """Reason for one value no format accepted (called for failed values only).

    ``normalised`` is ``value`` with dd-mm-yyyy / dd.mm.yyyy rewritten as
    dd/mm/yyyy; the reason always quotes ``value`` as written.
    """
    if re.fullmatch(_MONTH_ONLY, value):
        return f"invalid month {value!r} (no such month)"
    m = _DATE_PARTS_UK.match(normalised or value)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + 2000 if y < 100 else y
    else:
        m = _DATE_PARTS_ISO.match(value)
        if m:
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m:
        if not 1 <= mo <= 12 or not 1 <= d <= calendar.monthrange(max(y, 1), mo)[1]:
            return f"invalid date {value!r} (no such day)"
        t = _TIME_PART.search(m.string, m.end() - 1)
        if t and (int(t.group(1)) > 23 or int(t.group(2)) > 59 or int(t.group(3) or 0) > 59):
            return f"invalid time {value!r} (no such time of day)"
    return f"unparseable time {value!r} (expected ISO 8601 or dd/mm/yyyy HH:MM)"


def _gap_reason(value: str, local: pd.Timestamp | None = None) -> str:
    day = f" on {local:%d/%m/%Y}" if local is not None else ""
    return (f"time {value!r} does not exist in UK local time (clocks went forward an hour "
            f"at 01:00 GMT{day}); give the time with a UTC offset")


def _arrow_iso(arr: pa.Array, todo: np.ndarray) -> tuple[pd.Series, np.ndarray] | None:
    """Fast path: every non-empty value is strict ISO 8601, all naive or all with an offset.

    Uses Arrow's strict ISO 8601 cast (rejects impossible dates); returns None
    when any value needs the general path. Result: UTC times (NaT where empty or
    in the spring-forward gap) and the gap mask.
    """
    sub = arr.filter(pa.array(todo)) if not todo.all() else arr
    gap = np.zeros(len(arr), dtype=bool)
    cast = _iso_cast(sub)
    if cast is None:
        return None
    parsed, naive = cast
    values = pd.Series(parsed.to_pandas(), dtype="datetime64[us]" if naive else None)
    if naive:
        utc = _localise(values)
        gap_sub = utc.isna().to_numpy()
        values = utc
    else:
        values = values.dt.tz_convert("UTC")
        gap_sub = np.zeros(len(values), dtype=bool)
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[us]")
    pos = np.flatnonzero(todo)
    out[pos] = values.dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    gap[pos] = gap_sub
    return pd.Series(out).dt.tz_localize("UTC").array, gap


def _try_cast(arr, to: pa.DataType) -> pa.Array | None:
    try:
        return pc.cast(arr, to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _iso_cast(sub) -> tuple[pa.Array, bool] | None:
    """(Arrow timestamps, naive?) of strict ISO 8601 text: all naive, else all with an offset.

    The naive cast is tried first, unless it already fails on the first value
    (an offset or ``Z``): a cast fails if any value fails, so that skips a
    whole failing pass over the column and changes nothing.
    """
    if len(sub) == 0 or _try_cast(sub.slice(0, 1), pa.timestamp("us")) is not None:
        parsed = _try_cast(sub, pa.timestamp("us"))
        if parsed is not None:
            return parsed, True
    parsed = _try_cast(sub, pa.timestamp("us", tz="UTC"))
    return None if parsed is None else (parsed, False)


def _match(arr) -> np.ndarray:
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _localise(naive: pd.Series) -> pd.Series:
    """Europe/London wall-clock -> UTC; gap times become NaT, fold times take BST."""
    ambiguous = np.ones(len(naive), dtype=bool)  # True = the DST (first) occurrence
    local = naive.dt.tz_localize(LONDON, ambiguous=ambiguous, nonexistent="NaT")
    return local.dt.tz_convert("UTC")


def _short(arr, max_chars: int) -> np.ndarray:
    """Values of at most ``max_chars`` characters (a cheap filter before a regex)."""
    return _match(pc.less_equal(pc.utf8_length(arr), max_chars))


def _matches(arr, pattern: str, max_chars: int) -> np.ndarray:
    """``pattern`` matched only on values short enough to match it."""
    short = _short(arr, max_chars)
    out = np.zeros(len(arr), dtype=bool)
    if short.any():
        idx = np.flatnonzero(short)
        out[idx] = _match(pc.match_substring_regex(arr.take(pa.array(idx)), pattern))
    return out


def _month_only(arr) -> np.ndarray:
    """``YYYY-MM`` values (data.police.uk's Month), found with plain string kernels."""
    length = pc.utf8_length(arr)
    seven = _match(pc.equal(length, 7))
    out = _matches(arr, _MONTH_ONLY, 6)  # "2021-1": a one-digit month
    if seven.any():
        idx = np.flatnonzero(seven)
        sub = arr.take(pa.array(idx))
        ok = pc.and_(pc.and_(pc.equal(pc.utf8_slice_codeunits(sub, 4, 5), "-"),
                             pc.utf8_is_digit(pc.utf8_slice_codeunits(sub, 0, 4))),
                     pc.utf8_is_digit(pc.utf8_slice_codeunits(sub, 5, 7)))
        out[idx] = _match(ok)
    return out


def _month_to_first_day(arr: pa.Array) -> pa.Array:
    """``2021-10`` -> ``2021-10-01`` (other values unchanged)."""
    month = _month_only(arr)
    if not month.any():
        return arr
    if month.all() and _match(pc.equal(pc.utf8_length(arr), 7)).all():
        return pc.binary_join_element_wise(arr, pa.scalar("01", arr.type), pa.scalar("-", arr.type))
    arr = pc.replace_substring_regex(arr, r"^(\d{4})-(\d)$", r"\1-0\2")
    arr = pc.replace_substring_regex(arr, r"^(\d{4})-(\d{2})$", r"\1-\2-01")
    return arr


def _distinct_codes(values: pd.Series, sample: int = 2048) -> tuple[np.ndarray, pd.Series] | None:
    """(code of each value, the distinct values) when the values repeat a lot, else None.

    data.police.uk files give a month per row (a few dozen distinct values
    per million rows): each is then parsed once. An evenly spread sample
    decides, so files of distinct times (ANPR reads) pay almost nothing.
    """
    n = len(values)
    if n < 4 * sample:
        return None
    arr = as_arrow(values)
    pick = pa.array(np.linspace(0, n - 1, sample).astype("int64"))
    if pc.count_distinct(arr.take(pick)).as_py() > sample // 8:
        return None
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    if len(encoded.dictionary) > n // 4:
        return None
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return codes, from_arrow(encoded.dictionary)


_PRECISIONS = pa.array(["minute", "day", "month"], pa.large_string())


def time_precision(values: pd.Series) -> pd.Series:
    """``"minute"``, ``"day"`` or ``"month"``: how much of each date-time was written.

    A month alone (``2021-10``) is ``"month"``; a date without a
    clock time (``2021-10-02``, ``02/10/2021``) is ``"day"``; anything else
    (including values that will not parse) is ``"minute"``.
    """
    few = _distinct_codes(values)
    if few is not None:  # each distinct value once
        codes, distinct = few
        return from_arrow(as_arrow(time_precision(distinct)).take(pa.array(codes)), values.index)
    arr = pc.utf8_trim_whitespace(as_arrow(values))
    month = _month_only(arr)
    day = ~month & _matches(arr, _DAY_ONLY, 10)
    code = np.where(month, 2, np.where(day, 1, 0)).astype("int8")
    return from_arrow(_PRECISIONS.take(pa.array(code)), values.index)


def knows_weekday(precision: pd.Series | None, n: int) -> np.ndarray:
    """True where the weekday of a time is known (precision minute or day; all when None)."""
    if precision is None:
        return np.ones(n, dtype=bool)
    return (precision.astype("str") != "month").to_numpy(dtype=bool)


def knows_hour(precision: pd.Series | None, n: int) -> np.ndarray:
    """True where the clock hour of a time is known (precision minute; all when None)."""
    if precision is None:
        return np.ones(n, dtype=bool)
    p = precision.astype("str")
    return ((p == "minute") | (p == "")).to_numpy(dtype=bool)


def parse_times(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse date-time text to UTC.

    Parameters
    ----------
    values : Series of str
        Date-times as written; empty strings and missing values mean "no time".

    Returns
    -------
    times : Series of datetime64[us, UTC]
        Same index as ``values``; NaT where the value was rejected.
    reasons : Series of str
        Same index; ``""`` where parsed, otherwise a reason a person
        understands (``"missing time"``, ``"invalid date '31/02/2021' (no such
        day)"``, ``"unparseable time 'yesterday' (...)"``, or the clock-change
        reason for a local time that did not exist).
    """
    few = _distinct_codes(values)
    if few is not None:  # each distinct value parsed once (data.police.uk months)
        codes, distinct = few
        times, reasons = parse_times(distinct)
        return (pd.Series(times.array.take(codes), index=values.index),
                from_arrow(as_arrow(reasons).take(pa.array(codes)), values.index))
    arr = pc.utf8_trim_whitespace(as_arrow(values))
    text = from_arrow(arr, values.index)
    arr = _month_to_first_day(arr)
    n = len(text)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    reasons = pd.Series("", index=text.index, dtype="str")
    empty = _match(pc.equal(arr, ""))
    reasons[empty] = "missing time"
    todo = ~empty
    if n == 0 or not todo.any():
        return out, reasons

    fast = _arrow_iso(arr, todo)
    if fast is not None:
        utc, gap = fast
        out = pd.Series(utc, index=text.index)
        if gap.any():
            bad = np.flatnonzero(gap)
            reasons.iloc[bad] = [_gap_reason(v, pd.Timestamp(v[:10])) for v in text.iloc[bad]]
        return out, reasons

    # 1) ISO 8601 with an explicit offset: offset honoured.
    has_offset = _match(pc.match_substring_regex(arr, _OFFSET_RE)) & todo
    iso_shape = _match(pc.match_substring_regex(arr, _ISO_SHAPE)) & todo
    m = has_offset & iso_shape
    if m.any():
        parsed = pd.to_datetime(text[m], format="ISO8601", utc=True, errors="coerce")
        ok = parsed.notna().to_numpy()
        pos = np.flatnonzero(m)[ok]
        out.iloc[pos] = parsed[ok].astype("datetime64[us, UTC]")
        todo[pos] = False

    # 2) naive forms: Europe/London wall-clock time.
    naive = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    got = np.zeros(n, dtype=bool)
    m = todo & iso_shape & ~has_offset
    if m.any():
        parsed = pd.to_datetime(text[m], format="ISO8601", errors="coerce")
        ok = parsed.notna().to_numpy()
        pos = np.flatnonzero(m)[ok]
        naive.iloc[pos] = parsed[ok].astype("datetime64[us]")
        got[pos] = True
    # dd-mm-yyyy and dd.mm.yyyy (four-digit years only) are read as dd/mm/yyyy
    uk_arr = pc.replace_substring_regex(arr, _UK_OTHER_SEP, r"\1/\2/\3\4")
    uk_text = from_arrow(uk_arr, values.index)
    uk = todo & ~got & _match(pc.match_substring_regex(uk_arr, _UK_SHAPE))
    for fmt in UK_FORMATS:
        if not uk.any():
            break
        parsed = pd.to_datetime(uk_text[uk], format=fmt, errors="coerce")
        ok = parsed.notna().to_numpy()
        if ok.any():
            pos = np.flatnonzero(uk)[ok]
            vals = parsed[ok].astype("datetime64[us]")
            if "%y" in fmt:  # two-digit years are 20yy (pandas would give 19yy for 69-99)
                early = (vals.dt.year < 2000).to_numpy()
                vals = vals.where(~early, vals + pd.DateOffset(years=100))
            naive.iloc[pos] = vals
            got[pos] = True
            uk[pos] = False
    if got.any():
        pos = np.flatnonzero(got)
        utc = _localise(naive.iloc[pos])
        gap = utc.isna().to_numpy()
        out.iloc[pos[~gap]] = utc[~gap].astype("datetime64[us, UTC]")
        if gap.any():
            bad = pos[gap]
            reasons.iloc[bad] = [_gap_reason(v, d) for v, d in
                                 zip(text.iloc[bad], naive.iloc[bad], strict=True)]
        todo &= ~got

    # 3) everything left: word a reason (failed values only).
    if todo.any():
        pos = np.flatnonzero(todo)
        reasons.iloc[pos] = [_describe_failure(v, u) for v, u in
                             zip(text.iloc[pos], uk_text.iloc[pos], strict=True)]
    return out, reasons





_HOUR_NS = 3_600_000_000_000


_DAY_NS = 24 * _HOUR_NS


NAT_INT = np.iinfo("int64").min


_YEAR_1900_NS = -2_208_988_800 * 1_000_000_000


def _london_wall_ns(utc_ns: np.ndarray) -> np.ndarray:
    """Europe/London wall-clock time (ns since 1970-01-01 00:00 local) of UTC instants (no NaT)."""
    stamps = pd.DatetimeIndex(utc_ns.astype("int64").view("datetime64[ns]")).tz_localize("UTC")
    return stamps.tz_convert(LONDON).tz_localize(None).as_unit("ns").asi8


def _month_of_day(days: np.ndarray) -> np.ndarray:
    """Calendar month (1..12) of days since 1970-01-01 (proleptic Gregorian, integer maths)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return np.where(mp < 10, mp + 3, mp - 9)


def _wall_fields(wall_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Month (0 = Jan), weekday (0 = Mon) and hour of wall-clock times (ns)."""
    days = wall_ns // _DAY_NS
    hour = (wall_ns - days * _DAY_NS) // _HOUR_NS
    return _month_of_day(days) - 1, (days + 3) % 7, hour  # 1970-01-01 was a Thursday


def london_fields(utc_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """London month (0 = Jan), weekday (0 = Mon) and hour of UTC instants (int64 ns, no NaT).

    Since 1900 the UK offset only changes on whole UTC hours, so the fields
    are computed once per UTC hour spanned and looked up (one division and
    three small-table lookups per incident); long sparse spans are converted
    directly.
    """
    if len(utc_ns) == 0:
        return utc_ns, utc_ns, utc_ns
    hour_idx = utc_ns // _HOUR_NS
    h0, h1 = int(hour_idx.min()), int(hour_idx.max())
    if utc_ns.min() >= _YEAR_1900_NS and h1 - h0 < max(2 * len(utc_ns), 50_000):
        grid = np.arange(h0, h1 + 1, dtype="int64") * _HOUR_NS
        rel = hour_idx - h0
        return tuple(field[rel] for field in _wall_fields(_london_wall_ns(grid)))
    return _wall_fields(_london_wall_ns(utc_ns))


def london_stamps(times) -> pd.Series:
    """Times as London wall-clock text with their UTC offset: ``"2021-10-01 21:40 +01:00"``.

    The form every Harewatch export uses for people (the JSON contracts keep
    ISO 8601 UTC). Missing or unparsable times give ``""``.
    """
    t = pd.to_datetime(pd.Series(times), utc=True, errors="coerce").dt.tz_convert(LONDON)
    off = t.dt.strftime("%z")
    text = t.dt.strftime("%Y-%m-%d %H:%M ") + off.str.slice(0, 3) + ":" + off.str.slice(3, 5)
    return text.where(t.notna(), "").astype(object)

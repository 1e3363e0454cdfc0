"""Shared frame kernel: the small helpers every core module and engine uses.

Importable by name (no leading underscores): validation of required columns,
UTC-microsecond time handling, fast string membership, run bounds of sorted
keys, multi-value explosion, Arrow conversions and argument checks. Nothing
here knows about incidents, plates or forces.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError
from geo.schema import MULTI_SEP, UTC_US

__all__ = [
    "US_PER_H",
    "require_columns",
    "check_hours_positive",
    "gap_us_of",
    "utc_us",
    "isin_strings",
    "epoch_us",
    "as_text",
    "py_list",
    "records",
    "group_bounds",
    "check_metres",
    "explode_multi",
    "as_arrow",
    "from_arrow",
    "STR_DTYPE",
    "distinct_plates",
    "check_start_month",
    "check_hours",
    "iso_utc",
    "fnv1a64",
    "repeated",
]

US_PER_H = 3_600_000_000


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"{what} must be a DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{what} lack required column(s): {', '.join(missing)}")


def check_hours_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a number of hours, got {value!r}") from exc
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be a finite number of hours {bound}, got {value!r}")
    return v


def gap_us_of(max_gap_h: float) -> int:
    """``max_gap_h`` hours as integer microseconds (the unit both engines compare in)."""
    return int(round(check_hours_positive(max_gap_h, "max_gap_h") * US_PER_H))


def utc_us(values: pd.Series, name: str) -> pd.Series:
    """Tz-aware times as ``datetime64[us, UTC]`` (truncated); ValueError if naive."""
    s = values
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        if len(s) == 0 or s.isna().all():
            return pd.Series(pd.NaT, index=s.index, dtype=UTC_US)
        raise InputError(f"{name} must hold timezone-aware (UTC) datetimes, got {s.dtype}")
    return s.dt.tz_convert("UTC").astype(UTC_US)


def isin_strings(values: pd.Series, lookup: Iterable[str]) -> np.ndarray:
    """Boolean mask "string value is in ``lookup``" (missing values read as ``""``).

    Uses ``pyarrow.compute.is_in`` on the values' Arrow buffers: pandas' ``str``
    ``isin`` converts every lookup value to a pyarrow scalar in Python, far
    slower for thousands.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(lookup, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        lookup = list(lookup)
    keys = pd.Series(lookup, dtype=object).dropna().unique()
    arr = as_arrow(pd.Series(values))
    return pc.is_in(arr, value_set=pa.array(keys, type=pa.string())).to_numpy(
        zero_copy_only=False)


def epoch_us(values: pd.Series) -> np.ndarray:
    """Tz-aware times as int64 microseconds since the epoch (NaT as int64 min)."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]").view("int64")


def as_text(values: pd.Series) -> pd.Series:
    """Strings (pandas ``str`` dtype) with missing values as ``""``."""
    if isinstance(values.dtype, pd.StringDtype) and not values.hasnans:
        return values
    if isinstance(values.dtype, pd.StringDtype):
        return values.fillna("")
    return values.astype("object").where(values.notna(), "").astype("str")


def py_list(values: pd.Series) -> list:
    """The values as a Python list, as iterating the Series gives them, without the
    element-by-element iteration of arrow-backed text (vectorised conversion)."""
    return values.to_numpy(dtype=object).tolist()


def records(df: pd.DataFrame, columns: Iterable[str]) -> list[dict]:
    """``df[columns].to_dict("records")`` (Python ints and floats, Timestamps), built column by
    column: much faster on frames with arrow-backed text and list cells."""
    names = list(columns)
    cols = [py_list(df[c]) for c in names]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]


def group_bounds(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) row positions of runs of equal ``keys`` rows.

    ``keys`` must already be sorted so that each group is one contiguous run.
    Used to build small per-group Python lists by slicing, much faster than
    ``groupby().agg(list)`` (which slices a frame per group).
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for col in keys.columns:
        v = keys[col].to_numpy()
        new[1:] |= v[1:] != v[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    return starts, ends


def check_metres(east: pd.Series, north: pd.Series, what: str) -> None:
    """Refuse longitude/latitude where British National Grid metres are meant."""
    e = pd.to_numeric(east, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    n = pd.to_numeric(north, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    ok = np.isfinite(e) & np.isfinite(n)
    if ok.any() and (np.abs(e[ok]) <= 180).all() and (np.abs(n[ok]) <= 90).all():
        raise InputError(
            f"{what}: easting/northing look like longitude/latitude degrees; "
            "metres in EPSG:27700 (British National Grid) are required"
        )


def explode_multi(values: pd.Series) -> pd.Series:
    """``"A;B"`` strings exploded to one stripped, non-empty value per row.

    The index holds the source row *positions* (use ``.iloc``), so a
    non-unique index on the input does no harm.
    """
    s = as_text(values).reset_index(drop=True).str.split(MULTI_SEP).explode().str.strip()
    return s[s.notna() & (s != "")]


def as_arrow(values: pd.Series) -> pa.Array:
    """The text of ``values`` as a pyarrow string array (nulls -> ``""``; zero-copy if possible)."""
    if values.dtype != "str":
        values = values.astype(object).where(values.notna(), "").astype("str")
    arr = pa.array(values.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    return arr


def from_arrow(arr: pa.Array | pa.ChunkedArray, index: pd.Index | None = None) -> pd.Series:
    """A pyarrow string array as a pandas ``str`` Series (no Python objects)."""
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.large_string())
    return pd.Series(pd.array(arr, dtype=STR_DTYPE), index=index)


STR_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)


def distinct_plates(plates: Iterable[str]) -> list[str]:
    """Plates as stored (upper case, no whitespace), distinct and sorted; empty ones dropped.

    ``["ab12 cde", "AB12CDE", None, " "]`` -> ``["AB12CDE"]``.
    """
    s = pd.Series(list(plates), dtype=object).dropna().astype("str")
    s = s.str.upper().str.replace(r"\s+", "", regex=True)
    return sorted(set(s[s != ""].tolist()))


def check_start_month(start_month: int) -> int:
    if isinstance(start_month, bool) or not isinstance(start_month, int | np.integer):
        raise InputError(f"start_month must be an integer 1..12, got {start_month!r}")
    if not 1 <= int(start_month) <= 12:
        raise InputError(f"start_month must be 1..12, got {start_month}")
    return int(start_month)


def check_hours(hours) -> tuple[int, int]:
    try:
        start, end = hours
    except (TypeError, ValueError) as exc:
        raise InputError(f"hours must be a pair (start_hour, end_hour), got {hours!r}") from exc
    out = []
    for h in (start, end):
        if isinstance(h, bool) or not isinstance(h, int | np.integer) or not 0 <= int(h) <= 23:
            raise InputError(f"hours must be integers 0..23, got {hours!r}")
        out.append(int(h))
    return out[0], out[1]


def iso_utc(values: pd.Series) -> list[str]:
    """ISO 8601 strings in UTC, as ``Timestamp.isoformat()`` gives them (vectorised).

    ``2021-10-01T20:40:00+00:00``; microseconds appear only when non-zero.
    """
    if len(values) == 0:
        return []
    us = values.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    base = np.datetime_as_string(us, unit="s").astype(object)
    micro = us.view("int64") % 1_000_000
    frac = np.where(micro != 0, np.char.mod(".%06d", micro).astype(object), "")
    return (base + frac + "+00:00").tolist()


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)


_FNV_PRIME = np.uint64(0x100000001B3)


def _large_string(values) -> pa.Array:
    """``values`` as one large_string Arrow array, missing values as ``""``."""
    if not isinstance(values, pd.Series | pa.Array | pa.ChunkedArray):
        values = pd.Series(np.asarray(values, dtype=object), dtype=object)
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(
        values, from_pandas=True)
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _bytes_of(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start offset, byte length, data bytes) of each string of a large_string array."""
    n = len(arr)
    _validity, offs_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offs_buf, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.zeros(0, dtype=np.uint8))
    return offsets[:-1], np.diff(offsets), data


def fnv1a64(values) -> np.ndarray:
    """64-bit FNV-1a hash of each string's UTF-8 bytes (vectorised; missing values as ``""``).

    The strings are ordered longest first, so that step ``k`` (the ``k``-th
    byte of every string longer than ``k``) works on a contiguous prefix: one
    gather and two in-place operations per byte position, the cost
    proportional to the total number of bytes.

    Parameters
    ----------
    values : array-like of str

    Returns
    -------
    ndarray of uint64
    """
    arr = _large_string(values)
    n = len(arr)
    out = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return out
    starts, lengths, data = _bytes_of(arr)
    order = np.argsort(-lengths, kind="stable")  # longest first: step k uses a prefix
    neg_sorted = -lengths[order]  # ascending
    pos = starts[order]  # next byte of each string, advanced in place
    h = out[order]
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the algorithm
        for k in range(int(-neg_sorted[0])):
            m = int(np.searchsorted(neg_sorted, -k, side="left"))  # strings longer than k
            head, at = h[:m], pos[:m]
            np.bitwise_xor(head, data[at], out=head, casting="unsafe")
            np.multiply(head, _FNV_PRIME, out=head)
            at += 1
    out[order] = h
    return out


def repeated(values) -> np.ndarray:
    """True where a string occurs more than once in ``values`` (missing values as ``""``).

    A vectorised ``duplicated(keep=False)`` through Arrow's own hash table
    (``pyarrow.compute.dictionary_encode``), then a count per distinct value.
    """
    arr = _large_string(values)
    if len(arr) == 0:
        return np.zeros(0, dtype=bool)
    encoded = pc.dictionary_encode(arr)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    return np.bincount(codes, minlength=len(encoded.dictionary))[codes] > 1

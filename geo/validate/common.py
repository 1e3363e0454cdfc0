"""Validation result and the checks shared by incidents and ANPR reads.

Rules (binding for :mod:`geo.incidents` and :mod:`geo.sightings`)
-----------------------------------------------------------------
* Every input row is either accepted or rejected; ``accepted + rejected ==
  rows`` is asserted.
* Rows are numbered from 1 = the first data row after the header.
* A rejected row gets *every* problem found, joined with ``"; "`` in a fixed
  order (id, time, location, plate, duplicate).
* Location: per row, latitude + longitude when both are filled, else easting
  + northing, else a grid reference (centre of the referenced square, see
  :mod:`geo.gridref`). A file may mix the three forms row by row.
* A location must lie in one of the force areas of the boundary file (the
  seven forces or their neighbours); anything else (Scotland, the North Sea)
  is "outside the region".
* Text fields keep exactly what was written; only ids are stripped of
  surrounding spaces for matching (the reject report quotes them as written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo._config import DEFAULTS
from geo._frames import as_arrow, from_arrow
from geo.errors import InputError
from geo.forces import force_codes, force_key
from geo.gridref import parse_gridref
from geo.schema import BNG, MULTI_SEP, REJECT_COLUMNS, WGS84

if TYPE_CHECKING:  # geopandas, shapely and the force areas are imported where used, so the
    # text helpers here (plates, times) stay cheap for readers of the store and the register
    import geopandas as gpd

    from geo.areas import ForceAreas

#: What a validated file holds.
KINDS = ("incidents", "sightings", "outcomes", "cameras")

__all__ = [
    "KINDS",
    "ValidationResult",
    "plausible_times",
    "camera_ids",
    "camera_key",
    "Problems",
    "text_column",
    "empty_text",
    "filled",
    "normalise_plates",
    "normalise_multi",
    "combine_time_text",
    "resolve_locations",
    "Locations",
    "assign_forces",
    "force_columns",
    "to_points",
    "unique_pairs",
    "mismatch",
]


@dataclass(frozen=True)
class ValidationResult:
    """Outcome of validating one file.

    Attributes
    ----------
    kind : {"incidents", "sightings"}
    accepted : GeoDataFrame
        ``INCIDENT_COLUMNS`` / ``SIGHTING_COLUMNS`` + ``geometry`` (EPSG:27700).
    rejects : DataFrame
        ``row`` (int, 1-based data row), ``id`` (str as written, or None),
        ``reason`` (str); sorted by row.
    rows : int
        Number of data rows read (``accepted + rejected + collapsed``).
    collapsed : int
        Exact repeats of an earlier row (same id, same content), counted and
        dropped: not an error, not a second incident.
    layout : str or None
        Published layout the file was read as ("data.police.uk street").
    notes : tuple of str
        File-level remarks, each said once (two columns with one name, ...).
    """

    kind: str
    accepted: gpd.GeoDataFrame
    rejects: pd.DataFrame
    rows: int
    collapsed: int = 0
    layout: str | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if len(self.accepted) + len(self.rejects) + self.collapsed != self.rows:
            raise AssertionError(
                f"{len(self.accepted)} accepted + {len(self.rejects)} rejected + {self.collapsed} "
                f"collapsed != {self.rows} rows"
            )

    @property
    def n_accepted(self) -> int:
        """Number of accepted rows."""
        return len(self.accepted)

    @property
    def n_rejected(self) -> int:
        """Number of rejected rows."""
        return len(self.rejects)

    @property
    def by_force(self) -> dict[str, int]:
        """Accepted rows per force name (forces with none are left out)."""
        if self.accepted.empty:
            return {}
        counts = self.accepted["force"].value_counts(sort=False)
        return {str(k): int(v) for k, v in counts.sort_index().items()}

    def to_report(self) -> dict:
        """JSON-serialisable summary (the output of ``harewatch validate``)."""
        rejects = [
            {"row": int(r), "id": None if i is None or pd.isna(i) else str(i), "reason": str(m)}
            for r, i, m in zip(self.rejects["row"], self.rejects["id"], self.rejects["reason"],
                               strict=True)
        ]
        acc = self.accepted
        report = {
            "rows": int(self.rows),
            "accepted": self.n_accepted,
            "rejected": self.n_rejected,
            "duplicates_collapsed": int(self.collapsed),
            "rejects": rejects,
            "by_force": self.by_force,
            "kind": self.kind,
            "layout": self.layout,
            "notes": list(self.notes),
        }
        if "force_mismatch" in acc.columns:
            report["force_mismatches"] = int(acc["force_mismatch"].sum())
        if "force_distance_m" in acc.columns:
            near = acc["force_distance_m"].to_numpy(dtype="float64") > 0
            report["nearest_force"] = int(near.sum())
        if "time_precision" in acc.columns:
            counts = acc["time_precision"].value_counts()
            report["time_precision"] = {k: int(counts.get(k, 0)) for k in ("minute", "day", "month")}
        return report


class Problems:
    """Collects per-row problems (boolean masks + messages) in a fixed order.

    Parameters
    ----------
    n : int
        Number of rows.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._items: list[tuple[np.ndarray, str | np.ndarray]] = []
        self._unread = np.zeros(n, dtype=bool)

    def add(self, mask: np.ndarray, message: str | np.ndarray) -> None:
        """Record ``message`` (one text, or an object array of length n) where ``mask``.

        Rows that could not be read at all (:meth:`add_unread`) keep only that
        reason: their empty cells say nothing more.
        """
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.n,):
            raise InputError("mask length differs from the number of rows")
        mask = mask & ~self._unread
        if mask.any():
            self._items.append((mask, message))

    def add_unread(self, row_problems: dict[int, str] | None) -> None:
        """Rows the reader could not read (position -> reason), from ``raw.attrs["row_problems"]``."""
        if not row_problems:
            return
        mask = np.zeros(self.n, dtype=bool)
        msgs = np.empty(self.n, dtype=object)
        for pos, reason in row_problems.items():
            if 0 <= pos < self.n:
                mask[pos] = True
                msgs[pos] = reason
        self._items.append((mask, msgs))
        self._unread |= mask

    @property
    def rejected(self) -> np.ndarray:
        """Bool array: row has at least one problem."""
        out = np.zeros(self.n, dtype=bool)
        for mask, _ in self._items:
            out |= mask
        return out

    def reasons(self, positions: np.ndarray) -> list[str]:
        """``"; "``-joined reasons for the rows at ``positions`` (rejected rows only)."""
        parts: list[list[str]] = [[] for _ in range(len(positions))]
        for mask, message in self._items:
            hit = np.flatnonzero(mask[positions])
            for j in hit:
                parts[j].append(message if isinstance(message, str) else str(message[positions[j]]))
        return ["; ".join(p) for p in parts]

    def rejects_frame(self, ids: pd.Series | None) -> pd.DataFrame:
        """Rejects DataFrame (row, id, reason) sorted by row."""
        pos = np.flatnonzero(self.rejected)
        if ids is None:
            id_values: list = [None] * len(pos)
        else:
            raw = ids.iloc[pos].to_numpy(dtype=object)
            id_values = [v if isinstance(v, str) and v.strip() else None for v in raw]
        frame = pd.DataFrame(
            {"row": (pos + 1).astype("int64"), "id": pd.Series(id_values, dtype=object),
             "reason": pd.Series(self.reasons(pos), dtype=object)},
            columns=REJECT_COLUMNS,
        )
        return frame


def text_column(raw: pd.DataFrame, column: object | None) -> pd.Series:
    """Column ``column`` of ``raw`` as str with a RangeIndex ("" for missing/absent)."""
    if column is None:
        return empty_text(len(raw))
    s = raw[column]
    if isinstance(s, pd.DataFrame):  # duplicated column label: first one
        s = s.iloc[:, 0]
    return from_arrow(as_arrow(s))


def empty_text(n: int) -> pd.Series:
    """``n`` empty strings (RangeIndex), without building ``n`` Python objects."""
    offsets = pa.py_buffer(np.zeros(n + 1, dtype="int32"))
    return from_arrow(pa.StringArray.from_buffers(n, offsets, pa.py_buffer(b"")))


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Boolean pyarrow array -> numpy bool (null -> False)."""
    return pc.fill_null(arr, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def filled(values: pd.Series) -> np.ndarray:
    """True where the text is not empty after stripping whitespace."""
    arr = as_arrow(values)
    # not empty and not whitespace only (utf8_is_space is False for "")
    return _mask(pc.and_(pc.greater(pc.binary_length(arr), 0), pc.invert(pc.utf8_is_space(arr))))


_SEP_RUN = r"[\s;,|]*[;,|][\s;,|]*"


def normalise_plates(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Normalise vehicle registration marks.

    Plates are separated by ``;``, ``,`` or ``|``; each is upper-cased with
    all whitespace removed, empty ones dropped, and the rest joined with
    ``;``. ``"ab12 cde; XY99 ZZZ"`` -> ``"AB12CDE;XY99ZZZ"``.

    Returns
    -------
    plates : Series of str
        Same index as ``values``.
    count : ndarray of int
        Number of plates per row.
    """
    arr = as_arrow(values)
    # Fast path (no regex): drop spaces, upper-case; plain alphanumeric plates are done.
    simple = pc.utf8_upper(pc.replace_substring(arr, " ", ""))
    plain = _mask(pc.utf8_is_alnum(simple))  # False for "", separators, tabs, punctuation
    count = plain.astype("int64")
    plain_or_empty = plain | _mask(pc.equal(pc.binary_length(arr), 0))  # "" stays "": no plate
    if not plain_or_empty.all():
        other = np.flatnonzero(~plain_or_empty)
        sub = arr.take(pa.array(other))
        sub = pc.replace_substring_regex(sub, _SEP_RUN, MULTI_SEP)
        sub = pc.replace_substring_regex(sub, r"\s+", "")
        sub = pc.utf8_trim(pc.utf8_upper(sub), MULTI_SEP)
        seps = pc.count_substring(sub, MULTI_SEP).to_numpy(zero_copy_only=False).astype("int64")
        count[other] = np.where(_mask(pc.equal(sub, "")), 0, seps + 1)
        mask = np.zeros(len(arr), dtype=bool)
        mask[other] = True
        simple = pc.replace_with_mask(simple, pa.array(mask), sub.cast(simple.type))
    return from_arrow(simple, values.index), count


def normalise_multi(values: pd.Series) -> pd.Series:
    """Split on ``;``, ``,`` or ``|``, strip each part, drop empties, join with ``;``."""
    arr = pc.replace_substring_regex(as_arrow(values), _SEP_RUN, MULTI_SEP)
    arr = pc.utf8_trim(pc.utf8_trim_whitespace(arr), MULTI_SEP)
    return from_arrow(arr, values.index)


def combine_time_text(raw: pd.DataFrame, cols: dict) -> pd.Series:
    """The date-time text of each row from a datetime column or date + time columns.

    A datetime column wins when filled; otherwise the date column and time
    column are joined with a space (and where that is empty too, a month
    column such as data.police.uk's ``2021-10`` is used) (a ``" 00:00:00"`` that Excel adds to a date
    cell is dropped first). A lone time column is taken as a full date-time.
    """
    n = len(raw)
    full = text_column(raw, cols.get("time"))
    if "date" in cols or ("clock" in cols and "time" not in cols):
        date = pc.utf8_trim_whitespace(as_arrow(text_column(raw, cols.get("date"))))
        date = from_arrow(pc.replace_substring_regex(date, r"[ T]00:00(:00)?$", ""))
        clock = text_column(raw, cols.get("clock")).str.strip()
        if "date" in cols:
            joined = (date + " " + clock).str.strip()
            joined = joined.where(date != "", "")
        else:
            joined = clock
        use = (full.str.strip() == "").to_numpy(dtype=bool)
        full = full.where(~use, joined)
    if "month" in cols:  # a month alone (data.police.uk) when nothing finer is given
        month = text_column(raw, cols["month"])
        use = (full.str.strip() == "").to_numpy(dtype=bool)
        full = full.where(~use, month)
    if len(full) != n:
        raise AssertionError("time text misaligned")
    return full


@lru_cache(maxsize=1)
def _to_bng():
    from pyproj import Transformer

    return Transformer.from_crs(WGS84, BNG, always_xy=True)


@dataclass(frozen=True)
class Locations:
    """Resolved locations: EPSG:27700 metres (NaN where rejected) + the form used."""

    easting: np.ndarray
    northing: np.ndarray
    form: np.ndarray  # 0 none, 1 lat/lon, 2 easting/northing, 3 grid ref
    #: index into ``unique_e``/``unique_n`` per row (-1 where no usable location)
    codes: np.ndarray | None = None
    unique_e: np.ndarray | None = None
    unique_n: np.ndarray | None = None

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(codes, unique_e, unique_n)``; computed here when not given."""
        if self.codes is not None:
            return self.codes, self.unique_e, self.unique_n
        have = np.isfinite(self.easting) & np.isfinite(self.northing)
        codes = np.full(len(have), -1, dtype="int64")
        sub, (ue, un) = unique_pairs(self.easting[have], self.northing[have])
        codes[have] = sub
        return codes, ue, un


_NONFINITE = r"^\s*[+-]?(?:nan|inf|infinity)\s*$"


def _to_float(values: pd.Series) -> np.ndarray:
    """Text -> float64 (NaN where not a number); a fast arrow cast, else pandas."""
    arr = as_arrow(values)
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    arr = pc.utf8_trim_whitespace(arr)
    try:
        return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = pd.to_numeric(from_arrow(arr), errors="coerce")
        return out.to_numpy(dtype="float64", na_value=np.nan)


def _numbers(a: pd.Series, b: pd.Series, where: np.ndarray, names: tuple[str, str],
             problems: Problems) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse two numeric text columns on ``where``; report non-finite/unparseable values."""
    n = len(a)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    idx = np.flatnonzero(where)
    if idx.size == 0:
        return x, y, np.zeros(n, dtype=bool)
    xa = _to_float(a.iloc[idx])
    ya = _to_float(b.iloc[idx])
    x[idx] = xa
    y[idx] = ya
    bad = where & ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        pos = np.flatnonzero(bad)
        nonfinite = np.zeros(n, dtype=bool)
        for s in (a, b):
            sub = s.iloc[pos]
            nonfinite[pos[sub.str.contains(_NONFINITE, case=False, regex=True).to_numpy(bool)]] = True
        inf = np.zeros(n, dtype=bool)
        inf[pos] = np.isinf(x[pos]) | np.isinf(y[pos])
        nonfinite |= inf
        msgs = np.empty(n, dtype=object)
        for p in pos:
            if nonfinite[p]:
                msgs[p] = f"non-finite coordinates ({names[0]} {a.iat[p]!r}, {names[1]} {b.iat[p]!r})"
            else:
                msgs[p] = f"unparseable coordinates ({names[0]} {a.iat[p]!r}, {names[1]} {b.iat[p]!r})"
        problems.add(bad, msgs)
    return x, y, where & ~bad


def resolve_locations(raw: pd.DataFrame, cols: dict, problems: Problems) -> Locations:
    """Turn lat/lon, easting/northing or grid reference text into EPSG:27700 metres.

    Problems found (missing, non-finite, unparseable or out-of-range
    coordinates, invalid grid references) are added to ``problems``.
    """
    n = len(raw)
    lat = text_column(raw, cols.get("lat"))
    lon = text_column(raw, cols.get("lon"))
    east = text_column(raw, cols.get("easting"))
    north = text_column(raw, cols.get("northing"))
    grid = text_column(raw, cols.get("gridref"))

    def present(field: str, values: pd.Series) -> np.ndarray:
        return filled(values) if field in cols else np.zeros(n, dtype=bool)

    has_ll = present("lat", lat) & present("lon", lon)
    has_en = ~has_ll & present("easting", east) & present("northing", north)
    has_g = ~has_ll & ~has_en & present("gridref", grid)
    form = np.select([has_ll, has_en, has_g], [1, 2, 3], 0).astype("int8")
    problems.add(form == 0, "missing coordinates")

    e = np.full(n, np.nan)
    nn = np.full(n, np.nan)

    # latitude / longitude (WGS84 degrees)
    la, lo, ok = _numbers(lat, lon, has_ll, ("latitude", "longitude"), problems)
    out_range = ok & ((np.abs(la) > 90) | (np.abs(lo) > 180))
    if out_range.any():
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(out_range):
            msgs[p] = (f"latitude/longitude out of range (latitude {lat.iat[p]!r} must be "
                       f"-90..90, longitude {lon.iat[p]!r} -180..180)")
        problems.add(out_range, msgs)
    ok &= ~out_range
    swapped = ok & (la > -8) & (la < 3) & (lo > 49) & (lo < 62)
    if swapped.any():
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(swapped):
            msgs[p] = (f"latitude and longitude look swapped (latitude {lat.iat[p]!r}, longitude "
                       f"{lon.iat[p]!r}: Britain is at latitude 49-61, longitude -8 to 2)")
        problems.add(swapped, msgs)
    ok &= ~swapped
    ll_distinct = None
    if ok.any():
        codes, (ulo, ula) = unique_pairs(lo[ok], la[ok])
        x, y = _to_bng().transform(ulo, ula)  # once per distinct position (ANPR: per camera)
        e[ok] = x[codes]
        nn[ok] = y[codes]
        ll_distinct = (ok, codes, np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))

    # easting / northing (EPSG:27700 metres)
    ex, ny, ok = _numbers(east, north, has_en, ("easting", "northing"), problems)
    degrees = ok & (np.abs(ex) <= 180) & (np.abs(ny) <= 90)
    if degrees.any():
        problems.add(degrees, "easting/northing look like degrees (give metres on the British "
                              "National Grid, or use latitude/longitude columns)")
    ok &= ~degrees
    e[ok] = ex[ok]
    nn[ok] = ny[ok]

    # grid references
    if has_g.any():
        idx = np.flatnonzero(has_g)
        parsed = parse_gridref(grid.iloc[idx], centre=True)
        valid = parsed["valid"].to_numpy(dtype=bool)
        bad = np.zeros(n, dtype=bool)
        bad[idx[~valid]] = True
        if bad.any():
            msgs = np.empty(n, dtype=object)
            for p in np.flatnonzero(bad):
                msgs[p] = _gridref_reason(grid.iat[p])
            problems.add(bad, msgs)
        good = idx[valid]
        e[good] = parsed["easting"].to_numpy()[valid]
        nn[good] = parsed["northing"].to_numpy()[valid]
    have = np.isfinite(e) & np.isfinite(nn)
    codes = np.full(n, -1, dtype="int64")
    if ll_distinct is not None and np.array_equal(ll_distinct[0], have):
        # every location came from lat/lon: reuse the distinct positions found there
        _, sub, ue, un = ll_distinct
    else:
        sub, (ue, un) = unique_pairs(e[have], nn[have])
    codes[have] = sub
    return Locations(easting=e, northing=nn, form=form, codes=codes, unique_e=ue, unique_n=un)


def _gridref_reason(text: str) -> str:
    """Why a grid reference was refused; coarse ones (10 km or 100 km squares) said so."""
    letters = re.sub(r"[^A-Za-z]", "", str(text))
    digits = re.sub(r"[^0-9]", "", str(text))
    if len(letters) == 2 and len(digits) <= 2 and len(digits) % 2 == 0:
        square = "a 100 km" if not digits else "only a 10 km"
        return (f"grid reference {text!r} gives {square} square; at least 4 digits (a 1 km "
                "square, e.g. 'TL 45 67') are needed to place an incident")
    return (f"invalid grid reference {text!r} (expected two letters and 4 to 10 digits, e.g. "
            "'TL 4512 6789')")


def assign_forces(areas: ForceAreas, loc: Locations, problems: Problems,
                  coastal_tolerance_m: float = DEFAULTS.coastal_tolerance_m,
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Force index per row (-1 where none) and metres to it (0 inside; NaN where none).

    A location outside every force area but within ``coastal_tolerance_m`` of
    one (generalised boundaries cut the coast: quays, piers, islands) gets the
    nearest force and its distance; farther out it is "outside the region".
    """
    from geo.areas import assign_force, nearest_force

    n = len(loc.easting)
    codes, ue, un = loc.distinct()
    have = codes >= 0
    idx = np.full(n, -1, dtype="int64")
    dist = np.full(n, np.nan)
    if have.any():
        uidx = np.asarray(assign_force(areas, ue, un), dtype="int64")
        udist = np.where(uidx >= 0, 0.0, np.nan)
        out = np.flatnonzero(uidx < 0)
        if len(out) and coastal_tolerance_m > 0:
            near, d = nearest_force(areas, ue[out], un[out], coastal_tolerance_m)
            uidx[out], udist[out] = near, d
        idx[have] = uidx[codes[have]]
        dist[have] = udist[codes[have]]
    outside = have & (idx < 0)
    if outside.any():
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(outside):
            msgs[p] = (f"location outside the region (E {loc.easting[p]:.0f} N "
                       f"{loc.northing[p]:.0f} is in no force area of the boundary file, nor "
                       f"within {coastal_tolerance_m:,.0f} m of one)")
        problems.add(outside, msgs)
    return idx, dist


def plausible_times(times: pd.Series, problems: Problems, *, earliest_year: int = 2000,
                    future_h: float = 24.0, now: pd.Timestamp | None = None) -> None:
    """Reject times before ``earliest_year`` or more than ``future_h`` hours after ``now``.

    Such dates (year 1, 1900, 2201, 9999) are typing or export errors; stored,
    they would sit in seasons nobody looks at.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    lo = pd.Timestamp(year=earliest_year, month=1, day=1, tz="UTC")
    hi = now + pd.Timedelta(hours=future_h)
    t = times.to_numpy(dtype="datetime64[us]") if isinstance(times.dtype, pd.DatetimeTZDtype) else None
    if t is None:
        return
    known = ~np.isnat(t)
    early = known & (t < lo.tz_localize(None).to_datetime64())
    late = known & (t > hi.tz_localize(None).to_datetime64())
    if early.any():
        problems.add(early, f"implausible date (before {earliest_year})")
    if late.any():
        problems.add(late, f"implausible date (more than {future_h:g} h in the future)")


def camera_ids(values: pd.Series) -> pd.Series:
    """Camera ids trimmed, inner whitespace collapsed (``" CAM  1 "`` -> ``"CAM 1"``).

    Case is kept for display; keys compare ids with :func:`camera_key`.
    """
    arr = pc.utf8_trim_whitespace(as_arrow(values))
    return from_arrow(pc.replace_substring_regex(arr, r"\s+", " "), values.index)


def camera_key(values: pd.Series) -> pd.Series:
    """Camera ids as keys: :func:`camera_ids` and upper case (``"cam 1"`` == ``"CAM 1"``)."""
    return from_arrow(pc.utf8_upper(as_arrow(camera_ids(values))), values.index)


def force_columns(areas: ForceAreas, idx: np.ndarray) -> dict[str, pd.Series | np.ndarray]:
    """``force``, ``force_code`` (str Series) and ``in_agreement`` (bool) for indices >= 0."""
    gdf = areas.gdf
    take = pa.array(np.asarray(idx, dtype="int64"))
    names = pa.array(gdf["force"].astype(str).tolist(), pa.large_string())
    codes = pa.array(gdf["force_code"].astype(str).tolist(), pa.large_string())
    return {
        "force": from_arrow(names.take(take)),
        "force_code": from_arrow(codes.take(take)),
        "in_agreement": gdf["in_agreement"].to_numpy(dtype=bool)[idx],
    }


def unique_pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Distinct (x, y) pairs and the code of each input pair: ``x == ux[codes]``.

    Used to transform, assign and build geometry once per distinct position
    (ANPR reads repeat a few thousand camera positions). When most pairs are
    distinct the identity mapping is returned.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if len(x) < 1024:
        return np.arange(len(x)), (x, y)
    if len(x) >= 65_536 and _mostly_distinct(x, y):  # a sample says it: skip the hash of all
        return np.arange(len(x)), (x, y)
    # factorize one int64 per pair (fast hash table); a hash collision would merge two
    # different pairs, so the result is checked exactly and redone on complex if needed
    xb = (x + 0.0).view("int64")  # + 0.0 turns -0.0 into 0.0
    yb = (y + 0.0).view("int64")
    key = xb * np.int64(-7046029254386353131) ^ yb
    codes, first = _factorize_first(key)
    ux, uy = x[first], y[first]
    if not (np.array_equal(ux[codes], x) and np.array_equal(uy[codes], y)):
        codes, uniques = pd.factorize(x + 1j * y)
        ux, uy = np.ascontiguousarray(uniques.real), np.ascontiguousarray(uniques.imag)
    if len(ux) > len(x) // 2:
        return np.arange(len(x)), (x, y)
    return codes, (ux, uy)


def _mostly_distinct(x: np.ndarray, y: np.ndarray, sample: int = 8192) -> bool:
    """True when an evenly spread sample of the pairs barely repeats (over 99 % distinct:
    then roughly 40 % or more of all pairs are distinct; incidents: every position differs).
    ANPR reads (a few thousand cameras) and data.police.uk files (snap points) repeat."""
    pick = np.linspace(0, len(x) - 1, sample).astype(np.intp)
    return len(pd.unique(x[pick] + 1j * y[pick])) > 0.99 * sample


def _factorize_first(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``key`` and the position of each distinct value's first occurrence."""
    codes, _ = pd.factorize(key)
    # factorize numbers values in order of first appearance: a first occurrence is where the
    # code exceeds every code before it
    seen = np.maximum.accumulate(codes)
    new = np.empty(len(codes), dtype=bool)
    new[:1] = True
    new[1:] = seen[1:] > seen[:-1]
    return codes, np.flatnonzero(new)


def to_points(frame: pd.DataFrame, loc: Locations | None = None,
              rows: np.ndarray | None = None, *, geometry: bool = True) -> gpd.GeoDataFrame:
    """GeoDataFrame in EPSG:27700 with point geometry from ``easting``/``northing``.

    With ``loc`` and ``rows`` (positions of ``frame``'s rows in ``loc``), the
    distinct positions already found are reused. ``geometry=False``: ``frame``
    itself (the points stay in ``easting``/``northing``; no shapely point is
    built for callers that never use one).
    """
    if not geometry:
        return frame
    import geopandas as gpd
    import shapely

    if loc is not None and rows is not None and loc.codes is not None:
        codes, ue, un = loc.codes[rows], loc.unique_e, loc.unique_n
    else:
        codes, (ue, un) = unique_pairs(frame["easting"].to_numpy(),
                                       frame["northing"].to_numpy())
    geom = shapely.points(ue, un)[codes]  # immutable points shared between equal positions
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geom, index=frame.index, crs=BNG),
                            crs=BNG)


def mismatch(reported: pd.Series, force: np.ndarray, force_code: np.ndarray) -> np.ndarray:
    """True where a reported force is given and is not the force of the location.

    Names and codes go through the alias table (:mod:`geo.forces`):
    ``"Essex Police"``, ``"ESSEX"`` and ``"E23000028"`` all name Essex. A
    name the table does not know is compared by :func:`geo.forces.force_key`.
    """
    text = reported.astype("str").fillna("").str.strip()
    given = (text != "").to_numpy(dtype=bool)
    if not given.any():
        return given
    reported_code = force_codes(text)
    known = reported_code != ""
    location_code = np.asarray(pd.Series(force_code).astype("str").fillna(""), dtype=object)
    no_code = location_code == ""
    if no_code.any():  # a boundary file without codes: look the location's name up
        location_code[no_code] = force_codes(pd.Series(np.asarray(force, dtype=object)[no_code]))
    out = given & known & (reported_code != location_code)
    unknown = given & ~known
    if unknown.any():
        keys = np.array([force_key(t) for t in text.to_numpy(dtype=object)[unknown]], dtype=object)
        fkeys = np.array([force_key(f) for f in np.asarray(force, dtype=object)[unknown]], dtype=object)
        out[unknown] = keys != fkeys
    return out

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

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geo._frames import as_arrow, from_arrow
from geo.areas import ForceAreas, assign_force
from geo.errors import InputError
from geo.gridref import parse_gridref
from geo.schema import BNG, MULTI_SEP, REJECT_COLUMNS, WGS84

__all__ = [
    "ValidationResult",
    "Problems",
    "text_column",
    "filled",
    "normalise_plates",
    "normalise_multi",
    "normalise_force_name",
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
        Number of data rows read.
    """

    kind: str
    accepted: gpd.GeoDataFrame
    rejects: pd.DataFrame
    rows: int

    def __post_init__(self) -> None:
        if self.kind not in ("incidents", "sightings"):
            raise InputError(f"kind must be 'incidents' or 'sightings', got {self.kind!r}")
        if len(self.accepted) + len(self.rejects) != self.rows:
            raise AssertionError(
                f"{len(self.accepted)} accepted + {len(self.rejects)} rejected != {self.rows} rows"
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
        return {
            "rows": int(self.rows),
            "accepted": self.n_accepted,
            "rejected": self.n_rejected,
            "rejects": rejects,
            "by_force": self.by_force,
        }


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

    def add(self, mask: np.ndarray, message: str | np.ndarray) -> None:
        """Record ``message`` (one text, or an object array of length n) where ``mask``."""
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.n,):
            raise InputError("mask length differs from the number of rows")
        if mask.any():
            self._items.append((mask, message))

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
    if column is None:  # n empty strings without building n Python objects
        n = len(raw)
        offsets = pa.py_buffer(np.zeros(n + 1, dtype="int32"))
        return from_arrow(pa.StringArray.from_buffers(n, offsets, pa.py_buffer(b"")))
    s = raw[column]
    if isinstance(s, pd.DataFrame):  # duplicated column label: first one
        s = s.iloc[:, 0]
    return from_arrow(as_arrow(s))


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
    if not plain.all():
        other = np.flatnonzero(~plain)
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


_FORCE_SUFFIXES = re.compile(
    r"\b(constabulary|police(\s+force|\s+service)?|county\s+police|force|pfa)\s*$"
)


@lru_cache(maxsize=1024)
def normalise_force_name(name: str) -> str:
    """Comparable form of a force name: lower case, suffix and punctuation removed.

    ``"Cambridgeshire Constabulary"``, ``"NORFOLK POLICE"`` and ``"norfolk"``
    become ``"cambridgeshire"``, ``"norfolk"``, ``"norfolk"``.
    """
    text = re.sub(r"\s+", " ", str(name).lower().replace("&", " and ")).strip()
    text = re.sub(r"^the\s+", "", text)
    prev = None
    while prev != text:
        prev = text
        text = _FORCE_SUFFIXES.sub("", text).strip()
    return re.sub(r"[^0-9a-z]+", "", text)


def combine_time_text(raw: pd.DataFrame, cols: dict) -> pd.Series:
    """The date-time text of each row from a datetime column or date + time columns.

    A datetime column wins when filled; otherwise the date column and time
    column are joined with a space (a ``" 00:00:00"`` that Excel adds to a date
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
                msgs[p] = (f"invalid grid reference {grid.iat[p]!r} (expected two letters and "
                           "4 to 10 digits, e.g. 'TL 4512 6789')")
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


def assign_forces(areas: ForceAreas, loc: Locations, problems: Problems) -> np.ndarray:
    """Force index per row (-1 where no location or outside); reports "outside the region"."""
    n = len(loc.easting)
    codes, ue, un = loc.distinct()
    have = codes >= 0
    idx = np.full(n, -1, dtype="int64")
    if have.any():
        idx[have] = np.asarray(assign_force(areas, ue, un), dtype="int64")[codes[have]]
    outside = have & (idx < 0)
    if outside.any():
        msgs = np.empty(n, dtype=object)
        for p in np.flatnonzero(outside):
            msgs[p] = (f"location outside the region (E {loc.easting[p]:.0f} N "
                       f"{loc.northing[p]:.0f} is not in any of the seven forces or their "
                       "neighbours)")
        problems.add(outside, msgs)
    return idx


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


def _factorize_first(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``key`` and the position of each distinct value's first occurrence."""
    codes, uniques = pd.factorize(key)
    first = np.full(len(uniques), len(key), dtype="int64")
    np.minimum.at(first, codes, np.arange(len(key)))
    return codes, first


def to_points(frame: pd.DataFrame, loc: Locations | None = None,
              rows: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """GeoDataFrame in EPSG:27700 with point geometry from ``easting``/``northing``.

    With ``loc`` and ``rows`` (positions of ``frame``'s rows in ``loc``), the
    distinct positions already found are reused.
    """
    if loc is not None and rows is not None and loc.codes is not None:
        codes, ue, un = loc.codes[rows], loc.unique_e, loc.unique_n
    else:
        codes, (ue, un) = unique_pairs(frame["easting"].to_numpy(),
                                       frame["northing"].to_numpy())
    geom = shapely.points(ue, un)[codes]  # immutable points shared between equal positions
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geom, index=frame.index, crs=BNG),
                            crs=BNG)


def _normalised_names(values: np.ndarray) -> np.ndarray:
    """:func:`normalise_force_name` over the distinct values only."""
    codes, uniques = pd.factorize(values)
    names = np.array([normalise_force_name(str(u)) for u in uniques] + [""], dtype=object)
    return names[codes]


def mismatch(reported: pd.Series, force: np.ndarray, force_code: np.ndarray) -> np.ndarray:
    """True where a reported force is given and names neither ``force`` nor its code.

    Names are compared with :func:`normalise_force_name` ("Norfolk Police" ==
    "norfolk"); an ONS code (``E23000024``) is accepted too.
    """
    text = reported.astype("str").fillna("").str.strip()
    given = (text != "").to_numpy(dtype=bool)
    if not given.any():
        return given
    norm = _normalised_names(text.to_numpy(dtype=object))
    fnorm = _normalised_names(np.asarray(force, dtype=object))
    code = _normalised_names(np.asarray(pd.Series(force_code).str.lower(), dtype=object))
    return given & (norm != fnorm) & (norm != code)

"""Partial plates: which vehicles matching a witness's partial plate were read nearby, then?

Pattern syntax
--------------
* ``?`` is exactly one unknown character, ``*`` any run of characters (also
  none); every other character is a letter or digit of the plate.
* Spaces are ignored and case does not matter: ``"ab1? cde"`` is ``AB1?CDE``.
* A pattern needs at least :data:`MIN_KNOWN` known characters (``"*"`` alone
  would list every plate); anything but letters, digits, ``?``, ``*`` and
  spaces is refused.

Misreads
--------
Witnesses and cameras confuse 0/O, 1/I, 5/S and 8/B (:data:`MISREADS`). Every
known character of the pattern in that table also matches its partner; a
plate that matches only through such a substitution is a candidate with
``misread=True`` and its score multiplied by :data:`MISREAD_FACTOR`.

Score
-----
Each read of a matching plate within ``km`` kilometres and ``hours`` hours
of the place and time searched around has a closeness

    ``(1 - distance_km / km) * (1 - |time difference| / hours)``

which is 1 for a read at that very place and time and 0 at the edge of
either window. A plate's ``score`` is the best closeness of its reads (times
:data:`MISREAD_FACTOR` for a misread), rounded to 4 decimals. Candidates are
ranked by score, then by the number of reads in the window, then by plate.
``nearest_km`` and ``nearest_minutes`` are the smallest distance and time
difference over the plate's reads in the window (possibly of two different
reads); ``best_read_at`` and ``best_camera_id`` are those of the best read.

Two engines give identical candidates: :func:`search_plates` over reads in
memory, and :func:`geo.engines.plates.search_plates_store` over the store's
parquet files with duckdb (only the London months of the time window are opened, and the time
window, the bounding box of the distance and the pattern are pushed into the
scan, so only matching reads come back). ``benchmarks/bench_plates.py`` on
10M reads (200,000 plates, two seasons; 2 shared cores): the store engine
answers in 0.06-0.3 s per search (median 0.12 s; a "wide" 50 km / 24 h search
on two known characters 0.1 s), a search with no time pruning at all (400
days, 300 km) 0.8 s; the in-memory engine 0.06-0.16 s once the 10M reads are
loaded (9 s). Both give identical candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.casework import CaseworkInputError
from geo.privacy import mask_plate

__all__ = [
    "MISREADS",
    "MISREAD_FACTOR",
    "MIN_KNOWN",
    "CANDIDATE_COLUMNS",
    "PlatePattern",
    "SearchOrigin",
    "PlateSearch",
    "parse_pattern",
    "plate_search",
    "rank_candidates",
    "empty_candidates",
    "match_plates",
    "search_plates",
    "origin_of_incident",
    "origin_from_latlon",
    "candidates_to_json",
]

#: Characters commonly misread for one another (both directions).
MISREADS: dict[str, str] = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5",
                            "8": "B", "B": "8"}
#: Score multiplier of a candidate that matches only through a misread.
MISREAD_FACTOR = 0.5
#: Known characters a pattern needs at least.
MIN_KNOWN = 2
#: Columns of :func:`search_plates`.
CANDIDATE_COLUMNS = ["plate", "reads", "nearest_km", "nearest_minutes", "score", "on_ladder",
                     "stage", "misread", "best_read_at", "best_camera_id"]

_ANY = "[A-Z0-9]"
_READ_COLUMNS = ["vrm", "read_at", "easting", "northing"]


@dataclass(frozen=True)
class PlatePattern:
    """A parsed partial plate.

    Attributes
    ----------
    text : str
        Normalised pattern (upper case, no spaces, runs of ``*`` collapsed).
    exact : str
        Regular expression (full match) of the plates the pattern names.
    loose : str
        The same with each misreadable character also matching its partner
        (RE2- and Python-compatible, for duckdb and pandas alike).
    known : int
        Number of known characters.
    """

    text: str
    exact: str
    loose: str
    known: int

    def matches(self, plate: str) -> bool:
        """True when ``plate`` (normalised) matches, misreads included."""
        return re.fullmatch(self.loose, plate) is not None

    def is_misread(self, plate: str) -> bool:
        """True when ``plate`` matches only through a misread substitution."""
        return self.matches(plate) and re.fullmatch(self.exact, plate) is None


@dataclass(frozen=True)
class SearchOrigin:
    """Place (EPSG:27700 metres) and time (UTC) a plate search is centred on."""

    easting_m: float
    northing_m: float
    at_utc: pd.Timestamp


@dataclass(frozen=True)
class PlateSearch:
    """A validated search: pattern, place and time, radius (km) and half-window (hours)."""

    pattern: PlatePattern
    origin: SearchOrigin
    km: float
    hours: float

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(earliest, latest) read time searched, UTC, both inclusive."""
        half = pd.Timedelta(hours=self.hours)
        return self.origin.at_utc - half, self.origin.at_utc + half


def parse_pattern(pattern: str) -> PlatePattern:
    """Parse a partial plate (syntax in the module docstring).

    Raises
    ------
    CaseworkInputError
        Empty pattern, characters other than letters, digits, ``?``, ``*``
        and spaces, or fewer than :data:`MIN_KNOWN` known characters.
    """
    if not isinstance(pattern, str):
        raise CaseworkInputError(f"a plate pattern is text, got {type(pattern).__name__}")
    text = re.sub(r"\s+", "", pattern).upper()
    bad = sorted(set(re.sub(r"[A-Z0-9?*]", "", text)))
    if bad:
        raise CaseworkInputError(
            f"plate pattern {pattern!r} has character(s) {' '.join(bad)}: use letters, digits, "
            "? (one unknown character) and * (any run of characters)")
    text = re.sub(r"\*+", "*", text)
    known = sum(c.isalnum() for c in text)
    if known < MIN_KNOWN:
        raise CaseworkInputError(
            f"plate pattern {pattern!r} has {known} known character(s); give at least "
            f"{MIN_KNOWN} (e.g. AB12*)")

    def regex(loose: bool) -> str:
        parts = []
        for c in text:
            if c == "?":
                parts.append(_ANY)
            elif c == "*":
                parts.append(_ANY + "*")
            elif loose and c in MISREADS:
                parts.append(f"[{c}{MISREADS[c]}]")
            else:
                parts.append(c)
        return "".join(parts)

    return PlatePattern(text=text, exact=regex(False), loose=regex(True), known=known)


def match_plates(plates: pd.Series | list[str], pattern: str | PlatePattern) -> pd.DataFrame:
    """The distinct plates matching a pattern, with their misread flag.

    Parameters
    ----------
    plates : Series or list of str
        Normalised plates (upper case, no spaces); repeats are fine.
    pattern : str or PlatePattern

    Returns
    -------
    DataFrame
        ``plate`` (str), ``misread`` (bool), sorted by plate.
    """
    pat = pattern if isinstance(pattern, PlatePattern) else parse_pattern(pattern)
    distinct = pd.Series(pd.unique(pd.Series(plates, dtype="str").dropna()), dtype="str")
    hit = distinct[distinct.str.fullmatch(pat.loose).fillna(False).to_numpy(dtype=bool)]
    exact = hit.str.fullmatch(pat.exact).fillna(False).to_numpy(dtype=bool)
    out = pd.DataFrame({"plate": hit.to_numpy(dtype=object), "misread": ~exact})
    return out.astype({"plate": "str"}).sort_values("plate", ignore_index=True)


# --------------------------------------------------------------------------- checks


def _check_window(km: float, hours: float) -> tuple[float, float]:
    for name, value in (("km", km), ("hours", hours)):
        if isinstance(value, bool) or not np.isfinite(float(value)) or float(value) <= 0:
            raise CaseworkInputError(f"{name} must be a finite number > 0, got {value!r}")
    return float(km), float(hours)


def _check_time(at_utc) -> pd.Timestamp:
    at = pd.Timestamp(at_utc)
    if at.tzinfo is None:
        raise CaseworkInputError(f"at_utc must be timezone-aware (e.g. UTC), got {at_utc!r}")
    return at.tz_convert("UTC")


def _check_place(easting_m: float, northing_m: float) -> tuple[float, float]:
    e, n = float(easting_m), float(northing_m)
    if not (np.isfinite(e) and np.isfinite(n)) or (abs(e) <= 180 and abs(n) <= 90):
        raise CaseworkInputError(
            f"easting_m/northing_m ({easting_m!r}, {northing_m!r}) must be British National "
            "Grid metres; convert latitude/longitude with origin_from_latlon")
    return e, n


def plate_search(pattern: str | PlatePattern, *, easting_m: float, northing_m: float,
                 at_utc: pd.Timestamp | str, km: float = 20.0, hours: float = 3.0) -> PlateSearch:
    """Validate a search's arguments (see :func:`search_plates`).

    Raises
    ------
    CaseworkInputError
        Bad pattern, radius, window, place (degrees given for metres) or naive time.
    """
    pat = pattern if isinstance(pattern, PlatePattern) else parse_pattern(pattern)
    km, hours = _check_window(km, hours)
    origin = SearchOrigin(*_check_place(easting_m, northing_m), _check_time(at_utc))
    return PlateSearch(pat, origin, km, hours)


# --------------------------------------------------------------------------- ranking


def _stages(ladder: pd.DataFrame | None) -> dict[str, int]:
    """Plate -> highest ladder stage (vehicle rows)."""
    if ladder is None or not len(ladder):
        return {}
    missing = [c for c in ("subject", "kind", "stage") if c not in ladder.columns]
    if missing:
        raise CaseworkInputError(f"ladder lacks column(s): {', '.join(missing)}")
    v = ladder[ladder["kind"].astype("str") == "vehicle"]
    return v.groupby(v["subject"].astype("str"))["stage"].max().astype(int).to_dict()


def rank_candidates(hits: pd.DataFrame, search: PlateSearch,
                    ladder: pd.DataFrame | None = None) -> pd.DataFrame:
    """Candidates (:data:`CANDIDATE_COLUMNS`, ranked) from reads in the search's time window.

    ``hits``: ``vrm, read_at`` (UTC), ``easting, northing``, ``camera_id`` of the
    reads whose time lies in ``search.window`` (any plate; the pattern, the
    distance and the exact window are applied here, so both engines rank alike).
    """
    pat, origin, km, hours = search.pattern, search.origin, search.km, search.hours
    naive = hits["read_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    t_us = naive.to_numpy().astype("int64")
    dt_min = np.abs(t_us - origin.at_utc.value // 1000) / 60e6  # .value is in ns
    d_km = np.hypot(hits["easting"].to_numpy(float) - origin.easting_m,
                    hits["northing"].to_numpy(float) - origin.northing_m) / 1000.0
    near = (d_km <= km) & (dt_min <= hours * 60.0)
    flags = match_plates(hits["vrm"][near], pat).set_index("plate")["misread"]
    keep = near & hits["vrm"].isin(flags.index).to_numpy(dtype=bool)
    r = pd.DataFrame({"plate": hits["vrm"].to_numpy(dtype=object)[keep], "d_km": d_km[keep],
                      "dt_min": dt_min[keep], "at": naive.to_numpy()[keep],
                      "camera": hits["camera_id"].to_numpy(dtype=object)[keep]})
    r["close"] = (1 - r["d_km"] / km) * (1 - r["dt_min"] / (hours * 60.0))
    r = r.sort_values(["plate", "close", "at"], ascending=[True, False, True], kind="stable")
    if r.empty:
        return empty_candidates()
    best = r.drop_duplicates("plate", keep="first").set_index("plate")
    g = r.groupby("plate")
    misread = flags.reindex(best.index).to_numpy(dtype=bool)
    stages = _stages(ladder)
    out = pd.DataFrame({
        "plate": best.index.to_numpy(dtype=object),
        "reads": g.size().reindex(best.index).to_numpy(dtype="int64"),
        "nearest_km": g["d_km"].min().reindex(best.index).round(3).to_numpy(),
        "nearest_minutes": g["dt_min"].min().reindex(best.index).round(1).to_numpy(),
        "score": np.round(best["close"].to_numpy() * np.where(misread, MISREAD_FACTOR, 1.0), 4),
        "misread": misread,
        "best_read_at": pd.to_datetime(best["at"].to_numpy(), utc=True).as_unit("us"),
        "best_camera_id": best["camera"].to_numpy(dtype=object),
    })
    out["stage"] = np.array([stages.get(p, 0) for p in out["plate"]], dtype="int64")
    out["on_ladder"] = out["stage"] > 0
    out = out.sort_values(["score", "reads", "plate"], ascending=[False, False, True],
                          kind="stable", ignore_index=True)
    return out.astype({"plate": "str", "best_camera_id": "str"})[CANDIDATE_COLUMNS]


def empty_candidates() -> pd.DataFrame:
    """No candidates, with the columns and dtypes of :data:`CANDIDATE_COLUMNS`."""
    return pd.DataFrame({
        "plate": pd.Series([], dtype="str"), "reads": pd.Series([], dtype="int64"),
        "nearest_km": pd.Series([], dtype="float64"),
        "nearest_minutes": pd.Series([], dtype="float64"),
        "score": pd.Series([], dtype="float64"), "on_ladder": pd.Series([], dtype=bool),
        "stage": pd.Series([], dtype="int64"), "misread": pd.Series([], dtype=bool),
        "best_read_at": pd.Series([], dtype="datetime64[us, UTC]"),
        "best_camera_id": pd.Series([], dtype="str")})


# --------------------------------------------------------------------------- engines


def search_plates(
    reads: pd.DataFrame,
    pattern: str | PlatePattern,
    *,
    easting_m: float,
    northing_m: float,
    at_utc: pd.Timestamp | str,
    km: float = 20.0,
    hours: float = 3.0,
    ladder: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Plates matching ``pattern`` read within ``km`` and ``hours`` of a place and time.

    Parameters
    ----------
    reads : DataFrame
        ANPR reads: ``vrm`` (normalised), ``read_at`` (tz-aware), ``easting,
        northing`` (EPSG:27700 metres), optionally ``camera_id``. Not modified.
    pattern : str or PlatePattern
        Partial plate (module docstring).
    easting_m, northing_m : float
        Place searched around, British National Grid metres.
    at_utc : Timestamp or ISO text
        Time searched around (tz-aware).
    km : float, default 20
        Search radius in kilometres (inclusive).
    hours : float, default 3
        Hours either side of ``at_utc`` (inclusive).
    ladder : DataFrame, optional
        :func:`geo.offenders.ladder` output: ``on_ladder`` and ``stage`` of each plate.

    Returns
    -------
    DataFrame
        :data:`CANDIDATE_COLUMNS`, ranked (score, reads, plate).

    Raises
    ------
    CaseworkInputError
        Bad pattern, window, place or time, or missing columns.
    """
    search = plate_search(pattern, easting_m=easting_m, northing_m=northing_m, at_utc=at_utc,
                          km=km, hours=hours)
    missing = [c for c in _READ_COLUMNS if c not in reads.columns]
    if missing:
        raise CaseworkInputError(f"reads lack column(s): {', '.join(missing)}")
    at = reads["read_at"]
    if not isinstance(at.dtype, pd.DatetimeTZDtype):
        raise CaseworkInputError(f"reads read_at must be timezone-aware (UTC), got {at.dtype}")
    lo, hi = search.window
    pos = np.flatnonzero(((at >= lo) & (at <= hi)).to_numpy(dtype=bool))  # the window only
    sub = reads.iloc[pos]
    hits = pd.DataFrame({
        "vrm": sub["vrm"].astype("str").to_numpy(dtype=object),
        "read_at": sub["read_at"].dt.tz_convert("UTC").dt.as_unit("us").array,
        "easting": sub["easting"].to_numpy(float),
        "northing": sub["northing"].to_numpy(float),
        "camera_id": (sub["camera_id"].astype("str").fillna("").to_numpy(dtype=object)
                      if "camera_id" in sub else np.full(len(sub), "", dtype=object)),
    })
    if hits.empty:
        return empty_candidates()
    return rank_candidates(hits, search, ladder)


# --------------------------------------------------------------------------- origins and JSON


def origin_of_incident(incidents: pd.DataFrame, incident_id: str) -> SearchOrigin:
    """Place and time of an incident (for ``harewatch plates --incident ID``).

    Raises
    ------
    CaseworkInputError
        No incident with that id (ids compared without surrounding spaces).
    """
    ids = incidents["incident_id"].astype("str").str.strip()
    hit = incidents[(ids == str(incident_id).strip()).to_numpy(dtype=bool)]
    if hit.empty:
        raise CaseworkInputError(f"no incident with id {incident_id!r}")
    row = hit.iloc[0]
    return SearchOrigin(float(row["easting"]), float(row["northing"]),
                        _check_time(row["occurred_at"]))


def origin_from_latlon(lat_deg: float, lon_deg: float, at: str | pd.Timestamp) -> SearchOrigin:
    """Place (WGS84 degrees -> BNG metres) and time (for ``--near LAT,LON --at ISO``).

    ``at`` is ISO 8601; without an offset it is UK local time, as in incident files.
    """
    from pyproj import Transformer

    from geo.schema import BNG, WGS84
    from geo.times import parse_times

    lat, lon = float(lat_deg), float(lon_deg)
    if not (abs(lat) <= 90 and abs(lon) <= 180):
        raise CaseworkInputError(f"latitude/longitude out of range: {lat_deg!r}, {lon_deg!r}")
    if isinstance(at, pd.Timestamp):
        when = _check_time(at)
    else:
        parsed, reasons = parse_times(pd.Series([str(at)], dtype="str"))
        if reasons.iat[0]:
            raise CaseworkInputError(f"--at: {reasons.iat[0]}")
        when = pd.Timestamp(parsed.iat[0]).tz_convert("UTC")
    e, n = Transformer.from_crs(WGS84, BNG, always_xy=True).transform(lon, lat)
    return SearchOrigin(float(e), float(n), when)


def candidates_to_json(df: pd.DataFrame, *, mask: bool = False) -> dict:
    """``{"candidates": [{plate, reads, nearest_km, nearest_minutes, score, on_ladder, stage,
    misread, best_read_at, best_camera_id}]}`` in rank order; plates masked when ``mask``."""
    rows = []
    for r in df.to_dict("records"):
        rows.append({
            "plate": mask_plate(r["plate"]) if mask else str(r["plate"]),
            "reads": int(r["reads"]), "nearest_km": float(r["nearest_km"]),
            "nearest_minutes": float(r["nearest_minutes"]), "score": float(r["score"]),
            "on_ladder": bool(r["on_ladder"]), "stage": int(r["stage"]),
            "misread": bool(r["misread"]), "best_read_at": pd.Timestamp(r["best_read_at"])
            .isoformat(), "best_camera_id": str(r["best_camera_id"])})
    return {"candidates": rows}

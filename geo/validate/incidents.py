"""Validate incident files into the canonical incident GeoDataFrame.

See :mod:`geo.validate.common` for the rules every row goes through.
Incident specific rules:

* **Ids.** An incident's id is compared without surrounding spaces. A row
  with a blank id gets a stable id derived from its content when the file is
  a data.police.uk layout (anti-social behaviour rows have no Crime ID; stop
  and search rows have no id at all): ``row-`` and the 16 hex
  digits of the 64-bit FNV-1a hash of every cell (a published hash, the same
  on every machine and version), so ingesting the same file twice
  adds nothing. Identical id-less rows are separate reports (data.police.uk
  publishes a month and an anonymised map point, so two reports can look
  alike): the second gets ``-2``, the third ``-3``. In any other file a blank
  id is a reject ("missing id").
* **Duplicates.** A row repeating an earlier row's id *and* content is
  collapsed: counted in ``duplicates_collapsed``, not stored twice, not an
  error (a repeat of a rejected row is rejected with the same reasons). The
  same id with different content is a reject naming the first row.
* **Time precision.** ``time_precision`` keeps what was written: ``month``
  for data.police.uk's ``Month`` (``2021-10``), ``day`` for a date alone,
  ``minute`` otherwise (:func:`geo.times.time_precision`).
* **Forces.** ``force`` is where the point lies (the nearest force within the
  coastal tolerance when just off a generalised coast, ``force_distance_m``
  then > 0); ``reported_force`` is what the file says (``Reported by``, else
  ``Falls within``), kept as written; ``force_mismatch`` is True where the two
  name different forces (through the alias table of :mod:`geo.forces`).
* **Kept as recorded.** crime type, outcome (``Last outcome category`` /
  ``Outcome type``), location text, LSOA code and name, context; for stop and
  search also the legislation and object of search (its ``Type`` goes to
  ``context``, and ``crime_type`` is "Stop and search").
* A file without any time column or without any location column is refused
  as a whole, once, naming the columns it has.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo._config import DEFAULTS, Settings
from geo._frames import as_arrow, fnv1a64, from_arrow, repeated
from geo.areas import ForceAreas
from geo.errors import InputError
from geo.schema import INCIDENT_COLUMNS
from geo.times import parse_times, time_precision
from geo.validate.columns import ALIASES, INCIDENT_FIELDS, match_columns
from geo.validate.common import (
    Problems,
    ValidationResult,
    assign_forces,
    combine_time_text,
    empty_text,
    force_columns,
    mismatch,
    normalise_multi,
    normalise_plates,
    plausible_times,
    resolve_locations,
    text_column,
    to_points,
)
from geo.validate.layouts import LAYOUTS

__all__ = [
    "validate_incidents",
    "require_time_and_place",
    "content_ids",
]

_TIME_FIELDS = ("time", "date", "clock", "month")
_PLACE_FIELDS = ("lat", "lon", "easting", "northing", "gridref")
_DERIVED_ID_LAYOUTS = {layout.name for layout in LAYOUTS}
_TEXT_FIELDS = ("dogs", "outcome", "notes", "crime_type", "location", "lsoa_code", "lsoa_name",
                "context", "legislation", "object_of_search")


def require_time_and_place(raw: pd.DataFrame, cols: dict) -> None:
    """Refuse, once, a file with no time column or no location column (naming what it has)."""
    no_time = not any(f in cols for f in _TIME_FIELDS)
    no_place = not (("lat" in cols and "lon" in cols) or ("easting" in cols and "northing" in cols)
                    or "gridref" in cols)
    if not (no_time or no_place):
        return
    missing = " or ".join(w for w, m in (("time", no_time), ("location", no_place)) if m)
    found = ", ".join(str(c) for c in raw.columns[:12]) or "no columns"
    expected = []
    if no_time:
        expected.append("time: " + ", ".join(ALIASES["time"][:3]) + ", month or date + time")
    if no_place:
        expected.append("location: latitude + longitude, easting + northing, or grid ref")
    raise InputError(f"no {missing} column; found: {found} (expected {'; '.join(expected)})")


def content_ids(raw: pd.DataFrame, rows: np.ndarray) -> pd.Series:
    """Stable ids for ``rows`` from the content of every cell (see the module docstring).

    Parameters
    ----------
    raw : DataFrame
        The file as text.
    rows : ndarray of int
        Positions needing an id.

    Returns
    -------
    Series of str, index ``rows``.
    """
    if len(rows) == 0:
        return pd.Series([], dtype="str")
    return from_arrow(_content_id_array(_row_content(raw, np.asarray(rows))), pd.Index(rows))


def _row_content(raw: pd.DataFrame, rows: np.ndarray) -> pa.Array:
    """Every cell of each row at ``rows`` joined: equal strings = identical rows."""
    take = pa.array(rows, pa.int64())
    cells = [pc.fill_null(as_arrow(raw.iloc[:, j]), "").cast(pa.large_string()).take(take)
             for j in range(raw.shape[1])]
    if not cells:
        return pa.array([""] * len(rows), pa.large_string())
    sep = pa.scalar("\x1f", type=pa.large_string())
    return pc.binary_join_element_wise(*cells, sep)


def _content_id_array(content: pa.Array) -> pa.Array:
    """``row-`` + the FNV-1a hash of each content, ``-2``, ``-3``... on identical repeats."""
    hashes = fnv1a64(content)
    codes, _ = pd.factorize(hashes)
    if not _same_within_groups(content, codes):  # two contents with one hash: group exactly
        codes, uniques = pd.factorize(from_arrow(content))
        hashes = fnv1a64(pd.Series(uniques, dtype="str"))[codes]
    ids = _hex_ids(hashes)
    nth = pd.Series(codes).groupby(codes).cumcount().to_numpy() + 1
    repeat = nth > 1
    if repeat.any():
        heads = ids.filter(pa.array(repeat)).to_pylist()
        tails = pa.array([f"{i}-{k}" for i, k in zip(heads, nth[repeat], strict=True)],
                         pa.large_string())
        ids = pc.replace_with_mask(ids, pa.array(repeat), tails)
    return ids


def _same_within_groups(content: pa.Array, codes: np.ndarray) -> bool:
    """Whether every row's content equals the first content of its group (``codes``)."""
    n = len(codes)
    first = np.zeros(int(codes.max()) + 1 if n else 0, dtype="int64")
    first[codes[::-1]] = np.arange(n - 1, -1, -1)  # the last write of each group: its first row
    other = np.flatnonzero(first[codes] != np.arange(n))
    if len(other) == 0:
        return True
    mine = content.take(pa.array(other))
    theirs = content.take(pa.array(first[codes[other]]))
    return bool(pc.all(pc.equal(mine, theirs)).as_py())


def _hex_ids(hashes: np.ndarray) -> pa.Array:
    """``row-`` and the 16 lower-case hex digits of each hash, as Arrow strings (no objects)."""
    n = len(hashes)
    digits = np.asarray(hashes, dtype=">u8").tobytes().hex().encode("ascii")  # big-endian: 16 each
    text = np.empty((n, 20), dtype=np.uint8)
    text[:, :4] = np.frombuffer(b"row-", dtype=np.uint8)
    text[:, 4:] = np.frombuffer(digits, dtype=np.uint8).reshape(n, 16)
    offsets = np.arange(0, 20 * (n + 1), 20, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def _ids(raw: pd.DataFrame, cols: dict, layout: str | None, problems: Problems) -> pd.Series:
    """The id of each row: as written (stripped), or derived where the file allows it."""
    ids = pc.utf8_trim_whitespace(as_arrow(text_column(raw, cols.get("id"))))
    blank = pc.fill_null(pc.equal(ids, ""), False).to_numpy(zero_copy_only=False)
    if layout in _DERIVED_ID_LAYOUTS and blank.any():
        derived = _content_id_array(_row_content(raw, np.flatnonzero(blank)))
        ids = pc.replace_with_mask(ids, pa.array(blank), derived.cast(ids.type))
    elif blank.any():
        problems.add(blank, "missing id (no such column; expected e.g. "
                            + ", ".join(ALIASES["id"][:4]) + ")" if "id" not in cols else "missing id")
    return from_arrow(ids)


def _duplicates(raw: pd.DataFrame, ids: pd.Series, problems: Problems) -> np.ndarray:
    """Rows to collapse (an exact repeat of an earlier row); other repeats of an id rejected."""
    n = len(ids)
    collapse = np.zeros(n, dtype=bool)
    seen = repeated(ids) & (ids != "").to_numpy(dtype=bool)  # one fast hash pass, usually none
    if not seen.any():
        return collapse
    pos = np.flatnonzero(seen)
    content = _row_content(raw, pos)
    key = pd.DataFrame({"id": ids.iloc[pos].to_numpy(dtype=object),
                        "c": content.to_numpy(zero_copy_only=False)})
    same = key.duplicated(keep="first").to_numpy(dtype=bool)
    collapse[pos[same]] = True
    first_row = pd.Series(pos + 1, index=key["id"]).groupby(level=0).first()
    other = key["id"].duplicated(keep="first").to_numpy(dtype=bool) & ~same
    msgs = np.empty(n, dtype=object)
    clash = np.zeros(n, dtype=bool)
    for p, i in zip(pos[other], key["id"].to_numpy(dtype=object)[other], strict=True):
        clash[p] = True
        msgs[p] = f"duplicate id {i!r} (first used on row {first_row[i]}) with different content"
    problems.add(clash, msgs)
    return collapse


def _no_location_published(raw: pd.DataFrame, cols: dict, problems: Problems) -> None:
    """data.police.uk publishes some crimes with "No Location": say so rather than "missing"."""
    if "location" not in cols:
        return
    text = as_arrow(text_column(raw, cols["location"]))
    hit = pc.fill_null(pc.match_substring(text, "no location", ignore_case=True), False)
    hit = hit.to_numpy(zero_copy_only=False)  # a cheap pass; the few candidates compared exactly
    if hit.any():
        pos = np.flatnonzero(hit)
        exact = pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(text.take(pa.array(pos)))),
                         "no location")
        hit[pos] = pc.fill_null(exact, False).to_numpy(zero_copy_only=False)
    problems.add_unread({int(p): "no location (the file gives 'No Location' for this row)"
                         for p in np.flatnonzero(hit)})


def _reported_force(raw: pd.DataFrame, cols: dict) -> pd.Series:
    reported = text_column(raw, cols.get("force"))
    if "falls_within" in cols:
        falls = text_column(raw, cols["falls_within"])
        reported = reported.where(reported.str.strip() != "", falls)
    return reported


def _text_fields(raw: pd.DataFrame, cols: dict, keep: np.ndarray, layout: str | None) -> dict:
    out = _taken_all(raw, {f: cols.get(f) for f in _TEXT_FIELDS}, keep)
    if layout == "data.police.uk stop and search" or "legislation" in cols and "search_type" in cols:
        kind = pd.Series(_taken(raw, cols.get("search_type"), keep))
        context, crime_type = pd.Series(out["context"]), pd.Series(out["crime_type"])
        out["context"] = context.where(context != "", kind).array
        out["crime_type"] = crime_type.where(crime_type != "", "Stop and search").array
    return out


def _taken(raw: pd.DataFrame, column, keep: np.ndarray):
    """Text of ``column`` at the rows ``keep``, still as Arrow strings (no Python objects)."""
    return _taken_series(raw, column, keep).array


def _taken_all(raw: pd.DataFrame, columns: dict, keep: np.ndarray) -> dict:
    """:func:`_taken` of several columns (field -> column or None); the takes of a million
    cells each release the GIL, so they run in parallel."""
    present = [f for f, c in columns.items() if c is not None]
    if len(present) < 2 or len(keep) < 65_536:
        return {f: _taken(raw, c, keep) for f, c in columns.items()}
    texts = [as_arrow(text_column(raw, columns[f])) for f in present]  # pandas: this thread
    rows = pa.array(keep, pa.int64())
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        taken = list(pool.map(lambda text: text.take(rows), texts))  # Arrow only
    out = {f: from_arrow(t).array for f, t in zip(present, taken, strict=True)}
    return {f: out[f] if f in out else _taken(raw, None, keep) for f in columns}


def _taken_series(raw: pd.DataFrame, column, keep: np.ndarray) -> pd.Series:
    """:func:`_taken` as a Series (RangeIndex); an absent column is empty text, never taken."""
    if column is None:
        return empty_text(len(keep))
    return text_column(raw, column).iloc[keep].reset_index(drop=True)


def validate_incidents(raw: pd.DataFrame, areas: ForceAreas, *,
                       settings: Settings = DEFAULTS, geometry: bool = True) -> ValidationResult:
    """Validate raw incident rows (all text, as from :func:`geo.io.readers.read_table`).

    Parameters
    ----------
    raw : DataFrame
        One row per incident, columns named as in the file (matched with
        :func:`geo.validate.columns.match_columns`). ``raw.attrs`` may carry
        what the reader found (``row_problems``, ``layout``, ``notes``). Not
        modified.
    areas : ForceAreas
        Force boundaries (EPSG:27700) used to assign each point a force.
    settings : Settings
        ``coastal_tolerance_m``.
    geometry : bool, default True
        False: ``accepted`` is a plain DataFrame without the point geometry
        (``easting``/``northing`` hold the points), for callers that never
        use it (the CLI's hotspots, offenders and ingest).

    Returns
    -------
    ValidationResult
        ``kind`` "incidents" ("outcomes" for a data.police.uk outcomes file);
        accepted rows with exactly ``INCIDENT_COLUMNS`` + geometry
        (EPSG:27700), rejects with row, id and reason, ``collapsed`` repeats.

    Raises
    ------
    InputError
        The file has no time column or no location column.
    """
    n, layout = len(raw), raw.attrs.get("layout")
    cols = match_columns(raw.columns, INCIDENT_FIELDS)
    require_time_and_place(raw, cols)
    problems = Problems(n)
    problems.add_unread(raw.attrs.get("row_problems"))
    ids = _ids(raw, cols, layout, problems)
    _no_location_published(raw, cols, problems)
    time_text = combine_time_text(raw, cols)
    times, reasons = parse_times(time_text)
    problems.add((reasons != "").to_numpy(dtype=bool), reasons.to_numpy(dtype=object))
    plausible_times(times, problems, earliest_year=settings.earliest_year,
                    future_h=settings.future_tolerance_h)
    loc = resolve_locations(raw, cols, problems)
    fidx, dist = assign_forces(areas, loc, problems, settings.coastal_tolerance_m)
    # a repeat of a row that is itself rejected (no location, outside the region) is a reject
    # with its reasons, not a collapse: each row is counted once
    collapse = _duplicates(raw, ids, problems) & ~problems.rejected
    keep = np.flatnonzero(~problems.rejected & ~collapse)
    frame = _assemble(raw, cols, layout, areas, keep, ids, times, time_text, loc, fidx, dist)
    accepted = to_points(frame, loc, keep, geometry=geometry)
    rejects = problems.rejects_frame(text_column(raw, cols["id"]) if "id" in cols else None)
    kind = "outcomes" if layout == "data.police.uk outcomes" else "incidents"
    return ValidationResult(kind=kind, accepted=accepted, rejects=rejects, rows=n,
                            collapsed=int(collapse.sum()), layout=layout,
                            notes=tuple(raw.attrs.get("notes", ())))


def _assemble(raw, cols, layout, areas, keep, ids, times, time_text, loc, fidx, dist) -> pd.DataFrame:
    """The accepted rows as the canonical incident frame."""
    forces = force_columns(areas, fidx[keep])
    reported = _reported_force(raw, cols).iloc[keep]
    vrms, _ = normalise_plates(_taken_series(raw, cols.get("vrms"), keep))
    frame = pd.DataFrame(
        {
            "incident_id": ids.iloc[keep].array,
            "occurred_at": times.iloc[keep].array,
            "easting": loc.easting[keep],
            "northing": loc.northing[keep],
            **forces,
            "reported_force": reported.array,
            "force_mismatch": mismatch(reported, forces["force"], forces["force_code"]),
            "vrms": vrms.array,
            "nominals": normalise_multi(_taken_series(raw, cols.get("nominals"), keep)).array,
            **_text_fields(raw, cols, keep, layout),
            "time_precision": time_precision(time_text.iloc[keep]).array,
            "force_distance_m": np.round(np.nan_to_num(dist[keep], nan=0.0), 1),
            "source_row": (keep + 1).astype("int64"),
        },
        columns=INCIDENT_COLUMNS,
        copy=False,
    )
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    for c in INCIDENT_COLUMNS:
        if frame[c].dtype == object or (isinstance(frame[c].dtype, pd.StringDtype)
                                        and frame[c].dtype != "str"):
            frame[c] = frame[c].astype("str")
    return frame



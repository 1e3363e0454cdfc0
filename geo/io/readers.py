"""Read incident and ANPR files into a DataFrame of strings.

Everything is read as text (empty cells become ``""``) so that nothing is
coerced silently: ``007`` stays ``007``, ``NA`` stays ``NA``. Validation
(:mod:`geo.incidents`, :mod:`geo.sightings`) decides what the text means.

Formats (picked by the file name's extension)
---------------------------------------------
* ``.csv`` / ``.txt`` / ``.tsv``: row by row, see :mod:`geo.io.delimited`
  (UTF-8, UTF-16 with BOM, Windows-1252; a bad line is a rejected row, not a
  lost file; header-less published layouts recognised).
* ``.xlsx`` / ``.xlsm``: first sheet, via openpyxl, refused before unpacking
  when the zip would expand past ``max_unpacked_bytes``. Cells Excel stores as
  dates come out as ``YYYY-MM-DD HH:MM:SS`` text; formula cells give the value
  Excel last saved for them, and a formula without a saved value is a row
  problem (text cells starting with ``=`` are kept as written).
* ``.geojson`` / ``.json`` / ``.gpkg`` and ``.parquet`` / ``.geoparquet``: the
  attributes, plus the geometry turned into coordinate columns: ``easting`` and
  ``northing`` when the CRS is EPSG:27700, otherwise ``latitude`` and
  ``longitude`` in EPSG:4326 (a file without a CRS is taken to be WGS84).
  Points give their coordinates, other geometries their representative point,
  empty or missing geometries empty cells. Attribute columns that would also
  name a location (lat/lon, easting/northing, grid ref) are dropped: the
  geometry is the location.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from geo._config import Settings
from geo.errors import UnreadableFile
from geo.io.delimited import read_delimited

__all__ = [
    "read_table",
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "GEO_SUFFIXES",
    "PARQUET_SUFFIXES",
]

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
GEO_SUFFIXES = (".geojson", ".json", ".gpkg")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")






def _name_of(path_or_buffer, name: str | None) -> str:
    if name:
        return str(name)
    if isinstance(path_or_buffer, (str, os.PathLike)):
        return str(path_or_buffer)
    return str(getattr(path_or_buffer, "name", "") or "")


def _read_bytes(path_or_buffer, label: str, max_bytes: int) -> bytes:
    if isinstance(path_or_buffer, (bytes, bytearray, memoryview)):
        data = bytes(path_or_buffer)
    elif isinstance(path_or_buffer, (str, os.PathLike)):
        try:
            size = Path(path_or_buffer).stat().st_size
        except OSError as exc:
            raise UnreadableFile(f"{path_or_buffer}: cannot open ({exc.strerror or exc})") from exc
        if size > max_bytes:
            raise UnreadableFile(f"{label}: {size / 1e6:,.0f} MB, over the limit of "
                                 f"{max_bytes / 1e6:,.0f} MB per file")
        try:
            return Path(path_or_buffer).read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"{path_or_buffer}: cannot open ({exc.strerror or exc})") from exc
    else:
        data = _read_buffer(path_or_buffer)
    if len(data) > max_bytes:
        raise UnreadableFile(f"{label}: {len(data) / 1e6:,.0f} MB, over the limit of "
                             f"{max_bytes / 1e6:,.0f} MB per file")
    return data


def _read_buffer(path_or_buffer) -> bytes:
    if hasattr(path_or_buffer, "getvalue"):
        data = path_or_buffer.getvalue()
    else:
        if hasattr(path_or_buffer, "seek"):
            with contextlib.suppress(OSError, ValueError):
                path_or_buffer.seek(0)
        data = path_or_buffer.read()
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data)


def _check_zip(data: bytes, label: str, max_unpacked_bytes: int) -> None:
    """Refuse a zip (an .xlsx) whose content would unpack past ``max_unpacked_bytes``."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(f"{label}: not a readable Excel .xlsx workbook ({exc})") from exc
    if unpacked > max_unpacked_bytes:
        raise UnreadableFile(
            f"{label}: the workbook would unpack to {unpacked / 1e6:,.0f} MB, over the limit of "
            f"{max_unpacked_bytes / 1e6:,.0f} MB (a compressed 'zip bomb', or save a smaller file)")


def _read_excel(data: bytes, label: str, limits: Settings) -> pd.DataFrame:
    """First sheet as text; formula cells without a saved value become row problems."""
    from openpyxl import load_workbook

    _check_zip(data, label, limits.max_unpacked_bytes)
    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = list(values.iter_rows(values_only=True))
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False).worksheets[0]
        kinds = [[getattr(c, "data_type", "n") for c in r] for r in formulas.iter_rows()]
    except Exception as exc:  # openpyxl raises many types for broken files
        raise UnreadableFile(f"{label}: not a readable Excel .xlsx workbook ({exc})") from exc
    if not rows:
        raise UnreadableFile(f"{label}: the workbook's first sheet is empty")
    header = [("" if c is None else str(c)).strip() for c in rows[0]]
    width = len(header)
    while width and not header[width - 1]:
        width -= 1
    if not width:
        raise UnreadableFile(f"{label}: the first line (column names) is empty")
    body, problems = [], {}
    for i, row in enumerate(rows[1:], start=1):
        cells = [_excel_text(v) for v in (list(row[:width]) + [None] * (width - len(row)))]
        if not any(cells) and (i >= len(kinds) or "f" not in kinds[i][:width]):
            continue  # an empty sheet row is not a data row
        k = kinds[i] if i < len(kinds) else []
        unsaved = [header[j] for j in range(min(width, len(k), len(row)))
                   if k[j] == "f" and row[j] is None]
        if unsaved:
            problems[len(body)] = (f"formula cell without a saved value ({', '.join(unsaved)}): "
                                   "open the file in Excel and save it again")
        body.append(cells)
    frame = pd.DataFrame(body, columns=header[:width], dtype=object).astype("str")
    frame.attrs["row_problems"] = problems
    return frame


def _excel_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _geo_to_text(gdf, label: str) -> pd.DataFrame:
    """Attributes as text plus the geometry as coordinate columns."""
    from geo.schema import WGS84
    from geo.validate.columns import match_columns

    attrs = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    loc = match_columns(attrs.columns, ("lat", "lon", "easting", "northing", "gridref"))
    attrs = attrs.drop(columns=list(loc.values()))
    out = pd.DataFrame(index=attrs.index)
    for col in attrs.columns:
        s = attrs[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s):
            text = s.map(lambda v: "" if pd.isna(v) else v.isoformat())
        else:
            text = s.astype(object).where(s.notna(), "").astype("str")
        out[str(col)] = text
    geom = gdf.geometry
    if geom.crs is None:
        geom = geom.set_crs(WGS84)
    is_bng = geom.crs.to_epsg() == 27700
    if not is_bng:
        geom = geom.to_crs(WGS84)
    missing = (geom.isna() | geom.is_empty).to_numpy()
    pts = geom.copy()
    not_point = ~missing & (geom.geom_type != "Point").to_numpy()
    if not_point.any():
        pts[not_point] = geom[not_point].representative_point()
    x = np.full(len(geom), np.nan)
    y = np.full(len(geom), np.nan)
    ok = ~missing
    x[ok] = pts[ok].x.to_numpy()
    y[ok] = pts[ok].y.to_numpy()
    xs = pd.Series(x, index=out.index).map(lambda v: "" if np.isnan(v) else repr(float(v)))
    ys = pd.Series(y, index=out.index).map(lambda v: "" if np.isnan(v) else repr(float(v)))
    names = ("easting", "northing") if is_bng else ("longitude", "latitude")
    out[names[0]] = xs.astype("str")
    out[names[1]] = ys.astype("str")
    return out.reset_index(drop=True)


def _read_geo(data: bytes, label: str, parquet: bool) -> pd.DataFrame:
    import geopandas as gpd

    try:
        gdf = gpd.read_parquet(io.BytesIO(data)) if parquet else gpd.read_file(io.BytesIO(data))
    except Exception as exc:  # pyogrio / pyarrow raise many types
        kind = "GeoParquet" if parquet else "GeoJSON"
        raise UnreadableFile(f"{label}: not a readable {kind} file ({exc})") from exc
    return _geo_to_text(gdf, label)


def read_table(path_or_buffer: str | os.PathLike | IO | bytes, name: str | None = None, *,
               limits: Settings | None = None) -> pd.DataFrame:
    """Read an incident or ANPR file into a DataFrame of strings.

    Parameters
    ----------
    path_or_buffer : path, file-like or bytes
        The file, or its contents (e.g. a Streamlit ``UploadedFile``).
    name : str, optional
        File name used to pick the format (its extension) when
        ``path_or_buffer`` is not a path or has no ``name`` attribute.
    limits : Settings, optional
        ``max_file_bytes``, ``max_unpacked_bytes``, ``max_rows`` and
        ``max_field_chars`` (default: :meth:`Settings.from_env`).

    Returns
    -------
    DataFrame
        One row per data row (row 0 = first row after the header), columns as
        named in the file (surrounding spaces removed), every cell a ``str``
        (``""`` when empty). ``attrs["row_problems"]`` maps the position of
        each row that could not be read (ragged, unclosed quote, oversized
        field, bytes that are not text, formula without a saved value) to the
        reason; its cells are empty. ``attrs["layout"]`` names a published
        layout recognised (e.g. "data.police.uk street"), ``attrs["header"]``
        is False for a header-less file, ``attrs["notes"]`` lists file-level
        remarks (two columns with one name).

    Raises
    ------
    UnreadableFile
        When the file cannot be read at all (unknown extension, undecodable
        text, malformed CSV, broken workbook...); the message says why.
    """
    label = _name_of(path_or_buffer, name) or "<upload>"
    suffix = Path(label).suffix.lower()
    known = CSV_SUFFIXES + EXCEL_SUFFIXES + GEO_SUFFIXES + PARQUET_SUFFIXES
    if suffix not in known:
        raise UnreadableFile(
            f"{label}: unknown file type {suffix or '(no extension)'!r}; expected one of "
            f"{', '.join(known)}"
        )
    limits = limits or Settings.from_env()
    data = _read_bytes(path_or_buffer, label, limits.max_file_bytes)
    if not data:
        raise UnreadableFile(f"{label}: the file is empty")
    if suffix in CSV_SUFFIXES:
        text = read_delimited(data, label, delimiter="\t" if suffix == ".tsv" else ",",
                              max_field_chars=limits.max_field_chars)
        frame = text.frame
        frame.attrs.update(row_problems=text.problems, header=text.header,
                           layout=text.layout.name if text.layout else None,
                           encoding=text.encoding)
    elif suffix in EXCEL_SUFFIXES:
        frame = _read_excel(data, label, limits)
    else:
        frame = _read_geo(data, label, parquet=suffix in PARQUET_SUFFIXES)
    _check_rows(frame, label, limits.max_rows)
    _note_duplicate_names(frame)
    return frame


def _check_rows(frame: pd.DataFrame, label: str, max_rows: int) -> None:
    if len(frame) > max_rows:
        raise UnreadableFile(f"{label}: {len(frame):,} rows, over the limit of {max_rows:,} rows "
                             "per file (split the file)")


def _note_duplicate_names(frame: pd.DataFrame) -> None:
    """Two columns with one name: the first is used, and the file says so once."""
    seen: dict[str, int] = {}
    notes = []
    for i, c in enumerate(frame.columns):
        key = str(c).strip().lower()
        if key in seen:
            notes.append(f"two columns are named {str(c)!r} (columns {seen[key] + 1} and {i + 1}): "
                         "the first is used")
        else:
            seen[key] = i
    if notes:
        frame.attrs["notes"] = list(frame.attrs.get("notes", [])) + notes

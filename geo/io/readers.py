"""Read incident and ANPR files into a DataFrame of strings.

Everything is read as text (empty cells become ``""``) so that nothing is
coerced silently: ``007`` stays ``007``, ``NA`` stays ``NA``. Validation
(:mod:`geo.incidents`, :mod:`geo.sightings`) decides what the text means.

Formats (picked by the file name's extension)
---------------------------------------------
* ``.csv`` / ``.txt``: UTF-8 (with or without BOM); when that fails to decode,
  Windows-1252. Parsed by pyarrow's CSV reader (fast, multi-threaded).
* ``.xlsx`` / ``.xlsm``: first sheet, via openpyxl. Cells Excel stores as dates
  come out as ``YYYY-MM-DD HH:MM:SS`` text; formula cells give the value Excel
  last saved for them (text cells starting with ``=`` are kept as written).
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
import csv
import io
import os
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from geo._frames import STR_DTYPE
from geo.errors import UnreadableFile

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


def _read_bytes(path_or_buffer) -> bytes:
    if isinstance(path_or_buffer, (bytes, bytearray, memoryview)):
        return bytes(path_or_buffer)
    if isinstance(path_or_buffer, (str, os.PathLike)):
        try:
            return Path(path_or_buffer).read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"{path_or_buffer}: cannot open ({exc.strerror or exc})") from exc
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


class _NotUtf8(Exception):
    """Internal: the bytes are not valid UTF-8 (try Windows-1252)."""


def _read_csv(data: bytes, label: str, delimiter: str = ",") -> pd.DataFrame:
    """UTF-8 (BOM optional), else Windows-1252 (transcoded to UTF-8 before parsing)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise UnreadableFile(f"{label}: the file is empty")
    try:
        data.decode("utf-8")  # validation only; faster than Arrow's per-cell check
        return _parse_csv(data, label, delimiter)
    except (UnicodeDecodeError, _NotUtf8):
        pass
    try:
        data = data.decode("cp1252").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{label}: text is neither UTF-8 nor Windows-1252 (byte {exc.start}); "
            "save it as CSV UTF-8"
        ) from exc
    return _parse_csv(data, label, delimiter)


def _parse_csv(data: bytes, label: str, delimiter: str) -> pd.DataFrame:
    # Header via the csv module (handles quoting); data via pyarrow, all columns text.
    head = data[: 1 << 16].decode("utf-8", errors="replace")
    try:
        header = next(csv.reader(io.StringIO(head), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise UnreadableFile(f"{label}: cannot read the header line ({exc})") from exc
    if any("\ufffd" in h for h in header):
        raise _NotUtf8
    header = [h.strip() for h in header]
    if not any(header):
        raise UnreadableFile(f"{label}: the first line (column names) is empty")
    keys = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(column_names=keys, skip_rows=1),
            # quoted newlines need the slower parser; without any quote there are none
            parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                             newlines_in_values=b'"' in data),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(keys, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # validated (or transcoded) before parsing
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        if "utf8" in str(exc).lower().replace("-", ""):
            raise _NotUtf8 from exc
        raise UnreadableFile(f"{label}: not a readable CSV table ({exc})") from exc
    # pandas ``str`` columns sharing the Arrow buffers (no Python objects, no copy)
    frame = pd.DataFrame(
        {i: pd.Series(pd.array(table.column(k).combine_chunks(), dtype=STR_DTYPE))
         for i, k in enumerate(keys)}
    )
    frame.columns = header
    return frame


def _read_excel(data: bytes, label: str) -> pd.DataFrame:
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=str, keep_default_na=False,
                              na_filter=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for broken files
        raise UnreadableFile(f"{label}: not a readable Excel .xlsx workbook ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.astype("str")


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


def read_table(path_or_buffer: str | os.PathLike | IO | bytes, name: str | None = None) -> pd.DataFrame:
    """Read an incident or ANPR file into a DataFrame of strings.

    Parameters
    ----------
    path_or_buffer : path, file-like or bytes
        The file, or its contents (e.g. a Streamlit ``UploadedFile``).
    name : str, optional
        File name used to pick the format (its extension) when
        ``path_or_buffer`` is not a path or has no ``name`` attribute.

    Returns
    -------
    DataFrame
        One row per data row (row 0 = first row after the header), columns as
        named in the file (surrounding spaces removed), every cell a ``str``
        (``""`` when empty).

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
    data = _read_bytes(path_or_buffer)
    if not data:
        raise UnreadableFile(f"{label}: the file is empty")
    if suffix in CSV_SUFFIXES:
        return _read_csv(data, label, delimiter="\t" if suffix == ".tsv" else ",")
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(data, label)
    return _read_geo(data, label, parquet=suffix in PARQUET_SUFFIXES)

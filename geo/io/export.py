"""Safe exports: CSV protected against spreadsheet formula injection, GeoJSON in WGS84."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.errors import InputError
from geo.schema import WGS84
from geo.times import london_stamps

__all__ = [
    "FORMULA_PREFIXES",
    "neutralise_csv_cell",
    "to_safe_csv",
    "to_geojson",
    "flatten_for_export",
    "london_stamps",
]

#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_csv_cell(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with ``'``.

    Non-text values are returned unchanged (a negative number stays a number).
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def flatten_for_export(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with list cells joined by ``;``, times with a zone as London time with the
    UTC offset (:func:`london_stamps`; naive times as ISO 8601) and, for a
    GeoDataFrame in EPSG:27700, ``lat``/``lon`` columns instead of geometry."""
    out = pd.DataFrame(df.drop(columns=df.geometry.name) if isinstance(df, gpd.GeoDataFrame) else df).copy()
    if isinstance(df, gpd.GeoDataFrame) and len(df) and df.crs is not None:
        pts = df.geometry.to_crs(WGS84) if df.crs != WGS84 else df.geometry
        cent = pts.representative_point() if not (pts.geom_type == "Point").all() else pts
        out["lat"] = cent.y.round(6).to_numpy()
        out["lon"] = cent.x.round(6).to_numpy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = london_stamps(s).to_numpy()
        elif pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.map(lambda t: t.isoformat() if pd.notna(t) else "")
        elif s.dtype == object and s.map(lambda v: isinstance(v, list | tuple)).any():
            out[col] = s.map(lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v)
    return out


def to_safe_csv(df: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so spreadsheet programs read accents and £)
    with every text cell neutralised against formula injection."""
    flat = flatten_for_export(df)
    text_cols = [c for c in flat.columns if not pd.api.types.is_numeric_dtype(flat[c]) and not pd.api.types.is_bool_dtype(flat[c])]
    for col in text_cols:
        flat[col] = flat[col].map(neutralise_csv_cell)
    return flat.to_csv(index=False).encode("utf-8-sig")


def to_geojson(gdf: gpd.GeoDataFrame) -> str:
    """GeoJSON FeatureCollection text in WGS84 (RFC 7946); list cells joined by ``;``."""
    if gdf.crs is None:
        raise InputError("GeoDataFrame has no CRS; expected EPSG:27700")
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.map(lambda t: t.isoformat() if pd.notna(t) else None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, list | tuple)).any():
            out[col] = s.map(lambda v: ";".join(map(str, v)) if isinstance(v, list | tuple) else v)
    if out.crs != WGS84:
        out = out.to_crs(WGS84)
    return out.to_json(drop_id=True)


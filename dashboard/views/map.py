"""Map page: what was clicked, the record shown for it, traced vehicles."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard.views.format import displayable, london_text
from geo.privacy import mask_frame, mask_plate

__all__ = ["INCIDENT_FIELDS", "clicked_details", "incident_origin", "plate_label", "plate_options",
           "record_table", "trail_summary"]

#: The fields of an incident shown when it is clicked.
INCIDENT_FIELDS = ["incident_id", "occurred_at", "force", "reported_force", "vrms", "nominals",
                   "dogs", "outcome", "notes"]


def clicked_details(
    click: dict | None,
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    trails: pd.DataFrame | None = None,
    *,
    max_m: float = 750.0,
    exact_m: float = 40.0,
) -> tuple[str, pd.DataFrame] | None:
    """What the user clicked on the map: ``("incident"|"vehicle"|"hotspot", row)``.

    ``click`` is ``{"lat": .., "lng": ..}`` (st_folium ``last_object_clicked``).
    Order: an incident or a traced vehicle's point within ``exact_m`` metres
    (a marker click), else the hotspot polygon containing the click, else the
    nearest incident within ``max_m`` metres.
    """
    if not click or "lat" not in click or "lng" not in click:
        return None
    try:
        lat, lon = float(click["lat"]), float(click["lng"])
    except (TypeError, ValueError):
        return None
    if not (np.isfinite(lat) and np.isfinite(lon)):
        return None
    from pyproj import Transformer

    from geo.schema import BNG, WGS84

    x, y = Transformer.from_crs(WGS84, BNG, always_xy=True).transform(lon, lat)

    def nearest(df: pd.DataFrame | None) -> tuple[int, float]:
        if df is None or not len(df):
            return -1, float("inf")
        d2 = (df["easting"].to_numpy(dtype=float) - x) ** 2 + (df["northing"].to_numpy(dtype=float) - y) ** 2
        i = int(np.nanargmin(d2)) if np.isfinite(d2).any() else -1
        return i, float(np.sqrt(d2[i])) if i >= 0 else float("inf")

    i_inc, d_inc = nearest(incidents)
    i_tr, d_tr = nearest(trails)
    if min(d_inc, d_tr) <= exact_m:
        if d_tr < d_inc:
            return "vehicle", trails.iloc[[i_tr]]
        return "incident", incidents.iloc[[i_inc]]
    if hotspots is not None and len(hotspots):
        import shapely

        hit = shapely.contains_xy(hotspots.geometry.values, x, y)
        if hit.any():
            return "hotspot", hotspots[hit].head(1)
    if d_inc <= max_m:
        return "incident", incidents.iloc[[i_inc]]
    return None


def incident_origin(row: pd.DataFrame) -> tuple[float, float, str]:
    """(easting m, northing m, ISO UTC time) of a clicked incident: where a plate search centres."""
    rec = row.iloc[0]
    return (float(rec["easting"]), float(rec["northing"]),
            pd.Timestamp(rec["occurred_at"]).tz_convert("UTC").isoformat())


def record_table(row: pd.DataFrame, redact: bool, fields: list[str] | None = None) -> pd.DataFrame:
    """One record as a two-column (field, value) table of strings, masked."""
    disp = mask_frame(displayable(row), redact)
    if fields:
        disp = disp[[c for c in fields if c in disp.columns]]
    rec = disp.iloc[0]
    return pd.DataFrame({"field": [str(k) for k in rec.index], "value": [_cell(v) for v in rec.to_numpy()]})


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def plate_options(incidents: pd.DataFrame, limit: int = 300) -> list[str]:
    """Plates linked to these incidents, most incidents first (ties by plate)."""
    if incidents is None or not len(incidents) or "vrms" not in incidents.columns:
        return []
    plates = incidents["vrms"].astype(str).str.split(";").explode()
    plates = plates[plates.str.len() > 0]
    if not len(plates):
        return []
    counts = plates.value_counts()
    order = pd.DataFrame({"plate": counts.index.astype(str), "n": counts.to_numpy()})
    order = order.sort_values(["n", "plate"], ascending=[False, True], kind="stable")
    return order["plate"].head(limit).tolist()


def plate_label(plate: str, redact: bool) -> str:
    """How a plate is shown in widget options and headings."""
    return mask_plate(plate) if redact else str(plate)


def trail_summary(trails: pd.DataFrame) -> pd.DataFrame:
    """Per traced vehicle: points, trips, ANPR reads, incidents, forces, first/last seen."""
    cols = ["vrm", "trips", "reads", "incidents", "forces", "first", "last"]
    if trails is None or not len(trails):
        return pd.DataFrame({c: [] for c in cols})
    g = trails.groupby("vrm", sort=True)
    out = pd.DataFrame({
        "trips": g["trip"].nunique(),
        "reads": g["kind"].agg(lambda k: int((k == "read").sum())),
        "incidents": g["kind"].agg(lambda k: int((k == "incident").sum())),
        "forces": g["force"].agg(lambda s: ", ".join(dict.fromkeys(x for x in s if x))),
        "first": g["at"].min(),
        "last": g["at"].max(),
    }).reset_index()
    out["first"] = london_text(out["first"])
    out["last"] = london_text(out["last"])
    return out[cols]

"""Hotspots page: the ranked patrol list and its downloads."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["hotspot_table", "hotspots_csv", "hotspots_geojson", "n_cross_border", "significance_notes"]

_SIG_COLS = ["significant", "trend"]


def hotspot_table(hotspots: gpd.GeoDataFrame, areas: Any = None, *, season_selected: bool = True,
                  significance: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranked patrol list: rank, where, forces, n, busiest times, change since last season.

    ``where`` is the force containing the hotspot centroid (falls back to the
    first listed force) and the centroid in lat/lon (WGS84, 4 decimals, about
    10 m). With ``significance`` (``geo.significance.significance_columns``,
    same index as ``hotspots``) the table also has ``significant`` ("yes"/"no",
    Gi* after FDR) and ``trend`` (the trend class: new, consecutive,
    intensifying, persistent, diminishing, sporadic, historical, none).
    """
    cols = ["rank", "hotspot", "where", "incidents", *(_SIG_COLS if significance is not None else []),
            "vs last season", "busiest weekday", "busiest hours", "busiest month", "forces", "last season",
            "lat", "lon"]
    if hotspots is None or not len(hotspots):
        return pd.DataFrame({c: [] for c in cols})
    hs = pd.DataFrame(hotspots.drop(columns=hotspots.geometry.name, errors="ignore"))
    forces = hs["forces"].map(lambda v: list(v) if isinstance(v, list | tuple | np.ndarray) else
                              [x for x in str(v).split(";") if x])
    where = forces.map(lambda v: v[0] if v else "")
    if areas is not None and {"centroid_e", "centroid_n"} <= set(hs.columns):
        from geo.areas import assign_force

        idx = assign_force(areas, hs["centroid_e"].to_numpy(), hs["centroid_n"].to_numpy())
        names = areas.gdf["force"].to_numpy()
        inside = pd.Series(np.where(idx >= 0, names[np.clip(idx, 0, None)], ""), index=hs.index)
        where = inside.where(inside != "", where)
    return pd.DataFrame(
        {
            "rank": hs["rank"].astype(int),
            "hotspot": hs["hotspot_id"].astype(str),
            "where": where,
            "lat": hs["centroid_lat"].round(4),
            "lon": hs["centroid_lon"].round(4),
            "forces": forces.map(", ".join),
            "incidents": hs["n"].astype(int),
            "busiest month": hs["busiest_month"],
            "busiest weekday": hs["busiest_weekday"],
            "busiest hours": hs["busiest_hours"],
            "last season": hs["previous_n"].astype(int) if season_selected else pd.NA,
            "vs last season": [_trend_text(c, p, pn) if season_selected else "–"
                               for c, p, pn in zip(hs["change"], hs["change_pct"], hs["previous_n"], strict=True)],
            **_significance_cells(significance, hs.index),
        }
    )[cols]


def _significance_cells(significance: pd.DataFrame | None, index: pd.Index) -> dict[str, Any]:
    if significance is None:
        return {}
    sig = significance.reindex(index)
    return {"significant": sig["significant"].map(lambda v: "yes" if v is True or v == 1 else "no"),
            "trend": sig["trend"].fillna("none").astype(str)}


def significance_notes(table: pd.DataFrame) -> list[str]:
    """One plain sentence per hotspot that is not significant, in rank order.

    ``table`` is :func:`hotspot_table` with significance, e.g.
    ``"H007: not significant (scattered incidents; could be chance)"``.
    """
    if table is None or not len(table) or "significant" not in table.columns:
        return []
    weak = table[table["significant"] != "yes"]
    return [f"{h}: not significant (scattered incidents; could be chance)" for h in weak["hotspot"]]


def _trend_text(change: float, pct: float, previous_n: float) -> str:
    if previous_n == 0:
        return "new this season"
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
    return f"{arrow} {int(change):+d} ({pct:+.0f} %)"


def n_cross_border(hotspots: pd.DataFrame) -> int:
    """Hotspots spanning two or more forces."""
    if hotspots is None or not len(hotspots) or "cross_border" not in hotspots.columns:
        return 0
    return int(hotspots["cross_border"].astype(bool).sum())


def hotspots_csv(result: Any) -> bytes:
    """The hotspot list as formula-safe CSV (``geo.io.export.to_safe_csv``)."""
    from geo.io.export import to_safe_csv
    from geo.io.formats import hotspots_to_frame

    return to_safe_csv(hotspots_to_frame(result))


def hotspots_geojson(result: Any) -> str:
    """Hotspot polygons as GeoJSON in WGS84 (``geo.io.export.to_geojson``)."""
    from geo.io.export import to_geojson

    return to_geojson(result.hotspots)

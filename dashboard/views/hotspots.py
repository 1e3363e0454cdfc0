"""Hotspots page: the ranked patrol list and its downloads."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["HOTSPOT_TABLE_COLUMNS", "hotspot_table", "hotspots_csv", "hotspots_geojson",
           "n_cross_border", "no_hotspot_advice", "significance_notes"]

#: Columns of the ranked patrol list, on screen and in its CSV, in order (with significance,
#: "significant" and "trend" follow "incidents").
HOTSPOT_TABLE_COLUMNS = ["rank", "place", "grid ref", "where", "incidents", "vs last season",
                         "busiest weekday", "busiest hours", "busiest month", "forces", "last season",
                         "first seen", "last seen", "hotspot", "lat", "lon"]
_SIG_COLS = ["significant", "trend"]


def hotspot_table(hotspots: gpd.GeoDataFrame, areas: Any = None, *, season_selected: bool = True,
                  significance: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranked patrol list: rank, place, grid ref, force, n, change, busiest times.

    ``place`` is the nearest named place to the centroid ("2.3 km NE of Ely",
    ``geo.io.formats.hotspot_places``), ``grid ref`` its 6-figure OS grid
    reference, ``where`` the force containing the centroid (falls back to the
    first listed force); ``first seen``/``last seen`` are London times with
    their UTC offset; ``lat``/``lon`` the centroid in WGS84 (4 decimals, about
    10 m). With ``significance`` (``geo.significance.significance_columns``,
    same index as ``hotspots``) the table also has ``significant`` ("yes"/"no",
    Gi* after FDR) and ``trend`` (the trend class: new, consecutive,
    intensifying, persistent, diminishing, sporadic, historical, none).
    Columns :data:`HOTSPOT_TABLE_COLUMNS`.
    """
    cols = [*HOTSPOT_TABLE_COLUMNS[:5], *(_SIG_COLS if significance is not None else []),
            *HOTSPOT_TABLE_COLUMNS[5:]]
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
    from geo.io.export import london_stamps
    from geo.io.formats import hotspot_places

    places = hotspot_places(hs)
    return pd.DataFrame(
        {
            "rank": hs["rank"].astype(int),
            "place": places["place_text"].to_numpy(),
            "grid ref": places["grid_ref"].to_numpy(),
            "first seen": london_stamps(hs["first_at"]).to_numpy(),
            "last seen": london_stamps(hs["last_at"]).to_numpy(),
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


def hotspots_csv(table: pd.DataFrame) -> bytes:
    """The patrol list exactly as on screen (:func:`hotspot_table`), as formula-safe CSV."""
    from geo.io.export import to_safe_csv

    return to_safe_csv(pd.DataFrame(table))


def no_hotspot_advice(n_incidents: int, min_samples: int, eps_m: float,
                      best_min_samples: int) -> tuple[str, int | None]:
    """Why there is no hotspot, and the minimum that would give one.

    Parameters
    ----------
    n_incidents : int
        Incidents left by the filters.
    min_samples, eps_m : int, float
        The DBSCAN settings in use.
    best_min_samples : int
        ``geo.hotspots.largest_min_samples`` of those incidents.

    Returns
    -------
    (text, suggestion)
        Plain text (no data in it) and the ``min_samples`` to offer, or None
        when lowering the minimum cannot help (fewer than two incidents within
        the radius anywhere).
    """
    if n_incidents == 0:
        return "No incident matches these filters: widen the season, dates, days, hours or forces.", None
    radius = f"{eps_m:,.0f} m"
    if best_min_samples < 2:
        return (f"{n_incidents:,} incidents match, but no two are within {radius} of each other: "
                "raise the hotspot radius or widen the filters."), None
    suggestion = min(best_min_samples, max(min_samples - 1, 2))
    return (f"{n_incidents:,} incidents match, but nowhere has {min_samples} within {radius} "
            f"(the busiest place has {best_min_samples}). Lower the minimum to {suggestion} "
            "to see the hotspots these filters leave."), suggestion


def hotspots_geojson(result: Any) -> str:
    """Hotspot polygons as GeoJSON in WGS84 (``geo.io.export.to_geojson``)."""
    from geo.io.export import to_geojson

    return to_geojson(result.hotspots)

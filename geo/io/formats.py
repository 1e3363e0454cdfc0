"""Output contracts of the CLI: hotspots and offenders as JSON, GeoJSON and flat frames.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo._frames import (
    as_text,
    iso_utc,
    py_list,
    require_columns,
)
from geo.casework.actions import ACTIONS_COLUMNS, actions_json

if TYPE_CHECKING:
    from geo.hotspots import HotspotResult
from geo.offenders import LADDER_COLUMNS, STAGES
from geo.schema import MULTI_SEP, WGS84
from geo.times import london_stamps

if TYPE_CHECKING:  # geo.hotspots is imported where used: offenders output does not need it
    from geo.hotspots import HotspotResult

__all__ = [
    "hotspot_places",
    "hotspots_to_json",
    "hotspots_to_geojson",
    "hotspots_to_frame",
    "offenders_to_json",
    "offenders_to_frame",
]


def _iso_one(ts) -> str | None:
    return None if pd.isna(ts) else pd.Timestamp(ts).isoformat()


def _num(x: float, ndigits: int) -> float | None:
    x = float(x)
    return None if not math.isfinite(x) else round(x, ndigits)


def _hotspot_records(hotspots: pd.DataFrame) -> list[dict[str, Any]]:
    from geo.hotspots import HOTSPOT_COLUMNS

    cols = {c: hotspots[c].tolist() for c in HOTSPOT_COLUMNS}
    where = hotspot_places(hotspots)
    out = []
    for i in range(len(hotspots)):  # one dict per hotspot (not per incident)
        out.append(
            {
                "id": str(cols["hotspot_id"][i]),
                "rank": int(cols["rank"][i]),
                "n": int(cols["n"][i]),
                "incident_ids": [str(v) for v in cols["incident_ids"][i]],
                "centroid": {
                    "lat": _num(cols["centroid_lat"][i], 6),
                    "lon": _num(cols["centroid_lon"][i], 6),
                    "easting": _num(cols["centroid_e"][i], 1),
                    "northing": _num(cols["centroid_n"][i], 1),
                },
                "forces": [str(v) for v in cols["forces"][i]],
                "cross_border": bool(cols["cross_border"][i]),
                "first_at": _iso_one(cols["first_at"][i]),
                "last_at": _iso_one(cols["last_at"][i]),
                "busiest_month": str(cols["busiest_month"][i]),
                "busiest_weekday": str(cols["busiest_weekday"][i]),
                "busiest_hours": str(cols["busiest_hours"][i]),
                "previous_n": int(cols["previous_n"][i]),
                "change": int(cols["change"][i]),
                "change_pct": _num(cols["change_pct"][i], 1),
                "area_km2": _num(cols["area_km2"][i], 4),
                "label": int(cols["label"][i]),
                "place": str(where["place"].iat[i]),
                "place_distance_km": _num(where["place_distance_km"].iat[i], 1),
                "grid_ref": str(where["grid_ref"].iat[i]),
            }
        )
    if "significant" not in hotspots.columns:  # hotspots found without the Gi* test
        return out
    # imported here: scipy (under geo.significance) is needed only for these columns
    from geo.significance import SIGNIFICANCE_COLUMNS, significance_records

    if set(SIGNIFICANCE_COLUMNS) <= set(hotspots.columns):  # added by hotspots_with_trend
        for rec, extra in zip(out, significance_records(hotspots), strict=True):
            rec.update(extra)
    return out


def hotspot_places(hotspots: pd.DataFrame) -> pd.DataFrame:
    """Where each hotspot is: nearest named place, distance to it, 6-figure grid reference.

    Parameters
    ----------
    hotspots : DataFrame
        ``geo.hotspots`` table with ``centroid_e`` and ``centroid_n`` (EPSG:27700 m).

    Returns
    -------
    DataFrame
        Same index; ``place``, ``place_distance_km``, ``place_text``
        (``"2.3 km NE of Ely"``) and ``grid_ref`` (``"TL 540 803"``).
    """
    from geo.places import describe_places, grid_refs_6, nearest_places

    cols = ["place", "place_distance_km", "place_text", "grid_ref"]
    if hotspots is None or not len(hotspots):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    e = pd.to_numeric(hotspots["centroid_e"], errors="coerce").to_numpy("float64")
    n = pd.to_numeric(hotspots["centroid_n"], errors="coerce").to_numpy("float64")
    near = nearest_places(e, n)
    return pd.DataFrame({"place": near["place"].to_numpy(),
                         "place_distance_km": near["distance_km"].to_numpy(),
                         "place_text": describe_places(e, n).to_numpy(),
                         "grid_ref": grid_refs_6(e, n)}, index=hotspots.index)[cols]


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def hotspots_to_json(result: HotspotResult) -> dict[str, Any]:
    """The hotspot result as plain JSON types (the ``harewatch hotspots`` contract).

    Returns
    -------
    dict
        ``{"params": {...}, "noise": int, "ranking_rule": str, "hotspots":
        [{"id", "rank", "n", "incident_ids", "centroid": {"lat", "lon",
        "easting", "northing"}, "forces", "cross_border", "first_at",
        "last_at" (ISO 8601 UTC), "busiest_month", "busiest_weekday",
        "busiest_hours", "previous_n", "change", "change_pct" (percent, null
        when undefined), "area_km2", "label", "place" (nearest named place of
        the centroid, ``geo.places``), "place_distance_km", "grid_ref"
        (6-figure OS grid reference of the centroid)}]}`` in rank order. Hotspots
        carrying the significance columns (``hotspots_with_trend(...,
        significance=True)``, as the CLI does) also have ``"gi_z"`` (null
        when undefined), ``"gi_p"`` (after Benjamini-Hochberg),
        ``"significant"`` (bool) and ``"trend"`` (a
        :data:`geo.significance.TREND_CLASSES` key).
    """
    from geo.hotspots import RANKING_RULE

    return {
        "params": _json_params(result.params),
        "noise": int(result.noise),
        "ranking_rule": RANKING_RULE,
        "hotspots": _hotspot_records(result.hotspots),
    }


def hotspots_to_geojson(result: HotspotResult) -> dict[str, Any]:
    """Hotspot polygons as a GeoJSON FeatureCollection in WGS84 (lon, lat degrees).

    Each feature's ``properties`` are the hotspot's :func:`hotspots_to_json` record.
    """
    from shapely.geometry import mapping

    hs = result.hotspots
    geoms = hs.geometry.to_crs(WGS84).values if len(hs) else []
    features = [
        {"type": "Feature", "id": rec["id"], "properties": rec, "geometry": mapping(g)}
        for rec, g in zip(_hotspot_records(hs), geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def hotspots_to_frame(result: HotspotResult) -> pd.DataFrame:
    """Hotspots as a flat table for CSV: no geometry, lists joined by ``";"``."""
    frame = pd.DataFrame(result.hotspots.drop(columns="geometry"))
    for col in ("incident_ids", "forces"):
        frame[col] = frame[col].map(lambda v: MULTI_SEP.join(map(str, v))).astype(object)
    return frame


def offenders_to_json(df: pd.DataFrame) -> dict:
    """The ladder as a JSON-serialisable dict (CLI and API contract).

    Parameters
    ----------
    df : DataFrame
        Output of :func:`ladder`. Not modified.

    Returns
    -------
    dict
        ``{"offenders": [{"subject", "kind", "season", "incidents", "forces",
        "stage", "stage_label", "border_hopper", "crossings", "first_at",
        "last_at", "evidence", "n_incidents"}, ...]}`` in the ladder's order;
        times are ISO 8601 strings in UTC; only built-in Python types. When
        ``df`` is :func:`geo.casework.actions.ladder_with_actions` output,
        each row also has ``actions`` (``[{type, force, at, interaction_id,
        reference, incident_id}]``), ``next_action``, ``next_action_rule``,
        ``gaps`` and ``now_in`` (:func:`geo.casework.actions.actions_json`).
    """
    require_columns(df, LADDER_COLUMNS, "ladder")
    first = iso_utc(df["first_at"]) if len(df) else []
    last = iso_utc(df["last_at"]) if len(df) else []
    rows = [
        {
            "subject": str(subject),
            "kind": str(kind),
            "season": str(season),
            "incidents": [str(i) for i in incidents],
            "forces": [str(f) for f in forces_],
            "stage": int(stage),
            "stage_label": str(label),
            "border_hopper": bool(hopper),
            "crossings": [dict(c) for c in crossings],
            "first_at": f,
            "last_at": la,
            "evidence": [dict(e) for e in evidence],
            "n_incidents": int(n),
        }
        for subject, kind, season, incidents, forces_, stage, label, hopper, crossings, f, la, evidence, n in zip(
            *(py_list(df[c]) for c in ("subject", "kind", "season", "incidents", "forces", "stage",
                                       "stage_label", "border_hopper", "crossings")),
            first,
            last,
            py_list(df["evidence"]),
            py_list(df["n_incidents"]),
            strict=True,
        )
    ]
    if all(c in df.columns for c in ACTIONS_COLUMNS):
        for row, extra in zip(rows, actions_json(df), strict=True):
            row.update(extra)
    return {"offenders": rows}


def offenders_to_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The ladder flattened for CSV: one scalar per cell, lists joined by ``;``.

    Parameters
    ----------
    df : DataFrame
        Output of :func:`ladder`. Not modified.

    Returns
    -------
    DataFrame
        ``subject, kind, season, stage, stage_label, n_incidents,
        border_hopper, forces, incidents, first_at, last_at`` (London time
        with the UTC offset, ``2021-10-01 21:40 +01:00``, as every export),
        for each stage *s* in 1..3 ``stage{s}_incident, stage{s}_force,
        stage{s}_at`` (``""`` when not reached), ``n_crossings``,
        ``n_crossings_near_incident`` and ``crossings`` (``"from>to@at"``
        joined by ``;``). Cells are plain text: pass the frame through
        :func:`geo.export.to_safe_csv` to write it.
    """
    require_columns(df, LADDER_COLUMNS, "ladder")
    n = len(df)
    out = pd.DataFrame(
        {
            "subject": as_text(df["subject"]).to_numpy(),
            "kind": as_text(df["kind"]).to_numpy(),
            "season": as_text(df["season"]).to_numpy(),
            "stage": df["stage"].to_numpy(dtype="int64"),
            "stage_label": as_text(df["stage_label"]).to_numpy(),
            "n_incidents": df["n_incidents"].to_numpy(dtype="int64"),
            "border_hopper": df["border_hopper"].to_numpy(dtype=bool),
            "forces": [";".join(map(str, v)) for v in df["forces"]],
            "incidents": [";".join(map(str, v)) for v in df["incidents"]],
            "first_at": london_stamps(df["first_at"]).to_numpy() if n else [],
            "last_at": london_stamps(df["last_at"]).to_numpy() if n else [],
        }
    )
    for s in STAGES:
        for field, key in (("incident", "incident_id"), ("force", "force"), ("at", "occurred_at")):
            out[f"stage{s}_{field}"] = [
                str(ev[s - 1][key]) if len(ev) >= s else "" for ev in df["evidence"]
            ]
        out[f"stage{s}_at"] = london_stamps(out[f"stage{s}_at"]).to_numpy() if n else []
    out["n_crossings"] = np.array([len(c) for c in df["crossings"]], dtype="int64")
    out["n_crossings_near_incident"] = np.array(
        [sum(bool(x["near_incident"]) for x in c) for c in df["crossings"]], dtype="int64"
    )
    out["crossings"] = _crossings_text(df["crossings"])
    return out


def _crossings_text(crossings: pd.Series) -> list[str]:
    """Each subject's crossings as ``"from>to@at"`` joined by ``;`` (London time, offset)."""
    flat = [x for c in crossings for x in c]
    at = london_stamps([x["at"] for x in flat]).tolist() if flat else []
    texts, i = [], 0
    for c in crossings:
        texts.append(";".join(f"{x['from']}>{x['to']}@{at[i + j]}" for j, x in enumerate(c)))
        i += len(c)
    return texts

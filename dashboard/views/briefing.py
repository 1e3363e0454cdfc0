"""Briefing page: the few hotspots, hoppers and key figures for a projector and the pack."""

from __future__ import annotations

from typing import Any

import pandas as pd

from dashboard.views.format import fmt_int, fmt_pct
from dashboard.views.hoppers import n_subjects
from dashboard.views.trends import season_pair

__all__ = [
    "BRIEFING_HOPPER_COLUMNS",
    "BRIEFING_HOTSPOT_COLUMNS",
    "briefing_figures",
    "briefing_hoppers",
    "briefing_hotspots",
    "briefing_title",
]


BRIEFING_HOTSPOT_COLUMNS = ["rank", "place", "grid ref", "where", "incidents", "busiest", "vs last season"]
BRIEFING_HOPPER_COLUMNS = ["subject", "kind", "stage", "action", "forces", "now in", "last seen"]


def briefing_title(view_label: str) -> str:
    """The briefing's title, naming season, forces, days and hours (plain text)."""
    return f"Hare coursing briefing · {view_label}"


def briefing_hotspots(table: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """Top hotspots for a projector: rank, where, incidents, busiest day and hours, change since last season."""
    top = table.head(limit).copy()
    top["busiest"] = top["busiest weekday"].astype(str) + " " + top["busiest hours"].astype(str)
    return top[BRIEFING_HOTSPOT_COLUMNS].reset_index(drop=True)


def briefing_hoppers(table: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """The hoppers to show at a briefing: highest stage first, then most recently active."""
    if table is None or not len(table):
        return table
    return table.sort_values(["stage", "last"], ascending=[False, False], kind="stable").head(limit)


def briefing_figures(incidents: pd.DataFrame, hotspots: Any, hoppers: pd.DataFrame,
                     totals: pd.DataFrame, season: str | None) -> list[tuple[str, str, str | None]]:
    """Key figures for the briefing: (label, value, delta) for ``st.metric`` and the pack."""
    pair = season_pair(totals, season)
    stage = pd.to_numeric(hoppers["stage"], errors="coerce") if len(hoppers) else pd.Series(dtype=float)
    sub2 = hoppers[(stage == 2).to_numpy()] if len(hoppers) else hoppers
    sub3 = hoppers[(stage >= 3).to_numpy()] if len(hoppers) else hoppers
    change = "–"
    if pair is not None and season is not None:
        change = fmt_pct(float(pair[0]["change_pct"]))
    return [
        ("Incidents this season" if season else "Incidents (all seasons)", fmt_int(len(incidents)), None),
        ("Change vs last season", change, None),
        ("Hotspots", fmt_int(len(hotspots.hotspots)), None),
        ("Border-hoppers at stage 2", fmt_int(n_subjects(sub2)), None),
        ("Border-hoppers at stage 3", fmt_int(n_subjects(sub3)), None),
    ]

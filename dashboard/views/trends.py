"""Trends page: season against season, per month and force, before/after a date."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.views.format import fmt_int, fmt_pct, london_naive
from geo.schema import LONDON

__all__ = [
    "before_after",
    "before_after_sentence",
    "day_range",
    "default_compare_date",
    "monthly_counts",
    "per_force_season",
    "season_pair",
    "season_sentence",
    "season_totals",
    "season_totals_display",
]


def season_totals(incidents: pd.DataFrame, start_month: int = 9) -> pd.DataFrame:
    """Incidents per season with the change from the season before.

    Returns columns ``season``, ``incidents``, ``change``, ``change_pct``
    (percent, rounded to 1 decimal; NaN for the first season).
    """
    from geo.seasons import season_of

    if not len(incidents):
        return pd.DataFrame({"season": [], "incidents": [], "change": [], "change_pct": []})
    labels = season_of(incidents["occurred_at"], start_month).dropna().astype(str)
    counts = labels.value_counts().sort_index()
    out = pd.DataFrame({"season": counts.index.astype(str), "incidents": counts.to_numpy(dtype="int64")})
    prev = out["incidents"].shift(1)
    out["change"] = (out["incidents"] - prev).astype("Float64")
    out["change_pct"] = ((out["incidents"] - prev) / prev * 100).round(1).astype("Float64")
    return out.reset_index(drop=True)


def monthly_counts(incidents: pd.DataFrame) -> pd.DataFrame:
    """Incidents per London calendar month and force: ``month`` (Timestamp), ``force``, ``incidents``."""
    if not len(incidents):
        return pd.DataFrame({"month": pd.Series([], dtype="datetime64[ns]"), "force": [], "incidents": []})
    local = london_naive(incidents["occurred_at"])
    month = local.dt.to_period("M").dt.to_timestamp()
    g = pd.DataFrame({"month": month, "force": incidents["force"].astype(str)})
    return g.groupby(["month", "force"], as_index=False).size().rename(columns={"size": "incidents"})


def per_force_season(incidents: pd.DataFrame, start_month: int = 9) -> pd.DataFrame:
    """Wide table: one row per force, one column per season, incident counts."""
    from geo.seasons import season_of

    if not len(incidents):
        return pd.DataFrame()
    s = season_of(incidents["occurred_at"], start_month)
    t = pd.crosstab(incidents["force"].astype(str), s.astype(str))
    t.columns.name = None
    seasons = [c for c in t.columns]
    if len(seasons) >= 2:
        a, b = seasons[-2], seasons[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = (t[b] - t[a]) / t[a].where(t[a] > 0) * 100
        t[f"change {a} → {b}"] = [fmt_pct(None if pd.isna(p) else float(p)) for p in pct]
    return t.reset_index()


def before_after(incidents: pd.DataFrame, when: dt.date) -> pd.DataFrame:
    """Incidents before and after a London calendar day (the day itself counts as after).

    Periods run from the first incident to ``when`` and from ``when`` to the
    last incident; ``per_30_days`` makes periods of different length comparable.
    """
    cols = ["period", "from", "to", "days", "incidents", "per_30_days"]
    if not len(incidents):
        return pd.DataFrame({c: [] for c in cols})
    day = incidents["occurred_at"].dt.tz_convert(LONDON).dt.date
    first, last = day.min(), day.max()
    rows = []
    for label, mask, d0, d1 in (
        ("before", day < when, first, when - dt.timedelta(days=1)),
        ("after", day >= when, when, last),
    ):
        days = max((d1 - d0).days + 1, 0)
        n = int(mask.sum())
        rows.append({"period": label, "from": d0, "to": d1, "days": days, "incidents": n,
                     "per_30_days": round(n / days * 30, 1) if days > 0 else float("nan")})
    return pd.DataFrame(rows)[cols]


def season_pair(totals: pd.DataFrame, season: str | None) -> tuple[dict, dict] | None:
    """(this season, previous season) rows of :func:`season_totals`; the latest two when ``season`` is None."""
    if totals is None or len(totals) < 2:
        return None
    seasons = totals["season"].astype(str).tolist()
    i = seasons.index(season) if season in seasons else (len(seasons) - 1 if season is None else -1)
    if i < 1:
        return None
    return totals.iloc[i].to_dict(), totals.iloc[i - 1].to_dict()


def season_sentence(cur: dict, prev: dict) -> str:
    """``"2020-21 → 2021-22: 2,044 → 1,415 incidents (-629, -31 %)"`` (plain text)."""
    return (f"{prev['season']} → {cur['season']}: {fmt_int(prev['incidents'])} → "
            f"{fmt_int(cur['incidents'])} incidents ({int(cur['change']):+,}, {fmt_pct(cur['change_pct'])})")


def season_totals_display(totals: pd.DataFrame) -> pd.DataFrame:
    """Season totals with readable change columns."""
    if totals is None or not len(totals):
        return pd.DataFrame({"season": [], "incidents": [], "change": [], "change %": []})
    return pd.DataFrame({
        "season": totals["season"],
        "incidents": totals["incidents"].astype(int),
        "change": [("" if pd.isna(c) else f"{int(c):+,}") for c in totals["change"]],
        "change %": [fmt_pct(None if pd.isna(p) else float(p)) for p in totals["change_pct"]],
    })


def day_range(incidents: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """First and last London calendar day of the incidents (today twice when none)."""
    if incidents is None or not len(incidents):
        today = dt.date.today()
        return today, today
    day = incidents["occurred_at"].dropna().dt.tz_convert(LONDON)
    return day.min().date(), day.max().date()


def default_compare_date(seasons: tuple[str, ...], start_month: int, lo: dt.date, hi: dt.date) -> dt.date:
    """Start of the latest season (clamped to the data): "after the agreement"."""
    from geo.seasons import season_bounds

    when = hi
    if seasons:
        try:
            when = season_bounds(seasons[-1], start_month)[0].tz_convert(LONDON).date()
        except ValueError:
            when = hi
    return min(max(when, lo), hi)


def before_after_sentence(ba: pd.DataFrame) -> str:
    """Plain-text summary of :func:`before_after`."""
    if ba is None or len(ba) != 2:
        return ""
    b, a = ba.iloc[0], ba.iloc[1]
    if not (b["days"] and a["days"]) or not np.isfinite(b["per_30_days"]) or b["per_30_days"] == 0:
        return f"Before: {fmt_int(b['incidents'])} incidents; after: {fmt_int(a['incidents'])}."
    pct = (a["per_30_days"] - b["per_30_days"]) / b["per_30_days"] * 100
    return (f"Before: {b['per_30_days']:.1f} incidents per 30 days; after: {a['per_30_days']:.1f} "
            f"({fmt_pct(pct)}).")

"""Plan page (and the briefing's "Tonight" section): the plan's tables and sentences.

Pure: no Streamlit. The plan itself is :func:`geo.planning.plan_with_backtest`
(cached in ``dashboard.cache.plan``); this module turns its result into what
people read.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from geo.gridref import en_to_gridref
from geo.planning import DAY_TOKENS, PlanResult, backtest_sentence, parse_window

__all__ = [
    "AS_OF_DATE",
    "AS_OF_LATEST",
    "BACKTEST_VIEW_COLUMNS",
    "DAY_LABELS",
    "PLAN_VIEW_COLUMNS",
    "as_of_date",
    "as_of_label",
    "as_of_options",
    "backtest_view",
    "days_from_choice",
    "days_choice",
    "exclusion_sentence",
    "plan_csv",
    "plan_geojson",
    "plan_summary",
    "plan_table",
    "plan_when",
    "tonight_title",
]

#: Columns of :func:`plan_table` (the plan as people read it).
PLAN_VIEW_COLUMNS = ["rank", "where", "forces", "expected incidents", "why"]
#: Columns of :func:`backtest_view`.
BACKTEST_VIEW_COLUMNS = ["season", "method", "covered", "incidents", "hit rate", "area", "PAI"]
#: As-of choices besides the seasons: the latest data, or a chosen date.
AS_OF_LATEST = "latest"
AS_OF_DATE = "date"
_SEASON_RE = re.compile(r"^\d{4}(-\d{2})?$")
_METHODS = {"plan": "this plan", "hotspots": "biggest hotspots last season",
            "kde": "density peaks last season"}
#: Day names of the days multiselect, Monday first.
DAY_LABELS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def plan_when(as_of: str) -> dict[str, str | None]:
    """``PlanInputs.as_of`` as the ``season``/``as_of`` keywords of :func:`geo.planning.plan_as_of`."""
    text = (as_of or "").strip()
    if not text:
        return {"season": None, "as_of": None}
    if _SEASON_RE.match(text):
        return {"season": text, "as_of": None}
    return {"season": None, "as_of": text}


def as_of_options(seasons: list[str] | tuple[str, ...]) -> list[str]:
    """Choices of the "Plan as of" box: latest data, the start of each season (newest first), a date."""
    return [AS_OF_LATEST, *reversed(list(seasons)), AS_OF_DATE]


def as_of_label(choice: str) -> str:
    """How an as-of choice reads in the box."""
    if choice == AS_OF_LATEST:
        return "Latest data (the day after the last incident)"
    if choice == AS_OF_DATE:
        return "A chosen date…"
    return f"Start of season {choice} (what was known then)"


def days_choice(days: str) -> list[str]:
    """A days token (``"fri,sat"``) as the multiselect's values (``["Fri", "Sat"]``)."""
    if not days:
        return []
    return [DAY_LABELS[d] for d in sorted(parse_window(days, None).days or ())]


def days_from_choice(labels: list[str]) -> str:
    """The multiselect's values back to a days token; none picked = every day (``""``)."""
    picked = sorted({DAY_LABELS.index(x) for x in labels if x in DAY_LABELS})
    return ",".join(DAY_TOKENS[d] for d in picked)


def plan_table(areas: pd.DataFrame) -> pd.DataFrame:
    """The plan for people: rank, where (OS grid reference and lat/lon), forces, expected incidents, why."""
    if areas is None or not len(areas):
        return pd.DataFrame({c: [] for c in PLAN_VIEW_COLUMNS})
    e, n = areas["easting"].to_numpy("float64"), areas["northing"].to_numpy("float64")
    grid = pd.Series(en_to_gridref(e, n, digits=6), index=areas.index).astype(str)
    where = grid + " (" + areas["lat"].map("{:.4f}".format) + ", " + areas["lon"].map("{:.4f}".format) + ")"
    return pd.DataFrame({
        "rank": areas["rank"].astype(int),
        "where": where,
        "forces": areas["forces"].map(lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple | np.ndarray)
                                      else str(v)),
        "expected incidents": areas["expected_incidents"].astype(float).round(1),
        "why": areas["why"].astype(str),
    })[PLAN_VIEW_COLUMNS]


def _pct(x: Any) -> str:
    return "–" if x is None or not math.isfinite(float(x)) else f"{100 * float(x):.0f} %"


def backtest_view(table: pd.DataFrame) -> pd.DataFrame:
    """The backtest as a small table: per season and method, incidents covered and hit rate."""
    if table is None or not len(table):
        return pd.DataFrame({c: [] for c in BACKTEST_VIEW_COLUMNS})
    pai = pd.to_numeric(table["pai"], errors="coerce")
    return pd.DataFrame({
        "season": table["season"].astype(str),
        "method": table["method"].map(lambda m: _METHODS.get(str(m), str(m))),
        "covered": table["hits"].astype(int),
        "incidents": table["incidents"].astype(int),
        "hit rate": table["hit_rate"].map(_pct),
        "area": table["area_share"].map(lambda a: "–" if pd.isna(a) else f"{100 * float(a):.2f} %"),
        "PAI": pai.map(lambda v: "–" if pd.isna(v) else f"{v:.1f}"),
    })[BACKTEST_VIEW_COLUMNS].reset_index(drop=True)


def plan_summary(result: PlanResult, table: pd.DataFrame) -> str:
    """One sentence on the backtest (:func:`geo.planning.backtest_sentence`)."""
    return backtest_sentence(table, result.params["days"], result.params["hours"])


def exclusion_sentence(excluded: dict[str, int], window: str) -> str:
    """Plain words on the incidents the plan could not use (month-only or unknown times, later ones)."""
    parts = []
    if excluded.get("month_only"):
        parts.append(f"{excluded['month_only']:,} with only a month (no day or time)")
    if excluded.get("day_only"):
        parts.append(f"{excluded['day_only']:,} with a date but no time")
    if excluded.get("missing_time"):
        parts.append(f"{excluded['missing_time']:,} with no date at all")
    text = ("Left out because they can't be placed in the window (" + window + "): " + "; ".join(parts) + "."
            if parts else "Every incident had a date and time precise enough for the window.")
    if excluded.get("outside_window"):
        text += f" {excluded['outside_window']:,} incidents fell outside the window."
    if excluded.get("after_as_of"):
        text += f" {excluded['after_as_of']:,} incidents after the as-of date were not used."
    return text


def tonight_title(result: PlanResult) -> str:
    """Heading of the briefing section, e.g. "Tonight: 3 crews (Fri/Sat nights 18:00-02:00)"."""
    n = int(result.params["crews_placed"])
    return f"Tonight: {n} crew{'s' if n != 1 else ''} ({result.params['window']})"


def as_of_date(text: str) -> dt.date | None:
    """The date of an ``as_of`` text that is an ISO date, else None."""
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def plan_csv(result: PlanResult) -> bytes:
    """The plan's areas as formula-safe CSV (``geo.planning.plan_to_frame``)."""
    from geo.io.export import to_safe_csv
    from geo.planning import plan_to_frame

    return to_safe_csv(plan_to_frame(result))


def plan_geojson(result: PlanResult) -> str:
    """The circles as GeoJSON in WGS84 (``geo.planning.plan_to_geojson``)."""
    import json

    from geo.planning import plan_to_geojson

    return json.dumps(plan_to_geojson(result), ensure_ascii=False)

"""Text formatting shared by every page: Markdown escaping, numbers, London times.

Escaping rule: data never goes through ``st.markdown``/``st.html`` with
``unsafe_allow_html``. Data is shown with ``st.dataframe`` (plain text cells)
or ``st.text``; anything rendered as Markdown (``st.table`` cells and
headers, which this Streamlit renders as Markdown, metric labels, captions,
alerts) gets :func:`md_escape` first (:func:`md_safe_frame` does it for
tables).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.schema import LONDON

__all__ = [
    "MONTHS",
    "days_in_words",
    "displayable",
    "filters_label",
    "forces_in_words",
    "hours_in_words",
    "fmt_age",
    "fmt_int",
    "fmt_pct",
    "london_naive",
    "london_text",
    "london_when",
    "md_escape",
    "md_safe_frame",
    "slug",
]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


# ------------------------------------------------------------------ escaping
def md_escape(text: object) -> str:
    """Escape a data string for ``st.markdown``/``st.write``/labels (Markdown, not HTML).

    Backslash-escapes every Markdown/LaTeX special character (``<`` and ``>``
    included) and flattens newlines, so ``**x**``, ``[a](javascript:...)``,
    ``$x$`` and ``<img onerror=...>`` are shown literally.
    """
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Every text cell and header escaped with :func:`md_escape`.

    Needed for ``st.table``: since Streamlit 1.5x its cells (and headers) are
    rendered as Markdown (links, emphasis, LaTeX), unlike ``st.dataframe``.
    """
    out = pd.DataFrame(df).copy()
    for c in out.columns:
        s = out[c]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
                or pd.api.types.is_datetime64_any_dtype(s)):
            out[c] = s.map(lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else md_escape(v))
    out.columns = [md_escape(c) for c in out.columns]
    return out


def displayable(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy: geometry dropped, lists joined with ``", "``, times as naive London time."""
    out = pd.DataFrame(df.drop(columns=df.geometry.name) if isinstance(df, gpd.GeoDataFrame) else df).copy()
    for c in out.columns:
        s = out[c]
        if s.dtype == object and len(s) and s.map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = s.map(lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v)
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = london_naive(s)
    return out


# ------------------------------------------------------------------ numbers
def fmt_int(n: float | int | None) -> str:
    """``2044`` -> ``"2,044"``; missing -> ``"–"``."""
    if n is None or (isinstance(n, float) and not np.isfinite(n)):
        return "–"
    return f"{int(n):,}"


def fmt_pct(p: float | None) -> str:
    """``-30.78`` -> ``"-31 %"``; missing -> ``"–"``."""
    if p is None or not np.isfinite(p):
        return "–"
    return f"{p:+.0f} %"


def fmt_age(seconds: float | None) -> str:
    """Seconds -> ``"12 s ago"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 d ago"``; missing -> ``"–"``."""
    if seconds is None or not np.isfinite(seconds):
        return "–"
    s = max(float(seconds), 0.0)
    if s < 60:
        return f"{int(s)} s ago"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400):,} d ago"


def slug(text: str) -> str:
    """A file-name-safe version of a label: ``"2021-22"`` -> ``"2021-22"``, ``"all seasons"`` -> ``"all_seasons"``."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", str(text)).strip("_") or "all"


# ------------------------------------------------------------------ filters in words
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hours_in_words(hours: tuple[int, int]) -> str:
    """The hours a filter keeps, as a clock window: ``(20, 4)`` -> ``"20:00 to 04:59 (overnight)"``."""
    h0, h1 = int(hours[0]), int(hours[1])
    if (h0, h1) == (0, 23):
        return "all day"
    text = f"{h0:02d}:00 to {h1:02d}:59"
    return text + " (overnight)" if h0 > h1 else text


def days_in_words(days: tuple[int, ...]) -> str:
    """Weekdays (0 = Monday) as ``"Fri, Sat"``; none or all seven: ``"every day"``."""
    picked = sorted({int(d) for d in days if 0 <= int(d) <= 6})
    return "every day" if not picked or len(picked) == 7 else ", ".join(_DAYS[d] for d in picked)


def forces_in_words(forces: tuple[str, ...], all_forces: tuple[str, ...]) -> str:
    """``"all 7 forces"``, ``"no force"``, or the names (``"Cambridgeshire, Essex"``)."""
    if not forces:
        return "no force"
    if set(all_forces) <= set(forces):
        return f"all {len(all_forces)} forces"
    return ", ".join(forces)


def filters_label(season: str | None, forces: tuple[str, ...], all_forces: tuple[str, ...],
                  days: tuple[int, ...], hours: tuple[int, int]) -> str:
    """What is in view, in words: ``"2021-22 · Cambridgeshire · Fri, Sat · 20:00 to 04:59 (overnight)"``.

    Plain text (force names come from the boundary file): escape it before Markdown.
    """
    return " · ".join([season or "all seasons", forces_in_words(forces, all_forces),
                       days_in_words(days), hours_in_words(hours)])


# ------------------------------------------------------------------ London time
def london_naive(times: pd.Series) -> pd.Series:
    """UTC (or any tz-aware) times as naive London wall-clock times (for tables and charts)."""
    return pd.to_datetime(times, utc=True).dt.tz_convert(LONDON).dt.tz_localize(None)


def london_text(times: pd.Series, fmt: str = "%Y-%m-%d %H:%M") -> pd.Series:
    """UTC times as London text (``"2021-10-02 20:15"``); missing or unparsable -> ``""``."""
    t = pd.to_datetime(pd.Series(times), utc=True, errors="coerce")
    return t.dt.tz_convert(LONDON).dt.strftime(fmt).fillna("")


def london_when(times: pd.Series, now: pd.Timestamp | None = None, *, with_time: bool = True) -> pd.Series:
    """UTC times as short London labels: ``"Sat 02 Oct 21:15"``.

    The year is added (``"Sat 02 Oct 2021 21:15"``) when it is not the
    current London year, so old alerts are never mistaken for this year's.
    Missing times give ``""``.
    """
    t = pd.to_datetime(pd.Series(times), utc=True, errors="coerce").dt.tz_convert(LONDON)
    now_l = (pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)).tz_convert(LONDON)
    day = t.dt.strftime("%a %d %b")
    year = t.dt.strftime("%Y")
    clock = t.dt.strftime(" %H:%M") if with_time else ""
    this_year = (t.dt.year == now_l.year).to_numpy()
    out = pd.Series(np.where(this_year, day + clock, day + " " + year + clock), index=t.index, dtype=object)
    return out.where(t.notna().to_numpy(), "")

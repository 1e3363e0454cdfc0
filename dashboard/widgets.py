"""The only drawing helpers: tables, metrics, charts and the page style.

Pages draw through these so every table is masked (``geo.privacy.mask_frame``)
and display-safe, and briefing mode looks the same everywhere. The only HTML
injected is the static CSS written in this module (never data).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.palette import FORCE_COLOURS, OKABE_ITO
from dashboard.views.format import displayable, md_safe_frame
from geo.privacy import mask_frame

__all__ = [
    "BRIEFING_TABLE_MAX_ROWS",
    "HOTSPOT_COLUMN_CONFIG",
    "apply_style",
    "metric_row",
    "monthly_chart",
    "show_table",
    "static_table",
    "timeline_chart",
]

# Static CSS written here (never data). Base: small tidy-ups for every mode.
_BASE_CSS = """
<style>
[data-testid="stMetricValue"] { font-variant-numeric: tabular-nums; }
/* The table toolbar's own CSV export is not protected against formula injection:
   the pages offer safe downloads (geo.export.to_safe_csv) instead. */
[data-testid="stElementToolbarButton"]:has(button[aria-label="Download as CSV"]) { display: none !important; }
</style>
"""
# Briefing: large type and high contrast for a projector, Okabe-Ito accents.
_BRIEFING_CSS = """
<style>
html, body, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: #FFFFFF !important; color: #000000 !important;
}
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMain"] [data-testid="stText"],
[data-testid="stMain"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] label p, [data-testid="stMain"] [data-testid="stAlertContentInfo"] p {
  font-size: 1.3rem !important; color: #000000 !important; font-weight: 500;
}
[data-testid="stMain"] h1, [data-testid="stMain"] h1 * { font-size: 3rem !important; color: #000000 !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h2 * { font-size: 2.3rem !important; color: #000000 !important; }
[data-testid="stMain"] h3, [data-testid="stMain"] h3 * { font-size: 1.9rem !important; color: #000000 !important; }
[data-testid="stMetric"] {
  border: 3px solid #0072B2; border-radius: 0.4rem; padding: 0.6rem 0.9rem; background: #FFFFFF;
}
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricLabel"] p {
  font-size: 1.35rem !important; color: #000000 !important; font-weight: 700;
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
}
/* Figures never cut: each metric is a size container; its value scales with the box. */
[data-testid="stMain"] [data-testid="stMetric"] { container-type: inline-size; min-width: 0; }
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"] * {
  overflow: visible !important; text-overflow: clip !important;
}
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"] p {
  font-size: min(3.2rem, 24cqw) !important; line-height: 1.15 !important;
  color: #000000 !important; font-weight: 800;
}
[data-testid="stMain"] h1 { overflow-wrap: anywhere; }
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricDelta"] * { font-size: 1.4rem !important; font-weight: 700; }
[data-testid="stAlert"] { border: 3px solid #D55E00; }
[data-testid="stMain"] [data-testid="stTable"] td, [data-testid="stMain"] [data-testid="stTable"] th {
  color: #000000 !important; border-color: #000000 !important; padding: 0.35rem 0.6rem !important;
}
[data-testid="stMain"] [data-testid="stTable"] td p, [data-testid="stMain"] [data-testid="stTable"] th p {
  font-size: 1.3rem !important; color: #000000 !important; margin: 0 !important;
}
[data-testid="stTable"] th { background: #E8F1F8 !important; font-weight: 800 !important; }
/* Tables fit the width: cells wrap instead of running off the right. */
[data-testid="stMain"] [data-testid="stTable"] { overflow-x: visible !important; max-width: 100%; }
[data-testid="stMain"] [data-testid="stTable"] table { width: 100% !important; table-layout: auto; }
[data-testid="stMain"] [data-testid="stTable"] td, [data-testid="stMain"] [data-testid="stTable"] th {
  white-space: normal !important; overflow-wrap: anywhere; word-break: normal; min-width: 0 !important;
}
/* the first column (a rank, a masked plate or id) stays on one line */
[data-testid="stMain"] [data-testid="stTable"] td:first-child { white-space: nowrap !important; }
[data-testid="stMain"] .block-container, [data-testid="stMainBlockContainer"] {
  padding-left: 1.5rem !important; padding-right: 1.5rem !important; padding-top: 2.5rem !important;
  max-width: 100% !important;
}
[data-testid="stSidebar"] { background: #F2F2F2 !important; }
[data-testid="stSidebar"] label p { font-size: 1.1rem !important; color: #000000 !important; }
[data-testid="stMain"] a { color: #0072B2 !important; text-decoration: underline; }
[data-testid="stMain"] button { border: 2px solid #000000 !important; font-size: 1.2rem !important; }
</style>
"""
#: Tables up to this many rows are drawn as static HTML tables in briefing
#: mode (large type styled above); longer ones stay scrollable dataframes.
BRIEFING_TABLE_MAX_ROWS = 40


def apply_style(briefing: bool) -> None:
    """Inject the static CSS (briefing mode: large type, high contrast)."""
    st.markdown(_BASE_CSS + (_BRIEFING_CSS if briefing else ""), unsafe_allow_html=True)


def show_table(df: pd.DataFrame, *, redact: bool, height: int | str = "auto", key: str | None = None,
               column_config: dict | None = None, briefing: bool = False,
               unmasked: frozenset[str] = frozenset()) -> None:
    """Show a masked, display-safe copy (geometry dropped, lists joined, London times).

    ``unmasked``: plates and ids an analyst revealed (shown whole; everything else masked).

    ``st.dataframe`` normally; in briefing mode short tables become a static
    ``st.table`` so the large projector type applies. Both escape cell text.
    """
    out = mask_frame(displayable(df), redact, unmasked=unmasked)
    if briefing and len(out) <= BRIEFING_TABLE_MAX_ROWS:
        static_table(out)
        return
    st.dataframe(out, hide_index=True, height=height, key=key, column_config=column_config,
                 width="stretch")


def static_table(df: pd.DataFrame) -> None:
    """``st.table`` of a frame whose text is escaped for Markdown (no index)."""
    st.table(md_safe_frame(df), hide_index=True)


def metric_row(items: list[tuple[str, str, str | None]], *, help_: dict[str, str] | None = None) -> None:
    """One row of ``st.metric``; items are (label, value, delta)."""
    cols = st.columns(len(items))
    for col, (label, value, delta) in zip(cols, items, strict=True):
        col.metric(label, value, delta, help=(help_ or {}).get(label), delta_color="inverse")


HOTSPOT_COLUMN_CONFIG: dict[str, Any] = {
    "rank": st.column_config.NumberColumn("rank", width="small"),
    "lat": st.column_config.NumberColumn("lat", format="%.4f"),
    "lon": st.column_config.NumberColumn("lon", format="%.4f"),
    "incidents": st.column_config.NumberColumn("incidents", width="small"),
}


def monthly_chart(monthly: pd.DataFrame, *, briefing: bool = False):
    """Stacked bars: incidents per month, coloured by force (colour-blind-safe palette)."""
    import altair as alt

    present = set(monthly["force"].astype(str))
    forces = [x for x in FORCE_COLOURS if x in present] + sorted(present - set(FORCE_COLOURS))
    colours = [FORCE_COLOURS.get(x, "#999999") for x in forces]
    font = 18 if briefing else 12
    return (
        alt.Chart(monthly)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="month"),
            y=alt.Y("sum(incidents):Q", title="incidents"),
            color=alt.Color("force:N", scale=alt.Scale(domain=forces, range=colours), title="force"),
            tooltip=[alt.Tooltip("yearmonth(month):T", title="month"), "force:N", "incidents:Q"],
        )
        .properties(height=360)
        .configure_axis(labelFontSize=font, titleFontSize=font)
        .configure_legend(labelFontSize=font, titleFontSize=font)
    )


def timeline_chart(tl: pd.DataFrame, *, briefing: bool = False):
    """Altair chart: time across, force down, one mark per event (shape and colour by kind)."""
    import altair as alt

    size = 140 if briefing else 70
    return (
        alt.Chart(tl)
        .mark_point(filled=True, size=size)
        .encode(
            x=alt.X("at:T", title="London time"),
            y=alt.Y("force:N", title=None),
            color=alt.Color("what:N", title="event",
                            scale=alt.Scale(domain=["incident", "ANPR read", "crossing"],
                                            range=[OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["orange"]])),
            shape=alt.Shape("what:N", title="event"),
            row=alt.Row("subject:N", title=None),
            tooltip=["subject:N", "at:T", "what:N", "force:N", "ref:N"],
        )
        .properties(height=120)
    )

"""Shared view helpers: context, sidebar, tables, metrics, masking, briefing style.

Pages stay thin: they fetch data through :mod:`dashboard.cache`, shape it with
the pure helpers here (unit-testable without Streamlit running) and draw it.

Escaping rule: data never goes through ``st.markdown``/``st.html`` with
``unsafe_allow_html``. Data is shown with ``st.dataframe`` (plain text cells)
or ``st.text``; anything rendered as Markdown (``st.table`` cells and
headers, which this Streamlit renders as Markdown, metric labels, captions,
alerts) gets :func:`md_escape` first (:func:`static_table` does it for
tables). The only HTML injected is the static CSS written in this module.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.maps import OKABE_ITO
from dashboard.state import EPS_RANGE_M, MIN_SAMPLES_RANGE, SEVEN, Filters

__all__ = [
    "PALETTE",
    "Context",
    "UploadOutcome",
    "apply_style",
    "before_after",
    "bootstrap",
    "briefing_figures",
    "briefing_hoppers",
    "briefing_hotspots",
    "briefing_pack_bytes",
    "by_force_table",
    "incidents_csv",
    "incidents_geojson",
    "ingest_outcome",
    "safe_csv",
    "upload_token",
    "clicked_details",
    "get_context",
    "as_list",
    "hoppers_csv",
    "hoppers_table",
    "is_vehicle",
    "rows_for",
    "subject_options",
    "timeline_chart",
    "timelines",
    "hoppers_view",
    "n_subjects",
    "plate_options",
    "subject_timeline",
    "trail_summary",
    "hotspot_table",
    "hotspots_csv",
    "hotspots_geojson",
    "n_cross_border",
    "mask_frame",
    "md_escape",
    "monthly_counts",
    "before_after_sentence",
    "day_range",
    "default_compare_date",
    "monthly_chart",
    "season_pair",
    "season_sentence",
    "season_totals",
    "season_totals_display",
    "md_safe_frame",
    "show_table",
    "static_table",
    "validate_upload",
    "ALERTS_LIMIT",
    "ALERTS_REFRESH_S",
    "ALERT_TABLE_COLUMNS",
    "alert_metrics",
    "alerts_table",
    "alerts_view",
    "fmt_age",
    "london_when",
    "watch_command",
]

#: Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE: dict[str, str] = OKABE_ITO
FORCE_COLOURS: dict[str, str] = dict(
    zip(SEVEN, ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"], strict=True)
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CTX_KEY = "_harewatch_ctx"

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
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricValue"] p {
  font-size: 3.4rem !important; color: #000000 !important; font-weight: 800;
}
[data-testid="stMain"] [data-testid="stMetric"] [data-testid="stMetricDelta"] * { font-size: 1.4rem !important; font-weight: 700; }
[data-testid="stAlert"] { border: 3px solid #D55E00; }
[data-testid="stMain"] [data-testid="stTable"] td, [data-testid="stMain"] [data-testid="stTable"] th {
  color: #000000 !important; border-color: #000000 !important; padding: 0.35rem 0.6rem !important;
}
[data-testid="stMain"] [data-testid="stTable"] td p, [data-testid="stMain"] [data-testid="stTable"] th p {
  font-size: 1.3rem !important; color: #000000 !important; margin: 0 !important;
}
[data-testid="stTable"] th { background: #E8F1F8 !important; font-weight: 800 !important; }
[data-testid="stSidebar"] { background: #F2F2F2 !important; }
[data-testid="stSidebar"] label p { font-size: 1.1rem !important; color: #000000 !important; }
[data-testid="stMain"] a { color: #0072B2 !important; text-decoration: underline; }
[data-testid="stMain"] button { border: 2px solid #000000 !important; font-size: 1.2rem !important; }
</style>
"""

#: Tables up to this many rows are drawn as static HTML tables in briefing
#: mode (large type styled above); longer ones stay scrollable dataframes.
BRIEFING_TABLE_MAX_ROWS = 40


# ------------------------------------------------------------------ escaping
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def md_escape(text: object) -> str:
    """Escape a data string for ``st.markdown``/``st.write``/labels (Markdown, not HTML).

    Backslash-escapes every Markdown/LaTeX special character (``<`` and ``>``
    included) and flattens newlines, so ``**x**``, ``[a](javascript:...)``,
    ``$x$`` and ``<img onerror=...>`` are shown literally.
    """
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def apply_style(briefing: bool) -> None:
    """Inject the static CSS (briefing mode: large type, high contrast)."""
    st.markdown(_BASE_CSS + (_BRIEFING_CSS if briefing else ""), unsafe_allow_html=True)


# ------------------------------------------------------------------ masking
_PLATE_COLS = ("vrm", "vrms", "plate", "plates", "from_vrm")
_ID_COLS = ("nominal", "nominals", "nominal_id", "offender_id")
_FREE_TEXT = ("notes",)


def mask_frame(df: pd.DataFrame, redact: bool, *, subject_kind_col: str = "kind") -> pd.DataFrame:
    """A display copy with plates and nominal ids masked (and free-text notes dropped).

    ``subject`` columns are masked as a plate or an id according to
    ``subject_kind_col`` (values containing "vrm"/"plate" are plates).
    Free text cannot be masked reliably, so ``notes`` is removed when redacting.
    """
    from geo.privacy import mask_series

    out = pd.DataFrame(df).copy()
    if not redact:
        return out
    for c in out.columns:
        lc = str(c).lower()
        if lc in _PLATE_COLS or lc.endswith("_vrm") or lc.endswith("_vrms"):
            out[c] = mask_series(out[c].astype(object), "plate")
        elif lc in _ID_COLS or lc.endswith("_nominals"):
            out[c] = mask_series(out[c].astype(object), "id")
    if "subject" in out.columns:
        kinds = out[subject_kind_col].astype(str).str.lower() if subject_kind_col in out.columns else None
        is_plate = (
            kinds.str.contains("vrm|plate|vehicle", regex=True)
            if kinds is not None
            else pd.Series(True, index=out.index)
        )
        subj = out["subject"].astype(object)
        out["subject"] = np.where(is_plate, mask_series(subj, "plate"), mask_series(subj, "id"))
    return out.drop(columns=[c for c in _FREE_TEXT if c in out.columns])


def plate_label(plate: str, redact: bool) -> str:
    """How a plate is shown in widget options and headings."""
    from geo.privacy import mask_plate

    return mask_plate(plate) if redact else str(plate)


def subject_label(subject: str, kind: str, redact: bool) -> str:
    """A ladder subject (plate or nominal id), masked when redacting."""
    from geo.privacy import mask_id, mask_plate

    if not redact:
        return str(subject)
    k = str(kind).lower()
    return mask_plate(subject) if ("vrm" in k or "plate" in k or "vehicle" in k) else mask_id(subject)


def show_table(df: pd.DataFrame, *, redact: bool, height: int | str = "auto", key: str | None = None,
               column_config: dict | None = None, briefing: bool = False) -> None:
    """Show a masked, display-safe copy (geometry dropped, lists joined, London times).

    ``st.dataframe`` normally; in briefing mode short tables become a static
    ``st.table`` so the large projector type applies. Both escape cell text.
    """
    out = mask_frame(_displayable(df), redact)
    if briefing and len(out) <= BRIEFING_TABLE_MAX_ROWS:
        static_table(out)
        return
    st.dataframe(out, hide_index=True, height=height, key=key, column_config=column_config,
                 width="stretch")


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


def static_table(df: pd.DataFrame) -> None:
    """``st.table`` of a frame whose text is escaped for Markdown (no index)."""
    st.table(md_safe_frame(df), hide_index=True)


def _displayable(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(df.drop(columns=df.geometry.name) if isinstance(df, gpd.GeoDataFrame) else df).copy()
    for c in out.columns:
        s = out[c]
        if s.dtype == object and len(s) and s.map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = s.map(lambda v: ", ".join(map(str, v)) if isinstance(v, list | tuple) else v)
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = s.dt.tz_convert("Europe/London").dt.tz_localize(None)
    return out


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


# ------------------------------------------------------------------ context
@dataclass(frozen=True)
class Context:
    """What every page needs: the filters and the keys of the cached data."""

    filters: Filters
    bkey: cache.BoundaryKey
    dkey: cache.DataKey
    areas: Any
    demo: bool
    seasons: tuple[str, ...]
    force_names: tuple[str, ...] = field(default=SEVEN)

    # The cached layers (cheap after the first call).
    def incidents(self) -> gpd.GeoDataFrame:
        f = self.filters
        return cache.incidents(self.dkey, f.scope)

    def all_seasons_incidents(self) -> gpd.GeoDataFrame:
        """Forces and hours filters only (for season-against-season views)."""
        f = self.filters
        return cache.incidents(self.dkey, f.scope._replace(season=None, date_from=None, date_to=None))

    def hotspots(self):
        f = self.filters
        return cache.hotspots(self.dkey, f.scope, f.eps_m, f.min_samples)

    def ladder(self) -> pd.DataFrame:
        return cache.ladder(self.dkey, self.filters.start_month)

    def dataset(self) -> cache.Dataset:
        return cache.dataset(self.dkey)

    @property
    def season_label(self) -> str:
        return self.filters.season or "all seasons"


def get_context() -> Context:
    """The context built by ``dashboard/app.py`` for this run."""
    ctx = st.session_state.get(_CTX_KEY)
    if ctx is None:  # page run on its own (should not happen under st.navigation)
        ctx = bootstrap()
    return ctx


def remember_link_filters() -> None:
    """Keep the filters of the link that opened this session.

    Call before ``st.navigation``: once the page links are on screen, a click
    during the first (slow) load replaces the URL, and the link's filters
    would be lost.
    """
    if "_hw_url0" not in st.session_state:
        st.session_state["_hw_url0"] = {k: st.query_params.get(k) for k in st.query_params}


def bootstrap() -> Context:
    """Load boundaries and data, draw the shared sidebar, sync the URL; stop on fatal errors."""
    import os

    from geo.boundaries import BoundariesNotFound

    allow_fetch = os.environ.get("HAREWATCH_NO_FETCH", "") in ("", "0")
    try:
        bkey = cache.boundary_key(allow_fetch=allow_fetch)
        areas = cache.boundaries(bkey)
    except (BoundariesNotFound, ValueError) as exc:  # missing, or not a police force area file
        st.error(md_escape(exc), icon=":material/map:")
        st.stop()
    dkey = cache.data_key(bkey)
    ds = cache.dataset(dkey)
    names = tuple(getattr(areas, "names", SEVEN)) or SEVEN
    filters, seasons = sidebar_filters(dkey, names)
    ctx = Context(filters=filters, bkey=bkey, dkey=dkey, areas=areas, demo=ds.demo,
                  seasons=tuple(seasons), force_names=names)
    st.session_state[_CTX_KEY] = ctx
    apply_style(filters.briefing)
    if ds.demo:
        from geo.demo import DEMO_NOTICE

        st.warning(DEMO_NOTICE, icon=":material/science:")
    return ctx


# ------------------------------------------------------------------ sidebar
_W = {  # widget keys
    "season": "w_season",
    "start_month": "w_start_month",
    "forces": "w_forces",
    "dates": "w_dates",
    "hours": "w_hours",
    "eps_m": "w_eps_m",
    "min_samples": "w_min_samples",
    "briefing": "w_briefing",
    "redact": "w_redact",
    "tiles": "w_tiles",
    "wrap": "w_hours_wrap",
}


def _seed_widgets(f: Filters) -> None:
    """Put filters into the sidebar widgets' session state."""
    ss = st.session_state
    wrap = f.hours[0] > f.hours[1]
    values = {
        "season": f.season or _ALL_LABEL,
        "start_month": f.start_month,
        "forces": list(f.forces),
        "hours": (f.hours[1], f.hours[0]) if wrap else tuple(f.hours),
        "wrap": wrap,
        "eps_m": float(f.eps_m),
        "min_samples": int(f.min_samples),
        "briefing": f.briefing,
        "redact": f.redact,
        "tiles": f.tiles,
    }
    for name, value in values.items():
        ss[_W[name]] = value
    ss["_hw_dates_from_url"] = (f.date_from, f.date_to)
    ss.pop("_hw_dates_scope", None)
_ALL_LABEL = "All seasons"


def _on_briefing_change() -> None:
    if st.session_state.get(_W["briefing"]):
        st.session_state[_W["redact"]] = True  # masking defaults ON for a shared screen


def sidebar_filters(dkey: cache.DataKey, force_names: tuple[str, ...]) -> tuple[Filters, list[str]]:
    """Draw the shared sidebar; returns the current filters (and writes them to the URL)."""
    ss = st.session_state
    if "_hw_init" not in ss:
        qp = ss.get("_hw_url0") or {k: st.query_params.get(k) for k in st.query_params}
        start_month = Filters.from_query_params(qp).start_month
        seasons = cache.seasons(dkey, start_month)
        f0 = Filters.from_query_params(qp, force_names=force_names, seasons=seasons,
                                       default_season=seasons[-1] if seasons else None)
        _seed_widgets(f0)
        ss["_hw_init"] = True

    sb = st.sidebar
    sb.header("Filters")
    season_box = sb.container()
    start_month = sb.selectbox("Season starts in", list(range(1, 13)), key=_W["start_month"],
                               format_func=lambda m: MONTHS[m - 1])
    seasons = cache.seasons(dkey, int(start_month))
    options = [_ALL_LABEL, *reversed(seasons)]
    if ss.get(_W["season"]) not in options:
        ss[_W["season"]] = seasons[-1] if seasons else _ALL_LABEL
    season_choice = season_box.selectbox("Season", options, key=_W["season"])
    season = None if season_choice == _ALL_LABEL else season_choice

    forces = sb.multiselect("Forces", list(force_names), key=_W["forces"])

    lo, hi = cache.date_extent(dkey, season, int(start_month))
    scope = (dkey, season, int(start_month))
    if ss.get("_hw_dates_scope") != scope:  # new season or new data: whole extent (or the URL's range)
        want_from, want_to = ss.pop("_hw_dates_from_url", (None, None))
        ss[_W["dates"]] = _clamp_dates((want_from or lo, want_to or hi), lo, hi)
        ss["_hw_dates_scope"] = scope
    else:
        current = ss.get(_W["dates"])
        clamped = _clamp_dates(current, lo, hi)
        if tuple(current or ()) != clamped:
            ss[_W["dates"]] = clamped
    dates = sb.date_input("Date range", key=_W["dates"], min_value=lo, max_value=hi)
    date_from, date_to = _date_pair(dates, lo, hi)

    hours = sb.slider("Hours of the day", 0, 23, key=_W["hours"],
                      help="London time, whole hours: 20-23 means 20:00 to 23:59")
    if sb.toggle("Across midnight", key=_W["wrap"],
                 help="Use the hours outside the middle: the slider at 4-20 then means 20:00 to 04:59"):
        hours = (hours[1], hours[0])
    sb.subheader("Hotspots")
    eps_m = sb.number_input("Hotspot radius eps (m)", min_value=EPS_RANGE_M[0], max_value=EPS_RANGE_M[1],
                            step=100.0, key=_W["eps_m"], help="DBSCAN radius in metres")
    min_samples = sb.number_input("Min incidents per hotspot", min_value=MIN_SAMPLES_RANGE[0],
                                  max_value=MIN_SAMPLES_RANGE[1], step=1, key=_W["min_samples"])
    sb.subheader("Display")
    briefing = sb.toggle("Briefing mode", key=_W["briefing"], on_change=_on_briefing_change,
                         help="Large type, high contrast; masks plates and ids")
    redact = sb.toggle("Mask plates and ids", key=_W["redact"])
    tiles = sb.toggle("Map tiles (online only)", key=_W["tiles"],
                      help="OpenStreetMap background; needs internet. Off: outlines only.")

    filters = Filters(
        season=season,
        start_month=int(start_month),
        forces=tuple(f for f in force_names if f in set(forces)),
        date_from=date_from,
        date_to=date_to,
        hours=(int(hours[0]), int(hours[1])),
        eps_m=float(eps_m),
        min_samples=int(min_samples),
        briefing=bool(briefing),
        redact=bool(redact),
        tiles=bool(tiles),
    )
    qp = filters.to_query_params()
    if {k: st.query_params.get(k) for k in st.query_params} != qp:
        st.query_params.from_dict(qp)
    if not filters.forces:
        sb.warning("No force selected: nothing to show.")
    return filters, seasons


def _clamp_dates(value: Any, lo: dt.date, hi: dt.date) -> tuple[dt.date, ...]:
    """A date-range widget value forced inside [lo, hi] (a half-picked range stays half)."""
    if isinstance(value, dt.date):
        value = (value,)
    vals = [min(max(v, lo), hi) for v in (value or ()) if isinstance(v, dt.date)][:2]
    if not vals:
        return (lo, hi)
    if len(vals) == 2 and vals[1] < vals[0]:
        vals[1] = vals[0]
    return tuple(vals)


def _date_pair(value: Any, lo: dt.date, hi: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Widget value -> (date_from, date_to); the full extent means "no date filter"."""
    if isinstance(value, dt.date):
        value = (value,)
    vals = [v for v in (value or ()) if isinstance(v, dt.date)]
    if not vals:
        return None, None
    d0 = vals[0]
    d1 = vals[1] if len(vals) > 1 else vals[0]
    return (None if d0 <= lo else d0), (None if d1 >= hi else d1)


# ------------------------------------------------------------------ metrics
def metric_row(items: list[tuple[str, str, str | None]], *, help_: dict[str, str] | None = None) -> None:
    """One row of ``st.metric``; items are (label, value, delta)."""
    cols = st.columns(len(items))
    for col, (label, value, delta) in zip(cols, items, strict=True):
        col.metric(label, value, delta, help=(help_ or {}).get(label), delta_color="inverse")


# ------------------------------------------------------------------ hotspots
def hotspot_table(hotspots: gpd.GeoDataFrame, areas: Any = None, *, season_selected: bool = True) -> pd.DataFrame:
    """The ranked patrol list: rank, where, forces, n, busiest times, trend.

    ``where`` is the force containing the hotspot centroid (falls back to the
    first listed force) and the centroid in lat/lon (WGS84, 4 decimals, about
    10 m).
    """
    cols = ["rank", "hotspot", "where", "incidents", "trend", "busiest weekday", "busiest hours",
            "busiest month", "forces", "last season", "lat", "lon"]
    if hotspots is None or not len(hotspots):
        return pd.DataFrame({c: [] for c in cols})
    hs = pd.DataFrame(hotspots.drop(columns=hotspots.geometry.name, errors="ignore"))
    forces = hs["forces"].map(lambda v: list(v) if isinstance(v, list | tuple | np.ndarray) else
                              [x for x in str(v).split(";") if x])
    where = forces.map(lambda v: v[0] if v else "")
    if areas is not None and {"centroid_e", "centroid_n"} <= set(hs.columns):
        from geo.boundaries import assign_force

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
            "trend": [_trend_text(c, p, pn) if season_selected else "–"
                      for c, p, pn in zip(hs["change"], hs["change_pct"], hs["previous_n"], strict=True)],
        }
    )[cols]


HOTSPOT_COLUMN_CONFIG: dict[str, Any] = {
    "rank": st.column_config.NumberColumn("rank", width="small"),
    "lat": st.column_config.NumberColumn("lat", format="%.4f"),
    "lon": st.column_config.NumberColumn("lon", format="%.4f"),
    "incidents": st.column_config.NumberColumn("incidents", width="small"),
}


def n_cross_border(hotspots: pd.DataFrame) -> int:
    """Hotspots spanning two or more forces."""
    if hotspots is None or not len(hotspots) or "cross_border" not in hotspots.columns:
        return 0
    return int(hotspots["cross_border"].astype(bool).sum())


def hotspots_csv(result: Any) -> bytes:
    """The hotspot list as formula-safe CSV (``geo.export.to_safe_csv``)."""
    from geo.export import to_safe_csv
    from geo.hotspots import hotspots_to_frame

    return to_safe_csv(hotspots_to_frame(result))


def hotspots_geojson(result: Any) -> str:
    """Hotspot polygons as GeoJSON in WGS84 (``geo.export.to_geojson``)."""
    from geo.export import to_geojson

    return to_geojson(result.hotspots)


def slug(text: str) -> str:
    """A file-name-safe version of a label: ``"2021-22"`` -> ``"2021-22"``, ``"all seasons"`` -> ``"all_seasons"``."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", str(text)).strip("_") or "all"


def _trend_text(change: float, pct: float, previous_n: float) -> str:
    if previous_n == 0:
        return "new this season"
    arrow = "▲" if change > 0 else ("▼" if change < 0 else "=")
    return f"{arrow} {int(change):+d} ({pct:+.0f} %)"


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


def record_table(row: pd.DataFrame, redact: bool, fields: list[str] | None = None) -> pd.DataFrame:
    """One record as a two-column (field, value) table of strings, masked."""
    disp = mask_frame(_displayable(row), redact)
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


# ------------------------------------------------------------------ trends
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
    local = incidents["occurred_at"].dt.tz_convert("Europe/London").dt.tz_localize(None)
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
    day = incidents["occurred_at"].dt.tz_convert("Europe/London").dt.date
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


def day_range(incidents: pd.DataFrame) -> tuple[dt.date, dt.date]:
    """First and last London calendar day of the incidents (today twice when none)."""
    if incidents is None or not len(incidents):
        today = dt.date.today()
        return today, today
    day = incidents["occurred_at"].dropna().dt.tz_convert("Europe/London")
    return day.min().date(), day.max().date()


def default_compare_date(seasons: tuple[str, ...], start_month: int, lo: dt.date, hi: dt.date) -> dt.date:
    """Start of the latest season (clamped to the data): "after the agreement"."""
    from geo.seasons import season_bounds

    when = hi
    if seasons:
        try:
            when = season_bounds(seasons[-1], start_month)[0].tz_convert("Europe/London").date()
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


# ------------------------------------------------------------------ hoppers
INCIDENT_FIELDS = ["incident_id", "occurred_at", "force", "reported_force", "vrms", "nominals",
                   "dogs", "outcome", "notes"]


def as_list(v: Any) -> list:
    if isinstance(v, list | tuple | np.ndarray):
        return list(v)
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    return [x for x in str(v).split(";") if x]


def hoppers_view(ladder: pd.DataFrame, *, season: str | None, forces: tuple[str, ...] | None = None,
                 now_in: str | None = None, only_hoppers: bool = True, min_stage: int = 1) -> pd.DataFrame:
    """Ladder rows to show: this season, touching ``forces``, optionally border-hoppers only.

    Parameters
    ----------
    ladder : DataFrame
        ``geo.offenders.ladder`` output (plus ``latest_force`` from the cache).
    season : str or None
        Keep that season's rows (None: every season).
    forces : tuple of str, optional
        Keep subjects with an incident in one of these forces.
    now_in : str, optional
        Keep subjects whose latest incident is in this force ("who has been
        warned elsewhere and is now in our area").
    only_hoppers : bool
        Keep subjects with incidents in two or more forces.
    min_stage : int
        Keep rows at this ladder stage or higher.
    """
    if ladder is None or not len(ladder):
        return pd.DataFrame(ladder).copy() if ladder is not None else pd.DataFrame()
    df = pd.DataFrame(ladder)
    keep = np.ones(len(df), dtype=bool)
    if season is not None:
        keep &= (df["season"].astype(str) == season).to_numpy()
    if only_hoppers and "border_hopper" in df.columns:
        keep &= df["border_hopper"].astype(bool).to_numpy()
    if "stage" in df.columns:
        keep &= (pd.to_numeric(df["stage"], errors="coerce").fillna(0) >= min_stage).to_numpy()
    if forces is not None:
        wanted = set(forces)
        keep &= df["forces"].map(lambda v: bool(wanted.intersection(as_list(v)))).to_numpy(dtype=bool)
    if now_in and "latest_force" in df.columns:
        keep &= (df["latest_force"].astype(str) == now_in).to_numpy()
    return df[keep].reset_index(drop=True)


def n_subjects(ladder_rows: pd.DataFrame) -> int:
    """Distinct (subject, kind) in some ladder rows."""
    if ladder_rows is None or not len(ladder_rows):
        return 0
    return int(ladder_rows[["subject", "kind"]].drop_duplicates().shape[0])


def hoppers_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Display table of ladder rows: who, stage, action, evidence (which incident, which force)."""
    cols = ["subject", "kind", "season", "stage", "action", "incidents", "forces", "now in",
            "evidence", "crossings", "first", "last"]
    if rows is None or not len(rows):
        return pd.DataFrame({c: [] for c in cols})
    ev = rows["evidence"].map(_evidence_text) if "evidence" in rows.columns else ""
    ncross = rows["crossings"].map(lambda v: len(as_list(v))) if "crossings" in rows.columns else 0
    return pd.DataFrame(
        {
            "subject": rows["subject"].astype(str),
            "kind": rows["kind"].astype(str),
            "season": rows["season"].astype(str),
            "stage": rows["stage"].astype(int),
            "action": rows["stage_label"].astype(str),
            "incidents": rows["n_incidents"].astype(int),
            "forces": rows["forces"].map(lambda v: ", ".join(map(str, as_list(v)))),
            "now in": rows["latest_force"].astype(str) if "latest_force" in rows.columns else "",
            "evidence": ev,
            "crossings": ncross,
            "first": _london(rows["first_at"]),
            "last": _london(rows["last_at"]),
        }
    )[cols]


def _london(s: pd.Series) -> pd.Series:
    s = pd.to_datetime(s, utc=True)
    return s.dt.tz_convert("Europe/London").dt.strftime("%Y-%m-%d %H:%M")


def _evidence_text(ev: Any) -> str:
    """``[{stage, incident_id, force, occurred_at}, ...]`` -> ``"1: N001 Norfolk 2021-10-02; 2: ..."``."""
    parts = []
    for e in as_list(ev):
        if isinstance(e, dict):
            when = str(e.get("occurred_at", ""))[:10]
            parts.append(f"{e.get('stage', '')}: {e.get('incident_id', '')} {e.get('force', '')} {when}".strip())
    return "; ".join(parts)


def subject_timeline(subject: str, kind: str, incidents_all: pd.DataFrame, trail: pd.DataFrame | None,
                     crossings: pd.DataFrame | None) -> pd.DataFrame:
    """Everything known about one subject in time order: incidents, ANPR reads, crossings.

    Columns ``at`` (London time, naive), ``what`` ("incident"/"ANPR read"/
    "crossing"), ``force``, ``ref`` (incident id, camera id or "A > B").
    """
    cols = ["at", "what", "force", "ref"]
    col = "vrms" if str(kind).lower() in ("vehicle", "vrm", "plate") else "nominals"
    parts = []
    if incidents_all is not None and len(incidents_all) and col in incidents_all.columns:
        items = incidents_all[col].astype(str).str.split(";")
        hit = items.map(lambda xs: subject in xs).to_numpy(dtype=bool)
        sel = incidents_all[hit]
        parts.append(pd.DataFrame({"at": sel["occurred_at"], "what": "incident",
                                   "force": sel["force"].astype(str), "ref": sel["incident_id"].astype(str)}))
    if trail is not None and len(trail):
        t = trail[(trail["vrm"] == subject) & (trail["kind"] == "read")]
        parts.append(pd.DataFrame({"at": t["at"], "what": "ANPR read", "force": t["force"].astype(str),
                                   "ref": t["ref"].astype(str)}))
    if crossings is not None and len(crossings):
        c = crossings[crossings["vrm"] == subject]
        parts.append(pd.DataFrame({"at": c["at"], "what": "crossing", "force": c["to_force"].astype(str),
                                   "ref": c["from_force"].astype(str) + " > " + c["to_force"].astype(str)}))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: [] for c in cols})
    out = pd.concat(parts, ignore_index=True)
    out["at"] = pd.to_datetime(out["at"], utc=True)
    out = out.sort_values("at", kind="stable").reset_index(drop=True)
    out["at"] = out["at"].dt.tz_convert("Europe/London").dt.tz_localize(None)
    return out[cols]


def is_vehicle(kind: pd.Series) -> pd.Series:
    """True where a ladder ``kind`` is a vehicle (plate) rather than a person."""
    return kind.astype(str).str.lower().isin(["vehicle", "vrm", "plate"])


def _row_key(kind: Any, subject: Any, season: Any) -> str:
    return f"{kind}|{subject}|{season}"


def subject_options(rows: pd.DataFrame, *, redact: bool) -> dict[str, str]:
    """Stable option values ("kind|subject|season") -> display labels (masked when redacting)."""
    if rows is None or not len(rows):
        return {}
    out = {}
    for kind, subj, season, stage in zip(rows["kind"], rows["subject"], rows["season"], rows["stage"], strict=True):
        out[_row_key(kind, subj, season)] = (
            f"{subject_label(subj, kind, redact)} ({kind}, {season}, stage {int(stage)})"
        )
    return out


def rows_for(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Ladder rows whose option value is in ``keys`` (see :func:`subject_options`)."""
    k = rows["kind"].astype(str) + "|" + rows["subject"].astype(str) + "|" + rows["season"].astype(str)
    return rows[k.isin(list(keys)).to_numpy()]


def timelines(sel: pd.DataFrame, incidents_all: pd.DataFrame, trail: pd.DataFrame | None,
              crossings: pd.DataFrame | None, *, redact: bool, start_month: int = 9) -> pd.DataFrame:
    """Timelines of the selected ladder rows (each limited to its season), subject labels masked."""
    from geo.seasons import season_bounds

    parts = []
    for subj, kind, season in zip(sel["subject"], sel["kind"], sel["season"], strict=True):
        vehicle = bool(is_vehicle(pd.Series([kind])).iloc[0])
        tl = subject_timeline(str(subj), str(kind), incidents_all,
                              trail if vehicle else None, crossings if vehicle else None)
        if len(tl):
            try:
                start, end = season_bounds(str(season), start_month)
            except ValueError:
                start = end = None
            if start is not None:
                lo = start.tz_convert("Europe/London").tz_localize(None)
                hi = end.tz_convert("Europe/London").tz_localize(None)
                tl = tl[((tl["at"] >= lo) & (tl["at"] < hi)).to_numpy()]
        tl.insert(0, "subject", subject_label(str(subj), str(kind), redact))
        parts.append(tl)
    if not parts:
        return pd.DataFrame({c: [] for c in ["subject", "at", "what", "force", "ref"]})
    return pd.concat(parts, ignore_index=True)


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
                                            range=[PALETTE["vermillion"], PALETTE["blue"], PALETTE["orange"]])),
            shape=alt.Shape("what:N", title="event"),
            row=alt.Row("subject:N", title=None),
            tooltip=["subject:N", "at:T", "what:N", "force:N", "ref:N"],
        )
        .properties(height=120)
    )


def hoppers_csv(rows: pd.DataFrame, *, redact: bool) -> bytes:
    """The shown ladder rows as formula-safe CSV (``geo.offenders.offenders_to_frame``), masked if asked."""
    from geo.export import to_safe_csv
    from geo.offenders import offenders_to_frame

    flat = offenders_to_frame(rows)
    return to_safe_csv(mask_frame(flat, redact))


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
    out["first"] = _london(out["first"])
    out["last"] = _london(out["last"])
    return out[cols]


# ------------------------------------------------------------------ downloads
def safe_csv(df: pd.DataFrame) -> bytes:
    """Formula-injection-safe CSV bytes (``geo.export.to_safe_csv``)."""
    from geo.export import to_safe_csv

    return to_safe_csv(df)


def incidents_csv(incidents: gpd.GeoDataFrame, *, redact: bool) -> bytes:
    """The incidents in view as safe CSV (lat/lon added), masked when redacting."""
    return safe_csv(_masked_geo(incidents, redact))


def incidents_geojson(incidents: gpd.GeoDataFrame, *, redact: bool) -> str:
    """The incidents in view as GeoJSON (WGS84), masked when redacting."""
    from geo.export import to_geojson

    return to_geojson(_masked_geo(incidents, redact))


def _masked_geo(gdf: gpd.GeoDataFrame, redact: bool) -> gpd.GeoDataFrame:
    if not redact:
        return gdf
    masked = mask_frame(pd.DataFrame(gdf.drop(columns=gdf.geometry.name)), True)
    return gpd.GeoDataFrame(masked, geometry=gdf.geometry.values, crs=gdf.crs)


def by_force_table(outcome: UploadOutcome) -> pd.DataFrame:
    """Accepted rows per force of an upload."""
    if not outcome.ok:
        return pd.DataFrame({"force": [], "accepted": []})
    by = dict(outcome.result.by_force)
    return pd.DataFrame({"force": list(by), "accepted": [int(v) for v in by.values()]})


def upload_token(data: bytes, name: str, kind: str) -> str:
    """Identity of an upload (to refuse adding the same file twice from one session)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:16] + f"|{kind}|{name}"


def ingest_outcome(outcome: UploadOutcome, data_dir: Any) -> str:
    """Add an upload's accepted rows to the store; a plain-text summary of what happened."""
    from geo.store import ingest

    rep = ingest(outcome.result, data_dir)
    return (f"Added {fmt_int(rep.rows_added)} {outcome.kind} to the store "
            f"({fmt_int(rep.rows_already_stored)} already there, {fmt_int(rep.rows_rejected)} rejected).")


# ------------------------------------------------------------------ briefing
BRIEFING_HOTSPOT_COLUMNS = ["rank", "where", "incidents", "busiest", "trend"]
BRIEFING_HOPPER_COLUMNS = ["subject", "kind", "stage", "action", "forces", "now in", "last"]


def briefing_hotspots(table: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """Top hotspots for a projector: rank, where, incidents, busiest day and hours, trend."""
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


def briefing_pack_bytes(ctx: Context, figures: list[tuple[str, str, str | None]],
                        top_hotspots: pd.DataFrame, hoppers: pd.DataFrame) -> bytes:
    """The briefing pack zip (``dashboard.briefing.briefing_pack``), made on the server.

    Always masked: the pack is made to be shown and passed around.
    """
    from dashboard.briefing import briefing_pack
    from dashboard.maps import MapLayers

    layers = MapLayers(
        boundaries=cache.display_boundaries(ctx.bkey),
        incidents=ctx.incidents(),
        hotspots=ctx.hotspots().hotspots,
        cameras=None,
        attribution=ctx.areas.attribution,
    )
    return briefing_pack(
        layers=layers,
        figures={label: value for label, value, _ in figures},
        top_hotspots=top_hotspots,
        hoppers=hoppers,
        title=f"Hare coursing briefing {ctx.season_label}",
        redact=True,
    )


# ------------------------------------------------------------------ uploads
@dataclass
class UploadOutcome:
    """Result of validating an uploaded file for the Data page."""

    kind: str
    result: Any = None  # geo.validation.ValidationResult
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.error is None

    def counts(self) -> dict[str, int]:
        r = self.result
        return {"rows": int(r.rows), "accepted": int(r.n_accepted), "rejected": int(r.n_rejected)}

    def rejects(self) -> pd.DataFrame:
        from geo.schema import REJECT_COLUMNS

        rej = pd.DataFrame(self.result.rejects) if self.result is not None else pd.DataFrame()
        for c in REJECT_COLUMNS:
            if c not in rej.columns:
                rej[c] = pd.Series(dtype=object)
        return rej[REJECT_COLUMNS].reset_index(drop=True)


def validate_upload(data: bytes, name: str, kind: str, areas: Any) -> UploadOutcome:
    """Read and validate an uploaded file; unreadable files give ``error``, never raise.

    Parameters
    ----------
    data : bytes
        File contents.
    name : str
        Original file name (its extension picks the reader).
    kind : {"incidents", "sightings"}
    areas : ForceAreas
    """
    kind = "sightings" if str(kind).lower().startswith("sight") else "incidents"
    from geo.readers import read_table

    try:
        raw = read_table(data, name=name)
    except ValueError as exc:  # UnreadableFile is a ValueError
        return UploadOutcome(kind=kind, error=str(exc))
    try:
        if kind == "incidents":
            from geo.incidents import validate_incidents

            result = validate_incidents(raw, areas)
        else:
            from geo.sightings import validate_sightings

            result = validate_sightings(raw, areas)
    except (ValueError, KeyError) as exc:  # e.g. no usable columns at all
        return UploadOutcome(kind=kind, error=f"{name}: {exc}")
    return UploadOutcome(kind=kind, result=result)


# ------------------------------------------------------------------ alerts
#: Seconds between two refreshes of the Live alerts table (``st.fragment(run_every=...)``).
ALERTS_REFRESH_S = 2.0
#: Most alerts read per refresh (newest first).
ALERTS_LIMIT = 500
ALERT_TABLE_COLUMNS = ["read", "subject", "stage", "warned in", "now in", "camera", "season"]


def watch_command(data_dir: Any) -> str:
    """The shell command that starts the watcher on this store (the folder quoted for a shell)."""
    import shlex

    return f"harewatch watch --incoming DIR --data-dir {shlex.quote(str(data_dir))}"


def alerts_view(alerts: pd.DataFrame, *, forces: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Alerts whose vehicle is *now in* one of ``forces`` (None: all), order kept (newest first).

    The sidebar's force filter is what a planner sets to "my force": an alert
    matters to the force the vehicle has just been read in.
    """
    df = pd.DataFrame(alerts).copy()
    if forces is None or not len(df):
        return df.reset_index(drop=True)
    keep = df["now_in"].astype(str).isin(list(forces)).to_numpy()
    return df[keep].reset_index(drop=True)


def london_when(times: pd.Series, now: pd.Timestamp | None = None, *, with_time: bool = True) -> pd.Series:
    """UTC times as short London labels: ``"Sat 02 Oct 21:15"``.

    The year is added (``"Sat 02 Oct 2021 21:15"``) when it is not the
    current London year, so old alerts are never mistaken for this year's.
    Missing times give ``""``.
    """
    t = pd.to_datetime(pd.Series(times), utc=True, errors="coerce").dt.tz_convert("Europe/London")
    now_l = (pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)).tz_convert("Europe/London")
    day = t.dt.strftime("%a %d %b")
    year = t.dt.strftime("%Y")
    clock = t.dt.strftime(" %H:%M") if with_time else ""
    this_year = (t.dt.year == now_l.year).to_numpy()
    out = pd.Series(np.where(this_year, day + clock, day + " " + year + clock), index=t.index, dtype=object)
    return out.where(t.notna().to_numpy(), "")


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


def alerts_table(alerts: pd.DataFrame, *, redact: bool, now: pd.Timestamp | None = None) -> pd.DataFrame:
    """Display table of alerts (``geo.alerts.ALERT_COLUMNS``), order kept (newest first).

    Columns :data:`ALERT_TABLE_COLUMNS`: London read time, plate (masked with
    ``geo.privacy`` when ``redact``), ladder stage, force and day of the
    warning, force now, camera id, season. All plain text for
    ``st.dataframe`` (which never interprets cell text). No free text is
    shown: the source file name stays out of the table.
    """
    from geo.privacy import mask_series

    if alerts is None or not len(alerts):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_TABLE_COLUMNS})
    a = pd.DataFrame(alerts)
    subject = a["subject"].astype(object).fillna("").astype(str)
    if redact:
        subject = mask_series(subject, "plate")
    stage = pd.to_numeric(a["stage"], errors="coerce")
    stage_txt = stage.map(lambda s: "" if pd.isna(s) else str(int(s)))
    label = a["stage_label"].astype(object).fillna("").astype(str)
    warned_day = london_when(a["warned_at"], now, with_time=False)
    warned = a["warned_in"].astype(object).fillna("").astype(str)
    warned = warned.where(warned_day.eq("").to_numpy(), warned + " · " + warned_day)
    return pd.DataFrame(
        {
            "read": london_when(a["read_at"], now).to_numpy(),
            "subject": subject.to_numpy(),
            "stage": (stage_txt + ": " + label).where(stage_txt.ne("").to_numpy(), label).to_numpy(),
            "warned in": warned.to_numpy(),
            "now in": a["now_in"].astype(object).fillna("").astype(str).to_numpy(),
            "camera": a["camera_id"].astype(object).fillna("").astype(str).to_numpy(),
            "season": a["season"].astype(object).fillna("").astype(str).to_numpy(),
        }
    )[ALERT_TABLE_COLUMNS]


def alert_metrics(alerts: pd.DataFrame, *, now: pd.Timestamp | None = None,
                  capped: bool = False) -> list[tuple[str, str, str | None]]:
    """(label, value, delta) for the Live alerts metric row, over the alerts shown.

    "Raised in last 24 h": raised by the watcher in the last 24 hours (``"500+"``
    when ``capped``, i.e. the read stopped at its row limit, and every row is
    that recent); "Shown": rows in the table; "Newest read": age of the most
    recent read.
    """
    now_ts = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    n = 0 if alerts is None else len(alerts)
    if not n:
        return [("Raised in last 24 h", "0", None), ("Shown", "0", None), ("Newest read", "–", None)]
    raised = pd.to_datetime(alerts["raised_at"], utc=True, errors="coerce")
    recent = int((raised >= now_ts - pd.Timedelta(hours=24)).sum())
    capped = capped and recent == n
    read = pd.to_datetime(alerts["read_at"], utc=True, errors="coerce")
    newest = read.max()
    age = None if pd.isna(newest) else (now_ts - newest).total_seconds()
    return [
        ("Raised in last 24 h", fmt_int(recent) + ("+" if capped else ""), None),
        ("Shown", fmt_int(n), None),
        ("Newest read", fmt_age(age), None),
    ]

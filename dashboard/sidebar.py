"""The shared sidebar: filters widgets <-> :class:`dashboard.state.Filters` <-> the URL.

:func:`draw` is called once per script run by ``dashboard/app.py``. On the
session's first run the widgets are seeded from the link that opened it
(``state.SessionKeys.LINK_PARAMS``); afterwards the widgets are the truth and
every run writes the filters back into the URL, so a copied link reproduces
the view. The date range is kept inside the data's extent for the season.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import streamlit as st

from dashboard import cache
from dashboard.state import EPS_RANGE_M, MIN_SAMPLES_RANGE, Filters, PlanInputs
from dashboard.state import SessionKeys as K
from dashboard.views.format import MONTHS, hours_in_words

__all__ = ["WIDGET_KEYS", "draw", "set_min_samples"]

_ALL_LABEL = "All seasons"
DAY_LABELS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The sidebar widgets seeded from the filters (all must survive a run).
WIDGET_KEYS: tuple[str, ...] = (K.SEASON, K.START_MONTH, K.FORCES, K.HOURS, K.HOURS_WRAP, K.DAYS, K.EPS_M,
                                K.MIN_SAMPLES, K.BRIEFING, K.REDACT, K.TILES)


def _widget_values(f: Filters) -> dict[str, object]:
    """The sidebar widgets' session-state values that show the filters ``f``."""
    wrap = f.hours[0] > f.hours[1]
    return {
        K.SEASON: f.season or _ALL_LABEL,
        K.START_MONTH: f.start_month,
        K.FORCES: list(f.forces),
        K.HOURS: (f.hours[1], f.hours[0]) if wrap else tuple(f.hours),
        K.HOURS_WRAP: wrap,
        K.DAYS: [DAY_LABELS[d] for d in f.days],
        K.CRIME_TYPES: list(f.crime_types),
        K.EPS_M: float(f.eps_m),
        K.MIN_SAMPLES: int(f.min_samples),
        K.BRIEFING: f.briefing,
        K.REDACT: f.redact,
        K.TILES: f.tiles,
    }


#: What a sidebar widget holds when Streamlit re-creates it without its state (first
#: option, empty selection, minimum).
_BLANK: dict[str, object] = {
    K.SEASON: _ALL_LABEL, K.START_MONTH: 1, K.FORCES: [], K.DAYS: [], K.CRIME_TYPES: [],
    K.EPS_M: float(EPS_RANGE_M[0]), K.MIN_SAMPLES: int(MIN_SAMPLES_RANGE[0]),
}


def _looks_reset(ss, last: Filters) -> bool:
    """Two or more sidebar widgets went back to their blank values in one run.

    A person changes one sidebar widget per run; several at once, each to its first
    option, empty or minimum, is the browser sending half-drawn inputs (a click on
    the page while it was still redrawing, seen in Chromium under load).
    """
    want = _widget_values(last)
    changed = [k for k in _BLANK if k in ss and ss[k] != want[k]]
    return len(changed) >= 2 and all(ss[k] == _BLANK[k] for k in changed)


def _seed_widgets(f: Filters) -> None:
    """Put filters into the sidebar widgets' session state."""
    ss = st.session_state
    for key, value in _widget_values(f).items():
        ss[key] = value
    ss[K.DATES_FROM_LINK] = (f.date_from, f.date_to)
    ss.pop(K.DATES_SCOPE, None)
    ss[K.PLAN] = f.plan  # the Plan page's inputs: not widgets here, kept across pages


def set_min_samples(n: int) -> None:
    """Button callback: set the sidebar's "Min incidents per hotspot" (before the next run draws it).

    The other sidebar widgets are put back to the filters of the last finished
    run: a click that lands while the browser is still redrawing the page sends
    widget values from half-drawn inputs (seen in Chromium: the radius at its
    minimum, 100 m), and the one-click fix must change only the minimum.
    """
    last = st.session_state.get(K.LAST_FILTERS)
    if isinstance(last, Filters):
        _seed_widgets(dataclasses.replace(last, min_samples=int(n)))
    st.session_state[K.MIN_SAMPLES] = int(n)


def _on_briefing_change() -> None:
    if st.session_state.get(K.BRIEFING):
        st.session_state[K.REDACT] = True  # masking defaults ON for a shared screen


def draw(dkey: cache.DataKey, force_names: tuple[str, ...], *,
         masking_locked: bool = False) -> tuple[Filters, list[str]]:
    """Draw the shared sidebar; returns the current filters (and writes them to the URL).

    ``masking_locked`` (shared mode): the masking toggle is on and cannot be turned off
    (``dashboard.context.build`` forces it on whatever the browser sends).
    """
    ss = st.session_state
    if K.SEEDED not in ss:
        qp = ss.get(K.LINK_PARAMS) or {k: st.query_params.get(k) for k in st.query_params}
        start_month = Filters.from_query_params(qp).start_month
        seasons = cache.seasons(dkey, start_month)
        f0 = Filters.from_query_params(qp, force_names=force_names, seasons=seasons,
                                       default_season=seasons[-1] if seasons else None)
        _seed_widgets(f0)
        ss[K.SEEDED] = True
    elif isinstance(ss.get(K.LAST_FILTERS), Filters) and (
            any(k not in ss for k in WIDGET_KEYS) or _looks_reset(ss, ss[K.LAST_FILTERS])):
        # Streamlit dropped the widgets' state: a page link clicked while a run was still
        # drawing (a fresh tab's slow first load) resets widget state to what the browser
        # had drawn, which may be nothing. Without this the sidebar came back at every
        # widget's minimum (all seasons, Jan, no forces, radius 100, min 2) and the next
        # click made those the filters. The browser can also send those blank values for
        # widgets it was redrawing (_looks_reset). Put back the filters of the last run.
        _seed_widgets(ss[K.LAST_FILTERS])

    sb = st.sidebar
    sb.header("Filters")
    season_box = sb.container()
    start_month = sb.selectbox("Season starts in", list(range(1, 13)), key=K.START_MONTH,
                               format_func=lambda m: MONTHS[m - 1])
    seasons = cache.seasons(dkey, int(start_month))
    options = [_ALL_LABEL, *reversed(seasons)]
    if ss.get(K.SEASON) not in options:
        ss[K.SEASON] = seasons[-1] if seasons else _ALL_LABEL
    season_choice = season_box.selectbox("Season", options, key=K.SEASON)
    season = None if season_choice == _ALL_LABEL else season_choice

    forces = sb.multiselect("Forces", list(force_names), key=K.FORCES)

    lo, hi = cache.date_extent(dkey, season, int(start_month))
    scope = (dkey, season, int(start_month))
    if ss.get(K.DATES_SCOPE) != scope:  # new season or new data: whole extent (or the URL's range)
        want_from, want_to = ss.pop(K.DATES_FROM_LINK, (None, None))
        ss[K.DATES] = _clamp_dates((want_from or lo, want_to or hi), lo, hi)
        ss[K.DATES_SCOPE] = scope
    else:
        current = ss.get(K.DATES)
        clamped = _clamp_dates(current, lo, hi)
        if tuple(current or ()) != clamped:
            ss[K.DATES] = clamped
    dates = sb.date_input("Date range", key=K.DATES, min_value=lo, max_value=hi)
    date_from, date_to = _date_pair(dates, lo, hi)

    hours = sb.slider("Hours of the day", 0, 23, key=K.HOURS,
                      help="London time, whole hours: 20-23 means 20:00 to 23:59")
    if sb.toggle("Across midnight", key=K.HOURS_WRAP,
                 help="Use the hours outside the middle: the slider at 4-20 then means 20:00 to 04:59"):
        hours = (hours[1], hours[0])
    sb.caption(f"Hours applied: **{hours_in_words(hours)}**, London time")
    days = sb.multiselect("Days of the week", list(DAY_LABELS), key=K.DAYS,
                          placeholder="Every day",
                          help="London time; a night's incidents after midnight count on the next day")
    types = _crime_type_filter(sb, dkey)
    sb.subheader("Hotspots")
    eps_m = sb.number_input("Hotspot radius eps (m)", min_value=EPS_RANGE_M[0], max_value=EPS_RANGE_M[1],
                            step=100.0, key=K.EPS_M, help="DBSCAN radius in metres")
    min_samples = sb.number_input("Min incidents per hotspot", min_value=MIN_SAMPLES_RANGE[0],
                                  max_value=MIN_SAMPLES_RANGE[1], step=1, key=K.MIN_SAMPLES)
    sb.subheader("Display")
    briefing = sb.toggle("Briefing mode", key=K.BRIEFING, on_change=_on_briefing_change,
                         help="Large type, high contrast; masks plates and ids")
    if masking_locked:
        ss[K.REDACT] = True
    redact = sb.toggle("Mask plates and ids", key=K.REDACT, disabled=masking_locked,
                       help="Always on in shared mode: an analyst reveals one subject at a time, "
                            "with a reason, on the Reveal page" if masking_locked else None)
    tiles = sb.toggle("Map tiles (online only)", key=K.TILES,
                      help="OpenStreetMap background; needs internet. Off: outlines only.")

    filters = Filters(
        season=season,
        start_month=int(start_month),
        forces=tuple(f for f in force_names if f in set(forces)),
        date_from=date_from,
        date_to=date_to,
        hours=(int(hours[0]), int(hours[1])),
        days=tuple(DAY_LABELS.index(d) for d in days if d in DAY_LABELS),
        crime_types=tuple(types),
        eps_m=float(eps_m),
        min_samples=int(min_samples),
        briefing=bool(briefing),
        redact=bool(redact),
        tiles=bool(tiles),
        plan=ss.get(K.PLAN) or PlanInputs(),
    )
    ss[K.LAST_FILTERS] = filters
    qp = filters.to_query_params()
    if {k: st.query_params.get(k) for k in st.query_params} != qp:
        st.query_params.from_dict(qp)
    if not filters.forces:
        sb.warning("No force selected: nothing to show.")
    _say_unknown_times(sb, dkey, filters)
    return filters, seasons


def _crime_type_filter(sb, dkey: cache.DataKey) -> list[str]:
    """Crime types to show; only offered when the data records them (data.police.uk files)."""
    options = cache.crime_types(dkey)
    chosen = [t for t in st.session_state.get(K.CRIME_TYPES) or [] if t in options]
    st.session_state[K.CRIME_TYPES] = chosen
    if not options:
        return []
    return sb.multiselect("Crime types", options, key=K.CRIME_TYPES, placeholder="Every type",
                          help="Hare coursing is recorded as anti-social behaviour, 'Other crime' "
                               "or a force's own code: choose what your force uses")


def _say_unknown_times(sb, dkey: cache.DataKey, filters: Filters) -> None:
    """Rows an hours or days filter cannot judge (month-only dates) are left out, and said so."""
    if filters.all_hours and not filters.days and filters.date_from is None and filters.date_to is None:
        return
    left_out = cache.incidents(dkey, filters.scope).attrs.get("excluded_unknown_time", 0)
    if left_out:
        sb.caption(f"{left_out:,} incidents with month-only dates (no day or hour known) are "
                   "left out by the date, hours or days filter.")


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

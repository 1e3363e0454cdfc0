"""Trends: incidents per month and force, season against season, before/after a date."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import trends as view
from dashboard.views.format import fmt_int, fmt_pct

ctx = context.get_context()
f = ctx.filters
every = ctx.all_seasons_incidents()  # forces + hours filters, every season
totals = view.season_totals(every, f.start_month)

st.title("Trends")
st.caption(f"Forces: {len(f.forces)} of {len(ctx.force_names)} · hours {f.hours[0]:02d}:00–{f.hours[1]:02d}:59 · "
           "season and date filters do not apply to the season-against-season view")

st.subheader("Season against season")
pair = view.season_pair(totals, f.season)
if pair is not None:
    cur, prev = pair
    widgets.metric_row([
        (f"Incidents {prev['season']}", fmt_int(prev["incidents"]), None),
        (f"Incidents {cur['season']}", fmt_int(cur["incidents"]),
         f"{int(cur['change']):+,} ({fmt_pct(cur['change_pct'])})"),
    ])
    st.text(view.season_sentence(cur, prev))
widgets.show_table(view.season_totals_display(totals), redact=False, key=K.SEASON_TOTALS, briefing=f.briefing)

st.subheader("Incidents per month")
monthly = view.monthly_counts(every)
if len(monthly):
    st.altair_chart(widgets.monthly_chart(monthly, briefing=f.briefing), width="stretch")
else:
    st.info("No incidents with these filters.")

st.subheader("Per force and season")
widgets.show_table(view.per_force_season(every, f.start_month), redact=False, key=K.PER_FORCE_SEASON,
                   briefing=f.briefing)

st.subheader("Before and after a date")
lo, hi = view.day_range(every)
default = view.default_compare_date(ctx.seasons, f.start_month, lo, hi)
when = st.date_input("Compare before/after", value=default, min_value=lo, max_value=hi, key=K.TREND_WHEN,
                     help="E.g. the day the seven-force agreement started")
if isinstance(when, dt.date):
    ba = view.before_after(every, when)
    widgets.show_table(ba, redact=False, key=K.BEFORE_AFTER, briefing=f.briefing)
    st.text(view.before_after_sentence(ba))

"""Trends: incidents per month and force, season against season, before/after a date."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import views

ctx = views.get_context()
f = ctx.filters
every = ctx.all_seasons_incidents()  # forces + hours filters, every season
totals = views.season_totals(every, f.start_month)

st.title("Trends")
st.caption(f"Forces: {len(f.forces)} of {len(ctx.force_names)} · hours {f.hours[0]:02d}:00–{f.hours[1]:02d}:59 · "
           "season and date filters do not apply to the season-against-season view")

st.subheader("Season against season")
pair = views.season_pair(totals, f.season)
if pair is not None:
    cur, prev = pair
    views.metric_row([
        (f"Incidents {prev['season']}", views.fmt_int(prev["incidents"]), None),
        (f"Incidents {cur['season']}", views.fmt_int(cur["incidents"]),
         f"{int(cur['change']):+,} ({views.fmt_pct(cur['change_pct'])})"),
    ])
    st.text(views.season_sentence(cur, prev))
views.show_table(views.season_totals_display(totals), redact=False, key="season_totals", briefing=f.briefing)

st.subheader("Incidents per month")
monthly = views.monthly_counts(every)
if len(monthly):
    st.altair_chart(views.monthly_chart(monthly, briefing=f.briefing), width="stretch")
else:
    st.info("No incidents with these filters.")

st.subheader("Per force and season")
views.show_table(views.per_force_season(every, f.start_month), redact=False, key="per_force_season", briefing=f.briefing)

st.subheader("Before and after a date")
lo, hi = views.day_range(every)
default = views.default_compare_date(ctx.seasons, f.start_month, lo, hi)
when = st.date_input("Compare before/after", value=default, min_value=lo, max_value=hi, key="trend_when",
                     help="E.g. the day the seven-force agreement started")
if isinstance(when, dt.date):
    ba = views.before_after(every, when)
    views.show_table(ba, redact=False, key="before_after", briefing=f.briefing)
    st.text(views.before_after_sentence(ba))

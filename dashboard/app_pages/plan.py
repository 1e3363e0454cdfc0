"""Plan: where to put N patrol crews for a days/hours window, and how that did in past seasons."""

from __future__ import annotations

import dataclasses

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, context, widgets
from dashboard.state import CREWS_RANGE, PLAN_RADIUS_RANGE_M, PlanInputs
from dashboard.state import SessionKeys as K
from dashboard.views import plan as view
from dashboard.views.format import fmt_int, md_escape, slug
from geo.planning import PlanInputError, parse_hours

ctx = context.get_context()
f = ctx.filters
ss = st.session_state
seed = {K.PLAN_CREWS: f.plan.crews, K.PLAN_RADIUS: float(f.plan.radius_m), K.PLAN_DAYS: view.days_choice(f.plan.days),
        K.PLAN_HOURS: f.plan.hours, K.PLAN_FORCES: list(f.plan.forces or f.forces),
        K.PLAN_AS_OF: f.plan.as_of if f.plan.as_of in ctx.seasons or not f.plan.as_of else view.AS_OF_DATE,
        K.PLAN_AS_OF_DATE: view.as_of_date(f.plan.as_of)}
for key, value in seed.items():  # page widgets forget their state on other pages: seed from the plan
    if key not in ss:
        ss[key] = value
if ss[K.PLAN_AS_OF] not in (opts := view.as_of_options(ctx.seasons)):
    ss[K.PLAN_AS_OF] = view.AS_OF_LATEST

st.title("Plan")
st.caption("Where to put the crews: circles placed where the window's incidents are, recent ones "
           "counting most (maximal covering); the backtest plans each past season from what was known "
           "before it. Method and assumptions: geo/planning.py.")
c = st.columns([1, 1, 2, 1])
crews = c[0].number_input("Crews", *CREWS_RANGE, step=1, key=K.PLAN_CREWS)
radius = c[1].number_input("Radius (m)", *PLAN_RADIUS_RANGE_M, step=500.0, key=K.PLAN_RADIUS)
days = c[2].multiselect("Days (a night belongs to the day it starts)", view.DAY_LABELS, key=K.PLAN_DAYS,
                        help="None picked: every day")
hours_text = c[3].text_input("Hours (UK clock)", key=K.PLAN_HOURS, placeholder="18-02",
                             help="Start-end in whole hours, e.g. 18-02 across midnight; empty: all day")
c = st.columns([3, 2])
forces = c[0].multiselect("Forces crews may go to", list(ctx.force_names), key=K.PLAN_FORCES)
when = c[1].selectbox("Plan as of", opts, key=K.PLAN_AS_OF, format_func=view.as_of_label)
as_of = "" if when == view.AS_OF_LATEST else when
if when == view.AS_OF_DATE:
    day = st.date_input("Plan with incidents before", key=K.PLAN_AS_OF_DATE)
    as_of = day.isoformat() if day else ""
try:
    hours = parse_hours(hours_text).token if hours_text.strip() else ""
except PlanInputError as exc:
    st.warning(md_escape(exc))
    hours = f.plan.hours
chosen = tuple(x for x in ctx.force_names if x in set(forces))
plan_in = PlanInputs(crews=int(crews), radius_m=float(radius), days=view.days_from_choice(days), hours=hours,
                     forces=() if chosen == f.forces else chosen, as_of=as_of)
if plan_in != f.plan:  # the inputs live in the URL, so a copied link reproduces the plan
    ss[K.PLAN] = plan_in
    f = f.with_(plan=plan_in)
    ctx = dataclasses.replace(ctx, filters=f)
    st.query_params.from_dict(f.to_query_params())

try:
    result, backtest = ctx.plan()
except PlanInputError as exc:
    st.error(md_escape(exc))
    st.stop()

widgets.metric_row([
    ("Crews placed", f"{result.params['crews_placed']} of {result.params['crews']}", None),
    ("Window incidents used", fmt_int(result.params["n_used"]), None),
    ("Expected per season in the circles", f"{result.areas['expected_incidents'].sum():.0f}", None),
])
st.caption(md_escape(f"{result.params['window']} · as of {result.params['as_of'][:10]} · "
                     + view.exclusion_sentence(result.excluded, result.params["window"])))
left, right = st.columns([3, 2], gap="medium")
with left:
    fmap = cache.plan_map(ctx.plan_request(), briefing=f.briefing, tiles=f.tiles)
    st_folium(fmap, key=K.PLAN_MAP, height=560, use_container_width=True, returned_objects=[])
    st.caption(md_escape(ctx.areas.attribution))
with right:
    st.subheader("Backtest")
    st.markdown(md_escape(view.plan_summary(result, backtest)))
    widgets.show_table(view.backtest_view(backtest), redact=f.redact, key=K.PLAN_BACKTEST, briefing=f.briefing)
st.subheader("Where to put the crews")
widgets.show_table(view.plan_table(result.areas), redact=f.redact, key=K.PLAN_TABLE, briefing=f.briefing)
d1, d2 = st.columns(2)
name = f"harewatch_plan_{slug(result.params['window'])}"
d1.download_button("Download plan (CSV)", data=ctx.download({"file": f"{name}.csv", "rows": len(result.areas)},
                                                          lambda: view.plan_csv(result)), file_name=f"{name}.csv",
                   mime="text/csv", disabled=not len(result.areas))
d2.download_button("Download circles (GeoJSON)", data=ctx.download({"file": f"{name}.geojson", "rows": len(result.areas)},
                                                                  lambda: view.plan_geojson(result)),
                   file_name=f"{name}.geojson", mime="application/geo+json", disabled=not len(result.areas))

"""Briefing: the morning briefing on a projector (large type, masked by default)."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import briefing as view
from dashboard.views import plan as plan_view
from dashboard.views.format import md_escape, slug
from dashboard.views.hoppers import hoppers_table, hoppers_view, n_subjects
from dashboard.views.hotspots import hotspot_table
from dashboard.views.trends import season_totals
from geo.planning import PlanInputError

ctx = context.get_context()
f = ctx.filters
inc = ctx.incidents()
hs = ctx.hotspots()
every = ctx.all_seasons_incidents()
MASK = True  # the briefing page and its pack never show plates or ids in full
hoppers = hoppers_view(ctx.ladder(), season=f.season, forces=f.forces, only_hoppers=True, min_stage=2)
figures = view.briefing_figures(inc, hs, hoppers, season_totals(every, f.start_month), f.season)
try:  # tonight's plan: the Plan page's inputs (in the URL)
    tonight, plan_req = ctx.plan()[0], ctx.plan_request()
except PlanInputError as exc:
    tonight, plan_req, plan_problem = None, None, str(exc)

st.title(md_escape(view.briefing_title(ctx.view_label)))
if not f.briefing:
    st.info("Tip: turn on **Briefing mode** in the sidebar for large type and masked plates on a projector.")
st.caption("This page is for a shared screen: plates and ids are always masked here and in the pack.")

widgets.metric_row([(label, value, delta) for label, value, delta in figures])

fmap = cache.overview_map(cache.MapRequest(
    dkey=ctx.dkey, scope=f.scope, eps_m=f.eps_m, min_samples=f.min_samples,
    redact=MASK, briefing=True, tiles=f.tiles, plan=plan_req,
))
st_folium(fmap, key=K.BRIEFING_MAP, height=560 if f.briefing else 600, use_container_width=True,
          returned_objects=[])
st.caption(md_escape(ctx.areas.attribution))

st.subheader("Top 5 hotspots")
ranked = hotspot_table(hs.hotspots, ctx.areas, season_selected=f.season is not None)
top = view.briefing_hotspots(ranked)
widgets.show_table(top, redact=MASK, key=K.BRIEFING_HOTSPOTS, briefing=True)

if tonight is not None:
    st.subheader(md_escape(plan_view.tonight_title(tonight)))
    crews_table = plan_view.plan_table(tonight.areas)
    widgets.show_table(crews_table, redact=MASK, key=K.BRIEFING_PLAN, briefing=True)
    st.caption("Circles on the map; inputs and backtest on the Plan page.")
else:
    crews_table = None
    st.info("No patrol plan: " + md_escape(plan_problem))

st.subheader("Border-hoppers (stage 2 and 3)")
table = view.briefing_hoppers(hoppers_table(hoppers))
widgets.show_table(table[view.BRIEFING_HOPPER_COLUMNS], redact=MASK, key=K.BRIEFING_HOPPERS, briefing=True)
if n_subjects(hoppers) > len(table):
    st.caption(f"Most recent {len(table)} of {n_subjects(hoppers)}: full list on the Border-hoppers page.")

st.download_button(
    "Download briefing pack",
    data=ctx.download({"file": f"harewatch_briefing_{slug(ctx.season_label)}.zip", "masked": True,
                       "hotspots": len(top), "hoppers": len(table)},
                      lambda: context.briefing_pack_bytes(
                          ctx, figures, top, table[view.BRIEFING_HOPPER_COLUMNS], plan=crews_table,
                          plan_title=plan_view.tonight_title(tonight) if tonight else "")),
    file_name=f"harewatch_briefing_{slug(ctx.season_label)}" + ("_SYNTHETIC_DEMO" if ctx.demo else "") + ".zip",
    mime="application/zip",
    type="primary",
    help="Zip made on the server: map, figures, tonight's crews, top hotspots and border-hoppers "
         "(plates and ids masked)",
)

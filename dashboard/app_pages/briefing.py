"""Briefing: the morning briefing on a projector (large type, masked by default)."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import briefing as view
from dashboard.views.format import md_escape, slug
from dashboard.views.hoppers import hoppers_table, hoppers_view, n_subjects
from dashboard.views.hotspots import hotspot_table
from dashboard.views.trends import season_totals

ctx = context.get_context()
f = ctx.filters
inc = ctx.incidents()
hs = ctx.hotspots()
every = ctx.all_seasons_incidents()
MASK = True  # the briefing page and its pack never show plates or ids in full
hoppers = hoppers_view(ctx.ladder(), season=f.season, forces=f.forces, only_hoppers=True, min_stage=2)
figures = view.briefing_figures(inc, hs, hoppers, season_totals(every, f.start_month), f.season)

st.title(f"Hare coursing briefing · {md_escape(ctx.season_label)}")
if not f.briefing:
    st.info("Tip: turn on **Briefing mode** in the sidebar for large type and masked plates on a projector.")
st.caption("This page is for a shared screen: plates and ids are always masked here and in the pack.")

widgets.metric_row([(label, value, delta) for label, value, delta in figures])

left, right = st.columns([3, 2], gap="large")
with left:
    fmap = cache.overview_map(cache.MapRequest(
        dkey=ctx.dkey, scope=f.scope, eps_m=f.eps_m, min_samples=f.min_samples,
        redact=MASK, briefing=True, tiles=f.tiles,
    ))
    st_folium(fmap, key=K.BRIEFING_MAP, height=600, use_container_width=True, returned_objects=[])
    st.caption(md_escape(ctx.areas.attribution))
with right:
    st.subheader("Top 5 hotspots")
    ranked = hotspot_table(hs.hotspots, ctx.areas, season_selected=f.season is not None)
    top = view.briefing_hotspots(ranked)
    widgets.show_table(top, redact=MASK, key=K.BRIEFING_HOTSPOTS, briefing=True)

st.subheader("Border-hoppers (stage 2 and 3)")
table = view.briefing_hoppers(hoppers_table(hoppers))
widgets.show_table(table[view.BRIEFING_HOPPER_COLUMNS], redact=MASK, key=K.BRIEFING_HOPPERS, briefing=True)
if n_subjects(hoppers) > len(table):
    st.caption(f"Most recent {len(table)} of {n_subjects(hoppers)}: full list on the Border-hoppers page.")

st.download_button(
    "Download briefing pack",
    data=ctx.download({"file": f"harewatch_briefing_{slug(ctx.season_label)}.zip", "masked": True,
                       "hotspots": len(top), "hoppers": len(table)},
                      lambda: context.briefing_pack_bytes(ctx, figures, top, table)),
    file_name=f"harewatch_briefing_{slug(ctx.season_label)}.zip",
    mime="application/zip",
    type="primary",
    help="Zip made on the server: map, figures, top hotspots and border-hoppers (plates and ids masked)",
)

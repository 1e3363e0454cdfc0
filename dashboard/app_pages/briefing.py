"""Briefing: the morning briefing on a projector (large type, masked by default)."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, views

ctx = views.get_context()
f = ctx.filters
inc = ctx.incidents()
hs = ctx.hotspots()
every = ctx.all_seasons_incidents()
MASK = True  # the briefing page and its pack never show plates or ids in full
hoppers = views.hoppers_view(ctx.ladder(), season=f.season, forces=f.forces, only_hoppers=True, min_stage=2)
figures = views.briefing_figures(inc, hs, hoppers, views.season_totals(every, f.start_month), f.season)

st.title(f"Hare coursing briefing · {views.md_escape(ctx.season_label)}")
if not f.briefing:
    st.info("Tip: turn on **Briefing mode** in the sidebar for large type and masked plates on a projector.")
st.caption("This page is for a shared screen: plates and ids are always masked here and in the pack.")

views.metric_row([(label, value, delta) for label, value, delta in figures])

left, right = st.columns([3, 2], gap="large")
with left:
    fmap = cache.overview_map(
        ctx.dkey, f.scope, f.eps_m, f.min_samples, (), MASK, True, f.tiles, False,
    )
    st_folium(fmap, key="briefing_map", height=600, use_container_width=True, returned_objects=[])
    st.caption(views.md_escape(ctx.areas.attribution))
with right:
    st.subheader("Top 5 hotspots")
    ranked = views.hotspot_table(hs.hotspots, ctx.areas, season_selected=f.season is not None)
    top = views.briefing_hotspots(ranked)
    views.show_table(top, redact=MASK, key="briefing_hotspots", briefing=True)

st.subheader("Border-hoppers (stage 2 and 3)")
table = views.briefing_hoppers(views.hoppers_table(hoppers))
views.show_table(table[views.BRIEFING_HOPPER_COLUMNS], redact=MASK, key="briefing_hoppers", briefing=True)
if views.n_subjects(hoppers) > len(table):
    st.caption(f"Most recent {len(table)} of {views.n_subjects(hoppers)}: full list on the Border-hoppers page.")

st.download_button(
    "Download briefing pack",
    data=lambda: views.briefing_pack_bytes(ctx, figures, top, table),
    file_name=f"harewatch_briefing_{views.slug(ctx.season_label)}.zip",
    mime="application/zip",
    type="primary",
    help="Zip made on the server: map, figures, top hotspots and border-hoppers (plates and ids masked)",
)

"""Map: where the incidents and hotspots are; click for details; trace vehicles."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, views

ctx = views.get_context()
f = ctx.filters
inc = ctx.incidents()
hs = ctx.hotspots()
hoppers = views.hoppers_view(ctx.ladder(), season=f.season, forces=f.forces)

st.title("Map")
st.caption(f"Season: {views.md_escape(ctx.season_label)} · forces: {len(f.forces)} of {len(ctx.force_names)}")
views.metric_row([
    ("Incidents", views.fmt_int(len(inc)), None),
    ("Hotspots", views.fmt_int(len(hs.hotspots)), None),
    ("Border-hoppers", views.fmt_int(views.n_subjects(hoppers)), None),
    ("Not in a hotspot", views.fmt_int(hs.noise), None),
], help_={
    "Border-hoppers": "Subjects (vehicles or people) with incidents in two or more forces this season",
    "Not in a hotspot": "Incidents DBSCAN leaves as noise with these settings",
})

c1, c2 = st.columns([3, 1])
plates = views.plate_options(inc)
chosen = c1.multiselect(
    "Trace vehicles",
    plates,
    key="map_vehicles",
    format_func=lambda p: views.plate_label(p, f.redact),
    help="Plates linked to incidents in view, most incidents first; draws their ANPR trails",
    max_selections=10,
)
heat = c2.toggle("Heat map", key="map_heat", help="Incident density instead of points")

left, right = st.columns([3, 1], gap="medium")
with left:
    fmap = cache.overview_map(
        ctx.dkey, f.scope, f.eps_m, f.min_samples, tuple(sorted(chosen)), f.redact, f.briefing, f.tiles, heat,
    )
    out = st_folium(
        fmap,
        key="overview_map",
        height=650,
        use_container_width=True,
        returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
    )
    st.caption(views.md_escape(ctx.areas.attribution))
with right:
    st.subheader("Details")
    traced = cache.trails(ctx.dkey, tuple(sorted(chosen)))
    picked = views.clicked_details((out or {}).get("last_object_clicked"), hs.hotspots, inc, traced)
    if picked is None:
        st.info("Click a hotspot, an incident or a traced vehicle on the map.")
    elif picked[0] == "hotspot":
        row = views.hotspot_table(picked[1], ctx.areas, season_selected=f.season is not None)
        views.static_table(views.record_table(row, f.redact))
    elif picked[0] == "vehicle":
        plate = str(picked[1]["vrm"].iloc[0])
        views.static_table(views.record_table(views.trail_summary(traced[traced["vrm"] == plate]), f.redact))
        views.static_table(views.record_table(picked[1], f.redact, ["vrm", "at", "kind", "ref", "force", "trip"]))
    else:
        views.static_table(views.record_table(picked[1], f.redact, views.INCIDENT_FIELDS))
    if chosen:
        st.subheader("Traced vehicles")
        views.show_table(views.trail_summary(traced), redact=f.redact, briefing=f.briefing)

"""Map: where the incidents and hotspots are; click for details; trace vehicles."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, casework, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import map as view
from dashboard.views.format import fmt_int, md_escape
from dashboard.views.hoppers import hoppers_view, n_subjects
from dashboard.views.hotspots import hotspot_table

ctx = context.get_context()
f = ctx.filters
inc = ctx.incidents()
hs = ctx.hotspots()

st.title("Map")
st.caption(f"Season: {md_escape(ctx.season_label)} · forces: {len(f.forces)} of {len(ctx.force_names)}")
# Filled after the map is sent: the border-hopper count needs the ladder, the slowest input.
metrics = st.container()

c1, c2 = st.columns([3, 1])
plates = view.plate_options(inc)
chosen = c1.multiselect(
    "Trace vehicles",
    plates,
    key=K.MAP_VEHICLES,
    format_func=lambda p: view.plate_label(p, f.redact),
    help="Plates linked to incidents in view, most incidents first; draws their ANPR trails",
    max_selections=10,
)
heat = c2.toggle("Heat map", key=K.MAP_HEAT, help="Incident density instead of points")
traced_plates = tuple(sorted(chosen))

left, right = st.columns([3, 1], gap="medium")
with left:
    fmap = cache.overview_map(cache.MapRequest(
        dkey=ctx.dkey, scope=f.scope, eps_m=f.eps_m, min_samples=f.min_samples, plates=traced_plates,
        redact=f.redact, briefing=f.briefing, tiles=f.tiles, heat=heat,
    ))
    out = st_folium(
        fmap,
        key=K.MAP,
        height=650,
        use_container_width=True,
        returned_objects=["last_object_clicked", "last_object_clicked_tooltip"],
    )
    st.caption(md_escape(ctx.areas.attribution))
with metrics:
    hoppers = hoppers_view(ctx.ladder(), season=f.season, forces=f.forces)
    widgets.metric_row([
        ("Incidents", fmt_int(len(inc)), None),
        ("Hotspots", fmt_int(len(hs.hotspots)), None),
        ("Border-hoppers", fmt_int(n_subjects(hoppers)), None),
        ("Not in a hotspot", fmt_int(hs.noise), None),
    ], help_={
        "Border-hoppers": "Subjects (vehicles or people) with incidents in two or more forces this season",
        "Not in a hotspot": "Incidents DBSCAN leaves as noise with these settings",
    })
with right:
    st.subheader("Details")
    traced = cache.trails(ctx.dkey, traced_plates)
    picked = view.clicked_details((out or {}).get("last_object_clicked"), hs.hotspots, inc, traced)
    if picked is None:
        st.info("Click a hotspot, an incident or a traced vehicle on the map.")
    elif picked[0] == "hotspot":
        row = hotspot_table(picked[1], ctx.areas, season_selected=f.season is not None)
        widgets.static_table(view.record_table(row, f.redact))
    elif picked[0] == "vehicle":
        plate = str(picked[1]["vrm"].iloc[0])
        widgets.static_table(view.record_table(view.trail_summary(traced[traced["vrm"] == plate]), f.redact))
        widgets.static_table(view.record_table(picked[1], f.redact, ["vrm", "at", "kind", "ref", "force", "trip"]))
    else:
        widgets.static_table(view.record_table(picked[1], f.redact, view.INCIDENT_FIELDS))
        origin = view.incident_origin(picked[1])
        casework.plate_search_box(ctx, easting_m=origin[0], northing_m=origin[1], at_iso=origin[2],
                                  key="map", where="this incident")
    if chosen:
        st.subheader("Traced vehicles")
        widgets.show_table(view.trail_summary(traced), redact=f.redact, briefing=f.briefing)

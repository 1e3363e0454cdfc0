"""Hotspots: the ranked patrol list ("where do I put two crews on Friday night?")."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, context, sidebar, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import hotspots as view
from dashboard.views.format import fmt_int, md_escape, slug
from geo.hotspots import RANKING_RULE

ctx = context.get_context()
f = ctx.filters
hs = ctx.hotspots()
table = view.hotspot_table(hs.hotspots, ctx.areas, season_selected=f.season is not None,
                           significance=ctx.hotspot_significance())

st.title("Hotspots")
st.caption(
    f"{md_escape(ctx.view_label)} · DBSCAN radius {f.eps_m:,.0f} m, "
    f"at least {f.min_samples} incidents · trend against the previous season, same forces and hours"
)
widgets.metric_row([
    ("Hotspots", fmt_int(len(table)), None),
    ("Incidents in hotspots", fmt_int(int(table["incidents"].sum()) if len(table) else 0), None),
    ("Not in a hotspot", fmt_int(hs.noise), None),
    ("Cross-border hotspots", fmt_int(view.n_cross_border(hs.hotspots)), None),
])

st.caption("**Significant**: Getis-Ord Gi* finds more incidents here than chance would put there "
           "(false discovery rate 5 %). **Trend**: the place's pattern over every season (new, "
           "consecutive, intensifying, persistent, diminishing, sporadic, historical, none). "
           "Definitions: geo/significance.py.")

if not len(table):
    text, suggestion = view.no_hotspot_advice(
        len(ctx.incidents()), f.min_samples, f.eps_m,
        cache.largest_min_samples(ctx.dkey, f.scope, f.eps_m) if len(ctx.incidents()) else 0)
    st.info(text, icon=":material/tune:")
    if suggestion is not None:
        st.button(f"Set min incidents per hotspot to {suggestion}", key=K.HOTSPOT_SUGGEST, type="primary",
                  on_click=sidebar.set_min_samples, args=(suggestion,))

fmap = cache.overview_map(cache.MapRequest(
    dkey=ctx.dkey, scope=f.scope, eps_m=f.eps_m, min_samples=f.min_samples, redact=f.redact,
    briefing=f.briefing, tiles=f.tiles, show=("incidents", "hotspots"),
))
st_folium(fmap, key=K.HOTSPOT_MAP, height=460, use_container_width=True, returned_objects=[])
st.caption(md_escape(ctx.areas.attribution) + " · place names: GeoNames (CC BY 4.0)")

if len(table):
    st.caption("**Ranking.** " + md_escape(RANKING_RULE))
    widgets.show_table(table, redact=f.redact, key=K.HOTSPOT_TABLE, column_config=widgets.HOTSPOT_COLUMN_CONFIG,
                       briefing=f.briefing)
    notes = view.significance_notes(table)
    if notes:
        shown = "  \n".join(md_escape(n) for n in notes[:10])
        more = f"  \n…and {len(notes) - 10} more" if len(notes) > 10 else ""
        st.info(shown + more, icon=":material/help:")

stem = f"harewatch_hotspots_{slug(ctx.season_label)}" + ("_SYNTHETIC_DEMO" if ctx.demo else "")
c1, c2 = st.columns(2)
c1.download_button(
    "Download hotspots (CSV)",
    data=ctx.download({"file": f"{stem}.csv", "rows": len(table)}, lambda: view.hotspots_csv(table)),
    file_name=f"{stem}.csv",
    mime="text/csv",
    disabled=not len(table),
    help="The table above, column for column; times are London time with their UTC offset",
)
c2.download_button(
    "Download hotspots (GeoJSON)",
    data=ctx.download({"file": f"{stem}.geojson", "rows": len(table)}, lambda: view.hotspots_geojson(hs)),
    file_name=f"{stem}.geojson",
    mime="application/geo+json",
    disabled=not len(table),
)

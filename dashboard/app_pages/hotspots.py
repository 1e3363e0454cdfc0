"""Hotspots: the ranked patrol list ("where do I put two crews on Friday night?")."""

from __future__ import annotations

import streamlit as st

from dashboard import context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import hotspots as view
from dashboard.views.format import fmt_int, md_escape, slug
from geo.hotspots import RANKING_RULE

ctx = context.get_context()
f = ctx.filters
hs = ctx.hotspots()
table = view.hotspot_table(hs.hotspots, ctx.areas, season_selected=f.season is not None)

st.title("Hotspots")
st.caption(
    f"Season: {md_escape(ctx.season_label)} · DBSCAN radius {f.eps_m:,.0f} m, "
    f"at least {f.min_samples} incidents · trend against the previous season, same forces and hours"
)
widgets.metric_row([
    ("Hotspots", fmt_int(len(table)), None),
    ("Incidents in hotspots", fmt_int(int(table["incidents"].sum()) if len(table) else 0), None),
    ("Not in a hotspot", fmt_int(hs.noise), None),
    ("Cross-border hotspots", fmt_int(view.n_cross_border(hs.hotspots)), None),
])

st.caption("**Ranking.** " + md_escape(RANKING_RULE))

if not len(table):
    st.info("No hotspot with these filters: widen the dates or forces, raise the radius or "
            "lower the minimum incidents per hotspot.")
else:
    widgets.show_table(table, redact=f.redact, key=K.HOTSPOT_TABLE, column_config=widgets.HOTSPOT_COLUMN_CONFIG,
                       briefing=f.briefing)

c1, c2 = st.columns(2)
c1.download_button(
    "Download hotspots (CSV)",
    data=ctx.download({"file": f"harewatch_hotspots_{slug(ctx.season_label)}.csv", "rows": len(table)},
                      lambda: view.hotspots_csv(hs)),
    file_name=f"harewatch_hotspots_{slug(ctx.season_label)}.csv",
    mime="text/csv",
    disabled=not len(table),
)
c2.download_button(
    "Download hotspots (GeoJSON)",
    data=ctx.download({"file": f"harewatch_hotspots_{slug(ctx.season_label)}.geojson",
                       "rows": len(table)}, lambda: view.hotspots_geojson(hs)),
    file_name=f"harewatch_hotspots_{slug(ctx.season_label)}.geojson",
    mime="application/geo+json",
    disabled=not len(table),
)

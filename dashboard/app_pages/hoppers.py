"""Border-hoppers: who is on which rung of the seven-force ladder, with the evidence."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, views
from geo.offenders import STAGES

ctx = views.get_context()
f = ctx.filters

st.title("Border-hoppers")
st.caption(
    "Coursing ASB in any of the seven forces counts in all: 1st incident a warning, "
    "2nd (any force) proactive ASB measures, 3rd prosecution. The ladder restarts each season."
)

c1, c2, c3 = st.columns([2, 2, 1])
now_in = c1.selectbox(
    "Now in force", ["Any force", *ctx.force_names], key="hop_now_in",
    help="Subjects whose latest incident is in this force: warned elsewhere, now in our area",
)
min_stage = c2.select_slider(
    "Ladder stage at least", options=list(STAGES), key="hop_min_stage",
    format_func=lambda s: f"{s}: {STAGES[s]}",
)
only_hoppers = c3.toggle("Only border-hoppers", value=True, key="hop_only",
                         help="Incidents in two or more forces")

rows = views.hoppers_view(
    ctx.ladder(), season=f.season, forces=f.forces,
    now_in=None if now_in == "Any force" else now_in, only_hoppers=only_hoppers, min_stage=min_stage,
)
table = views.hoppers_table(rows)
views.metric_row([
    ("Subjects", views.fmt_int(views.n_subjects(rows)), None),
    *[(f"Stage {s}: {STAGES[s]}", views.fmt_int(int((table["stage"] == s).sum())), None) for s in STAGES],
])

if not len(table):
    st.info("Nobody matches these filters.")
    st.stop()

views.show_table(table, redact=f.redact, key="hoppers_table", briefing=f.briefing)
st.download_button(
    "Download this list (CSV)",
    data=lambda: views.hoppers_csv(rows, redact=f.redact),
    file_name=f"harewatch_border_hoppers_{views.slug(ctx.season_label)}.csv",
    mime="text/csv",
)

st.subheader("Timeline and trail")
labels = views.subject_options(rows, redact=f.redact)
picked = st.multiselect(
    "Subjects", list(labels), key="hop_subjects", max_selections=5,  # values: "kind|subject|season"
    format_func=lambda i: labels[i],
    help="Pick one or more subjects to see their incidents, ANPR reads and crossings",
)
if picked:
    sel = views.rows_for(rows, picked)
    plates = tuple(sorted(sel.loc[views.is_vehicle(sel["kind"]), "subject"].astype(str).unique()))
    trail = cache.trails(ctx.dkey, plates)
    crossings = cache.crossings(ctx.dkey)
    incidents_all = ctx.dataset().incidents
    tl = views.timelines(sel, incidents_all, trail, crossings, redact=f.redact, start_month=f.start_month)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        st.altair_chart(views.timeline_chart(tl, briefing=f.briefing), width="stretch")
        views.show_table(tl, redact=False, key="hop_timeline", briefing=f.briefing)  # subject already masked
    with right:
        ids = tuple(sorted({str(i) for v in sel["incidents"] for i in views.as_list(v)}))
        fmap = cache.subject_map(ctx.dkey, plates, ids, f.redact, f.briefing, f.tiles)
        st_folium(fmap, key="hop_map", height=520, use_container_width=True, returned_objects=[])
        st.caption(views.md_escape(ctx.areas.attribution))

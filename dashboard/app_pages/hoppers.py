"""Border-hoppers: who is on which rung of the seven-force ladder, with the evidence."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import casefile as casefile_view
from dashboard.views import hoppers as view
from dashboard.views.format import fmt_int, md_escape, slug
from geo.offenders import STAGES
from geo.privacy import is_vehicle_kind

ctx = context.get_context()
f = ctx.filters

st.title("Border-hoppers")
st.caption(
    "Coursing ASB in any of the seven forces counts in all: 1st incident a warning, "
    "2nd (any force) proactive ASB measures, 3rd prosecution. The ladder restarts each season."
)

c1, c2, c3, c4 = st.columns([2, 2, 2, 1.6])
now_in = c1.selectbox(
    "Now in force", ["Any force", *ctx.force_names], key=K.HOP_NOW_IN,
    help="Subjects last seen in this force: the later of their latest ANPR read and latest "
         "incident (the 'last seen' column says which, and when)",
)
who = c2.selectbox("Vehicles or people", list(view.SUBJECT_KINDS_SHOWN), key=K.HOP_SUBJECT_KIND,
                   help="Vehicles (plates: ANPR reads and incidents) or people (nominal ids: incidents)")
min_stage = c3.select_slider(
    "Ladder stage at least", options=list(STAGES), key=K.HOP_MIN_STAGE,
    format_func=lambda s: f"{s}: {STAGES[s]}",
)
only_hoppers = c4.toggle("Only border-hoppers", value=True, key=K.HOP_ONLY,
                         help="Incidents in two or more forces")

rows = view.hoppers_view(
    ctx.ladder(), season=f.season, forces=f.forces,
    now_in=None if now_in == "Any force" else now_in, only_hoppers=only_hoppers, min_stage=min_stage,
    kind=view.SUBJECT_KINDS_SHOWN[who],
)
table = view.hoppers_table(rows)
widgets.metric_row([
    ("Subjects", fmt_int(view.n_subjects(rows)), None),
    *[(f"Stage {s}: {STAGES[s]}", fmt_int(int((table["stage"] == s).sum())), None) for s in STAGES],
])

if not len(table):
    st.info("Nobody matches these filters.")
    st.stop()

widgets.show_table(table, redact=f.redact, key=K.HOP_TABLE, briefing=f.briefing)
st.download_button(
    "Download this list (CSV)",
    data=ctx.download({"file": f"harewatch_border_hoppers_{slug(ctx.season_label)}.csv",
                       "subjects": view.n_subjects(rows), "masked": f.redact},
                      lambda: view.hoppers_csv(table, redact=f.redact)),
    file_name=f"harewatch_border_hoppers_{slug(ctx.season_label)}" + ("_SYNTHETIC_DEMO" if ctx.demo else "") + ".csv",
    mime="text/csv",
    help="The table above, column for column (masked as shown); times are London time with their UTC offset",
)

st.subheader("Timeline and trail")
labels = view.subject_options(rows, redact=f.redact)
picked = st.multiselect(
    "Subjects", list(labels), key=K.HOP_SUBJECTS, max_selections=5,  # values: "kind|subject|season"
    format_func=lambda i: labels[i],
    help="Pick one or more subjects to see their incidents, ANPR reads and crossings",
)
if picked:
    sel = view.rows_for(rows, picked)
    plates = tuple(sorted(sel.loc[is_vehicle_kind(sel["kind"]).to_numpy(), "subject"].astype(str).unique()))
    trail = cache.trails(ctx.dkey, plates)
    crossings = cache.crossings(ctx.dkey)
    incidents_all = ctx.dataset().incidents
    tl = view.timelines(sel, incidents_all, trail, crossings, redact=f.redact, start_month=f.start_month)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        st.altair_chart(widgets.timeline_chart(tl, briefing=f.briefing), width="stretch")
        widgets.show_table(tl, redact=False, key=K.HOP_TIMELINE, briefing=f.briefing)  # subject already masked
    with right:
        ids = tuple(sorted({str(i) for v in sel["incidents"] for i in view.as_list(v)}))
        fmap = cache.subject_map(cache.SubjectMapRequest(
            dkey=ctx.dkey, plates=plates, incident_ids=ids, redact=f.redact, briefing=f.briefing, tiles=f.tiles,
        ))
        st_folium(fmap, key=K.HOP_MAP, height=520, use_container_width=True, returned_objects=[])
        st.caption(md_escape(ctx.areas.attribution))

    for plate, stage in view.vehicle_stages(sel).items():
        label = md_escape(view.subject_label(plate, "vehicle", f.redact))
        st.subheader(f"Associates of {label}")
        records = casefile_view.associate_records(ctx.associates(plate), ctx.ladder(),
                                                  subject_stage=stage)
        if not records:
            st.caption("No plate was read with it by the same cameras within 5 minutes at two "
                       "or more cameras or on two or more occasions.")
            continue
        st.caption("Plates read by the same camera within 5 minutes of it, at two or more cameras "
                   "or on two or more occasions" + (" · worth watching: it is at step "
                                                    f"{stage} of the ladder" if stage >= 2 else ""))
        widgets.show_table(casefile_view.associates_table(records), redact=f.redact,
                           key=f"{K.HOP_ASSOCIATES}_{slug(plate)}", briefing=f.briefing)

"""Case file: everything the seven forces hold on one subject, for a prosecutor; PDF/HTML download."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from dashboard import cache, casework, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import casefile as view
from dashboard.views.format import md_escape
from geo.casework.render import SECTION_TITLES

ctx = context.get_context()
f = ctx.filters

st.title("Case file")
st.caption("One subject across the seven forces: incidents, ANPR trail, crossings, actions on "
           "record, the escalation ladder's evidence and next action, associates. The PDF and "
           "HTML are made to be read without Harewatch. "
           + ("Plates and ids are masked and notes withheld." if ctx.mask
              else "Plates, ids and notes are shown in full: mask them in the sidebar for a copy "
                   "that leaves the force."))

choices = view.subject_choices(ctx.ladder(), redact=ctx.mask, season=f.season)
if not choices:
    st.info("Nobody is on the escalation ladder in this season.")
    st.stop()
if st.session_state.get(K.CASE_SUBJECT) not in choices:
    st.session_state[K.CASE_SUBJECT] = next(iter(choices))
key = st.selectbox("Subject", list(choices), key=K.CASE_SUBJECT, format_func=choices.get,
                   help="Subjects on the ladder, highest stage first (type to search)")
kind, subject = view.parse_choice(key)
case = ctx.case_file(subject, kind)

widgets.metric_row(view.case_summary(case))
latest = case["ladder"][-1] if case["ladder"] else None
if latest:
    st.info(f"**Next action ({md_escape(latest['season'])}): {md_escape(latest['next_action'])}**"
            f" · {md_escape(latest['next_action_rule'])}", icon=":material/gavel:")
    for gap in latest["gaps"]:
        st.warning(md_escape(gap), icon=":material/report:")

d1, d2, _ = st.columns([2, 2, 3])
d1.download_button("Download case file (PDF)",
                   data=ctx.download({"file": view.download_name(case, "pdf"), "subject_kind": kind,
                                      "masked": ctx.mask}, lambda: ctx.case_document(subject, kind, "pdf")),
                   file_name=view.download_name(case, "pdf"), mime="application/pdf",
                   type="primary")
d2.download_button("Download case file (HTML)",
                   data=ctx.download({"file": view.download_name(case, "html"), "subject_kind": kind,
                                      "masked": ctx.mask}, lambda: ctx.case_document(subject, kind, "html")),
                   file_name=view.download_name(case, "html"), mime="text/html")

titles = dict(enumerate(SECTION_TITLES, start=1))
show = dict(redact=False, briefing=f.briefing)  # the case file is already masked as asked

st.subheader(titles[3])
widgets.show_table(view.case_ladder(case), key=K.CASE_LADDER, **show)
st.markdown("**Evidence chain** (the incidents that took the subject to each step)")
widgets.show_table(view.case_evidence(case), key=K.CASE_EVIDENCE, **show)

st.subheader(titles[4])
widgets.show_table(view.case_incidents(case), key=K.CASE_INCIDENTS, **show)

st.subheader(titles[5])
left, right = st.columns([3, 2], gap="medium")
with left:
    fmap = cache.subject_map(cache.SubjectMapRequest(
        dkey=ctx.dkey, plates=(subject,) if kind == "vehicle" else (),
        incident_ids=tuple(i["incident_id"] for i in case["incidents"]), redact=ctx.mask,
        briefing=f.briefing, tiles=f.tiles))
    st_folium(fmap, key=K.CASE_MAP, height=460, use_container_width=True, returned_objects=[])
    st.caption(md_escape(ctx.areas.attribution))
with right:
    widgets.show_table(view.case_reads(case), key=K.CASE_READS, height=460, **show)

st.subheader(titles[6])
widgets.show_table(view.case_crossings(case), key=K.CASE_CROSSINGS, **show)

st.subheader(titles[7])
widgets.show_table(view.case_interactions(case), key=K.CASE_INTERACTIONS, **show)
casework.interaction_form(ctx, subject="" if ctx.mask else subject, kind=kind)

st.subheader(titles[8])
st.caption("Plates read by the same camera within 5 minutes of the subject, at two or more "
           "cameras or on two or more occasions. An associate of a subject at step 2 or 3 is "
           "worth watching.")
widgets.show_table(view.associates_table(case["associates"]), key=K.CASE_ASSOCIATES, **show)

st.subheader("Partial plate near one of these incidents")
incs = {i["incident_id"]: i for i in case["incidents"]}
if incs:
    pick = st.selectbox("Incident", list(incs), key=K.CASE_PLATE_INCIDENT,
                        format_func=lambda i: f"{incs[i]['local_time']} · {incs[i]['force']} · {i}")
    casework.plate_search_box(ctx, easting_m=incs[pick]["easting"],
                              northing_m=incs[pick]["northing"], at_iso=incs[pick]["occurred_at"],
                              key="case", where=f"incident {pick}")

st.subheader(titles[9])
widgets.show_table(view.case_sources(case), key=K.CASE_SOURCES, **show)

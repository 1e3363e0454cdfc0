"""Data: check an incidents or ANPR file, add it to the store, download what is shown."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, cache, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import data as view
from dashboard.views.format import fmt_int, md_escape, slug

ctx = context.get_context()
f = ctx.filters

st.title("Data")
st.subheader("Check a file")
c1, c2 = st.columns([3, 1])
upload = c1.file_uploader("Upload incidents or sightings", type=["csv", "xlsx", "geojson", "parquet"],
                          key=K.DATA_UPLOAD,
                          help="CSV (UTF-8 or Windows-1252), Excel, GeoJSON or GeoParquet")
kind = c2.radio("Kind", list(view.KIND_CHOICES), key=K.DATA_KIND,
                help="Detect: data.police.uk files (street, outcomes, stop and search) and ANPR "
                     "exports are recognised by their columns. Incidents: one row per incident. "
                     "Sightings: ANPR reads, one row per read")

if upload is not None:
    data = upload.getvalue()
    outcome = cache.validate_upload(data, upload.name, view.kind_of_choice(kind), ctx.bkey)
    if not outcome.ok:
        st.error(md_escape(outcome.error or "The file could not be read."))
    else:
        counts = outcome.counts()
        widgets.metric_row([
            ("Rows", fmt_int(counts["rows"]), None),
            ("Accepted", fmt_int(counts["accepted"]), None),
            ("Rejected", fmt_int(counts["rejected"]), None),
        ])
        for line in view.check_summary(outcome):
            st.caption(md_escape(line))
        rejects = outcome.rejects()
        if len(rejects):
            st.markdown("**Rejected rows** (row = data row number in the file, 1 = first row after the header)")
            widgets.show_table(rejects, redact=f.redact, key=K.REJECTS_TABLE, briefing=f.briefing)
            st.download_button("Download rejected rows (CSV)",
                               data=ctx.download({"file": "harewatch_rejects.csv", "rows": len(rejects),
                                                  "of_upload": upload.name, "masked": False},
                                                 lambda: view.safe_csv(rejects)),
                               file_name="harewatch_rejects.csv", mime="text/csv")
        else:
            st.success("Every row was accepted.")
        by_force = view.by_force_table(outcome)
        if len(by_force):
            st.markdown("**Accepted rows by force**")
            widgets.show_table(by_force, redact=False, key=K.BY_FORCE_TABLE, briefing=f.briefing)
        token = view.upload_token(data, upload.name, outcome.kind)
        done = st.session_state.get(K.INGESTED, {}).get(token)
        if done is not None:
            st.success(done)
        elif st.button("Add accepted rows to the store", type="primary", disabled=not counts["accepted"]):
            auth.record(ctx.access, "ingest", {"via": "dashboard", "file": upload.name,
                                               "kind": outcome.kind, "rows": counts["accepted"],
                                               "upload": token})
            with st.status("Adding the accepted rows to the store…") as status:
                msg = view.ingest_outcome(outcome, cache.data_dir())
                status.update(label=md_escape(msg), state="complete")
            st.session_state.setdefault(K.INGESTED, {})[token] = msg
            cache.clear_store_caches()
            st.rerun()

st.divider()
st.subheader("Download the incidents in view")
inc = ctx.incidents()
st.caption(f"{fmt_int(len(inc))} incidents · season {md_escape(ctx.season_label)}"
           + (" · plates and ids masked, notes left out" if f.redact else ""))
d1, d2 = st.columns(2)
inc_file = f"harewatch_incidents_{slug(ctx.season_label)}"
inc_what = {"rows": len(inc), "season": ctx.season_label, "masked": f.redact}
d1.download_button("Download incidents (CSV)",
                   data=ctx.download({"file": inc_file + ".csv", **inc_what},
                                     lambda: view.incidents_csv(inc, redact=f.redact)),
                   file_name=f"harewatch_incidents_{slug(ctx.season_label)}.csv", mime="text/csv",
                   disabled=not len(inc))
d2.download_button("Download incidents (GeoJSON)",
                   data=ctx.download({"file": inc_file + ".geojson", **inc_what},
                                     lambda: view.incidents_geojson(inc, redact=f.redact)),
                   file_name=f"harewatch_incidents_{slug(ctx.season_label)}.geojson",
                   mime="application/geo+json", disabled=not len(inc))
with st.expander("Preview (first 200 rows)"):
    widgets.show_table(inc.head(200), redact=f.redact, key=K.INCIDENTS_PREVIEW, briefing=f.briefing)
st.caption("Store: " + ("empty, showing the synthetic demo" if ctx.demo and not ctx.dkey.store_sig else
                         "incidents loaded from the store"
                         + (", some ingested from the synthetic demo" if ctx.demo else "")))

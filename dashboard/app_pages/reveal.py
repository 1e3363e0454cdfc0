"""Reveal (shared mode, analysts and admins): one subject's plate or id in full, for a limited
time, after a reason; and the authorisation to see ANPR reads past the authorisation age.
Both are recorded in the audit trail before anything is shown."""

from __future__ import annotations

import streamlit as st

from dashboard import auth, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import reveal as view
from dashboard.views.format import md_escape
from dashboard.views.hoppers import hoppers_table, hoppers_view, subject_options
from geo.errors import AccessDenied, AuditError, InputError

ctx = context.get_context()
f = ctx.filters
access = ctx.access
minutes = access.settings.reveal_minutes

st.title("Reveal")
st.caption(f"Plates and ids stay masked everywhere else. Reveal one subject for {minutes:g} minutes "
           "after giving a reason (the incident, operation or request it is for); the reveal, "
           "who asked and the reason are recorded in the audit trail.")

rows = hoppers_view(ctx.ladder(), season=f.season, forces=f.forces)
labels = subject_options(rows, redact=True)  # the browser sees masked labels only
with st.form(K.REVEAL_FORM, clear_on_submit=True):
    pick = st.selectbox("Subject", list(labels), index=None, format_func=lambda k: labels[k],
                        placeholder="Choose a subject (masked)", key=K.REVEAL_SUBJECT)
    reason = st.text_input("Reason (recorded)", max_chars=500, key=K.REVEAL_REASON,
                           placeholder="e.g. incident 24/1234: identify the vehicle for the warning")
    asked = st.form_submit_button(f"Reveal for {minutes:g} minutes", type="primary")
if asked:
    if pick is None:
        st.error("Choose a subject to reveal.")
    else:
        kind, subject, _ = view.split_option(pick)
        try:
            auth.ask_grant(access, "reveal", reason, subject=subject,
                           subject_kind=view.subject_kind_of(kind))
        except (AccessDenied, InputError, AuditError) as exc:
            st.error(md_escape(exc))


@st.fragment(run_every=30)
def revealed() -> None:
    """The running reveals; each disappears when it expires (checked every 30 s)."""
    running = auth.running_grants("reveal")
    if not running:
        st.info("Nothing revealed.")
        return
    for g in running:
        st.subheader(md_escape(g.subject))
        st.text(view.grant_line(g))  # plain text: no links made of e-mail addresses
        shown = hoppers_table(rows[rows["subject"].astype(str) == g.subject])
        widgets.show_table(shown, redact=True, unmasked=frozenset({g.subject}), briefing=f.briefing)


st.subheader("Revealed now")
revealed()

st.divider()
after = access.settings.anpr_authorise_after_days
st.subheader(f"ANPR reads older than {after} days")
if access.old_reads is not None:
    st.success(md_escape(view.grant_line(access.old_reads)), icon=":material/verified_user:")
else:
    st.caption(f"Reads older than {after} days (up to the {access.settings.anpr_keep_days}-day "
               "retention) are shown only with a recorded authorisation.")
    with st.form(K.OLD_READS_FORM, clear_on_submit=True):
        why = st.text_input("Reason (recorded)", max_chars=500, key=K.OLD_READS_REASON)
        authorise = st.form_submit_button(f"Authorise for {minutes:g} minutes")
    if authorise:
        try:
            auth.ask_grant(access, "old_reads", why)
            st.rerun()
        except (AccessDenied, InputError, AuditError) as exc:
            st.error(md_escape(exc))

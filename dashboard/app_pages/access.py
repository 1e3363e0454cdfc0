"""Users and retention (shared mode, admins): roles of users, and the ANPR retention policy."""

from __future__ import annotations

import streamlit as st

from dashboard import context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import reveal as view
from dashboard.views.format import md_escape
from geo.access import NONE, ROLES
from geo.errors import AuditError, HarewatchError
from geo.io.roles import change_role, read_role_map
from geo.pipeline.retention import run_purge

ctx = context.get_context()
access = ctx.access
settings = access.settings

st.title("Users and retention")
st.subheader("Users")
st.caption(f"Roles come from the OIDC claim `{md_escape(settings.roles_claim)}` or from the roles "
           "file below; an entry for a user's e-mail decides (none = blocked). Every change is "
           "recorded in the audit trail.")
try:
    role_map = read_role_map(settings.roles_path)
except HarewatchError as exc:
    st.error(md_escape(exc))
    st.stop()
widgets.show_table(view.roles_table(role_map), redact=False, key=K.ROLES_TABLE)
with st.form(K.ROLE_FORM, clear_on_submit=True):
    c1, c2 = st.columns([3, 1])
    email = c1.text_input("User (e-mail address)", key=K.ROLE_EMAIL)
    role = c2.selectbox("Role", [*ROLES, NONE, "remove entry"], key=K.ROLE_VALUE)
    save = st.form_submit_button("Save", type="primary")
if save:
    try:
        change_role(settings.roles_path, settings.audit_dir, by=access.identity.user, user=email,
                    role=None if role == "remove entry" else role, via="dashboard")
        st.rerun()
    except (HarewatchError, AuditError) as exc:
        st.error(md_escape(exc))

st.subheader("Retention of ANPR reads")
st.markdown(f"Reads are kept **{settings.anpr_keep_days} days** and reads older than "
            f"**{settings.anpr_authorise_after_days} days** are shown only with a recorded "
            "authorisation (National ANPR Standards for Policing and Law Enforcement). Schedule "
            "`harewatch store purge --apply` daily, or purge here.")
c1, c2 = st.columns(2)
dry = c1.button("Check what would go", key=K.PURGE_CHECK)
apply = c2.button("Purge now", key=K.PURGE_APPLY, type="primary")
if dry or apply:
    try:
        report = run_purge(settings, user=access.identity.user, via="dashboard", apply=apply)
    except HarewatchError as exc:
        st.error(md_escape(exc))
    else:
        for line in view.purge_lines(report):
            st.write(md_escape(line))

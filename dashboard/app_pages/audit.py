"""Audit (shared mode, admins): who did what with personal data, and whether the record is intact."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import reveal as view
from dashboard.views.format import md_escape
from geo.io.audit import ACTIONS, filter_entries, read_entries, verify_trail

ctx = context.get_context()
folder = ctx.access.settings.audit_dir

st.title("Audit")
check = verify_trail(folder)
if check.ok:
    st.success(f"The audit trail is intact: {check.entries:,} entries. Head hash "
               f"`{check.head}` (keep it elsewhere to prove the trail later).",
               icon=":material/verified:")
else:
    st.error("The audit trail is NOT intact: " + md_escape(check.problem), icon=":material/gpp_bad:")

c1, c2, c3 = st.columns(3)
user = c1.text_input("User", key=K.AUDIT_USER, placeholder="every user")
action = c2.selectbox("Action", ["every action", *ACTIONS], key=K.AUDIT_ACTION)
since = c3.date_input("Since", value=None, key=K.AUDIT_SINCE)
entries = filter_entries(
    read_entries(folder), user=user.strip() or None,
    action=None if action == "every action" else action,
    since=pd.Timestamp(since, tz="UTC") if isinstance(since, dt.date) else None)
st.caption(f"{len(entries):,} entries, newest first. `harewatch audit show` and "
           "`harewatch audit verify` give the same on the command line.")
widgets.show_table(view.audit_table(entries), redact=False, key=K.AUDIT_TABLE)

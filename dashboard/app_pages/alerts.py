"""Live alerts: a vehicle on the ladder in one force read by ANPR in another of the seven.

Only the alerts block (metrics + table) reruns, every ``ALERTS_REFRESH_S``
seconds, as a fragment: the sidebar, the other pages and their caches are
untouched. Each refresh costs two ``stat`` calls and, when the watcher has
written, one small sqlite query (``dashboard.cache.alerts``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import cache, context, widgets
from dashboard.state import SessionKeys as K
from dashboard.views import alerts as view
from dashboard.views.format import md_escape
from geo.access import drop_reads_before
from geo.schema import LONDON

ctx = context.get_context()
f = ctx.filters
store = Path(ctx.dkey.data_dir)

st.title("Live alerts")
st.caption(
    "A vehicle already on the agreement's ladder in one force, read by an ANPR camera in another "
    "of the seven forces. Alerts are raised by `harewatch watch --incoming DIR` as read files "
    "arrive; this table refreshes by itself, newest read first."
)
n_forces = len(f.forces)
st.caption(
    f"Showing alerts for vehicles now in {n_forces} of {len(ctx.force_names)} forces (sidebar "
    "Forces filter: pick your own force to see who has just arrived). Season, date and hours "
    "filters do not apply here."
    + (" Plates are masked." if f.redact else "")
)
demo_replay = ctx.demo and not cache.alerts_key(store).exists
if demo_replay:
    st.caption(
        "These are the synthetic demo data: the alerts below are replayed from the demo's ANPR reads as the watcher "
        "would have raised them, and ages are measured on the data's own clock (its newest read "
        "counts as now). On your own data, alerts come from the watcher:"
    )
    st.info(f"`{view.watch_command(store)}`" if "`" not in view.watch_command(store)
            else md_escape(view.watch_command(store)), icon=":material/terminal:")
paused = st.toggle("Pause auto-refresh", key=K.ALERTS_PAUSED,
                   help=f"The table re-reads the alerts every {view.ALERTS_REFRESH_S:g} s")


@st.fragment(run_every=None if paused else view.ALERTS_REFRESH_S)
def live_alerts() -> None:
    akey = cache.alerts_key(store)
    if demo_replay:
        raw = cache.demo_alerts(ctx.dkey, f.start_month, view.ALERTS_LIMIT)
        now = view.data_clock(raw)
    elif not akey.exists:
        cmd = view.watch_command(akey.data_dir)
        shown_cmd = f"`{cmd}`" if "`" not in cmd else md_escape(cmd)
        st.info(
            "No alerts yet: the watcher has not run on this store. Start it on the folder where "
            f"ANPR read files land (DIR): {shown_cmd}",
            icon=":material/notifications_off:",
        )
        return
    else:
        raw = cache.alerts(akey, view.ALERTS_LIMIT)
        if ctx.access is not None and ctx.access.reads_from is not None:
            # retention (both modes) and the authorisation age (shared): said, not silent
            kept = drop_reads_before(raw, ctx.access.reads_from)
            if len(kept) < len(raw):
                since = ctx.access.reads_from.tz_convert(LONDON).strftime("%d %b %Y")
                st.caption(f"{len(raw) - len(kept):,} alerts on reads before {since} not shown "
                           "(ANPR retention).")
            raw = kept
        now = pd.Timestamp.now(tz="UTC")
    shown = view.alerts_view(raw, forces=f.forces)
    widgets.metric_row(view.alert_metrics(shown, now=now, capped=len(raw) >= view.ALERTS_LIMIT))
    if not len(shown):
        st.info("No alerts for these forces yet." if len(raw) else "No alerts yet: the watcher is "
                "set up on this store and has not seen a laddered vehicle cross into another force.")
    else:
        table = view.alerts_table(shown, redact=f.redact, now=now)
        widgets.show_table(table, redact=False, key=K.ALERTS_TABLE, briefing=f.briefing)  # masked above
    stamp = now.tz_convert(LONDON).strftime("%H:%M:%S" if not demo_replay else "%d %b %Y %H:%M")
    st.caption(("Data clock (newest demo read): " if demo_replay else "Checked at ") + f"{stamp} London time"
               + ("" if paused or demo_replay else f" · next check in {view.ALERTS_REFRESH_S:g} s"))


live_alerts()

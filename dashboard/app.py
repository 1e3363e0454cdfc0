"""Harewatch dashboard entry point: ``streamlit run dashboard/app.py``.

The frame around every page, run on every rerun:

1. page set-up, then who is looking (``dashboard.auth.gate``: in shared mode the
   login, the role and nothing else until both are known), per-session state
   (``dashboard.state.init_session``);
2. the page list for that role (``st.navigation``);
3. boundaries and data (``dashboard.context.load``, through ``dashboard.cache``);
4. the shared sidebar: filters <-> URL (``dashboard.sidebar.draw``);
5. the context the pages read (``dashboard.context.build``), and the page view
   recorded in the audit trail (shared mode) before the page draws anything;
6. the chosen page (``dashboard/app_pages/*.py``).

Nothing heavy happens at import time: all loading goes through ``dashboard.cache``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import auth, context, sidebar, state
from geo import Settings
from geo.access import ADMIN, ANALYST, VIEWER, has_role

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"

#: (file, title, icon); titles are part of the UI contract (tests, docs).
PAGES: list[tuple[str, str, str]] = [
    ("map.py", "Map", ":material/map:"),
    ("hotspots.py", "Hotspots", ":material/local_fire_department:"),
    ("hoppers.py", "Border-hoppers", ":material/directions_car:"),
    ("casefile.py", "Case file", ":material/folder_shared:"),
    ("plan.py", "Plan", ":material/route:"),
    ("alerts.py", "Live alerts", ":material/notifications_active:"),
    ("trends.py", "Trends", ":material/trending_down:"),
    ("data.py", "Data", ":material/upload_file:"),
    ("briefing.py", "Briefing", ":material/co_present:"),
]
#: Shared mode: the lowest role that sees each page (viewers: briefing, maps and counts).
PAGE_ROLES: dict[str, str] = {
    "map.py": VIEWER, "hotspots.py": VIEWER, "hoppers.py": ANALYST, "casefile.py": ANALYST,
    "plan.py": VIEWER, "alerts.py": ANALYST, "trends.py": VIEWER, "data.py": ANALYST,
    "briefing.py": VIEWER,
}
#: Pages only the shared mode has: (file, title, icon, lowest role).
SHARED_PAGES: list[tuple[str, str, str, str]] = [
    ("reveal.py", "Reveal", ":material/visibility:", ANALYST),
    ("audit.py", "Audit", ":material/policy:", ADMIN),
    ("access.py", "Users and retention", ":material/manage_accounts:", ADMIN),
]


def pages_for(access: auth.Access) -> list[tuple[str, str, str]]:
    """The pages this user may open (every page in local mode)."""
    if not access.shared:
        return PAGES
    who = access.identity
    return ([p for p in PAGES if has_role(who, PAGE_ROLES[p[0]])]
            + [(f, t, i) for f, t, i, role in SHARED_PAGES if has_role(who, role)])


def _briefing_now() -> bool:
    """Briefing mode of this run: the sidebar toggle once drawn, else the link's ``briefing=``."""
    value = st.session_state.get(state.SessionKeys.BRIEFING)
    if value is None:
        link = st.session_state.get(state.SessionKeys.LINK_PARAMS) or st.query_params.to_dict()
        return state.Filters.from_query_params(link).briefing
    return bool(value)


def main() -> None:
    # Briefing mode gives the projector the whole width: the sidebar starts collapsed.
    st.set_page_config(layout="wide", page_title="Harewatch", page_icon="🐇",
                       initial_sidebar_state="collapsed" if _briefing_now() else "auto")
    access = auth.gate(Settings.from_env())  # shared mode: stops here until logged in with a role
    # Before st.navigation: once the page links are on screen, a click during
    # the first (slow) load replaces the URL and the link's filters are lost.
    state.init_session(st.session_state, st.query_params)
    nav = st.navigation([
        st.Page(PAGES_DIR / file, title=title, icon=icon, default=(i == 0))
        for i, (file, title, icon) in enumerate(pages_for(access))
    ])
    loaded = context.load(access)
    filters, seasons = sidebar.draw(loaded.dkey, loaded.force_names,
                                    masking_locked=access.masking_locked)
    auth.logout_button(access)
    ctx = context.build(loaded, filters, seasons, access)
    auth.record_view(access, nav.title, ctx.filters.to_query_params())
    nav.run()


main()

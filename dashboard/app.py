"""Harewatch dashboard entry point: ``streamlit run dashboard/app.py``.

The frame around every page, run on every rerun:

1. page set-up and per-session state (``dashboard.state.init_session``);
2. the page list (``st.navigation``);
3. boundaries and data (``dashboard.context.load``, through ``dashboard.cache``);
4. the shared sidebar: filters <-> URL (``dashboard.sidebar.draw``);
5. the context the pages read (``dashboard.context.build``);
6. the chosen page (``dashboard/app_pages/*.py``).

Nothing heavy happens at import time: all loading goes through ``dashboard.cache``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import context, sidebar, state

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
    # Before st.navigation: once the page links are on screen, a click during
    # the first (slow) load replaces the URL and the link's filters are lost.
    state.init_session(st.session_state, st.query_params)
    nav = st.navigation([
        st.Page(PAGES_DIR / file, title=title, icon=icon, default=(i == 0))
        for i, (file, title, icon) in enumerate(PAGES)
    ])
    loaded = context.load()
    filters, seasons = sidebar.draw(loaded.dkey, loaded.force_names)
    context.build(loaded, filters, seasons)
    nav.run()


main()

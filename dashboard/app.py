"""Harewatch dashboard entry point: ``streamlit run dashboard/app.py``.

Sets the page, registers the pages (``st.navigation``), loads the shared
context (boundaries, data, sidebar filters <-> URL) and runs the chosen page.
Nothing heavy happens at import time: all loading goes through
``dashboard.cache``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import views

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"

#: (file, title, icon); titles are part of the UI contract (tests, docs).
PAGES: list[tuple[str, str, str]] = [
    ("map.py", "Map", ":material/map:"),
    ("hotspots.py", "Hotspots", ":material/local_fire_department:"),
    ("hoppers.py", "Border-hoppers", ":material/directions_car:"),
    ("alerts.py", "Live alerts", ":material/notifications_active:"),
    ("trends.py", "Trends", ":material/trending_down:"),
    ("data.py", "Data", ":material/upload_file:"),
    ("briefing.py", "Briefing", ":material/co_present:"),
]


def main() -> None:
    st.set_page_config(layout="wide", page_title="Harewatch", page_icon="🐇")
    views.remember_link_filters()
    pages = [
        st.Page(PAGES_DIR / file, title=title, icon=icon, default=(i == 0))
        for i, (file, title, icon) in enumerate(PAGES)
    ]
    nav = st.navigation(pages)
    views.bootstrap()
    nav.run()


main()

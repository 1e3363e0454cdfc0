"""The per-run context every page reads: filters plus the keys of the cached data.

``dashboard/app.py`` builds it once per script run (:func:`load`, then the
sidebar, then :func:`build`); pages get it with :func:`get_context` and fetch
their data through its methods, which are cache hits after the first run.
Besides the pages, this is the only user of :mod:`dashboard.cache`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.auth import Access
from dashboard.state import SEVEN, Filters, SessionKeys
from dashboard.views.format import md_escape
from dashboard.widgets import apply_style

__all__ = ["Context", "Loaded", "briefing_pack_bytes", "build", "get_context", "load"]


@dataclass(frozen=True)
class Context:
    """What every page needs: the filters and the keys of the cached data."""

    filters: Filters
    bkey: cache.BoundaryKey
    dkey: cache.DataKey
    areas: Any
    demo: bool
    seasons: tuple[str, ...]
    force_names: tuple[str, ...] = field(default=SEVEN)
    #: Who is looking (``dashboard.auth.gate``); None only outside ``dashboard/app.py``.
    access: Access | None = None

    # The cached layers (cheap after the first call).
    def incidents(self) -> gpd.GeoDataFrame:
        f = self.filters
        return cache.incidents(self.dkey, f.scope)

    def all_seasons_incidents(self) -> gpd.GeoDataFrame:
        """Forces and hours filters only (for season-against-season views)."""
        f = self.filters
        return cache.incidents(self.dkey, f.scope._replace(season=None, date_from=None, date_to=None))

    def hotspots(self):
        f = self.filters
        return cache.hotspots(self.dkey, f.scope, f.eps_m, f.min_samples)

    def ladder(self) -> pd.DataFrame:
        return cache.ladder(self.dkey, self.filters.start_month)

    def dataset(self) -> cache.Dataset:
        return cache.dataset(self.dkey)

    def download(self, what: dict, make):
        """``make`` for ``st.download_button(data=...)``, recorded in the audit trail (shared
        mode) before the file is made; ``what`` says what it holds (file, rows, masked)."""
        if self.access is None:
            return make
        from dashboard.auth import audited_download

        return audited_download(self.access, what, make)

    @property
    def season_label(self) -> str:
        return self.filters.season or "all seasons"


class Loaded(NamedTuple):
    """Boundaries and data of this run, before the filters are known."""

    bkey: cache.BoundaryKey
    dkey: cache.DataKey
    areas: Any
    demo: bool
    force_names: tuple[str, ...]


def load(access: Access | None = None) -> Loaded:
    """Load boundaries and data (cached); stop the run with a message when the boundaries are unusable.

    Stored ANPR reads before ``access.reads_from`` are left out (retention, authorisation).
    """
    from geo.errors import BoundariesNotFound

    try:
        bkey = cache.boundary_key()
        areas = cache.boundaries(bkey)
    except (BoundariesNotFound, ValueError) as exc:  # missing, or not a police force area file
        st.error(md_escape(exc), icon=":material/map:")
        st.stop()
    dkey = cache.data_key(bkey, reads_from=None if access is None else access.reads_from)
    ds = cache.dataset(dkey)
    names = tuple(getattr(areas, "names", SEVEN)) or SEVEN
    return Loaded(bkey, dkey, areas, ds.demo, names)


def build(loaded: Loaded, filters: Filters, seasons: list[str], access: Access | None = None) -> Context:
    """The context of this run, kept for :func:`get_context`; applies the style, shows the demo banner.

    In shared mode (``access.masking_locked``) the filters always mask plates and ids,
    whatever the sidebar or the URL say.
    """
    if access is not None and access.masking_locked:
        filters = filters.with_(redact=True)
    ctx = Context(filters=filters, bkey=loaded.bkey, dkey=loaded.dkey, areas=loaded.areas, demo=loaded.demo,
                  seasons=tuple(seasons), force_names=loaded.force_names, access=access)
    st.session_state[SessionKeys.CONTEXT] = ctx
    apply_style(filters.briefing)
    if loaded.demo:
        from geo.datasets.demo import DEMO_NOTICE

        st.warning(DEMO_NOTICE, icon=":material/science:")
    return ctx


def get_context() -> Context:
    """The context built by ``dashboard/app.py`` for this run.

    Raises
    ------
    RuntimeError
        When a page runs outside ``dashboard/app.py`` (there is no sidebar then).
    """
    ctx = st.session_state.get(SessionKeys.CONTEXT)
    if ctx is None:
        raise RuntimeError("no dashboard context: run the dashboard with 'streamlit run dashboard/app.py'")
    return ctx


def briefing_pack_bytes(ctx: Context, figures: list[tuple[str, str, str | None]],
                        top_hotspots: pd.DataFrame, hoppers: pd.DataFrame) -> bytes:
    """The briefing pack zip (``dashboard.briefing.briefing_pack``), made on the server.

    Always masked: the pack is made to be shown and passed around.
    """
    from dashboard.briefing import briefing_pack
    from dashboard.maps import MapLayers

    layers = MapLayers(
        boundaries=cache.display_boundaries(ctx.bkey),
        incidents=ctx.incidents(),
        hotspots=ctx.hotspots().hotspots,
        cameras=None,
        attribution=ctx.areas.attribution,
    )
    return briefing_pack(
        layers=layers,
        figures={label: value for label, value, _ in figures},
        top_hotspots=top_hotspots,
        hoppers=hoppers,
        title=f"Hare coursing briefing {ctx.season_label}",
        redact=True,
    )

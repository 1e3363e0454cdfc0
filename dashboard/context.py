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
from dashboard.views.format import filters_label, md_escape
from dashboard.views.reveal import withheld_reads_line
from dashboard.widgets import apply_style

__all__ = ["Context", "Loaded", "briefing_pack_bytes", "build", "get_context", "load",
           "record_interaction"]


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
    ikey: cache.InteractionsKey | None = None
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

    def hotspot_significance(self) -> pd.DataFrame:
        """Gi* and trend class of :meth:`hotspots` (``gi_z``, ``gi_p``, ``significant``, ``trend``)."""
        f = self.filters
        return cache.hotspot_significance(self.dkey, f.scope, f.eps_m, f.min_samples)

    def plan_request(self) -> cache.PlanRequest:
        """The plan asked for by the Plan page's inputs (forces: the sidebar's unless chosen)."""
        from dashboard.views.plan import plan_when

        f, p = self.filters, self.filters.plan
        return cache.PlanRequest(
            dkey=self.dkey, crews=p.crews, radius_m=p.radius_m, days=p.days or None, hours=p.hours or None,
            forces=p.forces or f.forces, start_month=f.start_month, **plan_when(p.as_of),
        )

    def plan(self):
        """``(PlanResult, backtest table)``; raises ``geo.planning.PlanInputError`` for a bad plan."""
        return cache.plan(self.plan_request())

    def ladder(self) -> pd.DataFrame:
        return cache.ladder(self.dkey, self.filters.start_month)

    def dataset(self) -> cache.Dataset:
        return cache.dataset(self.dkey)

    # Casework (issue 16).
    @property
    def mask(self) -> bool:
        """Plates and ids masked: the sidebar's toggle, and always in briefing mode."""
        return bool(self.filters.redact or self.filters.briefing)

    def interactions_key(self) -> cache.InteractionsKey:
        return self.ikey if self.ikey is not None else cache.interactions_key()

    def ladder_actions(self) -> pd.DataFrame:
        """The ladder with the actions on record, next lawful action and gaps."""
        return cache.ladder_actions(self.dkey, self.interactions_key(), self.filters.start_month)

    def case_request(self, subject: str, kind: str) -> cache.CaseRequest:
        return cache.CaseRequest(dkey=self.dkey, ikey=self.interactions_key(), subject=subject,
                                 kind=kind, mask=self.mask, start_month=self.filters.start_month)

    def case_file(self, subject: str, kind: str) -> dict:
        """One subject's case file, masked per :attr:`mask`."""
        return cache.case_file(self.case_request(subject, kind))

    def case_document(self, subject: str, kind: str, fmt: str) -> bytes:
        """The case file as ``"pdf"`` or ``"html"`` bytes (made on the server)."""
        return cache.case_document(self.case_request(subject, kind), fmt)

    def associates(self, plate: str) -> pd.DataFrame:
        return cache.associates(self.dkey, plate)

    def plate_candidates(self, pattern: str, easting_m: float, northing_m: float,
                         at_iso: str, *, km: float, hours: float) -> pd.DataFrame:
        """Partial-plate candidates around a place and time (raises ``CaseworkInputError``)."""
        return cache.plate_candidates(cache.PlateRequest(
            dkey=self.dkey, pattern=pattern, easting_m=float(easting_m),
            northing_m=float(northing_m), at_iso=str(at_iso), km=float(km), hours=float(hours),
            start_month=self.filters.start_month))
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

    @property
    def view_label(self) -> str:
        """Season, forces, days and hours in words (plain text: escape before Markdown)."""
        f = self.filters
        return filters_label(f.season, f.forces, self.force_names, f.days, f.hours)


class Loaded(NamedTuple):
    """Boundaries and data of this run, before the filters are known."""

    bkey: cache.BoundaryKey
    dkey: cache.DataKey
    areas: Any
    demo: bool
    force_names: tuple[str, ...]
    reads_withheld: int = 0


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
    # both modes: reads past retention are never shown (``harewatch store purge`` deletes them)
    dkey = cache.data_key(bkey, reads_from=access.reads_from if access is not None else None)
    ds = cache.dataset(dkey)
    names = tuple(getattr(areas, "names", SEVEN)) or SEVEN
    return Loaded(bkey, dkey, areas, ds.demo, names, ds.reads_withheld)


def build(loaded: Loaded, filters: Filters, seasons: list[str], access: Access | None = None) -> Context:
    """The context of this run, kept for :func:`get_context`; applies the style, shows the demo banner.

    In shared mode (``access.masking_locked``) the filters always mask plates and ids,
    whatever the sidebar or the URL say.
    """
    if access is not None and access.masking_locked:
        filters = filters.with_(redact=True)
    ctx = Context(filters=filters, bkey=loaded.bkey, dkey=loaded.dkey, areas=loaded.areas, demo=loaded.demo,
                  seasons=tuple(seasons), force_names=loaded.force_names, ikey=cache.interactions_key(),
                  access=access)
    st.session_state[SessionKeys.CONTEXT] = ctx
    apply_style(filters.briefing)
    if loaded.demo:
        from geo.datasets.demo import DEMO_NOTICE

        st.warning(DEMO_NOTICE, icon=":material/science:")
    if loaded.reads_withheld and access is not None and access.reads_from is not None:
        line = withheld_reads_line(loaded.reads_withheld, access.reads_from,
                                   keep_days=access.settings.anpr_keep_days,
                                   authorise_after_days=access.settings.anpr_authorise_after_days,
                                   authorised=not access.shared or access.old_reads is not None)
        st.caption(md_escape(line), help="ANPR retention (README: Retention)")
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
                        top_hotspots: pd.DataFrame, hoppers: pd.DataFrame, *,
                        plan: pd.DataFrame | None = None, plan_title: str = "") -> bytes:
    """The briefing pack zip (``dashboard.briefing.briefing_pack``), made on the server.

    Always masked: the pack is made to be shown and passed around. With
    ``plan`` (the "Tonight" table) the maps also show the plan's circles.
    """
    from dashboard.briefing import briefing_pack
    from dashboard.maps import MapLayers

    layers = MapLayers(
        boundaries=cache.display_boundaries(ctx.bkey),
        incidents=ctx.incidents(),
        hotspots=ctx.hotspots().hotspots,
        cameras=None,
        patrols=ctx.plan()[0].areas if plan is not None else None,
        attribution=ctx.areas.attribution,
        focus_forces=() if set(ctx.force_names) <= set(ctx.filters.forces) else ctx.filters.forces,
    )
    return briefing_pack(
        layers=layers,
        figures={label: value for label, value, _ in figures},
        top_hotspots=top_hotspots,
        hoppers=hoppers,
        title=f"Hare coursing briefing · {ctx.view_label}",
        redact=True,
        plan=plan,
        plan_title=plan_title,
        filters_text=ctx.view_label,
        synthetic=ctx.demo,
    )


def record_interaction(raw_row: pd.DataFrame, *, start_month: int = 9):
    """Validate one interaction typed into the dashboard's form and store it if accepted.

    The dashboard's only write of the interactions register (through
    :func:`geo.io.interactions.record_interactions`, the register's one
    write): an audit trail hooks in there.

    Returns
    -------
    (InteractionsResult, RegisterReport)
    """
    from geo.io.interactions import record_interactions

    ctx = st.session_state.get(SessionKeys.CONTEXT)
    if ctx is not None and ctx.access is not None:  # shared mode: audited before the write
        from dashboard.auth import record

        record(ctx.access, "ingest", {"via": "dashboard", "what": "interaction", "rows": int(len(raw_row))})
    return record_interactions(raw_row, cache.data_dir(), start_month=start_month)

"""Dashboard state: the filters, their round trip through the URL, and every session key.

``Filters`` is the single description of "what the analyst is looking at". The
sidebar builds one from its widgets; ``to_query_params`` writes it into
``st.query_params`` so a copied link reproduces the view; ``from_query_params``
reads it back and never raises: any missing, malformed or out-of-range value
falls back to its default.

:class:`SessionKeys` names every ``st.session_state`` key the dashboard uses
(widget keys included); :func:`init_session` is run once per script run by
``dashboard/app.py``.

This module has no Streamlit import, so it is unit-testable on its own
(:func:`init_session` takes the session state and the query parameters).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, fields, replace
from typing import NamedTuple

from geo.schema import SEVEN_FORCES

__all__ = [
    "ALL_SEASONS",
    "DEFAULT_EPS_M",
    "DEFAULT_MIN_SAMPLES",
    "EPS_RANGE_M",
    "MIN_SAMPLES_RANGE",
    "SEVEN",
    "DAY_NAMES",
    "CREWS_RANGE",
    "PLAN_RADIUS_RANGE_M",
    "Filters",
    "PlanInputs",
    "Scope",
    "SessionKeys",
    "field_names",
    "init_session",
]

#: Names of the seven forces, canonical order.
SEVEN: tuple[str, ...] = tuple(SEVEN_FORCES.values())
#: Query-string value for "no season filter".
ALL_SEASONS = "all"
DEFAULT_EPS_M = 1500.0
DEFAULT_MIN_SAMPLES = 6
EPS_RANGE_M: tuple[float, float] = (100.0, 10_000.0)
MIN_SAMPLES_RANGE: tuple[int, int] = (2, 50)
CREWS_RANGE: tuple[int, int] = (1, 20)
PLAN_RADIUS_RANGE_M: tuple[float, float] = (500.0, 20_000.0)

_SEASON_RE = re.compile(r"^\d{4}(-\d{2})?$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_MAX_PARAM_LEN = 2_000  # longer values are garbage, not filters


class Scope(NamedTuple):
    """Which incidents are in view: the incident filters of :class:`Filters`.

    Hashable, so the caches key on it (``dashboard.cache``).
    """

    season: str | None = None
    start_month: int = 9
    forces: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    hours: tuple[int, int] = (0, 23)
    days: tuple[int, ...] = ()
    crime_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanInputs:
    """What the Plan page plans (hashable; part of :class:`Filters` and of the URL).

    Attributes
    ----------
    crews : int
        Patrol crews (circles), 1..20.
    radius_m : float
        Circle radius in metres.
    days : str
        Canonical days token (``"fri,sat"``); ``""`` = every day.
    hours : str
        Canonical hours token (``"18-02"``); ``""`` = all day.
    forces : tuple of str
        Forces crews may go to; ``()`` = the sidebar's forces.
    as_of : str
        ``""`` (the day after the latest incident), a season label
        (``"2021-22"``: its start) or an ISO date.
    """

    crews: int = 3
    radius_m: float = 3000.0
    days: str = ""
    hours: str = ""
    forces: tuple[str, ...] = ()
    as_of: str = ""

    def to_query_params(self) -> dict[str, str]:
        """The plan fields of the URL: ``crews``, ``radius``, ``pdays``, ``phours``, ``pforces``, ``asof``."""
        return {"crews": str(self.crews), "radius": _fmt_float(self.radius_m), "pdays": self.days,
                "phours": self.hours, "pforces": ",".join(self.forces), "asof": self.as_of}

    @classmethod
    def from_query_params(cls, get, allowed: tuple[str, ...]) -> PlanInputs:
        """From a query getter (see :func:`_getter`); bad values fall back to defaults, never raise."""
        base = cls()
        wanted = [f.strip() for f in (get("pforces") or "").split(",") if f.strip()]
        return cls(
            crews=_parse_int(get("crews"), *CREWS_RANGE, base.crews),
            radius_m=_parse_float(get("radius"), *PLAN_RADIUS_RANGE_M, base.radius_m),
            days=_parse_plan_days(get("pdays")),
            hours=_parse_plan_hours(get("phours")),
            forces=tuple(f for f in allowed if f in wanted),
            as_of=_parse_as_of(get("asof")),
        )


@dataclass(frozen=True)
class Filters:
    """Current dashboard filters (hashable: usable as a cache key).

    Attributes
    ----------
    season : str or None
        Season label (``"2021-22"``; ``"2021"`` when seasons start in January);
        None means every season.
    start_month : int
        Month (1..12) a coursing season starts in.
    forces : tuple of str
        Force names to show (the seven by default).
    date_from, date_to : datetime.date or None
        Inclusive London calendar days; None = unbounded.
    hours : (int, int)
        Inclusive range of London hours of the day, 0..23; ``(20, 4)`` wraps past
        midnight (20:00 to 04:59).
    days : tuple of int
        Weekdays to show, 0 = Monday .. 6 = Sunday (London); empty = every day.
    crime_types : tuple of str
        Crime types to show (as recorded); empty = every type.
    eps_m : float
        DBSCAN radius in metres.
    min_samples : int
        Minimum incidents per hotspot (DBSCAN ``min_samples``).
    briefing : bool
        Large, high-contrast presentation for a projector.
    redact : bool
        Mask plates and nominal ids everywhere.
    tiles : bool
        Draw online map tiles under the vectors.
    plan : PlanInputs
        The Plan page's inputs.
    """

    season: str | None = None
    start_month: int = 9
    forces: tuple[str, ...] = field(default=SEVEN)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    hours: tuple[int, int] = (0, 23)
    days: tuple[int, ...] = ()
    crime_types: tuple[str, ...] = ()
    eps_m: float = DEFAULT_EPS_M
    min_samples: int = DEFAULT_MIN_SAMPLES
    briefing: bool = False
    redact: bool = False
    tiles: bool = False
    plan: PlanInputs = field(default_factory=PlanInputs)

    # ------------------------------------------------------------------ URL
    @property
    def scope(self) -> Scope:
        """The incident filters alone (season, start month, forces, dates, hours)."""
        return Scope(self.season, self.start_month, self.forces, self.date_from, self.date_to,
                     self.hours, self.days, self.crime_types)

    def to_query_params(self) -> dict[str, str]:
        """Every field as a plain string, ready for ``st.query_params.from_dict``."""
        return {
            "season": self.season if self.season else ALL_SEASONS,
            "start_month": str(self.start_month),
            "forces": ",".join(self.forces),
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "hours": f"{self.hours[0]}-{self.hours[1]}",
            "days": ",".join(DAY_NAMES[d] for d in self.days),
            "crime": "|".join(self.crime_types),
            "eps_m": _fmt_float(self.eps_m),
            "min_samples": str(self.min_samples),
            "briefing": "1" if self.briefing else "0",
            "redact": "1" if self.redact else "0",
            "tiles": "1" if self.tiles else "0",
            **self.plan.to_query_params(),
        }

    @classmethod
    def from_query_params(
        cls,
        params: Mapping[str, object],
        *,
        force_names: Iterable[str] = SEVEN,
        seasons: Iterable[str] | None = None,
        default_season: str | None = None,
    ) -> Filters:
        """Filters from a query-string mapping; bad values fall back to defaults.

        Parameters
        ----------
        params : mapping
            ``st.query_params`` or any ``dict``; values are strings (a list
            value uses its last item, as ``st.query_params[key]`` does).
        force_names : iterable of str
            Forces the user may pick; unknown names are dropped.
        seasons : iterable of str, optional
            Seasons present in the data; a season not in it falls back to
            ``default_season``. Without it, any well-formed label is kept.
        default_season : str, optional
            Season used when the URL has none or a bad one (``"all"`` in the
            URL still means every season).

        Returns
        -------
        Filters
            Never raises.
        """
        get = _getter(params)
        base = cls()
        allowed = tuple(force_names)

        start_month = _parse_int(get("start_month"), 1, 12, base.start_month)

        raw_season = get("season")
        season = default_season
        if raw_season is not None:
            if raw_season.strip().lower() == ALL_SEASONS:
                season = None
            elif _SEASON_RE.match(raw_season.strip()) and (
                seasons is None or raw_season.strip() in set(seasons)
            ):
                season = raw_season.strip()

        forces = allowed if allowed else base.forces
        raw_forces = get("forces")
        if raw_forces is not None:
            wanted = {_force_name(f) for f in raw_forces.split(",") if f.strip()}
            picked = tuple(f for f in allowed if f in wanted)  # canonical order, no duplicates
            if picked:
                forces = picked
            elif raw_forces.strip() == "":
                forces = ()  # an explicit empty selection is a valid (empty) view

        date_from = _parse_date(get("from"))
        date_to = _parse_date(get("to"))
        if date_from and date_to and date_from > date_to:
            date_from, date_to = None, None

        hours = _parse_hours(get("hours"), base.hours)
        days = _parse_days(get("days"))
        crime_types = _parse_crime_types(get("crime"))
        eps_m = _parse_float(get("eps_m"), *EPS_RANGE_M, base.eps_m)
        min_samples = _parse_int(get("min_samples"), *MIN_SAMPLES_RANGE, base.min_samples)
        briefing = _parse_bool(get("briefing"), base.briefing)
        # Masking defaults ON in briefing mode; an explicit value always wins.
        redact = _parse_bool(get("redact"), briefing)
        tiles = _parse_bool(get("tiles"), base.tiles)
        return cls(
            season=season,
            start_month=start_month,
            forces=forces,
            date_from=date_from,
            date_to=date_to,
            hours=hours,
            days=days,
            crime_types=crime_types,
            eps_m=eps_m,
            min_samples=min_samples,
            briefing=briefing,
            redact=redact,
            tiles=tiles,
            plan=PlanInputs.from_query_params(get, allowed),
        )

    # ------------------------------------------------------------ helpers
    def with_(self, **changes: object) -> Filters:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    @property
    def all_hours(self) -> bool:
        """True when the hours filter keeps the whole day."""
        return self.hours == (0, 23)


class SessionKeys:
    """Every ``st.session_state`` key of the dashboard, in one place.

    Keys starting with ``_hw`` are the dashboard's own bookkeeping; the others
    are widget keys (tests drive widgets by them, e.g. ``at.sidebar.toggle(key=SessionKeys.REDACT)``).
    """

    # bookkeeping
    #: Query parameters of the link that opened the session (see :func:`init_session`).
    LINK_PARAMS = "_hw_url0"
    #: Set once the sidebar widgets were seeded from the link.
    SEEDED = "_hw_init"
    #: (data key, season, start month) the date range was last fitted to.
    DATES_SCOPE = "_hw_dates_scope"
    #: The link's date range, waiting for the date extent of its season.
    DATES_FROM_LINK = "_hw_dates_from_url"
    #: The filters of the last run (to put the sidebar back if Streamlit drops widget state).
    LAST_FILTERS = "_hw_last_filters"
    #: The ``dashboard.context.Context`` of this script run.
    CONTEXT = "_harewatch_ctx"
    #: Upload token -> summary of the ingest done for it (Data page).
    INGESTED = "data_ingested"

    # sidebar widgets
    SEASON = "w_season"
    START_MONTH = "w_start_month"
    FORCES = "w_forces"
    DATES = "w_dates"
    HOURS = "w_hours"
    HOURS_WRAP = "w_hours_wrap"
    DAYS = "w_days"
    CRIME_TYPES = "w_crime_types"
    EPS_M = "w_eps_m"
    MIN_SAMPLES = "w_min_samples"
    BRIEFING = "w_briefing"
    REDACT = "w_redact"
    TILES = "w_tiles"

    # page widgets
    MAP_VEHICLES = "map_vehicles"
    MAP_HEAT = "map_heat"
    MAP = "overview_map"
    HOP_NOW_IN = "hop_now_in"
    HOP_MIN_STAGE = "hop_min_stage"
    HOP_ONLY = "hop_only"
    HOP_TABLE = "hoppers_table"
    HOP_SUBJECTS = "hop_subjects"
    HOP_TIMELINE = "hop_timeline"
    HOP_MAP = "hop_map"
    HOTSPOT_TABLE = "hotspot_table"
    HOTSPOT_MAP = "hotspot_map"
    HOTSPOT_SUGGEST = "hotspot_suggest_min"
    HOP_SUBJECT_KIND = "hop_subject_kind"
    BRIEFING_PACK = "briefing_pack"
    BRIEFING_PACK_MAKE = "briefing_pack_make"
    ALERTS_PAUSED = "alerts_paused"
    ALERTS_TABLE = "alerts_table"
    TREND_WHEN = "trend_when"
    SEASON_TOTALS = "season_totals"
    PER_FORCE_SEASON = "per_force_season"
    BEFORE_AFTER = "before_after"
    DATA_UPLOAD = "data_upload"
    DATA_KIND = "data_kind"
    REJECTS_TABLE = "rejects_table"
    BY_FORCE_TABLE = "by_force_table"
    INCIDENTS_PREVIEW = "incidents_preview"
    BRIEFING_MAP = "briefing_map"
    BRIEFING_HOTSPOTS = "briefing_hotspots"
    BRIEFING_HOPPERS = "briefing_hoppers"
    # casework (Case file page, plate search boxes, the interaction form)
    CASE_SUBJECT = "case_subject"
    CASE_MAP = "case_map"
    CASE_INCIDENTS = "case_incidents"
    CASE_READS = "case_reads"
    CASE_CROSSINGS = "case_crossings"
    CASE_INTERACTIONS = "case_interactions"
    CASE_LADDER = "case_ladder"
    CASE_EVIDENCE = "case_evidence"
    CASE_ASSOCIATES = "case_associates"
    CASE_SOURCES = "case_sources"
    CASE_PLATE_INCIDENT = "case_plate_incident"
    HOP_ASSOCIATES = "hop_associates"
    #: Prefix of a plate search box's widgets (+ "_pattern", "_km", "_hours", "_go").
    PLATE_SEARCH = "plate_search"
    #: Prefix of the interaction form's widgets (+ "_kind", "_subject", "_type", ...).
    INTERACTION_FORM = "ia_form"
    #: Message of the last interaction recorded in this session (shown after the rerun).
    INTERACTION_DONE = "_hw_interaction_done"
    BRIEFING_PLAN = "briefing_plan"
    #: The Plan page's inputs (a ``PlanInputs``), kept while other pages are shown.
    PLAN = "_hw_plan"
    PLAN_CREWS = "plan_crews"
    PLAN_RADIUS = "plan_radius"
    PLAN_DAYS = "plan_days"
    PLAN_HOURS = "plan_hours"
    PLAN_HOURS_ON = "plan_hours_on"
    PLAN_FORCES = "plan_forces"
    PLAN_AS_OF = "plan_as_of"
    PLAN_AS_OF_DATE = "plan_as_of_date"
    PLAN_TABLE = "plan_table"
    PLAN_BACKTEST = "plan_backtest"
    PLAN_MAP = "plan_map"
    # shared-mode pages (Reveal, Audit, Users and retention)
    REVEAL_FORM = "reveal_form"
    REVEAL_SUBJECT = "reveal_subject"
    REVEAL_REASON = "reveal_reason"
    OLD_READS_FORM = "old_reads_form"
    OLD_READS_REASON = "old_reads_reason"
    AUDIT_USER = "audit_user"
    AUDIT_ACTION = "audit_action"
    AUDIT_SINCE = "audit_since"
    AUDIT_TABLE = "audit_table"
    ROLES_TABLE = "roles_table"
    ROLE_FORM = "role_form"
    ROLE_EMAIL = "role_email"
    ROLE_VALUE = "role_value"
    PURGE_CHECK = "purge_check"
    PURGE_APPLY = "purge_apply"


def init_session(session: MutableMapping[str, object], query_params: Mapping[str, object]) -> None:
    """Per-session set-up, run by ``dashboard/app.py`` before ``st.navigation``.

    Keeps the filters of the link that opened this session: once the page
    links are on screen, a click during the first (slow) load replaces the
    URL, and the link's filters would be lost.

    Parameters
    ----------
    session : mutable mapping
        ``st.session_state``.
    query_params : mapping
        ``st.query_params``.
    """
    if SessionKeys.LINK_PARAMS not in session:
        session[SessionKeys.LINK_PARAMS] = {k: query_params.get(k) for k in query_params}


def field_names() -> list[str]:
    """Names of the ``Filters`` fields (for tests and documentation)."""
    return [f.name for f in fields(Filters)]


# ---------------------------------------------------------------- parsing
#: Weekday names in the URL (``days=fri,sat``), Monday first.
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_CRIME_TYPES = 50


def _force_name(text: str) -> str:
    """A force as police write it (``Essex Police``, ``E23000028``) -> its name (alias table)."""
    from geo.forces import lookup_force

    force = lookup_force(text)
    return force.name if force is not None else text.strip()


def _parse_days(value: str | None) -> tuple[int, ...]:
    """``fri,sat`` (any case, full names too) -> (4, 5); unknown tokens are dropped."""
    if not value:
        return ()
    out = set()
    for token in value.split(","):
        t = token.strip().lower()[:3]
        if t in DAY_NAMES:
            out.add(DAY_NAMES.index(t))
    return tuple(sorted(out))


def _parse_crime_types(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    items = [t.strip() for t in value.split("|") if t.strip()]
    return tuple(dict.fromkeys(items))[:_MAX_CRIME_TYPES]


def _getter(params: Mapping[str, object]):
    def get(key: str) -> str | None:
        try:
            value = params.get(key)  # type: ignore[union-attr]
        except Exception:  # a hostile mapping must not crash the app
            return None
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        if value is None:
            return None
        text = str(value)
        return text if len(text) <= _MAX_PARAM_LEN else None

    return get


def _parse_int(text: str | None, lo: int, hi: int, default: int) -> int:
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        return default
    return value if lo <= value <= hi else default


def _parse_float(text: str | None, lo: float, hi: float, default: float) -> float:
    if text is None:
        return default
    try:
        value = float(text.strip())
    except ValueError:
        return default
    if not math.isfinite(value) or not lo <= value <= hi:
        return default
    return value


def _parse_bool(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    t = text.strip().lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    return default


def _parse_date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        value = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2100 else None


def _parse_hours(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if text is None:
        return default
    parts = text.strip().split("-")
    if len(parts) != 2:
        return default
    try:
        h0, h1 = int(parts[0]), int(parts[1])
    except ValueError:
        return default
    if not (0 <= h0 <= 23 and 0 <= h1 <= 23):
        return default
    return h0, h1


def _parse_plan_days(text: str | None) -> str:
    """A canonical days token (``"fri,sat"``), or ``""`` (every day) for anything unusable."""
    if not text or not text.strip():
        return ""
    from geo.planning import PlanInputError, parse_window  # here: importing it (scipy) costs ~0.3 s

    try:
        return parse_window(text, None).days_token or ""
    except PlanInputError:
        return ""


def _parse_plan_hours(text: str | None) -> str:
    """A canonical hours token (``"18-02"``), or ``""`` (all day) for anything unusable."""
    if not text or not text.strip():
        return ""
    from geo.planning import PlanInputError, parse_hours  # here: importing it (scipy) costs ~0.3 s

    try:
        return parse_hours(text).token
    except PlanInputError:
        return ""


def _parse_as_of(text: str | None) -> str:
    """``""``, a season label or an ISO date; anything else gives ``""``."""
    if not text:
        return ""
    t = text.strip()
    if _SEASON_RE.match(t) and (len(t) == 4 or (int(t[:4]) + 1) % 100 == int(t[5:])):
        return t if 1990 <= int(t[:4]) <= 2100 else ""
    day = _parse_date(t)
    return day.isoformat() if day else ""


def _fmt_float(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

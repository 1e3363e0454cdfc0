"""Patrol planning: where to put ``crews`` patrol circles for a time window.

A planner asks "I have 3 crews on Friday and Saturday nights: where do I put
them?". :func:`plan_patrols` answers with ``crews`` circles of ``radius_m``
metres, ranked, each with the incidents it is expected to see and a plain
reason; :func:`backtest` says how well the same method would have done in past
seasons, next to two simple baselines.

Time window
-----------
``days`` is a comma list of ``mon tue wed thu fri sat sun`` (full names and
ranges such as ``fri-sun`` also work); ``hours`` is ``"HH-HH"`` in whole hours
of the UK clock (Europe/London, so BST in summer), start included, end
excluded: ``"18-02"`` is 18:00:00 up to 01:59:59. A window whose end is not
after its start crosses midnight, and the hours after midnight belong to the
night that started the evening before: with ``days="fri"`` and
``hours="18-02"``, 01:00 on Saturday counts (Friday night) and 01:00 on Friday
does not (Thursday night). ``"22-00"`` means 22:00 to midnight. (The hours
filter of :func:`geo.seasons.filter_incidents` takes an inclusive ``(start,
end)`` tuple instead; the two are not interchangeable.)

Dates without a time
--------------------
The optional ``time_precision`` column says how much of ``occurred_at`` is
known: ``"minute"`` (the default, also when the column is absent or a value is
missing), ``"day"`` (a date, no time of day) or ``"month"`` (month only, as in
data.police.uk). Nothing is invented for them:

- with ``hours`` given, only ``"minute"`` rows can be placed in the window;
  ``"day"`` rows are left out and counted as ``day_only``, ``"month"`` rows as
  ``month_only``;
- with ``days`` only, ``"day"`` rows are judged by their calendar weekday and
  ``"month"`` rows are left out (``month_only``);
- with no window at all every row with a time is used.

If a window is given and *no* incident before ``as_of`` can be judged (all are
month-only, or day-only with ``hours``), :func:`plan_patrols` raises
:class:`PlanInputError` saying that the window can't be applied and to run
without ``--days``/``--hours``. Recency uses the recorded time as given
(month-only dates are usually the 1st of the month).

Method and assumptions
----------------------
1. **What counts.** Incidents strictly before ``as_of`` (default: the
   midnight, London time, that ends the day of the latest incident) that
   fall in the window. All analysis is in EPSG:27700
   metres; WGS84 is used only for the output ``lat``/``lon``.
2. **Recency and trend.** Each incident gets weight ``0.5 ** (age_days /
   half_life_days)`` (default half-life 180 days, so last season counts about
   a quarter as much as this one). Between two places with the same number of
   incidents the one whose incidents are more recent, i.e. the emerging one,
   always weighs more, and a fading one less: the decay is the trend term.
   Only differences in age matter, so the ranking does not depend on how far
   ``as_of`` is past the last incident. ``half_life_days=None`` weighs every
   incident 1.
3. **Demand.** Weights are summed on a square grid of ``cell_m`` (default
   ``radius_m / 3``); each non-empty cell is one demand point at the weighted
   mean position of its incidents. This keeps 100,000 incidents to a few
   thousand points.
4. **Candidate centres.** The demand points themselves (places incidents
   happened) plus the centres of a grid of ``max(cell_m, radius_m / 3)``
   metres lying within ``radius_m`` of a demand point, so a circle can sit
   between two nearby places and cover both. With ``areas`` the candidates
   must lie in a force area (not at sea), in one of ``forces`` when given;
   with ``forces`` but no boundaries, they are the demand points of
   incidents recorded in those forces (centred on those incidents, no grid).
   The demand is every incident either way: crews cross force borders
   freely.
5. **Placing crews: maximal covering location problem.** Choose ``crews``
   centres maximising the total weight of demand points within ``radius_m`` of
   at least one centre; a point covered twice counts once, so two crews are
   never spent on the same incidents. ``solver="greedy"`` (default) adds the
   centre with the largest uncovered weight ``crews`` times, then swaps single
   centres while that improves the cover. Coverage is a monotone submodular
   function, so the greedy cover is at least ``1 - 1/e`` (about 63 %) of the
   optimum; the swaps only ever increase it. ``solver="exact"`` solves the
   integer programme with spopt's MCLP (CBC through PuLP), for small problems
   (at most 4 million demand-candidate pairs).
6. **Describing the circles.** Each incident is given to at most one circle:
   circles are ranked by the weight they cover, each later one counting only
   what the earlier ones left. ``expected_incidents`` is the number of window
   incidents expected in that circle over one season (365.25 days) if the
   recency-weighted rate goes on: ``365.25 * sum(weights) / integral of the
   weight over the history``, where the history runs from the earliest
   incident to ``as_of``. With no decay this is the plain yearly average.
   ``forces`` lists the force areas the circle intersects when ``areas`` is
   given; without boundaries it is approximated by the forces recorded on the
   incidents within the circle, most frequent first. ``why`` names the
   window, the number of incidents, the last 12 months against the 12 before
   ("rising" or "falling" when they differ by at least 2 and a quarter of the
   larger count, else "steady") and a force border crossed.

Backtest
--------
For each season in the data after the first: plan with only the incidents
before the season start, then count how many of that season's judged window
incidents fall within ``radius_m`` of a centre (``hits``); ``hit_rate =
hits / incidents``; ``area_share`` = area of the union of the circles inside
the region / area of the region; ``pai = hit_rate / area_share`` (predictive
accuracy index). The region is the union of the force areas (see
:func:`geo.grids.study_region`: ``forces`` if given, else the forces the
incidents were recorded in) when ``areas`` is given, else the convex hull of
all incidents grown by ``radius_m``. With ``forces`` only incidents recorded
in those forces are scored. Baselines, each with ``crews`` circles of
``radius_m``:

- ``"hotspots"``: last season's top DBSCAN hotspots (window incidents of the
  previous season, :func:`geo.hotspots.find_hotspots` ranking), circles at the
  hotspot centroids;
- ``"kde"``: peaks of a binned Gaussian kernel density of the previous
  season's window incidents (bandwidth ``kde_bandwidth_m``, default
  ``radius_m / 2``, on the ``cell_m`` grid), each next peak at least
  ``2 * radius_m`` from the ones chosen, so circles do not overlap.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import ndimage, sparse
from scipy.spatial import cKDTree
from shapely.geometry import mapping

from geo.areas import ForceAreas, assign_force
from geo.errors import InputError
from geo.grids import bin_points, grid_over, incident_xy_m, study_region
from geo.hotspots import find_hotspots
from geo.schema import BNG, LONDON, MULTI_SEP, WGS84
from geo.seasons import previous_season, season_bounds, season_of

__all__ = [
    "PlanInputError",
    "DAY_TOKENS",
    "PLAN_AREA_COLUMNS",
    "BACKTEST_COLUMNS",
    "HourRange",
    "TimeWindow",
    "WindowMask",
    "PlanResult",
    "parse_days",
    "parse_hours",
    "parse_window",
    "window_mask",
    "plan_patrols",
    "backtest",
    "plan_as_of",
    "plan_with_backtest",
    "backtest_sentence",
    "plan_to_json",
    "plan_to_geojson",
    "plan_to_frame",
]


class PlanInputError(InputError):
    """A planning input is wrong; the message names the bad value and how to fix it."""


DAY_TOKENS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_PRECISIONS = ("minute", "day", "month")
_HOURS_RE = re.compile(r"^\s*(\d{1,2})(?::00)?\s*-\s*(\d{1,2})(?::00)?\s*$")
_SEASON_DAYS = 365.25
_EXACT_MAX_PAIRS = 4_000_000
_MAX_GRID_CANDIDATES = 4_000_000

#: Columns of ``PlanResult.areas``.
PLAN_AREA_COLUMNS: list[str] = [
    "rank",
    "lat",
    "lon",
    "easting",
    "northing",
    "radius_m",
    "forces",
    "expected_incidents",
    "incidents",
    "recent_12m",
    "previous_12m",
    "why",
]

#: Columns of the :func:`backtest` table.
BACKTEST_COLUMNS: list[str] = [
    "season",
    "method",
    "hits",
    "incidents",
    "hit_rate",
    "area_share",
    "pai",
    "circles",
    "unjudged",
]

_METHOD_NAMES = {
    "plan": "this plan",
    "hotspots": "the biggest-hotspot plan",
    "kde": "the density-peak plan",
}


# --------------------------------------------------------------------------- window


@dataclass(frozen=True)
class HourRange:
    """Whole hours of the UK clock, start included, end excluded.

    Attributes
    ----------
    start_h : int
        0..23.
    end_h : int
        1..24; when not after ``start_h`` the range crosses midnight.
    """

    start_h: int
    end_h: int

    @property
    def wraps(self) -> bool:
        """True when the range crosses midnight (``18-02``)."""
        return self.end_h <= self.start_h

    @property
    def hours(self) -> tuple[int, ...]:
        """Clock hours (0..23) in the range, in order from the start."""
        n = (self.end_h - self.start_h) % 24 or 24
        return tuple((self.start_h + i) % 24 for i in range(n))

    @property
    def token(self) -> str:
        """The range as written on the command line, ``"18-02"``."""
        return f"{self.start_h:02d}-{self.end_h:02d}"

    @property
    def label(self) -> str:
        """For people: ``"18:00-02:00"``."""
        return f"{self.start_h:02d}:00-{self.end_h % 24:02d}:00"


@dataclass(frozen=True)
class TimeWindow:
    """Days of the week (0 = Monday) and clock hours; ``None`` = no restriction."""

    days: frozenset[int] | None = None
    hours: HourRange | None = None

    @property
    def is_everything(self) -> bool:
        """No restriction at all."""
        return self.days is None and self.hours is None

    @property
    def days_token(self) -> str | None:
        """Days as ``"fri,sat"`` (Monday first), or None."""
        return None if self.days is None else ",".join(DAY_TOKENS[d] for d in sorted(self.days))

    def describe(self) -> str:
        """Plain English, e.g. ``"Fri/Sat nights 18:00-02:00"``."""
        if self.is_everything:
            return "all days and hours"
        days = None if self.days is None else "/".join(_DAY_LABELS[d] for d in sorted(self.days))
        if self.hours is None:
            return f"{days} (all day)"
        if self.hours.wraps:
            return f"{days or 'every'} nights {self.hours.label}"
        return f"{days or 'every day'} {self.hours.label}"


@dataclass(frozen=True)
class WindowMask:
    """Which incidents fall in a window, and which could not be judged.

    Attributes
    ----------
    inside : ndarray of bool
        In the window (always False where not judged).
    unjudged : ndarray of bool
        No time (NaT), or too coarse a time for the window.
    month_only, day_only, missing_time : int
        Rows left out because the date is month-only, day-only (with hours
        given) or missing.
    """

    inside: np.ndarray
    unjudged: np.ndarray
    month_only: int
    day_only: int
    missing_time: int

    @property
    def n_unjudged(self) -> int:
        """Rows that could not be placed in (or out of) the window."""
        return self.month_only + self.day_only + self.missing_time


def _day_number(token: str, text: str) -> int:
    word = token.strip().lower()
    for i, (short, full) in enumerate(zip(DAY_TOKENS, _DAY_FULL, strict=True)):
        if word in (short, full):
            return i
    raise PlanInputError(
        f"unknown day {token.strip()!r} in days {text!r}: use mon, tue, wed, thu, fri, sat, "
        "sun, comma-separated (fri,sat) or as a range (fri-sun)"
    )


def parse_days(text: str) -> frozenset[int]:
    """Days of the week from ``"fri,sat"``, ``"Friday, Saturday"`` or ``"fri-sun"``.

    Returns
    -------
    frozenset of int
        0 = Monday .. 6 = Sunday. A range runs forward and may wrap
        (``"sat-mon"`` = Sat, Sun, Mon).

    Raises
    ------
    PlanInputError
        Empty text, an empty item or an unknown day (named in the message).
    """
    if not isinstance(text, str) or not text.strip():
        raise PlanInputError(f"days must be text such as 'fri,sat', got {text!r}")
    out: set[int] = set()
    for token in text.split(","):
        if not token.strip():
            raise PlanInputError(f"empty day in days {text!r}: write e.g. 'fri,sat'")
        parts = token.split("-")
        if len(parts) > 2:
            raise PlanInputError(
                f"bad day range {token.strip()!r} in days {text!r}: e.g. 'fri-sun'"
            )
        first, last = _day_number(parts[0], text), _day_number(parts[-1], text)
        out.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(out)


def parse_hours(text: str) -> HourRange:
    """Clock hours from ``"18-02"`` (or ``"18:00-02:00"``).

    Raises
    ------
    PlanInputError
        Not ``HH-HH``, a start hour outside 0..23, an end outside 0..24, or
        an empty range (start equal to end).
    """
    m = _HOURS_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise PlanInputError(
            f"bad hours {text!r}: write start-end in whole hours of the UK clock, e.g. "
            "'18-02' for 18:00 to 02:00 across midnight"
        )
    start, end = int(m.group(1)), int(m.group(2))
    if start > 23:
        raise PlanInputError(f"start hour {start} in hours {text!r} must be 0..23")
    if end > 24:
        raise PlanInputError(f"end hour {end} in hours {text!r} must be 0..24")
    end = 24 if end == 0 else end
    if end == start:
        raise PlanInputError(
            f"hours {text!r} start and end at the same hour: for the whole day leave hours out"
        )
    return HourRange(start, end)


def parse_window(
    days: str | Collection[int] | None = None, hours: str | HourRange | None = None
) -> TimeWindow:
    """A :class:`TimeWindow` from text (``"fri,sat"``, ``"18-02"``) or parsed values."""
    if days is None or isinstance(days, frozenset):
        day_set = days
    elif isinstance(days, str):
        day_set = parse_days(days)
    else:
        day_set = frozenset(int(d) for d in days)
        if not day_set or not day_set <= set(range(7)):
            raise PlanInputError(f"days must be 0 (Monday) .. 6 (Sunday), got {sorted(day_set)}")
    hour_range = parse_hours(hours) if isinstance(hours, str) else hours
    return TimeWindow(day_set, hour_range)


def _london(times) -> pd.Series:
    """Tz-aware times as a Europe/London Series with a RangeIndex."""
    s = pd.Series(pd.to_datetime(pd.Series(times).reset_index(drop=True)))
    if not isinstance(s.dtype, pd.DatetimeTZDtype):
        raise PlanInputError("incident times must be timezone-aware (UTC)")
    return s.dt.tz_convert(LONDON)


def _precision(precision, n: int) -> np.ndarray:
    """``time_precision`` values as an array of "minute"/"day"/"month" (missing = minute)."""
    if precision is None:
        return np.full(n, "minute", dtype=object)
    values = pd.Series(precision).reset_index(drop=True)
    if len(values) != n:
        raise PlanInputError(f"time_precision has {len(values)} values for {n} incidents")
    text = values.astype(object).where(values.notna(), "minute").astype(str).str.strip().str.lower()
    bad = sorted(set(text.unique()) - set(_PRECISIONS))
    if bad:
        raise PlanInputError(f"unknown time_precision {bad[0]!r}: expected minute, day or month")
    return text.to_numpy(dtype=object)


def window_mask(
    times_utc,
    days: str | Collection[int] | None = None,
    hours: str | HourRange | None = None,
    precision=None,
) -> WindowMask:
    """Which incidents fall in a days/hours window (Europe/London clock).

    Parameters
    ----------
    times_utc : Series, Index or array of tz-aware datetimes
        Incident times (NaT = no time).
    days : str or collection of int, optional
        ``"fri,sat"`` or day numbers (0 = Monday); None = every day.
    hours : str or HourRange, optional
        ``"18-02"``; None = all day. After-midnight hours of a range crossing
        midnight belong to the previous day's night.
    precision : array-like of str, optional
        ``time_precision`` per row: "minute" (default), "day" or "month".

    Returns
    -------
    WindowMask
        Positional arrays (same order as ``times_utc``).
    """
    window = parse_window(days, hours)
    local = _london(times_utc)
    prec = _precision(precision, len(local))
    has_time = local.notna().to_numpy()
    month, day = prec == "month", prec == "day"
    if window.is_everything:
        judged = has_time
    elif window.hours is not None:
        judged = has_time & ~month & ~day
    else:
        judged = has_time & ~month
    hour = local.dt.hour.to_numpy(dtype="float64", na_value=-1).astype("int64")
    weekday = local.dt.day_of_week.to_numpy(dtype="float64", na_value=-1).astype("int64")
    inside = judged.copy()
    if window.hours is not None:
        inside &= np.isin(hour, window.hours.hours)
        if window.hours.wraps:  # the small hours belong to the night before
            weekday = np.where(hour < window.hours.end_h, (weekday - 1) % 7, weekday)
    if window.days is not None:
        inside &= np.isin(weekday, sorted(window.days))
    left_out = has_time & ~judged
    return WindowMask(
        inside=inside,
        unjudged=~judged,
        month_only=int((left_out & month).sum()),
        day_only=int((left_out & day).sum()),
        missing_time=int((~has_time).sum()),
    )


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _PlanConfig:
    crews: int
    radius_m: float
    window: TimeWindow
    as_of: pd.Timestamp | None
    forces: tuple[str, ...] | None
    start_month: int
    half_life_days: float | None
    cell_m: float
    solver: str


@dataclass(frozen=True)
class _Table:
    """The columns planning reads, as positional arrays (validated once)."""

    xy: np.ndarray
    times: pd.Series  # UTC, RangeIndex
    precision: np.ndarray
    force: np.ndarray


def _number(value, name: str, *, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise PlanInputError(f"{name} must be a number, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and low < out <= high):
        raise PlanInputError(
            f"{name} must be more than {low:g} and at most {high:g}, got {value!r}"
        )
    return out


def _plan_config(
    *, crews, radius_m, days, hours, as_of, forces, start_month, half_life_days, cell_m, solver
) -> _PlanConfig:
    if isinstance(crews, bool) or not isinstance(crews, int | np.integer) or not 1 <= crews <= 1000:
        raise PlanInputError(f"crews must be a whole number 1..1000, got {crews!r}")
    radius = _number(radius_m, "radius_m", high=100_000.0)
    if isinstance(start_month, bool) or start_month not in range(1, 13):
        raise PlanInputError(f"start_month must be 1..12, got {start_month!r}")
    half_life = None
    if half_life_days is not None and not (
        isinstance(half_life_days, float) and math.isinf(half_life_days)
    ):
        half_life = _number(half_life_days, "half_life_days")
    cell = radius / 3.0 if cell_m is None else _number(cell_m, "cell_m", high=radius)
    if solver not in ("greedy", "exact"):
        raise PlanInputError(f"solver must be 'greedy' or 'exact', got {solver!r}")
    if forces is not None:
        forces = (forces,) if isinstance(forces, str) else tuple(str(f) for f in forces)
        if not forces:
            raise PlanInputError("forces is empty: name at least one force, or leave it out")
    return _PlanConfig(
        int(crews),
        radius,
        parse_window(days, hours),
        _as_of(as_of),
        forces,
        int(start_month),
        half_life,
        cell,
        solver,
    )


def _as_of(value) -> pd.Timestamp | None:
    """``as_of`` as a UTC Timestamp; naive values and dates are London time."""
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise PlanInputError(f"as_of {value!r} is not a date or time: {exc}") from exc
    if pd.isna(ts):
        raise PlanInputError(f"as_of {value!r} is not a date or time")
    ts = ts.tz_localize(LONDON) if ts.tzinfo is None else ts
    return ts.tz_convert("UTC")


def _incident_table(incidents: pd.DataFrame) -> _Table:
    if "occurred_at" not in incidents.columns:
        raise PlanInputError("incidents have no 'occurred_at' column")
    try:
        xy = incident_xy_m(incidents)
    except ValueError as exc:
        raise PlanInputError(str(exc)) from exc
    times = _london(incidents["occurred_at"]).dt.tz_convert("UTC")
    precision = _precision(incidents.get("time_precision"), len(incidents))
    force = (
        incidents["force"].astype(object).where(incidents["force"].notna(), "").astype(str)
        if "force" in incidents.columns
        else pd.Series([""] * len(incidents))
    )
    return _Table(xy, times, precision, force.to_numpy(dtype=object))


def _check_forces(forces: tuple[str, ...] | None, table: _Table, areas: ForceAreas | None) -> None:
    if forces is None:
        return
    known = set(table.force.tolist()) | (set(areas.gdf["force"].astype(str)) if areas else set())
    unknown = [f for f in forces if f not in known]
    if unknown:
        raise PlanInputError(
            f"unknown force {unknown[0]!r}: known forces are {', '.join(sorted(known - {''}))}"
        )


# --------------------------------------------------------------------------- demand


@dataclass(frozen=True)
class _Demand:
    xy: np.ndarray
    times: pd.Series
    weight: np.ndarray
    force: np.ndarray
    per_season: float  # expected incidents per season per unit of weight
    as_of: pd.Timestamp
    excluded: dict[str, int]
    n_before: int
    unjudgeable: bool  # a window was given but nothing before as_of could be judged


def _demand(table: _Table, cfg: _PlanConfig) -> _Demand:
    """Incidents that count, their recency weights and what was left out (and why)."""
    times = table.times
    has_time = times.notna().to_numpy()
    as_of = cfg.as_of if cfg.as_of is not None else _default_as_of(times)
    before = has_time & (times < as_of).to_numpy(dtype=bool, na_value=False)
    wm = window_mask(times, cfg.window.days, cfg.window.hours, table.precision)
    judged = before & ~wm.unjudged
    used = before & wm.inside
    excluded = {
        "after_as_of": int((has_time & ~before).sum()),
        "missing_time": wm.missing_time,
        "month_only": int((before & wm.unjudged & (table.precision == "month")).sum()),
        "day_only": int((before & wm.unjudged & (table.precision == "day")).sum()),
        "outside_window": int((judged & ~wm.inside).sum()),
    }
    used_times = times[used]
    age_days = (as_of - used_times).dt.total_seconds().to_numpy() / 86_400.0
    start = times[before].min() if before.any() else as_of
    span_days = max((as_of - start).total_seconds() / 86_400.0, 1.0)
    if cfg.half_life_days is None:
        weight, per_season = np.ones(len(age_days)), _SEASON_DAYS / span_days
    else:
        rate = math.log(2.0) / cfg.half_life_days
        weight = np.exp(-rate * age_days)
        per_season = _SEASON_DAYS * rate / -math.expm1(-rate * span_days)
    return _Demand(
        xy=table.xy[used],
        times=used_times.reset_index(drop=True),
        weight=weight,
        force=table.force[used],
        per_season=per_season,
        as_of=as_of,
        excluded=excluded,
        n_before=int(before.sum()),
        unjudgeable=not cfg.window.is_everything and before.any() and not judged.any(),
    )


def _default_as_of(times: pd.Series) -> pd.Timestamp:
    """Midnight (London) after the day of the latest incident."""
    if times.notna().any():
        day = times.max().tz_convert(LONDON).normalize().tz_localize(None)
        return (day + pd.Timedelta(days=1)).tz_localize(LONDON).tz_convert("UTC")
    raise PlanInputError("no incident has a time: nothing to plan from")


def _unjudgeable_message(demand: _Demand, window: TimeWindow) -> str:
    ex = demand.excluded
    kinds = " and ".join(
        f"{ex[key]} {label}"
        for key, label in (("month_only", "month-only"), ("day_only", "day-only"))
        if ex[key]
    )
    return (
        f"the window ({window.describe()}) can't be applied: the {demand.n_before} incidents "
        f"before {demand.as_of:%Y-%m-%d %H:%M} UTC have no usable day or hour ({kinds} dates); "
        "run without --days/--hours"
        + ("" if window.hours is None or not ex["day_only"] else ", or with --days only")
    )


# --------------------------------------------------------------------------- placing crews


def _grid_candidates(dem_xy: np.ndarray, radius_m: float, spacing_m: float) -> np.ndarray:
    """Centres of a ``spacing_m`` grid lying within ``radius_m`` of a demand point."""
    grid = grid_over(dem_xy, spacing_m, pad_m=radius_m)
    if grid.n_cells > _MAX_GRID_CANDIDATES:
        return np.empty((0, 2))
    centres = grid.centres(np.arange(grid.n_cells, dtype="int64"))
    dist, _ = cKDTree(dem_xy).query(centres, k=1, distance_upper_bound=radius_m * (1 + 1e-9))
    return centres[np.isfinite(dist)]


def _candidates(
    demand: _Demand, grid, cells, cfg: _PlanConfig, areas: ForceAreas | None
) -> np.ndarray:
    """Candidate centres (k, 2): demand points and grid points near them, in ``cfg.forces``."""
    spacing = max(cfg.cell_m, cfg.radius_m / 3.0)
    if cfg.forces is not None and areas is None:
        # no boundaries: only where those forces' incidents are, no grid points
        mine = np.isin(demand.force, cfg.forces)
        return bin_points(grid, demand.xy[mine], demand.weight[mine]).centroid_m
    cand = np.vstack([cells.centroid_m, _grid_candidates(cells.centroid_m, cfg.radius_m, spacing)])
    if areas is None:
        return cand
    row = assign_force(areas, cand[:, 0], cand[:, 1])  # -1: in no force area (the sea)
    if cfg.forces is None:
        return cand[row >= 0]
    names = np.append(areas.gdf["force"].astype(str).to_numpy(dtype=object), "")[row]
    return cand[np.isin(names, cfg.forces)]


def _coverage(cand_xy: np.ndarray, dem_xy: np.ndarray, radius_m: float) -> sparse.csr_matrix:
    """Candidate x demand-point matrix of 1.0 where within ``radius_m`` (edge included)."""
    pairs = cKDTree(cand_xy).sparse_distance_matrix(
        cKDTree(dem_xy), radius_m, output_type="ndarray"
    )
    ones = np.ones(len(pairs))
    shape = (len(cand_xy), len(dem_xy))
    return sparse.csr_matrix((ones, (pairs["i"], pairs["j"])), shape=shape)


def _greedy_swap(cover: sparse.csr_matrix, weight: np.ndarray, crews: int) -> list[int]:
    """Greedy maximal cover (>= 1 - 1/e of optimal), then improving single swaps."""
    chosen: list[int] = []
    covered = np.zeros(cover.shape[1], dtype=bool)
    for _ in range(crews):
        gains = cover @ np.where(covered, 0.0, weight)
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        chosen.append(best)
        covered[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = True
    for _ in range(50):  # rounds of swaps; each accepted swap strictly improves the cover
        improved = False
        for pos in range(len(chosen)):
            others = [c for i, c in enumerate(chosen) if i != pos]
            free = np.asarray(cover[others].sum(axis=0)).ravel() == 0
            gains = cover @ np.where(free, weight, 0.0)
            best = int(np.argmax(gains))
            if gains[best] > gains[chosen[pos]] * (1 + 1e-12) + 1e-12:
                chosen[pos], improved = best, True
        if not improved:
            break
    return chosen


def _exact_mclp(cand_xy: np.ndarray, dem_xy: np.ndarray, weight: np.ndarray, cfg) -> list[int]:
    """Optimal cover with spopt's MCLP (integer programme solved by CBC)."""
    if len(cand_xy) * len(dem_xy) > _EXACT_MAX_PAIRS:
        raise PlanInputError(
            f"solver='exact' handles at most {_EXACT_MAX_PAIRS:,} demand-candidate pairs, this "
            f"plan has {len(cand_xy) * len(dem_xy):,}: use solver='greedy' or a larger cell_m"
        )
    import pulp
    from spopt.locate import MCLP

    cost = np.hypot(
        dem_xy[:, None, 0] - cand_xy[None, :, 0], dem_xy[:, None, 1] - cand_xy[None, :, 1]
    )
    p = min(cfg.crews, len(cand_xy))
    with warnings.catch_warnings():  # PuLP 3 announces its 4.0 API on every variable
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP.from_cost_matrix(cost, weight, service_radius=cfg.radius_m, p_facilities=p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    return [
        j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5
    ]


def _place_crews(demand: _Demand, cfg: _PlanConfig, areas: ForceAreas | None) -> np.ndarray:
    """Centres (k <= crews, 2) in metres solving the maximal covering problem."""
    if len(demand.xy) == 0:
        return np.empty((0, 2))
    grid = grid_over(demand.xy, cfg.cell_m)
    cells = bin_points(grid, demand.xy, demand.weight)
    cand_xy = _candidates(demand, grid, cells, cfg, areas)
    if len(cand_xy) == 0:
        return np.empty((0, 2))
    if cfg.solver == "exact":
        chosen = _exact_mclp(cand_xy, cells.centroid_m, cells.total, cfg)
    else:
        chosen = _greedy_swap(
            _coverage(cand_xy, cells.centroid_m, cfg.radius_m), cells.total, cfg.crews
        )
    return cand_xy[chosen]


# --------------------------------------------------------------------------- describing


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs(BNG, WGS84, always_xy=True)


def _assign(
    centres: np.ndarray, demand: _Demand, radius_m: float
) -> tuple[list[int], list[np.ndarray], list[np.ndarray]]:
    """Rank circles by the weight they add; each incident goes to one circle at most.

    Returns, in rank order: the circles' positions in ``centres``, the
    incidents assigned to each, and all incidents within each. Circles left
    with no incident of their own are dropped.
    """
    within = cKDTree(demand.xy).query_ball_point(centres, radius_m) if len(demand.xy) else []
    within = [np.asarray(w, dtype="int64") for w in within]
    free = np.ones(len(demand.xy), dtype=bool)
    pending, order, assigned = list(range(len(within))), [], []
    while pending:  # one round per crew
        gains = [demand.weight[within[i][free[within[i]]]].sum() for i in pending]
        pick = pending.pop(int(np.argmax(gains)))
        mine = within[pick][free[within[pick]]]
        if len(mine):
            free[mine] = False
            order.append(pick)
            assigned.append(mine)
    return order, assigned, [within[i] for i in order]


def _circle_forces(centres, within, demand, radius_m, areas) -> list[list[str]]:
    """Forces each circle touches (boundaries), else those of the incidents in it."""
    if areas is not None:
        names = np.asarray(areas.gdf["force"].astype(str).tolist(), dtype=object)
        geoms = areas.gdf.geometry.values
        circles = shapely.buffer(shapely.points(centres), radius_m, quad_segs=16)
        return [names[shapely.intersects(geoms, c)].tolist() for c in circles]
    out = []
    for members in within:  # one per crew
        counts = pd.Series(demand.force[members], dtype=object).value_counts()
        counts = counts[counts.index != ""]
        out.append(sorted(counts.index.tolist(), key=lambda n: (-counts[n], n)))
    return out


def _trend_word(recent: int, before: int) -> str:
    if abs(recent - before) >= max(2.0, 0.25 * max(recent, before)):
        return "rising" if recent > before else "falling"
    return "steady"


def _why(cfg: _PlanConfig, times: pd.Series, forces: list[str], as_of) -> tuple[str, int, int]:
    """Plain reason for one circle, and its last-12-months / 12-months-before counts."""
    year = pd.Timedelta(days=365)
    recent = int((times >= as_of - year).sum())
    before = int(((times < as_of - year) & (times >= as_of - 2 * year)).sum())
    n = len(times)
    since = season_of(pd.Series([times.min()]), cfg.start_month).iloc[0] if n else ""
    text = (
        f"{cfg.window.describe()}: {n} incident{'s' if n != 1 else ''} within "
        f"{cfg.radius_m / 1000:g} km since {since}; {_trend_word(recent, before)}: "
        f"{recent} in the last 12 months, {before} in the 12 months before"
    )
    if len(forces) > 1:
        text += f"; crosses the {'/'.join(forces)} border"
    return text, recent, before


def _describe_areas(
    centres: np.ndarray, demand: _Demand, cfg: _PlanConfig, areas: ForceAreas | None
) -> pd.DataFrame:
    order, assigned, within = _assign(centres, demand, cfg.radius_m)
    xy = centres[order].reshape(-1, 2)
    forces = _circle_forces(xy, within, demand, cfg.radius_m, areas)
    lon, lat = _to_wgs84().transform(xy[:, 0], xy[:, 1])
    rows = []
    for i, (mine, fs) in enumerate(zip(assigned, forces, strict=True)):  # one per crew
        why, recent, before = _why(cfg, demand.times.iloc[mine], fs, demand.as_of)
        rows.append(
            {
                "rank": i + 1,
                "lat": float(lat[i]),
                "lon": float(lon[i]),
                "easting": float(xy[i, 0]),
                "northing": float(xy[i, 1]),
                "radius_m": cfg.radius_m,
                "forces": fs,
                "expected_incidents": float(demand.per_season * demand.weight[mine].sum()),
                "incidents": len(mine),
                "recent_12m": recent,
                "previous_12m": before,
                "why": why,
            }
        )
    return pd.DataFrame(rows, columns=PLAN_AREA_COLUMNS)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True, eq=False)
class PlanResult:
    """Result of :func:`plan_patrols`.

    Attributes
    ----------
    params : dict
        Inputs and figures used (JSON types): ``crews``, ``crews_placed``,
        ``radius_m``, ``days`` ("fri,sat" or None), ``hours`` ("18-02" or
        None), ``window`` (plain English), ``as_of`` (ISO UTC), ``forces``,
        ``start_month``, ``half_life_days``, ``cell_m``, ``solver``,
        ``n_incidents``, ``n_used``, ``expected_per``.
    areas : DataFrame
        One row per circle in rank order, columns :data:`PLAN_AREA_COLUMNS`:
        ``rank`` (1 = most), ``lat``/``lon`` (WGS84 degrees of the centre),
        ``easting``/``northing`` (metres), ``radius_m``, ``forces`` (list),
        ``expected_incidents`` (window incidents per season, see the module
        notes), ``incidents`` (window incidents before ``as_of`` given to this
        circle), ``recent_12m``/``previous_12m`` (of those, in the 12 months
        before ``as_of`` and the 12 before that), ``why``.
    excluded : dict of str to int
        Incidents not counted: ``after_as_of``, ``missing_time``,
        ``month_only``, ``day_only``, ``outside_window``.
    """

    params: dict[str, Any]
    areas: pd.DataFrame
    excluded: dict[str, int]


def plan_patrols(
    incidents: pd.DataFrame,
    *,
    crews: int,
    radius_m: float = 3000.0,
    days: str | Collection[int] | None = None,
    hours: str | HourRange | None = None,
    as_of=None,
    forces: Sequence[str] | str | None = None,
    areas: ForceAreas | None = None,
    start_month: int = 9,
    half_life_days: float | None = 180.0,
    cell_m: float | None = None,
    solver: str = "greedy",
) -> PlanResult:
    """Where to put ``crews`` patrol circles of ``radius_m`` for a days/hours window.

    Parameters
    ----------
    incidents : DataFrame or GeoDataFrame
        Accepted incidents (``occurred_at`` tz-aware, ``easting``/``northing``
        metres EPSG:27700, ``force``; optional ``time_precision``). Not modified.
    crews : int
        Number of circles to place (1..1000).
    radius_m : float, default 3000
        Circle radius in metres.
    days, hours : str, optional
        Window, e.g. ``"fri,sat"`` and ``"18-02"`` (see the module notes).
    as_of : Timestamp, datetime, date or str, optional
        Plan with incidents strictly before this instant (naive = London
        time); default the London midnight ending the latest incident's day.
    forces : sequence of str, optional
        Forces crews may be placed in (demand still comes from every force).
    areas : ForceAreas, optional
        Boundaries: exact circle-force intersections, and ``forces`` by area.
    start_month : int, default 9
        First month of a season (for the "since" season in ``why``).
    half_life_days : float or None, default 180
        Recency half-life in days; None = no decay.
    cell_m : float, optional
        Demand grid cell in metres (default ``radius_m / 3``, at most ``radius_m``).
    solver : {"greedy", "exact"}
        Greedy + swaps (>= 63 % of optimum, fast) or spopt's exact MCLP (small problems).

    Returns
    -------
    PlanResult
        Fewer than ``crews`` areas (none at all when no incident counts)
        when the incidents run out.

    Raises
    ------
    PlanInputError
        Bad parameters, unknown force, or a window that no incident can be
        judged against (all month-only dates).
    """
    cfg = _plan_config(
        crews=crews,
        radius_m=radius_m,
        days=days,
        hours=hours,
        as_of=as_of,
        forces=forces,
        start_month=start_month,
        half_life_days=half_life_days,
        cell_m=cell_m,
        solver=solver,
    )
    table = _incident_table(incidents)
    _check_forces(cfg.forces, table, areas)
    demand = _demand(table, cfg)
    if demand.unjudgeable:
        raise PlanInputError(_unjudgeable_message(demand, cfg.window))
    centres = _place_crews(demand, cfg, areas)
    frame = _describe_areas(centres, demand, cfg, areas)
    return PlanResult(_plan_params(cfg, demand, len(incidents), len(frame)), frame, demand.excluded)


def _plan_params(cfg: _PlanConfig, demand: _Demand, n_incidents: int, placed: int) -> dict:
    return {
        "crews": cfg.crews,
        "crews_placed": placed,
        "radius_m": cfg.radius_m,
        "days": cfg.window.days_token,
        "hours": None if cfg.window.hours is None else cfg.window.hours.token,
        "window": cfg.window.describe(),
        "as_of": demand.as_of.isoformat(),
        "forces": None if cfg.forces is None else list(cfg.forces),
        "start_month": cfg.start_month,
        "half_life_days": cfg.half_life_days,
        "cell_m": cfg.cell_m,
        "solver": cfg.solver,
        "n_incidents": int(n_incidents),
        "n_used": len(demand.xy),
        "expected_per": "season (365.25 days) at the recency-weighted rate",
    }


# --------------------------------------------------------------------------- backtest


def _kde_centres(xy: np.ndarray, crews: int, radius_m: float, cell_m: float, bandwidth_m: float):
    """Up to ``crews`` peaks of a binned Gaussian KDE, each >= 2 radii from the others."""
    if len(xy) == 0:
        return np.empty((0, 2))
    grid = grid_over(xy, cell_m, pad_m=3 * bandwidth_m)
    sums = bin_points(grid, xy)
    counts = np.zeros(grid.n_cells)
    counts[sums.cells] = sums.count
    density = ndimage.gaussian_filter(
        counts.reshape(grid.ny, grid.nx), sigma=bandwidth_m / cell_m, mode="constant"
    ).ravel()
    centre_xy = grid.centres(np.arange(grid.n_cells))
    floor = density.max() * 1e-9
    out = []
    for _ in range(crews):
        best = int(np.argmax(density))
        if density[best] <= floor:
            break
        out.append(centre_xy[best])
        far = np.hypot(*(centre_xy - centre_xy[best]).T) >= 2 * radius_m
        density = np.where(far, density, 0.0)
    return np.array(out).reshape(-1, 2)


def _hotspot_centres(
    incidents, rows: np.ndarray, crews: int, eps_m: float, min_samples: int, start_month: int
) -> np.ndarray:
    """Centroids of the top ``crews`` DBSCAN hotspots of the given rows (rank order)."""
    if len(rows) == 0:
        return np.empty((0, 2))
    sub = incidents.iloc[rows]
    if not isinstance(sub, gpd.GeoDataFrame):
        sub = gpd.GeoDataFrame(
            sub, geometry=gpd.points_from_xy(sub["easting"], sub["northing"]), crs=BNG
        )
    top = find_hotspots(
        sub, eps_m=eps_m, min_samples=min_samples, start_month=start_month
    ).hotspots.head(crews)
    return top[["centroid_e", "centroid_n"]].to_numpy(dtype="float64").reshape(-1, 2)


def _score(centres: np.ndarray, xy_eval: np.ndarray, radius_m: float, region) -> dict:
    """Hits, hit rate, share of the region covered and PAI of one set of circles."""
    n = len(xy_eval)
    if len(centres) and n:
        dist, _ = cKDTree(centres).query(xy_eval, k=1)
        hits = int((dist <= radius_m).sum())
    else:
        hits = 0
    circles = shapely.union_all(shapely.buffer(shapely.points(centres), radius_m, quad_segs=32))
    share = float(shapely.area(shapely.intersection(circles, region)) / shapely.area(region))
    rate = hits / n if n else math.nan
    pai = rate / share if share > 0 and n else math.nan
    return {
        "hits": hits,
        "incidents": n,
        "hit_rate": rate,
        "area_share": share,
        "pai": pai,
        "circles": len(centres),
    }


def _target_seasons(labels: pd.Series, seasons: Sequence[str] | None) -> list[str]:
    present = sorted({str(v) for v in labels.dropna().unique()})
    if seasons is None:
        return present[1:]
    wanted = [seasons] if isinstance(seasons, str) else list(seasons)
    bad = [s for s in wanted if s not in present[1:]]
    if bad:
        raise PlanInputError(
            f"season {bad[0]!r} can't be backtested: it needs incidents in it and in an earlier "
            f"season (seasons in the data: {', '.join(present) or 'none'})"
        )
    return wanted


def backtest(
    incidents: pd.DataFrame,
    *,
    crews: int,
    radius_m: float = 3000.0,
    days: str | Collection[int] | None = None,
    hours: str | HourRange | None = None,
    forces: Sequence[str] | str | None = None,
    areas: ForceAreas | None = None,
    start_month: int = 9,
    half_life_days: float | None = 180.0,
    cell_m: float | None = None,
    solver: str = "greedy",
    eps_m: float = 1500.0,
    min_samples: int = 6,
    kde_bandwidth_m: float | None = None,
    seasons: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """Score the plan, and two last-season baselines, on each past season.

    Parameters
    ----------
    incidents, crews, radius_m, days, hours, forces, areas
        As for :func:`plan_patrols` (``as_of`` is each season's start).
    start_month, half_life_days, cell_m, solver
        As for :func:`plan_patrols`.
    eps_m, min_samples : DBSCAN parameters of the ``"hotspots"`` baseline.
    kde_bandwidth_m : float, optional
        Bandwidth of the ``"kde"`` baseline (default ``radius_m / 2``).
    seasons : str or sequence of str, optional
        Seasons to test (default every season in the data after the first).

    Returns
    -------
    DataFrame
        Columns :data:`BACKTEST_COLUMNS`, one row per season and method
        (``"plan"``, ``"hotspots"``, ``"kde"``): ``hits``, ``incidents``
        (judged window incidents of the season), ``hit_rate`` (NaN with no
        incidents), ``area_share`` (0..1), ``pai`` (NaN when undefined),
        ``circles`` (placed), ``unjudged`` (season incidents whose time is too
        coarse for the window).
    """
    cfg = _plan_config(
        crews=crews,
        radius_m=radius_m,
        days=days,
        hours=hours,
        as_of=None,
        forces=forces,
        start_month=start_month,
        half_life_days=half_life_days,
        cell_m=cell_m,
        solver=solver,
    )
    base = _baselines(cfg, eps_m, min_samples, kde_bandwidth_m)
    table = _incident_table(incidents)
    _check_forces(cfg.forces, table, areas)
    labels = season_of(table.times, cfg.start_month)
    region = study_region(
        table.xy,
        buffer_m=cfg.radius_m,
        areas=areas,
        forces=cfg.forces,
        present_forces=set(table.force.tolist()),
    )
    if shapely.area(region) <= 0:
        raise PlanInputError("the study region is empty: no incidents or force areas to test on")
    wm = window_mask(table.times, cfg.window.days, cfg.window.hours, table.precision)
    scored = np.isin(table.force, cfg.forces) if cfg.forces else np.ones(len(table.xy), dtype=bool)
    rows = []
    for season in _target_seasons(labels, seasons):  # a handful
        in_season = (labels == season).to_numpy(dtype=bool, na_value=False)
        xy_eval = table.xy[in_season & wm.inside & scored]
        unjudged = int((in_season & wm.unjudged & scored).sum())
        centres = _season_centres(incidents, table, cfg, areas, base, season, labels, wm)
        for method, xy in centres.items():
            score = _score(xy, xy_eval, cfg.radius_m, region)
            rows.append({"season": season, "method": method, **score, "unjudged": unjudged})
    return pd.DataFrame(rows, columns=BACKTEST_COLUMNS)


@dataclass(frozen=True)
class _Baselines:
    eps_m: float
    min_samples: int
    bandwidth_m: float


def _baselines(cfg: _PlanConfig, eps_m, min_samples, kde_bandwidth_m) -> _Baselines:
    if isinstance(min_samples, bool) or not isinstance(min_samples, int | np.integer):
        raise PlanInputError(f"min_samples must be a whole number >= 1, got {min_samples!r}")
    if min_samples < 1:
        raise PlanInputError(f"min_samples must be a whole number >= 1, got {min_samples!r}")
    bandwidth = cfg.radius_m / 2 if kde_bandwidth_m is None else kde_bandwidth_m
    return _Baselines(
        _number(eps_m, "eps_m"), int(min_samples), _number(bandwidth, "kde_bandwidth_m")
    )


def _season_centres(
    incidents, table: _Table, cfg: _PlanConfig, areas, base: _Baselines, season, labels, wm
) -> dict[str, np.ndarray]:
    """Circle centres of each method for ``season``, from what was known before it."""
    in_prev = (labels == previous_season(season)).to_numpy(dtype=bool, na_value=False)
    prev_rows = np.flatnonzero(in_prev & wm.inside)
    plan_cfg = replace(cfg, as_of=season_bounds(season, cfg.start_month)[0])
    return {
        "plan": _place_crews(_demand(table, plan_cfg), plan_cfg, areas),
        "hotspots": _hotspot_centres(
            incidents, prev_rows, cfg.crews, base.eps_m, base.min_samples, cfg.start_month
        ),
        "kde": _kde_centres(
            table.xy[prev_rows], cfg.crews, cfg.radius_m, cfg.cell_m, base.bandwidth_m
        ),
    }


def plan_as_of(*, season: str | None = None, as_of=None, start_month: int = 9):
    """The ``as_of`` of a plan asked for by season or by date (at most one).

    Parameters
    ----------
    season : str, optional
        ``"2023-24"``: plan for that season with what was known at its start
        (:func:`geo.seasons.season_bounds`).
    as_of : date, datetime or str, optional
        Plan with incidents strictly before this instant (naive = London).
    start_month : int, default 9

    Returns
    -------
    Timestamp (UTC) or None
        None when neither is given (the planner's default: the day after the
        latest incident).

    Raises
    ------
    PlanInputError
        Both given, a bad season label or a bad date.
    """
    if season is not None and as_of is not None:
        raise PlanInputError("give either a season or an as-of date, not both")
    if season is None:
        return _as_of(as_of)
    try:
        return season_bounds(str(season), start_month)[0]
    except ValueError as exc:
        raise PlanInputError(str(exc)) from exc


def plan_with_backtest(
    incidents: pd.DataFrame, *, as_of=None, **options: Any
) -> tuple[PlanResult, pd.DataFrame]:
    """:func:`plan_patrols` and its :func:`backtest`, both with only what was known at ``as_of``.

    Parameters
    ----------
    incidents : DataFrame
        As for :func:`plan_patrols`. Not modified.
    as_of : optional
        As for :func:`plan_patrols` (None: the day after the latest incident).
    **options
        ``crews``, ``radius_m``, ``days``, ``hours``, ``forces``, ``areas``,
        ``start_month``, ``half_life_days``, ``cell_m``, ``solver`` for both.

    Returns
    -------
    (PlanResult, DataFrame)
        The plan, and the backtest table (:data:`BACKTEST_COLUMNS`) over the
        incidents strictly before the plan's ``as_of``: every season after the
        first is scored from what was known at its start, so nothing after
        ``as_of`` is used. Empty with fewer than two such seasons.
    """
    result = plan_patrols(incidents, as_of=as_of, **options)
    cutoff = pd.Timestamp(result.params["as_of"])
    times = _london(incidents["occurred_at"]).dt.tz_convert("UTC")
    known = incidents[(times < cutoff).to_numpy(dtype=bool, na_value=False)]
    if len(known) == 0:
        return result, pd.DataFrame(columns=BACKTEST_COLUMNS)
    return result, backtest(known, **options)


def _pct(rate: float) -> str:
    return "n/a" if not math.isfinite(rate) else f"{100 * rate:.0f} %"


def backtest_sentence(
    table: pd.DataFrame,
    days: str | Collection[int] | None = None,
    hours: str | HourRange | None = None,
) -> str:
    """One sentence on the latest backtested season, e.g. "Last season (2023-24) this
    plan would have covered 61 % of the 47 incidents in the window (Fri/Sat nights
    18:00-02:00); the biggest-hotspot plan 35 %, the density-peak plan 40 %."
    """
    if table.empty:
        return "Nothing to backtest: the data needs incidents in at least two seasons."
    window = parse_window(days, hours).describe()
    last = max(table["season"])
    rows = table[table["season"] == last].set_index("method")
    n = int(rows["incidents"].iloc[0])
    if n == 0:
        return f"Last season ({last}) had no incidents in the window ({window}) to test against."
    others = ", ".join(
        f"{_METHOD_NAMES[m]} {_pct(rows.at[m, 'hit_rate'])}" for m in rows.index if m != "plan"
    )
    return (
        f"Last season ({last}) {_METHOD_NAMES['plan']} would have covered "
        f"{_pct(rows.at['plan', 'hit_rate'])} of the {n} incidents in the window ({window}); "
        f"{others}."
    )


# --------------------------------------------------------------------------- output


def _json_value(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _area_records(areas: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in areas.to_dict("records"):  # one per crew
        out.append(
            {
                "rank": int(rec["rank"]),
                "lat": round(float(rec["lat"]), 6),
                "lon": round(float(rec["lon"]), 6),
                "easting": round(float(rec["easting"]), 1),
                "northing": round(float(rec["northing"]), 1),
                "radius_m": float(rec["radius_m"]),
                "forces": [str(f) for f in rec["forces"]],
                "expected_incidents": round(float(rec["expected_incidents"]), 1),
                "incidents": int(rec["incidents"]),
                "recent_12m": int(rec["recent_12m"]),
                "previous_12m": int(rec["previous_12m"]),
                "why": str(rec["why"]),
            }
        )
    return out


def plan_to_json(result: PlanResult, backtest: pd.DataFrame | None = None) -> dict[str, Any]:
    """The plan (and optional backtest table) as plain JSON types.

    Returns
    -------
    dict
        ``{"params": {...}, "excluded": {...}, "areas": [{"rank", "lat", "lon",
        "easting", "northing", "radius_m", "forces", "expected_incidents",
        "incidents", "recent_12m", "previous_12m", "why"}], "backtest": null |
        {"sentence": str, "seasons": [{"season", "method", "hits", "incidents",
        "hit_rate", "area_share", "pai", "circles", "unjudged"}]}}``; NaN
        becomes null.
    """
    bt = None
    if backtest is not None:
        bt = {
            "sentence": backtest_sentence(backtest, result.params["days"], result.params["hours"]),
            "seasons": [
                {k: _json_value(v) for k, v in rec.items()}
                for rec in backtest[BACKTEST_COLUMNS].to_dict("records")
            ],
        }
    return {
        "params": {k: _json_value(v) for k, v in result.params.items()},
        "excluded": {k: int(v) for k, v in result.excluded.items()},
        "areas": _area_records(result.areas),
        "backtest": bt,
    }


def plan_to_geojson(result: PlanResult) -> dict[str, Any]:
    """The circles as a GeoJSON FeatureCollection in WGS84; properties = area records."""
    areas = result.areas
    xy = areas[["easting", "northing"]].to_numpy(dtype="float64").reshape(-1, 2)
    circles = (
        shapely.buffer(
            shapely.points(xy), areas["radius_m"].to_numpy(dtype="float64"), quad_segs=16
        )
        if len(xy)
        else []
    )
    geoms = gpd.GeoSeries(circles, crs=BNG).to_crs(WGS84).values if len(xy) else []
    features = [
        {"type": "Feature", "id": f"P{rec['rank']:02d}", "properties": rec, "geometry": mapping(g)}
        for rec, g in zip(_area_records(areas), geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def plan_to_frame(result: PlanResult) -> pd.DataFrame:
    """The areas as a flat table for CSV (``forces`` joined by ``";"``)."""
    frame = result.areas.copy()
    frame["forces"] = frame["forces"].map(lambda v: MULTI_SEP.join(map(str, v))).astype(object)
    return frame

"""The only module with Streamlit caching.

Every cached function is keyed on small hashable arguments only: paths as
strings plus file modification times (so a changed file is re-read), filter
tuples, ``eps_m``, ``min_samples``, ``start_month`` and the demo ``seed``.
Heavy objects are never arguments: a cached function fetches what it needs
from the cached function one level up (a cache hit), so a filter change only
recomputes the layers below it:

    boundaries(bkey) -> dataset(dkey) -> incidents(dkey, scope) -> hotspots(dkey, scope, eps_m, n)
                                      -> crossings(dkey) -> ladder(dkey, start_month)
                                      -> trails(dkey, plates)
    interactions(ikey) -> ladder_actions(dkey, ikey, start_month) -> case_file(CaseRequest)
                                                                  -> case_document(CaseRequest, fmt)
    dataset(dkey) -> associates(dkey, plate, within_min); plate_candidates(PlateRequest)
                                      -> plan(PlanRequest) -> plan_map(PlanRequest, ...)
                                                    -> hotspot_significance(dkey, scope, eps_m, n)

Heavy frames (dataset, filtered incidents, hotspots, ladder, trails) and the
folium maps use ``st.cache_resource``: no pickling on every hit, so a rerun
with unchanged filters costs next to nothing, and the same map object gives
st_folium identical HTML (no flicker, view kept after a click). Those objects
are shared between sessions: callers must treat them as read-only (every
``geo`` function and every view helper returns new frames). Small results
(season lists, date extents, upload validation) use ``st.cache_data``.
Every function is bounded with ``max_entries`` and a ``ttl``.

The slow results of the default view (border crossings, the ladder, hotspots, the
force areas as read, the main map's layer payloads: :func:`_with_kept_payloads`) are
also kept on disk (``geo.io.cache``; where: :func:`_disk_folder`, a real store's in the
store, bounded to :data:`DISK_KEEP` entries), keyed by a hash of everything they are
made from (:func:`disk_key`: the store's stamp, the boundary file's SHA-256,
the demo seed, the retention cut-off, the settings and the source of ``geo``
and of this module; for the map, every map option, ``redact`` too, and the source of
``dashboard``), so a new server process reads them instead of computing them again.
A hit gives the same frames (the same map) as a recomputation (tests check it).

No domain logic lives here: each cached function calls one ``geo`` function
(or :func:`dashboard.maps.build_map`) on layers fetched from the level above.
Configuration comes from ``geo._config.Settings.from_env()`` (:func:`settings`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard.state import Scope
from geo._config import Settings

__all__ = [
    "BoundaryKey",
    "DataKey",
    "Dataset",
    "MapRequest",
    "PlanRequest",
    "SubjectMapRequest",
    "settings",
    "boundary_key",
    "data_key",
    "boundaries",
    "display_boundaries",
    "dataset",
    "seasons",
    "incidents",
    "hotspots",
    "hotspot_significance",
    "largest_min_samples",
    "vehicle_points",
    "crossings",
    "ladder",
    "trails",
    "clear_store_caches",
    "overview_map",
    "plan",
    "plan_map",
    "subject_map",
    "validate_upload",
    "AlertsKey",
    "alerts_key",
    "alerts",
    "InteractionsKey",
    "CaseRequest",
    "PlateRequest",
    "interactions_key",
    "interactions",
    "ladder_actions",
    "case_file",
    "case_document",
    "associates",
    "plate_candidates",
    "demo_alerts",
    "DISK_KEEP",
    "disk_key",
    "warm",
    "wait_for_first_map",
]

_TTL = dt.timedelta(hours=12)


class BoundaryKey(NamedTuple):
    """Where the boundary file is and when it last changed."""

    path: str
    mtime_ns: int


class DataKey(NamedTuple):
    """Identity of the analysed data: store folder + its change token, boundaries, seed,
    and the earliest ANPR read shown (ISO time; ``""`` none: retention, ``geo.access``)."""

    data_dir: str
    store_sig: tuple[int, ...]
    boundaries: BoundaryKey
    seed: int
    reads_from: str = ""


@dataclass(frozen=True)
class Dataset:
    """Everything loaded from the store (or the demo scenario)."""

    incidents: gpd.GeoDataFrame
    sightings: gpd.GeoDataFrame | None
    cameras: pd.DataFrame
    demo: bool
    #: stored ANPR reads left out because they are before ``DataKey.reads_from``
    reads_withheld: int = 0


@dataclass(frozen=True, kw_only=True)
class PlanRequest:
    """A patrol plan (:func:`plan`): the Plan page's inputs, resolved (forces, season or date)."""

    dkey: DataKey
    crews: int
    radius_m: float
    days: str | None
    hours: str | None
    forces: tuple[str, ...]
    season: str | None
    as_of: str | None
    start_month: int


@dataclass(frozen=True, kw_only=True)
class MapRequest:
    """What the main map shows (:func:`overview_map`): the filters' scope and display options."""

    dkey: DataKey
    scope: Scope
    eps_m: float
    min_samples: int
    plates: tuple[str, ...] = ()
    redact: bool = False
    briefing: bool = False
    tiles: bool = False
    heat: bool = False
    plan: PlanRequest | None = None
    #: Layers to draw, of "incidents", "hotspots", "trails", "crossings", "cameras".
    show: tuple[str, ...] = ("incidents", "hotspots", "trails", "crossings", "cameras")


@dataclass(frozen=True, kw_only=True)
class SubjectMapRequest:
    """A map of some subjects (:func:`subject_map`): their incidents, trails and crossings."""

    dkey: DataKey
    plates: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()
    redact: bool = False
    briefing: bool = False
    tiles: bool = False


# ------------------------------------------------------------------ keys
def settings() -> Settings:
    """The configuration of this run (``HAREWATCH_*``; read on every call, it is cheap)."""
    return Settings.from_env()


def boundary_key(allow_fetch: bool | None = None) -> BoundaryKey:
    """Resolve (and on first run, maybe fetch) the boundary file; key it by mtime.

    ``allow_fetch`` defaults to ``settings().allow_fetch``.

    Raises
    ------
    geo.errors.BoundariesNotFound
        With the how-to message, when there is no file and none can be fetched.
    """
    from geo.errors import BoundariesNotFound
    from geo.io import boundaries as gb

    if allow_fetch is None:
        allow_fetch = settings().allow_fetch
    try:
        path = gb.resolve_boundaries_path()
    except BoundariesNotFound:
        if not allow_fetch:
            raise
        # load_boundaries fetches into the default folder, then we resolve again.
        areas = _fetch_once(allow_fetch)
        path = Path(areas.source)
        if not path.is_file():
            path = gb.resolve_boundaries_path()
    path = path.resolve()
    return BoundaryKey(str(path), path.stat().st_mtime_ns)


@st.cache_resource(max_entries=1, ttl=_TTL, show_spinner="Fetching police force boundaries…")
def _fetch_once(allow_fetch: bool):
    from geo.io.boundaries import load_boundaries

    return load_boundaries(None, allow_fetch=allow_fetch, log=lambda *_: None)


def store_signature(data_dir: Path) -> tuple[int, ...]:
    """The store's change token (``geo.io.store.read.store_token``: the newest commit of each
    table, from one directory listing each): changes when data does, costs next to nothing
    on a rerun (no data file is listed or read)."""
    from geo.io.store.read import store_token

    if not data_dir.is_dir():
        return ()
    return store_token(data_dir)


def data_dir() -> Path:
    """The store folder (``Settings.data_dir``: ``HAREWATCH_DATA_DIR``, else the default)."""
    return Path(settings().data_dir)


def data_key(bkey: BoundaryKey, seed: int | None = None,
             reads_from: pd.Timestamp | None = None) -> DataKey:
    """Key of the current store state; ``seed`` defaults to ``Settings.demo_seed``
    (``HAREWATCH_DEMO_SEED``, else 0), the seed of the demo shown when the store is empty;
    stored ANPR reads before ``reads_from`` are left out (``dashboard.auth.Access.reads_from``)."""
    if seed is None:
        seed = settings().demo_seed
    d = data_dir()
    since = "" if reads_from is None else pd.Timestamp(reads_from).isoformat()
    return DataKey(str(d.resolve()), store_signature(d), bkey, int(seed), since)


# ------------------------------------------------------------ boundaries
@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner="Reading police force boundaries…")
def boundaries(bkey: BoundaryKey):
    """``geo.areas.ForceAreas`` for the file at ``bkey.path`` (kept on disk too, as read and
    reprojected: :func:`disk_key`; a file whose reading warns is read each time, warning)."""
    import warnings

    from geo.areas import ForceAreas
    from geo.io.boundaries import with_cached_index

    read = []

    def build() -> dict[str, pd.DataFrame]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read.append(_read_areas(bkey))
        plain, meta = _geo_frame(read[0].gdf)
        meta |= {"source": read[0].source, "attribution": read[0].attribution, "warned": bool(caught)}
        return {"areas": plain, "meta": pd.DataFrame({"json": [json.dumps(meta)]})}

    frames = _on_disk("force-areas", bkey, {}, build)
    meta = json.loads(frames["meta"]["json"].iloc[0])
    if meta["warned"]:  # read again where its warnings are seen
        return _read_areas(bkey)
    if read:
        return read[0]
    areas = ForceAreas(gdf=_from_geo_frame(frames["areas"], meta), source=meta["source"],
                       attribution=meta["attribution"])
    with_cached_index(areas, bkey.path)
    return areas


def _read_areas(bkey: BoundaryKey):
    from geo.io.boundaries import load_boundaries

    return load_boundaries(bkey.path, allow_fetch=False, log=lambda *_: None)


@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner=False)
def display_boundaries(bkey: BoundaryKey) -> gpd.GeoDataFrame:
    """Simplified boundaries in EPSG:4326 for the map (kept on disk too: :func:`disk_key`)."""
    from geo.areas import display_boundaries as _display

    def build() -> dict[str, pd.DataFrame]:
        plain, meta = _geo_frame(_display(boundaries(bkey)))
        return {"display": plain, "meta": pd.DataFrame({"json": [json.dumps(meta)]})}

    frames = _on_disk("display-boundaries", bkey, {}, build)
    return _from_geo_frame(frames["display"], json.loads(frames["meta"]["json"].iloc[0]))


# ---------------------------------------------------------------- dataset
@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner="Loading incidents…")
def dataset(dkey: DataKey) -> Dataset:
    """Incidents + sightings from the store; the demo scenario when it has no incidents
    (``geo.datasets.demo.load_or_demo``). Stored reads before ``dkey.reads_from`` are left
    out (``geo.access.drop_reads_before``; the synthetic demo has no retention)."""
    from geo.access import drop_reads_before
    from geo.datasets.demo import load_or_demo

    inc, sig, demo = load_or_demo(dkey.data_dir, boundaries(dkey.boundaries), seed=dkey.seed)
    withheld = 0
    if dkey.reads_from and not demo and sig is not None:
        shown = drop_reads_before(sig, pd.Timestamp(dkey.reads_from))
        sig, withheld = shown, len(sig) - len(shown)
    return Dataset(inc, sig, _cameras_from_sightings(sig), demo=demo, reads_withheld=withheld)


def _cameras_from_sightings(sig: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["camera_id", "easting", "northing", "force"]
    if sig is None or not len(sig) or "camera_id" not in sig.columns:
        return pd.DataFrame(columns=cols)
    s = pd.DataFrame(sig[cols])
    s = s[s["camera_id"].astype(str) != ""]
    return s.groupby("camera_id", as_index=False, sort=True).first()[cols]


@st.cache_data(max_entries=16, ttl=_TTL, show_spinner=False)
def seasons(dkey: DataKey, start_month: int) -> list[str]:
    """Seasons present in the incidents, oldest first."""
    from geo.seasons import seasons_in

    return seasons_in(dataset(dkey).incidents["occurred_at"], start_month)


@st.cache_data(max_entries=4, ttl=_TTL, show_spinner=False)
def crime_types(dkey: DataKey) -> list[str]:
    """Crime types recorded in the incidents (sorted; empty for data without them)."""
    inc = dataset(dkey).incidents
    if "crime_type" not in inc.columns:
        return []
    return sorted({str(t) for t in inc["crime_type"].dropna().unique() if str(t).strip()})


@st.cache_data(max_entries=16, ttl=_TTL, show_spinner=False)
def date_extent(dkey: DataKey, season: str | None, start_month: int) -> tuple[dt.date, dt.date]:
    """First and last London calendar day with an incident (in ``season`` if given)."""
    from geo.schema import LONDON
    from geo.seasons import filter_incidents

    inc = dataset(dkey).incidents
    if season is not None:
        inc = filter_incidents(inc, season=season, start_month=start_month)
    t = inc["occurred_at"].dropna()
    if not len(t):
        today = dt.date.today()
        return today, today
    local = t.dt.tz_convert(LONDON)
    return local.min().date(), local.max().date()


# ----------------------------------------------------------------- filters
@st.cache_resource(max_entries=32, ttl=_TTL, show_spinner=False)
def incidents(dkey: DataKey, scope: Scope) -> gpd.GeoDataFrame:
    """Incidents in ``scope`` (``geo.seasons.filter_incidents``)."""
    from geo.seasons import filter_incidents

    return filter_incidents(
        dataset(dkey).incidents,
        season=scope.season,
        forces=scope.forces,
        date_from=scope.date_from,
        date_to=scope.date_to,
        hours=None if scope.hours == (0, 23) else scope.hours,
        days=scope.days or None,
        crime_types=scope.crime_types or None,
        start_month=scope.start_month,
    )


@st.cache_resource(max_entries=32, ttl=_TTL, show_spinner="Finding hotspots…")
def hotspots(dkey: DataKey, scope: Scope, eps_m: float, min_samples: int):
    """``geo.hotspots.hotspots_with_trend`` of the incidents in ``scope``.

    When a season is selected, the same filters (forces, hours) on the
    previous season give the trend. Kept on disk too (:func:`disk_key`).
    """
    params = {"scope": tuple(scope), "eps_m": float(eps_m), "min_samples": int(min_samples)}
    frames = _on_disk("hotspots", dkey, params,
                      lambda: _hotspot_frames(_hotspots_now(dkey, scope, eps_m, min_samples)))
    return _hotspots_from_frames(frames)


def _hotspots_now(dkey: DataKey, scope: Scope, eps_m: float, min_samples: int):
    from geo.hotspots import hotspots_with_trend

    return hotspots_with_trend(
        dataset(dkey).incidents,
        season=scope.season,
        forces=scope.forces,
        hours=None if scope.hours == (0, 23) else scope.hours,
        days=scope.days or None,
        crime_types=scope.crime_types or None,
        date_from=scope.date_from,
        date_to=scope.date_to,
        eps_m=float(eps_m),
        min_samples=int(min_samples),
        areas=boundaries(dkey.boundaries),
        start_month=scope.start_month,
    )


@st.cache_resource(max_entries=16, ttl=_TTL, show_spinner="Computing hotspot significance…")
def hotspot_significance(dkey: DataKey, scope: Scope, eps_m: float, min_samples: int) -> pd.DataFrame:
    """``geo.significance.significance_columns`` of :func:`hotspots` (Gi* on the incidents in
    ``scope``; trend class over every season with the scope's forces and hours)."""
    from geo.significance import significance_columns

    res = hotspots(dkey, scope, eps_m, min_samples)
    history = incidents(dkey, scope._replace(season=None, date_from=None, date_to=None))
    return significance_columns(res.hotspots, incidents(dkey, scope), res.labels, history=history,
                                areas=boundaries(dkey.boundaries), start_month=scope.start_month)


# ------------------------------------------------------------------- plan
@st.cache_resource(max_entries=16, ttl=_TTL, show_spinner="Planning patrols…")
def plan(req: PlanRequest):
    """``geo.planning.plan_with_backtest`` on every incident: ``(PlanResult, backtest table)``.

    Raises ``geo.planning.PlanInputError`` (not cached) when the inputs can't be planned.
    """
    from geo.planning import plan_as_of, plan_with_backtest

    as_of = plan_as_of(season=req.season, as_of=req.as_of, start_month=req.start_month)
    return plan_with_backtest(
        dataset(req.dkey).incidents, as_of=as_of, crews=req.crews, radius_m=req.radius_m, days=req.days,
        hours=req.hours, forces=list(req.forces), areas=boundaries(req.dkey.boundaries),
        start_month=req.start_month,
    )


def plan_map(req: PlanRequest, *, briefing: bool = False, tiles: bool = False):
    """A fresh copy of the plan's map: force borders and one circle per crew (see :func:`overview_map`)."""
    return copy.deepcopy(_plan_map(req, briefing, tiles))


@st.cache_resource(max_entries=8, ttl=_TTL, show_spinner="Drawing the plan…")
def _plan_map(req: PlanRequest, briefing: bool, tiles: bool):
    from dashboard.maps import MapLayers, build_map

    layers = MapLayers(
        boundaries=display_boundaries(req.dkey.boundaries),
        patrols=plan(req)[0].areas,
        attribution=boundaries(req.dkey.boundaries).attribution,
    )
    return build_map(layers, tiles=tiles, briefing=briefing, fit_patrols=True)
@st.cache_data(max_entries=32, ttl=_TTL, show_spinner=False)
def largest_min_samples(dkey: DataKey, scope: Scope, eps_m: float) -> int:
    """``geo.hotspots.largest_min_samples`` of the incidents in ``scope`` (what would give hotspots)."""
    import numpy as np

    from geo.hotspots import largest_min_samples as _largest

    inc = incidents(dkey, scope)
    xy = np.column_stack([inc.geometry.x.to_numpy(), inc.geometry.y.to_numpy()]) if len(inc) else np.empty((0, 2))
    return _largest(xy, float(eps_m))


# --------------------------------------------------------------- movements
@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner="Linking vehicles…")
def vehicle_points(dkey: DataKey) -> pd.DataFrame:
    """Every incident plate and ANPR read as one time-ordered point table."""
    from geo.movements import vehicle_points as _points

    ds = dataset(dkey)
    sig = ds.sightings if ds.sightings is not None else _empty_sightings()
    return _points(ds.incidents, sig)


def _empty_sightings() -> gpd.GeoDataFrame:
    from geo.schema import BNG, SIGHTING_COLUMNS

    return gpd.GeoDataFrame({c: [] for c in SIGHTING_COLUMNS}, geometry=[], crs=BNG)


@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner="Finding border crossings…")
def crossings(dkey: DataKey) -> pd.DataFrame:
    """``geo.movements.border_crossings`` of every vehicle."""
    from geo.movements import border_crossings

    return _on_disk("crossings", dkey, {}, lambda: {"crossings": border_crossings(vehicle_points(dkey))})["crossings"]


@st.cache_resource(max_entries=16, ttl=_TTL, show_spinner="Building the escalation ladder…")
def ladder(dkey: DataKey, start_month: int) -> pd.DataFrame:
    """``geo.offenders.ladder`` over every incident, with the ANPR crossings as evidence,
    plus where each subject was seen last (``geo.offenders.latest_sighting``, from the later of
    its latest ANPR read and incident: "who is now in our area"): ``latest_force``,
    ``latest_from`` ("ANPR read"/"incident") and ``latest_at``."""
    return _on_disk("ladder", dkey, {"start_month": int(start_month)},
                    lambda: {"ladder": _ladder_now(dkey, int(start_month))})["ladder"]


def _ladder_now(dkey: DataKey, start_month: int) -> pd.DataFrame:
    from geo.offenders import ladder as _ladder
    from geo.offenders import latest_sighting

    inc = dataset(dkey).incidents
    out = _ladder(inc, start_month=start_month, crossings=crossings(dkey))
    seen = latest_sighting(out, inc, vehicle_points(dkey))
    return out.assign(latest_force=seen["now_in"].to_numpy(), latest_from=seen["now_in_from"].to_numpy(),
                      latest_at=seen["now_in_at"].to_numpy())


@st.cache_resource(max_entries=32, ttl=_TTL, show_spinner=False)
def trails(dkey: DataKey, plates: tuple[str, ...]) -> pd.DataFrame:
    """Points of the selected vehicles numbered into trips.

    Columns ``vrm, at, easting, northing, force, kind, ref, trip``
    (``geo.movements.trips`` of ``geo.movements.vehicle_points``).
    """
    from geo.movements import POINT_COLUMNS, trips

    cols = [*POINT_COLUMNS, "trip"]
    if not plates:  # the map's usual case: no linking of every vehicle needed
        return pd.DataFrame({c: [] for c in cols})
    pts = vehicle_points(dkey)
    sel = pts[pts["vrm"].isin(list(plates))]
    if not len(sel):
        return pd.DataFrame({c: [] for c in cols})
    return trips(sel)[cols].reset_index(drop=True)


# ------------------------------------------------------------------- clear
def clear_store_caches() -> None:
    """After an ingest: forget everything derived from the store (keys change anyway)."""
    for fn in (dataset, seasons, date_extent, incidents, hotspots, largest_min_samples,
               vehicle_points, crossings, ladder, trails, _overview_map, _subject_map,
               hotspot_significance, plan, _plan_map):
        fn.clear()


# -------------------------------------------------------------------- maps
def _crossings_in_view(dkey: DataKey, scope: Scope, plates: tuple[str, ...]) -> pd.DataFrame:
    """Crossings drawn on the main map: those *into* a chosen force (a crossing is drawn where
    the vehicle was read after it, in ``to_force``), in the season and dates in view."""
    from geo.seasons import filter_incidents

    cr = crossings(dkey)
    if not len(cr):
        return cr
    cr = cr[cr["to_force"].isin(list(scope.forces))]
    if plates:
        return cr[cr["vrm"].isin(list(plates))]
    return filter_incidents(cr, season=scope.season, date_from=scope.date_from, date_to=scope.date_to,
                            start_month=scope.start_month, time_col="at")


def _in_forces(df: pd.DataFrame | None, forces: tuple[str, ...]) -> pd.DataFrame | None:
    """Rows of ``df`` whose ``force`` is one of ``forces`` (what a force choice limits the map to)."""
    if df is None or not len(df) or "force" not in df.columns:
        return df
    return df[df["force"].astype(str).isin(list(forces)).to_numpy()]


def _focus(dkey: DataKey, forces: tuple[str, ...]) -> tuple[str, ...]:
    """The forces a map opens on: the chosen ones, unless they are all seven (or none)."""
    areas = boundaries(dkey.boundaries)
    seven = set(areas.gdf.loc[areas.gdf["in_agreement"].astype(bool), "force"].astype(str))
    return () if not forces or set(forces) >= seven else tuple(forces)


def _banner(dkey: DataKey) -> str:
    from geo.datasets.demo import SYNTHETIC_LABEL

    return SYNTHETIC_LABEL if dataset(dkey).demo else ""


def overview_map(req: MapRequest):
    """A fresh copy of the main map for these filters (see :func:`_overview_map`).

    st_folium mutates a map while rendering it (a second render of the same
    object references feature groups it no longer defines: a blank map), so
    the cache keeps a pristine map and every run gets a deep copy. The copy
    keeps the element ids, so st_folium sees identical HTML on a rerun (no
    flicker, the user's pan/zoom is kept after a click).
    """
    fmap = copy.deepcopy(_overview_map(req))
    _MAP_HANDED.set()
    return fmap


#: Set once a page has been handed a main map (:func:`overview_map`).
_MAP_HANDED = threading.Event()


def wait_for_first_map(timeout_s: float) -> bool:
    """Block until a page has been handed its first main map, at most ``timeout_s`` seconds.

    Returns
    -------
    bool
        False on a timeout.
    """
    return _MAP_HANDED.wait(timeout_s)


def subject_map(req: SubjectMapRequest):
    """A fresh copy of a subjects' map (see :func:`_subject_map` and :func:`overview_map`)."""
    return copy.deepcopy(_subject_map(req))


@st.cache_resource(max_entries=8, ttl=_TTL, show_spinner="Drawing the map…")
def _overview_map(req: MapRequest):
    """The main map (``dashboard.maps.build_map``) for these filters.

    Cached as a resource and never handed to st_folium itself: callers get a
    deep copy through :func:`overview_map`.
    """
    from dashboard.maps import MapLayers, build_map

    dkey, scope, show = req.dkey, req.scope, set(req.show)
    layers = MapLayers(
        boundaries=display_boundaries(dkey.boundaries),
        incidents=incidents(dkey, scope) if "incidents" in show else None,
        hotspots=hotspots(dkey, scope, req.eps_m, req.min_samples).hotspots if "hotspots" in show else None,
        trails=_in_forces(trails(dkey, req.plates), scope.forces) if "trails" in show else None,
        crossings=_crossings_in_view(dkey, scope, req.plates) if "crossings" in show else None,
        cameras=_in_forces(dataset(dkey).cameras, scope.forces) if "cameras" in show else None,
        patrols=plan(req.plan)[0].areas if req.plan is not None else None,
        attribution=boundaries(dkey.boundaries).attribution,
        focus_forces=_focus(dkey, scope.forces),
        banner=_banner(dkey),
    )

    def build(payloads):
        return build_map(layers, tiles=req.tiles, redact=req.redact, briefing=req.briefing,
                         heat=req.heat, payloads=payloads)

    if req.plan is not None or req.heat:  # not the usual views: drawn each time
        return build(None)
    return _with_kept_payloads("overview-map", dkey, _map_params(req), build)


def _map_params(req: MapRequest) -> dict:
    """What :func:`disk_key` needs of a :class:`MapRequest` besides its data key: every
    other field (``redact`` too), and the source of the ``dashboard`` package (the map code)."""
    from geo.io.cache import source_digest

    return {"scope": tuple(req.scope), "eps_m": float(req.eps_m), "min_samples": int(req.min_samples),
            "plates": list(req.plates), "redact": bool(req.redact), "briefing": bool(req.briefing),
            "tiles": bool(req.tiles), "heat": bool(req.heat), "show": list(req.show),
            "code": source_digest(str(Path(__file__).resolve().parent))}


def _with_kept_payloads(kind: str, dkey: DataKey, params: dict, build: Callable):
    """``build(payloads)``'s map, its layers' payloads (``dashboard.maps.PayloadMemo``) kept
    on disk with :func:`_on_disk` under :func:`disk_key` (``kind``, ``dkey``, ``params``):
    a new server process draws the same map (the same bytes) without making them again."""
    from dashboard.maps import make_payload

    made: dict[str, tuple[str, tuple]] = {}
    built = []

    def record(name, make):
        made[name] = make_payload(name, make)
        return made[name]

    def frames() -> dict[str, pd.DataFrame]:
        built.append(build(record))
        return {"payloads": pd.DataFrame({"name": list(made), "json": [j for j, _ in made.values()],
                                          "extra": [json.dumps(list(e)) for _, e in made.values()]},
                                         dtype=object)}

    got = _on_disk(kind, dkey, params, frames)
    if built:
        return built[0]
    kept = {str(n): (str(j), tuple(json.loads(e))) for n, j, e in
            got["payloads"][["name", "json", "extra"]].itertuples(index=False)}
    return build(lambda name, make: kept[name] if name in kept else make_payload(name, make))


@st.cache_resource(max_entries=8, ttl=_TTL, show_spinner="Drawing the trail…")
def _subject_map(req: SubjectMapRequest):
    """Map of some subjects: their incidents, their vehicles' trails and crossings."""
    from dashboard.maps import MapLayers, build_map

    dkey = req.dkey
    inc = dataset(dkey).incidents
    cr = crossings(dkey)
    layers = MapLayers(
        boundaries=display_boundaries(dkey.boundaries),
        incidents=inc[inc["incident_id"].isin(list(req.incident_ids))],
        trails=trails(dkey, req.plates),
        crossings=cr[cr["vrm"].isin(list(req.plates))],
        attribution=boundaries(dkey.boundaries).attribution,
        banner=_banner(dkey),
    )
    return build_map(layers, tiles=req.tiles, redact=req.redact, briefing=req.briefing)


@st.cache_data(max_entries=8, ttl=_TTL, show_spinner="Checking the file…")
def validate_upload(data: bytes, name: str, kind: str | None, bkey: BoundaryKey):
    """``geo.pipeline.ingest.check_file`` (a ``FileCheck``) cached on the bytes, name, kind and boundaries.

    ``kind`` None detects it from the file (a data.police.uk layout, ANPR reads, incidents);
    ANPR reads with a camera but no coordinates are placed through the store's camera register.
    """
    from geo.io.cameras import read_cameras
    from geo.pipeline.ingest import check_file

    return check_file(data, boundaries(bkey), name=name, kind=kind,
                      cameras=read_cameras(data_dir()), settings=settings())


# ------------------------------------------------------------- disk cache
#: Entries each disk-cache folder (:func:`_disk_folder`) keeps, the most recently used; each
#: a few Parquet files, well under 1 MB for the demo.
DISK_KEEP = 64
#: Seconds an entry derived from a real store stays on disk unused: the store's reads
#: move past retention day by day, and their copies should not outlive them.
DISK_MAX_AGE_S = 24 * 3600
#: Bumped when what :func:`_on_disk` stores changes shape.
_DISK_FORMAT = 1


def disk_key(kind: str, key: DataKey | BoundaryKey, params: dict) -> str | None:
    """The disk-cache key of a result ``kind`` of the data (or boundaries) ``key`` with ``params``.

    A hash of everything the result is made from: for a :class:`DataKey`, the store's
    stamp (newest commit and its time per table, ``geo.io.store.read.store_stamp``) and
    folder, the boundary file's SHA-256, the demo seed and the earliest ANPR read shown;
    for a :class:`BoundaryKey`, the boundary file's SHA-256. Always the settings and the
    source of ``geo`` and of this module (any code change is a new key). ``params``
    (JSON-able): the function's own arguments. None when the store has changed since
    the data key was made (its data is not the store's any more: not kept).
    """
    import geo
    from geo.io.cache import content_key, file_sha256, source_digest
    from geo.io.store.read import store_stamp

    if isinstance(key, BoundaryKey):
        data: tuple = (file_sha256(key.path),)
    else:
        stamp = store_stamp(key.data_dir) if key.store_sig else ()
        if tuple(version for version, _ in stamp) != tuple(key.store_sig):
            return None
        data = (key.data_dir, stamp, file_sha256(key.boundaries.path), key.seed, key.reads_from)
    code = source_digest(str(Path(geo.__file__).resolve().parent), str(Path(__file__).resolve()))
    return content_key("dashboard", kind, _DISK_FORMAT, code, *data, repr(settings()),
                       json.dumps(params, sort_keys=True, default=str))


def _on_disk(kind: str, dkey: DataKey | BoundaryKey, params: dict,
             build: Callable[[], dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """``build()``'s frames, from the disk cache (:func:`_disk_folder`) when it has them under
    :func:`disk_key` (nested columns back as Python lists/dicts); no folder: just ``build()``."""
    from geo.io.cache import cached_frames

    folder, max_age_s = _disk_folder(dkey)
    key = None if folder is None else disk_key(kind, dkey, params)
    if key is None:
        return build()
    return cached_frames(folder, key, build, python_objects=True, keep=DISK_KEEP,
                         max_age_s=max_age_s)


def _disk_folder(key: DataKey | BoundaryKey) -> tuple[Path | None, float | None]:
    """Where :func:`_on_disk` keeps results, and how long an unused one may stay (s).

    Boundaries and the built-in demo (no personal data): the user cache, no age limit.
    Results of a real store (plates, ids, movements): with the store
    (``<data_dir>/cache/dashboard``: its access rights, created for the owner only,
    emptied by ``harewatch store purge``), for :data:`DISK_MAX_AGE_S` unused. No
    folder (None) when there is none to write to.
    """
    from geo.io.cache import cache_folder

    if isinstance(key, BoundaryKey):
        return cache_folder("dashboard"), None
    if not key.store_sig:  # an empty store: the demo is shown
        return cache_folder("dashboard-demo"), None
    from geo.io.store.layout import derived_dir

    folder = derived_dir(key.data_dir, "dashboard")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None, None  # a read-only store: computed each time
    return folder, DISK_MAX_AGE_S


def _geo_frame(gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, dict]:
    """A GeoDataFrame as a plain frame (geometry as WKB) and what else it needs (CRS, index name)."""
    import shapely

    plain = pd.DataFrame(gdf).assign(**{gdf.geometry.name: shapely.to_wkb(gdf.geometry.to_numpy())})
    return plain, {"crs": None if gdf.crs is None else gdf.crs.to_json(), "index": gdf.index.name,
                   "geometry": gdf.geometry.name}


def _from_geo_frame(plain: pd.DataFrame, meta: dict) -> gpd.GeoDataFrame:
    """The GeoDataFrame of :func:`_geo_frame` (as built, or read back from disk)."""
    col = meta["geometry"]
    gdf = gpd.GeoDataFrame(plain.drop(columns=col), geometry=gpd.GeoSeries.from_wkb(plain[col]),
                           crs=meta["crs"])
    gdf.index.name = meta["index"]
    gdf = gdf.rename_geometry(col) if col != "geometry" else gdf
    return gdf[list(plain.columns)]  # the geometry where it was


def _hotspot_frames(res) -> dict[str, pd.DataFrame]:
    """A ``geo.hotspots.HotspotResult`` as plain frames (geometry as WKB; labels with their index)."""
    hs, meta = _geo_frame(res.hotspots)
    meta |= {"noise": int(res.noise), "params": res.params, "labels_name": res.labels.name}
    return {
        "hotspots": hs,
        "labels": pd.DataFrame({"index": res.labels.index.to_numpy(), "label": res.labels.to_numpy()}),
        "meta": pd.DataFrame({"json": [json.dumps(meta)]}),
    }


def _hotspots_from_frames(frames: dict):
    """The ``geo.hotspots.HotspotResult`` of :func:`_hotspot_frames` (as built, or read back)."""
    from geo.hotspots import HotspotResult

    meta = json.loads(frames["meta"]["json"].iloc[0])
    lab = frames["labels"]
    labels = pd.Series(lab["label"].to_numpy(), index=pd.Index(lab["index"].to_numpy()), name=meta["labels_name"])
    return HotspotResult(labels=labels, hotspots=_from_geo_frame(frames["hotspots"], meta),
                         noise=meta["noise"], params=meta["params"])


# -------------------------------------------------------------------- warm-up
def warm(start_month: int = 9, *, before_more: Callable[[], None] | None = None) -> None:
    """Fill the caches every first visitor needs, in the order the map page needs them:
    boundaries, data, the default view's incidents, hotspots and map, then crossings and ladder,
    then the maps of the two seasons before the default one (the likely next choice).

    Run by :mod:`dashboard.serve` in a background thread once the server listens, so
    the first page load does not pay for imports and the demo build. Safe to run beside
    a session: Streamlit computes a cached value once per key and other callers wait for it.

    Parameters
    ----------
    start_month : int
        Month a season starts in (the page's default, September).
    before_more : callable, optional
        Called after the default view, before the other seasons' maps (the server
        waits there for the first map to reach the browser: the interpreter runs one
        thread at a time, and the page's requests come first).
    """
    found, f, dkey, redact = _warm_default(start_month)
    if f is None:
        return
    if before_more is not None:
        before_more()
    # Then the seasons a visitor is most likely to switch to next (the map's cache holds 8).
    for other in [x for x in reversed(found) if x != f.season][:_WARM_OTHER_SEASONS]:
        _warm_map(dkey, f.with_(season=other), redact=redact)


def _warm_default(start_month: int):
    """:func:`warm`'s first part: the map page opened without a link, its map first.

    Returns
    -------
    (seasons, Filters or None, DataKey, redact)
        None filters when the default view does not start seasons in ``start_month``.
    """
    from dashboard import maps  # noqa: F401  (import cost: folium, branca)
    from dashboard.state import Filters
    from geo.access import reads_shown_from

    s = settings()
    bkey = boundary_key()
    areas = boundaries(bkey)
    display_boundaries(bkey)
    # The key a page uses (``dashboard.context.load``): reads shown from the retention
    # cut-off of a local user, or of a shared-mode user without an authorisation.
    now = pd.Timestamp.now(tz="UTC")
    dkey = data_key(bkey, reads_from=reads_shown_from(
        now, keep_days=s.anpr_keep_days, authorise_after_days=s.anpr_authorise_after_days,
        authorised=not s.auth))
    dataset(dkey)
    # Import cost of streamlit_folium (for the map page), but not streamlit_folium itself:
    # imported before the server runs, its component is never registered (a 404 in the page).
    import folium.plugins  # noqa: F401
    import streamlit.emojis  # noqa: F401  (import cost: st.set_page_config's emoji page icon)

    import geo.io.interactions  # noqa: F401  (import cost: interactions_key, on every run)

    found = seasons(dkey, start_month)
    names = tuple(getattr(areas, "names", ())) or None
    f = Filters.from_query_params({}, **({"force_names": names} if names else {}), seasons=found,
                                  default_season=found[-1] if found else None)
    if f.start_month != start_month:
        return found, None, dkey, False
    redact = f.redact or s.auth
    _warm_map(dkey, f, redact=redact)
    crossings(dkey)  # on the map already; the ladder below needs them
    ladder(dkey, start_month)
    return found, f, dkey, redact


#: Seasons besides the default one whose map :func:`warm` draws ahead.
_WARM_OTHER_SEASONS = 2


def _warm_map(dkey: DataKey, f, *, redact: bool) -> None:
    """The map page's cached values for the filters ``f`` (no plates traced, no heat map)."""
    date_extent(dkey, f.season, f.start_month)
    hotspots(dkey, f.scope, f.eps_m, f.min_samples)
    _overview_map(MapRequest(dkey=dkey, scope=f.scope, eps_m=f.eps_m, min_samples=f.min_samples,
                             redact=redact, briefing=f.briefing, tiles=f.tiles))


# ------------------------------------------------------------------ alerts
#: Live alerts are re-read this often at most (the key changes on every write anyway).
_ALERTS_TTL = dt.timedelta(seconds=30)


class AlertsKey(NamedTuple):
    """State of the alerts database: folder + (mtime_ns, size) of the sqlite file and its WAL.

    ``(0, 0)`` stands for a missing file. The watcher writes through sqlite's
    write-ahead log, so a new alert changes the WAL file first (the main file
    only at a checkpoint): both are part of the key.
    """

    data_dir: str
    db: tuple[int, int]
    wal: tuple[int, int]

    @property
    def exists(self) -> bool:
        """True once the watcher has created the database."""
        return self.db != (0, 0)


def _file_state(path: Path) -> tuple[int, int]:
    try:
        s = path.stat()
    except OSError:
        return (0, 0)
    return (s.st_mtime_ns, s.st_size)


def alerts_key(folder: Path | None = None) -> AlertsKey:
    """Key of the alerts database in ``folder`` (default: the store folder); two ``stat`` calls."""
    from geo.io.alert_db import alerts_db_path

    d = Path(folder) if folder is not None else data_dir()
    db = alerts_db_path(d)
    return AlertsKey(str(d.resolve()), _file_state(db), _file_state(db.with_name(db.name + "-wal")))


@st.cache_resource(max_entries=4, ttl=_TTL, show_spinner="Replaying the demo's ANPR reads for alerts…")
def demo_alerts(dkey: DataKey, start_month: int, limit: int = 500) -> pd.DataFrame:
    """``geo.alerts.replay_alerts`` of the dataset's reads: the Live alerts page of the demo
    (which never went through the watcher), newest first."""
    from geo.alerts import replay_alerts

    ds = dataset(dkey)
    sig = ds.sightings if ds.sightings is not None else _empty_sightings()
    return replay_alerts(sig, ds.incidents, start_month=int(start_month), limit=int(limit))


@st.cache_data(max_entries=8, ttl=_ALERTS_TTL, show_spinner=False)
def alerts(akey: AlertsKey, limit: int = 500) -> pd.DataFrame:
    """``geo.io.alert_db.read_alerts`` (newest first, at most ``limit`` rows) for this database state."""
    from geo.io.alert_db import read_alerts

    return read_alerts(Path(akey.data_dir), limit=int(limit))


# ------------------------------------------------------------------ casework
class InteractionsKey(NamedTuple):
    """State of the interactions register: store folder + (path, mtime_ns, size) of its files."""

    data_dir: str
    files: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, kw_only=True)
class CaseRequest:
    """One subject's case file (:func:`case_file`), masked or not."""

    dkey: DataKey
    ikey: InteractionsKey
    subject: str
    kind: str
    mask: bool = True
    start_month: int = 9


@dataclass(frozen=True, kw_only=True)
class PlateRequest:
    """A partial-plate search (:func:`plate_candidates`) around a place (BNG m) and time."""

    dkey: DataKey
    pattern: str
    easting_m: float
    northing_m: float
    at_iso: str
    km: float = 20.0
    hours: float = 3.0
    start_month: int = 9


def interactions_key(folder: Path | None = None) -> InteractionsKey:
    """Key of the register in ``folder`` (default: the store folder); one ``stat`` per file."""
    from geo.io.interactions import interactions_paths

    d = Path(folder) if folder is not None else data_dir()
    files = []
    for p in interactions_paths(d):
        st_ = p.stat()
        files.append((str(p.relative_to(d)), st_.st_mtime_ns, st_.st_size))
    return InteractionsKey(str(d.resolve()), tuple(files))


@st.cache_data(max_entries=8, ttl=_TTL, show_spinner=False)
def interactions(ikey: InteractionsKey) -> pd.DataFrame:
    """``geo.io.interactions.read_interactions`` for this register state."""
    from geo.io.interactions import read_interactions

    return read_interactions(Path(ikey.data_dir))


@st.cache_resource(max_entries=8, ttl=_TTL, show_spinner="Adding the actions on record…")
def ladder_actions(dkey: DataKey, ikey: InteractionsKey, start_month: int) -> pd.DataFrame:
    """``geo.casework.actions.ladder_with_actions`` of :func:`ladder`: actions on record, next
    lawful action, gaps; "now in" from the latest ANPR read or incident."""
    from geo.casework.actions import ladder_with_actions, latest_positions

    ds = dataset(dkey)
    now_in = latest_positions(ds.incidents, ds.sightings)
    return ladder_with_actions(ladder(dkey, start_month), interactions(ikey),
                               incidents=ds.incidents, now_in=now_in, start_month=start_month)


@st.cache_data(max_entries=32, ttl=_TTL, show_spinner="Assembling the case file…")
def case_file(req: CaseRequest) -> dict:
    """``geo.casework.casefile.case_file`` of one subject (masked when ``req.mask``)."""
    from geo.casework.casefile import case_file as _case_file

    ds = dataset(req.dkey)
    return _case_file(req.subject, kind=req.kind, incidents=ds.incidents, reads=ds.sightings,
                      interactions=interactions(req.ikey), ladder=ladder(req.dkey, req.start_month),
                      mask=req.mask, start_month=req.start_month, synthetic=ds.demo)


@st.cache_data(max_entries=16, ttl=_TTL, show_spinner="Writing the case file…")
def case_document(req: CaseRequest, fmt: str) -> bytes:
    """The case file as PDF (``fmt="pdf"``) or HTML (``"html"``, UTF-8), made on the server."""
    from geo.casework.render import render_html, render_pdf

    areas = boundaries(req.dkey.boundaries)
    if fmt == "pdf":
        return render_pdf(case_file(req), areas=areas)
    return render_html(case_file(req), areas=areas).encode("utf-8")


@st.cache_resource(max_entries=32, ttl=_TTL, show_spinner="Finding associates…")
def associates(dkey: DataKey, plate: str, within_min: float = 5.0) -> pd.DataFrame:
    """``geo.casework.convoys.associates`` of one plate over the loaded ANPR reads."""
    from geo.casework.convoys import ASSOCIATE_COLUMNS
    from geo.casework.convoys import associates as _associates

    sig = dataset(dkey).sightings
    if sig is None or not len(sig):
        return pd.DataFrame({c: [] for c in ASSOCIATE_COLUMNS})
    return _associates(sig, plate, within_min=float(within_min))


@st.cache_data(max_entries=32, ttl=_TTL, show_spinner="Searching the ANPR reads…")
def plate_candidates(req: PlateRequest) -> pd.DataFrame:
    """``geo.casework.plates.search_plates`` over the loaded ANPR reads, ranked."""
    from geo.casework.plates import empty_candidates, search_plates

    sig = dataset(req.dkey).sightings
    if sig is None or not len(sig):
        return empty_candidates()
    return search_plates(sig, req.pattern, easting_m=req.easting_m, northing_m=req.northing_m,
                         at_utc=req.at_iso, km=req.km, hours=req.hours,
                         ladder=ladder(req.dkey, req.start_month))

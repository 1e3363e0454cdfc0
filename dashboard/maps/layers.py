"""The map's layers: one JSON payload per layer, drawn by a fixed JavaScript snippet.

Performance: data reaches the browser as one JSON array per layer and the
markers are made by one JavaScript loop (``dashboard/maps/js/*.js``); no
Python loop per incident, read or camera. Above ``max_markers`` incidents the
incident layer is aggregated to 1 km squares (the cluster bubbles still sum
to the number of incidents), so the page stays under 3 MB at 100,000
incidents.

Every data string is escaped here (:mod:`dashboard.maps.escape`) and plates
and ids are masked by the policy of :mod:`geo.privacy` when ``redact``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, Element, JavascriptLink
from folium.elements import JSCSSMixin
from folium.template import Template
from pyproj import Transformer

from dashboard.maps.escape import escape_html, escape_series, js_json
from dashboard.palette import OKABE_ITO, TRAIL_COLOURS, hotspot_colours
from dashboard.views.format import london_text
from geo.privacy import FREE_TEXT_COLUMNS, is_id_column, is_plate_column, mask_series
from geo.schema import BNG, WGS84

__all__ = [
    "MapLayers",
    "DataLayer",
    "PayloadMemo",
    "make_payload",
    "MAX_ZOOM",
    "read_js",
    "boundary_layer",
    "incident_layer",
    "hotspot_layer",
    "trail_layer",
    "crossing_layer",
    "camera_layer",
    "patrol_layer",
    "focus_bounds",
    "group",
    "legend_html",
    "swatch",
]


@dataclass(frozen=True)
class MapLayers:
    """Everything a map can show; ``None`` leaves a layer out.

    Attributes
    ----------
    boundaries : GeoDataFrame
        EPSG:4326 (as from ``geo.boundaries.display_boundaries``), columns
        ``force``, ``force_code``, ``in_agreement``.
    incidents : GeoDataFrame or None
        Accepted incidents (``geo.schema.INCIDENT_COLUMNS``), EPSG:27700.
    hotspots : GeoDataFrame or None
        ``geo.hotspots`` table (``rank``, ``n``, ``forces``, ...), EPSG:27700.
    trails : DataFrame or None
        ``geo.movements`` points with ``trip``: ``vrm``, ``at`` (UTC),
        ``easting``, ``northing`` (m), ``force``, ``kind``, ``ref``, ``trip``.
    crossings : DataFrame or None
        ``geo.movements.border_crossings``: ``vrm``, ``trip``, ``from_force``,
        ``to_force``, ``from_at``, ``at``, ``camera_id``, ``easting``, ``northing``.
    cameras : DataFrame or None
        ``camera_id``, ``easting``, ``northing`` (m), ``force``.
    patrols : DataFrame or None
        Patrol circles, ``geo.planning.PlanResult.areas``: ``rank``,
        ``easting``, ``northing`` (m), ``radius_m``, ``forces``,
        ``expected_incidents``, ``why``.
    attribution : str
        Licence text shown on the map (``geo.boundaries.ATTRIBUTION``).
    focus_forces : tuple of str
        Forces the map opens on (their bounds); empty: the seven.
    banner : str
        A line always shown on the map (e.g. "SYNTHETIC DEMO DATA"); escaped.
    """

    boundaries: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame | None = None
    hotspots: gpd.GeoDataFrame | None = None
    trails: pd.DataFrame | None = None
    crossings: pd.DataFrame | None = None
    cameras: pd.DataFrame | None = None
    patrols: pd.DataFrame | None = None
    attribution: str = ""
    focus_forces: tuple[str, ...] = ()
    banner: str = ""



class DataLayer(JSCSSMixin):
    """A fixed JavaScript snippet run with one JSON data object.

    In the snippet, ``map`` is the Leaflet map, ``parent`` the layer group the
    element was added to and ``data`` the JSON. The snippet is code from
    ``dashboard/maps/js`` only; data never becomes code.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this.map_ref.get_name() }};
            var parent = {{ this._parent.get_name() }};
            var data = {{ this.data_json }};
            {{ this.code }}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, map_ref: folium.Map, code: str, data: Any, *, js=(), css=(), data_json=None):
        super().__init__()
        self._name = "HarewatchLayer"
        self.map_ref = map_ref
        self.code = code
        self.data_json = js_json(data) if data_json is None else data_json
        self.default_js = list(js)
        self.default_css = list(css)

    def render(self, **kwargs):
        """As ``JSCSSMixin.render``, with the script added as plain text.

        branca's ``MacroElement.render`` wraps the rendered script in a new
        ``Element``, which compiles it as a Jinja template: the whole data
        JSON tokenised on every render (half the time of a map build), and
        the data read as template syntax. Here it is added as it is.
        """
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        script = self._template.module.__dict__["script"](self, kwargs)
        figure.script.add_child(_Text(script), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Text(Element):
    """Text rendered as it is (no Jinja template made of it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        # what Template(text).render() gives for text without template syntax
        self._text = text[:-1] if text.endswith("\n") else text

    def render(self, **kwargs) -> str:
        return self._text



#: ``memo(name, make) -> (data JSON, extra)``: a layer's payload, where ``make()`` gives
#: ``(data JSON, extra)`` (``extra``: a tuple of JSON-able values the caller needs, e.g.
#: counts). A memo may give a kept payload instead of calling ``make`` (``dashboard.cache``).
PayloadMemo = Callable[[str, Callable[[], tuple[str, tuple]]], tuple[str, tuple]]


def make_payload(name: str, make: Callable[[], tuple[str, tuple]]) -> tuple[str, tuple]:
    """The plain :data:`PayloadMemo`: ``make()`` now."""
    data_json, extra = make()
    return data_json, tuple(extra)


def _encoded(data: Any, extra: tuple = ()) -> tuple[str, tuple]:
    """A payload: ``data`` as JSON (as :class:`DataLayer` encodes it) and ``extra``."""
    return js_json(data), tuple(extra)


def read_js(name: str) -> str:
    """The JavaScript snippet ``dashboard/maps/js/<name>.js``."""
    return resources.files("dashboard.maps").joinpath("js", f"{name}.js").read_text(encoding="utf-8")


BOUNDARY_JS = read_js("boundaries")
MAP_JS = read_js("map")
#: Registers a layer group with the map's layer switcher.
REGISTER_JS = read_js("register")
INCIDENTS_JS = read_js("incidents")
HEAT_JS = read_js("heat")
HOTSPOTS_JS = read_js("hotspots")
TRAILS_JS = read_js("trails")
CROSSINGS_JS = read_js("crossings")
CAMERAS_JS = read_js("cameras")
PATROLS_JS = read_js("patrols")

_NOTE_CHARS = 200
#: Leaflet's maxZoom (markercluster needs it with no tiles).
MAX_ZOOM = 18
#: Boundary payloads memoised on their content (8 at most). A plain dict, not a
#: Streamlit cache: maps are also built outside Streamlit (briefing pack, benchmarks).
_BOUNDARY_CACHE: dict[tuple, tuple[str, tuple]] = {}
_CROSSING_EXAMPLES = 3
_MAX_CROSSING_SITES = 1000
_CROSSING_CLUSTER_ABOVE = 30
_TO_WGS84 = Transformer.from_crs(BNG, WGS84, always_xy=True)


def _to_latlon(easting_m, northing_m, decimals: int = 5) -> tuple[list[float], list[float]]:
    e = np.asarray(easting_m, dtype="float64")
    n = np.asarray(northing_m, dtype="float64")
    if e.size and (np.nanmax(np.abs(e)) < 1000 and np.nanmax(np.abs(n)) < 1000):
        raise ValueError(
            "expected EPSG:27700 metres for easting/northing, got values that look like degrees"
        )
    lon, lat = _TO_WGS84.transform(e, n)
    return np.round(lat, decimals).tolist(), np.round(lon, decimals).tolist()


def _mask(values: pd.Series, column: str, redact: bool) -> pd.Series:
    """Text of a ``column`` of plates or ids, masked when ``redact``; each distinct value once.

    Whether ``column`` holds plates or ids is decided by ``geo.privacy``
    (:func:`~geo.privacy.is_plate_column`, :func:`~geo.privacy.is_id_column`).
    """
    text = values.astype(object).where(values.notna(), "").astype(str)
    if not redact:
        return text
    kind = "plate" if is_plate_column(column) else ("id" if is_id_column(column) else None)
    if kind is None:
        raise ValueError(f"{column!r} is neither a plate nor an id column (geo.privacy)")
    codes, uniques = pd.factorize(text)
    masked = mask_series(pd.Series(uniques, dtype=object), kind).astype(str).to_numpy()
    return pd.Series(masked[codes] if len(codes) else [], index=values.index, dtype=object)


def _col(df: pd.DataFrame, name: str, default: Any = "") -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype=object)


def _opt(label: str, values: pd.Series) -> pd.Series:
    """``<br>label: value`` where the (already escaped) value is non-empty."""
    return pd.Series(np.where(values != "", "<br>" + label + ": " + values, ""), index=values.index)


def boundary_layer(
    m, fg, boundaries: gpd.GeoDataFrame, *, briefing: bool, memo: PayloadMemo | None = None
) -> tuple[float, float, float, float]:
    """Force areas and their labels (``memo``: :data:`PayloadMemo`, name ``"boundaries"``).

    Returns the seven forces' bounds (minx, miny, maxx, maxy), degrees.
    """
    data_json, bounds = (memo or make_payload)(
        "boundaries", lambda: _boundary_payload(boundaries, briefing=briefing))
    DataLayer(m, BOUNDARY_JS, None, data_json=data_json).add_to(fg)
    return bounds


def _boundary_payload(boundaries: gpd.GeoDataFrame, *, briefing: bool) -> tuple[str, tuple]:
    """Boundary JSON and the seven forces' bounds, memoised on the content.

    The same boundaries are drawn on every rerun; the key is a digest of the
    geometry and attributes, so a changed file is never served stale.
    """
    wkb = shapely.to_wkb(np.asarray(boundaries.geometry.values, dtype=object))
    h = hashlib.sha1(b"".join(wkb.tolist()))
    for c in ("force", "force_code", "in_agreement"):
        h.update(_col(boundaries, c).astype(str).str.cat(sep="\x1f").encode())
    key = (h.hexdigest(), str(boundaries.crs), bool(briefing))
    hit = _BOUNDARY_CACHE.get(key)
    if hit is None:
        hit = _boundary_payload_uncached(boundaries, briefing=briefing)
        if len(_BOUNDARY_CACHE) >= 8:
            _BOUNDARY_CACHE.pop(next(iter(_BOUNDARY_CACHE)))
        _BOUNDARY_CACHE[key] = hit
    return hit


def _boundary_payload_uncached(
    boundaries: gpd.GeoDataFrame, *, briefing: bool
) -> tuple[dict, tuple]:
    b = boundaries
    if b.crs is not None and b.crs != WGS84:
        b = b.to_crs(WGS84)
    geoms = shapely.set_precision(np.asarray(b.geometry.values, dtype=object), 1e-5)
    agree = _col(b, "in_agreement", True).astype(bool).to_numpy()
    names = escape_series(_col(b, "force"))
    codes = escape_series(_col(b, "force_code"))
    tips = np.where(
        agree,
        "<b>" + names + "</b>" + np.where(codes != "", " (" + codes + ")", ""),
        names + " (neighbour)",
    )
    gj = gpd.GeoDataFrame({"t": tips, "a": agree}, geometry=geoms, crs=WGS84)
    # label at a point inside each area (reprojected to metres for a fair point)
    reps = (
        gpd.GeoSeries(b.geometry.values, crs=WGS84).to_crs(BNG).representative_point().to_crs(WGS84)
    )
    labels = list(
        zip(
            np.round(reps.y.to_numpy(), 4).tolist(),
            np.round(reps.x.to_numpy(), 4).tolist(),
            names.tolist(),
            agree.tolist(),
            strict=True,
        )
    )
    seven = (
        {
            "color": "#000000",
            "weight": 3.5,
            "fillColor": "#0072B2",
            "fillOpacity": 0.03,
            "opacity": 1,
        }
        if briefing
        else {
            "color": "#1f4e79",
            "weight": 2,
            "fillColor": "#1f4e79",
            "fillOpacity": 0.04,
            "opacity": 0.9,
        }
    )
    neighbour = {
        "color": "#6e6e6e" if briefing else "#9a9a9a",
        "weight": 1.2,
        "dashArray": "4 4",
        "fill": False,
        "opacity": 0.8,
    }
    data = {
        "geojson": json.loads(gj.to_json(drop_id=True)),
        "labels": labels,
        "seven": seven,
        "neighbour": neighbour,
    }
    sel = b[agree] if agree.any() else b
    return js_json(data), tuple(float(v) for v in sel.total_bounds)  # minx, miny, maxx, maxy


def focus_bounds(boundaries: gpd.GeoDataFrame, forces: tuple[str, ...]) -> tuple | None:
    """(minx, miny, maxx, maxy) in degrees of the named forces; None when none is named or found."""
    if not forces or "force" not in boundaries.columns:
        return None
    sel = boundaries[boundaries["force"].astype(str).isin(list(forces)).to_numpy()]
    if not len(sel):
        return None
    if sel.crs is not None and sel.crs != WGS84:
        sel = sel.to_crs(WGS84)
    return tuple(float(v) for v in sel.total_bounds)


def _incident_fields(inc: pd.DataFrame, redact: bool) -> dict[str, Any]:
    """Escaped popup fields, one array each; the browser composes the popup."""
    reported = escape_series(_col(inc, "reported_force"))
    mismatch = _col(inc, "force_mismatch", False).fillna(False).astype(bool).to_numpy()
    force_codes, force_names = pd.factorize(escape_series(_col(inc, "force")))
    # free text cannot be masked reliably: notes are left out when redacting (geo.privacy)
    notes_col = _col(inc, "__none__") if redact and "notes" in FREE_TEXT_COLUMNS else _col(inc, "notes")
    raw_notes = notes_col.astype(object).where(notes_col.notna(), "").astype(str)
    long = (raw_notes.str.len() > _NOTE_CHARS).to_numpy()
    notes = escape_series(raw_notes.str.slice(0, _NOTE_CHARS)) + np.where(long, "\u2026", "")

    def multi(col: str) -> list[str]:
        masked = _mask(_col(inc, col), col, redact).str.replace(";", ", ", regex=False)
        return escape_series(masked).tolist()

    return {
        "id": escape_series(_col(inc, "incident_id")).tolist(),
        "when": london_text(_col(inc, "occurred_at", None)).tolist(),
        "force": force_codes.tolist(),
        "forces": list(force_names),
        "reported": np.where(mismatch, reported, "").tolist(),
        "plates": multi("vrms"),
        "noms": multi("nominals"),
        "dogs": escape_series(_col(inc, "dogs")).tolist(),
        "outcome": escape_series(_col(inc, "outcome")).tolist(),
        "notes": notes.tolist(),
    }


def incident_layer(
    m, fg, inc: gpd.GeoDataFrame, *, redact: bool, briefing: bool, max_markers: int, heat: bool,
    memo: PayloadMemo | None = None,
):
    """Incident markers (clustered; 1 km squares above ``max_markers``), maybe a heat layer.

    ``memo`` gives the markers' payload (:data:`PayloadMemo`, name ``"incidents"``; not
    with ``heat``, which needs the points). Returns (aggregated to squares, incidents drawn).
    """
    if heat:
        data, aggregated, n_inc, lat, lon, weights = _incident_data(
            inc, redact=redact, briefing=briefing, max_markers=max_markers)
        data_json = js_json(data)
    else:
        data_json, (aggregated, n_inc) = (memo or make_payload)("incidents", lambda: _split(
            _incident_data(inc, redact=redact, briefing=briefing, max_markers=max_markers)))
    DataLayer(
        m,
        INCIDENTS_JS,
        None,
        data_json=data_json,
        js=[("markerclusterjs", "")],
        css=[("markerclustercss", ""), ("markerclusterdefaultcss", "")],
    ).add_to(fg)
    if heat and len(lat):
        pts = np.column_stack([lat, lon, np.asarray(weights, dtype="float64")]).tolist()
        DataLayer(
            m,
            HEAT_JS,
            {"pts": pts, "options": {"radius": 18, "blur": 22, "minOpacity": 0.3, "maxZoom": 12}},
            js=[("leaflet-heat.js", "")],
        ).add_to(group(m, "Incident density"))
    return aggregated, n_inc


def _split(made: tuple) -> tuple[str, tuple]:
    """:func:`_incident_data`'s result as a payload: (data JSON, (aggregated, n drawn))."""
    return _encoded(made[0], (made[1], made[2]))


def _incident_data(inc: gpd.GeoDataFrame, *, redact: bool, briefing: bool, max_markers: int):
    """:func:`incident_layer`'s markers: (data, aggregated, n drawn, lat, lon, weights)."""
    e, n = _xy(inc)
    ok = np.isfinite(e) & np.isfinite(n)
    inc, e, n = inc[ok], e[ok], n[ok]
    style = {
        "radius": 6 if briefing else 5,
        "color": "#000000" if briefing else "#ffffff",
        "weight": 1.5 if briefing else 1,
        "fill": OKABE_ITO["blue"],
        "fillOpacity": 0.9,
    }
    cell_m = 1000.0
    if len(inc) <= max_markers:
        lat, lon = _to_latlon(e, n)
        data = {"lat": lat, "lon": lon, "w": None, "f": _incident_fields(inc, redact)}
        weights = np.ones(len(lat))
        aggregated = False
    else:
        # aggregate to 1 km squares: one marker per square, weight = incidents
        ix = np.floor(e / cell_m).astype("int64")
        iy = np.floor(n / cell_m).astype("int64")
        key = ix * 10_000_000 + iy
        uniq, counts = np.unique(key, return_counts=True)
        cx = (uniq // 10_000_000 + 0.5) * cell_m
        cy = (uniq % 10_000_000 + 0.5) * cell_m
        lat, lon = _to_latlon(cx, cy, decimals=4)
        weights = counts
        data = {"lat": lat, "lon": lon, "w": counts.tolist(), "f": None}
        aggregated = True
    data.update(
        style=style, uncluster_zoom=None if aggregated else 15, cell_text=" in this 1 km square"
    )
    return data, aggregated, len(inc), lat, lon, weights


def _xy(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "easting" in df.columns and "northing" in df.columns:
        return df["easting"].to_numpy("float64"), df["northing"].to_numpy("float64")
    g = df.geometry
    if g.crs is not None and g.crs != BNG:
        g = g.to_crs(BNG)
    return g.x.to_numpy("float64"), g.y.to_numpy("float64")


def _fmt_list(values: pd.Series) -> pd.Series:
    def one(v):
        if isinstance(v, list | tuple | np.ndarray):
            return ", ".join(str(x) for x in v)
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    return values.map(one)


def hotspot_layer(m, fg, hs: gpd.GeoDataFrame, *, briefing: bool, memo: PayloadMemo | None = None):
    """Hotspot polygons, ranked colours and labels (``memo``: :data:`PayloadMemo`, name
    ``"hotspots"``)."""
    data_json, _ = (memo or make_payload)("hotspots", lambda: _encoded(_hotspot_data(hs, briefing=briefing)))
    DataLayer(m, HOTSPOTS_JS, None, data_json=data_json).add_to(fg)


def _hotspot_data(hs: gpd.GeoDataFrame, *, briefing: bool) -> dict:
    """:func:`hotspot_layer`'s payload."""
    h = hs if hs.crs is None or hs.crs == WGS84 else hs.to_crs(WGS84)
    rank = _col(h, "rank", 0).astype("int64")
    nn = _col(h, "n", 0).astype("int64").astype(str)
    forces = escape_series(_fmt_list(_col(h, "forces")))
    cross = _col(h, "cross_border", False).fillna(False).astype(bool)
    first = london_text(_col(h, "first_at", None), "%d %b %Y")
    last = london_text(_col(h, "last_at", None), "%d %b %Y")
    month = escape_series(_col(h, "busiest_month"))
    wday = escape_series(_col(h, "busiest_weekday"))
    hours = escape_series(_fmt_list(_col(h, "busiest_hours")))
    prev = pd.to_numeric(_col(h, "previous_n", np.nan), errors="coerce")
    change = pd.to_numeric(_col(h, "change", np.nan), errors="coerce")
    pct = pd.to_numeric(_col(h, "change_pct", np.nan), errors="coerce")
    sign = np.where(change > 0, "+", "")
    trend = np.where(
        prev.isna(),
        "",
        np.where(
            pct.notna(),
            "Previous season: "
            + prev.fillna(0).astype("int64").astype(str)
            + " ("
            + sign
            + change.fillna(0).astype("int64").astype(str)
            + ", "
            + sign
            + pct.round(0).fillna(0).astype("int64").astype(str)
            + "%)",
            np.where(prev.fillna(0) == 0, "New this season (none in the previous season)", ""),
        ),
    )
    busiest = (
        month
        + pd.Series(np.where(wday != "", ", " + wday + "s", ""), index=h.index)
        + pd.Series(np.where(hours != "", ", " + hours, ""), index=h.index)
    )
    popup = (
        "<div class='hw-popup'><b>Hotspot #"
        + rank.astype(str)
        + "</b> \u00b7 "
        + nn
        + " incidents"
        + _opt("Forces", forces)
        + pd.Series(np.where(cross, "<br><b>Cross-border</b>", ""), index=h.index)
        + pd.Series(np.where(first != "", "<br>" + first + " \u2013 " + last, ""), index=h.index)
        + _opt("Busiest", busiest)
        + pd.Series(np.where(trend != "", "<br>" + trend, ""), index=h.index)
        + "</div>"
    )
    tip = "Hotspot #" + rank.astype(str) + ": " + nn + " incidents"
    geoms = shapely.set_precision(np.asarray(h.geometry.values, dtype=object), 1e-5)
    gj = gpd.GeoDataFrame(
        {
            "c": hotspot_colours(rank, briefing=briefing),
            "p": popup.to_numpy(),
            "t": tip.to_numpy(),
            "r": rank.to_numpy(),
        },
        geometry=geoms,
        crs=WGS84,
    ).iloc[::-1]  # rank 1 drawn last, on top
    label_pts = gpd.GeoSeries(hs.geometry.values, crs=hs.crs).representative_point()
    label_pts = label_pts if hs.crs is None or hs.crs == WGS84 else label_pts.to_crs(WGS84)
    data = {
        "labels": {"lat": np.round(label_pts.y.to_numpy(), 5).tolist(),
                   "lon": np.round(label_pts.x.to_numpy(), 5).tolist(),
                   "text": ("#" + rank.astype(str)).tolist(), "rank": rank.tolist()},
        "geojson": json.loads(gj.to_json(drop_id=True)),
        "outline": "#000000" if briefing else "#5a0010",
        "weight": 2.5 if briefing else 1.5,
        "fillOpacity": 0.65 if briefing else 0.55,
    }
    return data


def trail_layer(
    m, fg, trails: pd.DataFrame, *, redact: bool, briefing: bool, max_points: int
) -> tuple[int, int]:
    t = trails.copy()
    if "trip" not in t.columns:
        t["trip"] = 0
    t["at"] = pd.to_datetime(t["at"], utc=True, errors="coerce")
    t = t[
        np.isfinite(t["easting"].to_numpy("float64"))
        & np.isfinite(t["northing"].to_numpy("float64"))
    ]
    t = t.sort_values(["vrm", "trip", "at"], kind="mergesort")
    key = t["vrm"].astype(str) + "\x1f" + t["trip"].astype(str)
    n_trips_all = int(key.nunique())
    if len(t) > max_points:
        # keep whole trips, most recent first, until the budget is used
        last_at = t.groupby(key.to_numpy())["at"].max().sort_values(ascending=False)
        sizes = key.value_counts().reindex(last_at.index)
        keep = sizes.index[np.cumsum(sizes.to_numpy()) <= max_points]
        t = t[key.isin(keep).to_numpy()]
        key = key[key.isin(keep)]
    kv = key.to_numpy()
    starts = (
        np.flatnonzero(np.r_[True, kv[1:] != kv[:-1]]) if len(kv) else np.array([], dtype="int64")
    )
    vrm_codes, _ = pd.factorize(t["vrm"].astype(str))
    force_codes, force_names = pd.factorize(_col(t, "force").astype(str))
    lat, lon = _to_latlon(t["easting"], t["northing"])
    labels = escape_series(_mask(t["vrm"].iloc[starts], "vrm", redact))
    data = {
        "lat": lat,
        "lon": lon,
        "at": london_text(t["at"]).tolist(),
        "ref": escape_series(_col(t, "ref")).tolist(),
        "kind": (_col(t, "kind", "read").astype(str) == "incident").astype("int8").tolist(),
        "force": force_codes.tolist(),
        "forces": escape_series(pd.Series(force_names, dtype=object)).tolist(),
        "starts": starts.tolist(),
        "labels": ("<b>" + labels + "</b>").tolist(),
        "colour": (vrm_codes[starts] % len(TRAIL_COLOURS)).tolist() if len(starts) else [],
        "colours": TRAIL_COLOURS,
        "weight": 4 if briefing else 3,
        "arrow": 12 if briefing else 9,
        "radius": 4 if briefing else 3,
    }
    DataLayer(m, TRAILS_JS, data, js=[("polylinedecorator", "")]).add_to(fg)
    return len(starts), n_trips_all


def crossing_layer(m, fg, cx: pd.DataFrame, *, redact: bool, briefing: bool,
                   memo: PayloadMemo | None = None) -> tuple[int, int]:
    """One diamond per crossing site (same place, same from/to forces).

    Crossings happen at cameras, so thousands of crossings collapse onto a few
    hundred sites; each tooltip gives the count and the latest few plates.
    ``memo``: :data:`PayloadMemo`, name ``"crossings"``. Returns (sites, crossings).
    """
    data_json, (n_sites, n_cross) = (memo or make_payload)(
        "crossings", lambda: _encoded(*_crossing_data(cx, redact=redact, briefing=briefing)))
    DataLayer(
        m,
        CROSSINGS_JS,
        None,
        data_json=data_json,
        js=[("markerclusterjs", "")],
        css=[("markerclustercss", ""), ("markerclusterdefaultcss", "")],
    ).add_to(fg)
    return n_sites, n_cross


def _crossing_data(cx: pd.DataFrame, *, redact: bool, briefing: bool) -> tuple[dict, tuple[int, int]]:
    """:func:`crossing_layer`'s payload and (sites, crossings)."""
    e, n = cx["easting"].to_numpy("float64"), cx["northing"].to_numpy("float64")
    ok = np.isfinite(e) & np.isfinite(n)
    keys = ["_e", "_n", "_from", "_to"]
    text = {k: _col(cx, col)[ok].astype(object).fillna("").astype(str).to_numpy() for k, col in
            (("_from", "from_force"), ("_to", "to_force"), ("_cam", "camera_id"), ("_vrm", "vrm"))}  # fmt: skip
    c = pd.DataFrame(
        {
            "_e": np.round(e[ok] / 10.0) * 10.0,
            "_n": np.round(n[ok] / 10.0) * 10.0,
            **text,
            "_at": pd.to_datetime(_col(cx, "at", None)[ok], utc=True, errors="coerce").to_numpy(),
        }
    )
    c = c.sort_values("_at", ascending=False, kind="mergesort", na_position="last")
    grouped = c.groupby(keys, sort=False)
    sites = grouped.agg(count=("_at", "size"), cam=("_cam", "first")).reset_index()
    sites = sites.sort_values("count", ascending=False, kind="mergesort").head(_MAX_CROSSING_SITES)
    latest = grouped.head(_CROSSING_EXAMPLES)
    latest = latest.assign(
        _line="<br>"
        + escape_series(_mask(latest["_vrm"], "vrm", redact))
        + " "
        + london_text(latest["_at"])
    )
    lines = latest.groupby(keys, sort=False)["_line"].agg("".join)
    lines = lines.reindex(pd.MultiIndex.from_frame(sites[keys])).fillna("").to_numpy()
    count = sites["count"].to_numpy()
    cam = escape_series(sites["cam"])
    tip = (
        "<b>"
        + sites["count"].astype(str)
        + np.where(count == 1, " crossing</b> ", " crossings</b> ")
        + escape_series(sites["_from"])
        + " \u2192 "
        + escape_series(sites["_to"])
        + np.where(cam != "", "<br>camera " + cam, "")
        + lines
        + np.where(count > _CROSSING_EXAMPLES, "<br>\u2026", "")
    )
    lat, lon = _to_latlon(sites["_e"], sites["_n"])
    base = 12 if briefing else 9
    size = np.round(base + np.minimum(6, 1.5 * np.log2(np.maximum(count, 1)))).astype(int)
    data = {
        "lat": lat,
        "lon": lon,
        "tip": tip.tolist(),
        "size": size.tolist(),
        "count": count.tolist(),
        "cluster": bool(len(sites) > _CROSSING_CLUSTER_ABOVE),
    }
    return data, (len(sites), int(count.sum()) if len(count) else 0)


def camera_layer(m, fg, cams: pd.DataFrame, *, briefing: bool):
    e, n = cams["easting"].to_numpy("float64"), cams["northing"].to_numpy("float64")
    ok = np.isfinite(e) & np.isfinite(n)
    cams = cams[ok]
    lat, lon = _to_latlon(e[ok], n[ok])
    force = escape_series(_col(cams, "force"))
    tip = (
        "ANPR camera "
        + escape_series(_col(cams, "camera_id"))
        + pd.Series(np.where(force != "", " (" + force + ")", ""), index=cams.index)
    )
    data = {
        "lat": lat,
        "lon": lon,
        "tip": tip.tolist(),
        "radius": 4 if briefing else 3,
        "color": "#000000",
        "fill": "#000000" if briefing else "#555555",
    }
    DataLayer(m, CAMERAS_JS, data).add_to(fg)


def patrol_layer(m, fg, patrols: pd.DataFrame, *, briefing: bool, fit: bool = False) -> int:
    """One circle of ``radius_m`` per crew with its rank as a label; popups escaped.

    ``fit`` zooms the map to the circles (with room around them for context).
    """
    e, n = patrols["easting"].to_numpy("float64"), patrols["northing"].to_numpy("float64")
    ok = np.isfinite(e) & np.isfinite(n)
    p = patrols[ok]
    lat, lon = _to_latlon(e[ok], n[ok], decimals=6)
    rank = _col(p, "rank", 0).astype("int64").astype(str)
    expected = pd.to_numeric(_col(p, "expected_incidents", np.nan), errors="coerce").round(1)
    popup = (
        "<div class='hw-popup'><b>Crew #" + rank + "</b> \u00b7 "
        + expected.map(lambda v: "" if pd.isna(v) else f"{v:g}") + " incidents expected per season"
        + _opt("Forces", escape_series(_fmt_list(_col(p, "forces"))))
        + "<br>" + escape_series(_col(p, "why")) + "</div>"
    )
    data = {
        "lat": lat,
        "lon": lon,
        "radius": pd.to_numeric(_col(p, "radius_m", 3000.0), errors="coerce").fillna(3000.0).tolist(),
        "popup": popup.tolist(),
        "label": ("#" + rank).tolist(),
        "color": "#000000" if briefing else OKABE_ITO["green"],
        "fill": OKABE_ITO["green"],
        "weight": 4 if briefing else 3,
        "dash": None if briefing else "8 5",
        "fillOpacity": 0.12,
        "fit": bool(fit),
    }
    DataLayer(m, PATROLS_JS, data).add_to(fg)
    return len(p)


class _Group(folium.FeatureGroup):
    """A FeatureGroup that adds itself to its parent in its own script.

    folium's ``Layer.render`` adds a child "add to map" element named after
    the layer's current variable name; streamlit-folium renames variables in
    place, so when the same (cached) map is rendered again the old child
    still refers to the old name and the whole map script fails.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.featureGroup({{ this.options|tojavascript }});
            {% if this.show %}{{ this.get_name() }}.addTo({{ this._parent.get_name() }});{% endif %}
        {% endmacro %}
        """
    )

    def render(self, **kwargs):
        folium.MacroElement.render(self, **kwargs)


def group(m: folium.Map, name: str, *, show: bool = True) -> folium.FeatureGroup:
    """A feature group listed in the map's layer switcher under ``name``."""
    fg = _Group(name=name, show=show, control=False).add_to(m)
    DataLayer(m, REGISTER_JS, {"name": escape_html(name)}).add_to(fg)
    return fg


def legend_html(items: list[tuple[str, str]], notes: list[str], *, title: str) -> str:
    """``items`` are (swatch HTML, escaped label); ``notes`` escaped lines."""
    rows = "".join(f"<div class='hw-row'>{sw}<span>{label}</span></div>" for sw, label in items)
    extra = "".join(f"<div class='hw-note'>{n}</div>" for n in notes)
    return f"<details open><summary><b>{escape_html(title)}</b></summary>{rows}{extra}</details>"


def swatch(style: str) -> str:
    return f"<span class='hw-sw' style='{style}'></span>"


"""Folium maps for the dashboard and the briefing pack, working with no internet.

Every script and stylesheet the map needs is vendored under
``dashboard/static/vendor`` (see its README) and served by Streamlit's static
file serving at ``/app/static/vendor/...``. :func:`build_map` points the map
and every plugin element at those files; :func:`standalone_html` inlines them
so the HTML opens from a USB stick with no server.

Security: every string that comes from data (ids, plates, notes, force names,
camera ids) is HTML-escaped before it reaches a popup, tooltip, label or the
legend, and every value embedded in JavaScript is JSON-encoded with ``<`` and
``>`` escaped, so a note such as ``<img src=x onerror=alert(1)>`` shows as
text and can never close a ``<script>``.

Performance: data reaches the browser as one JSON array per layer and the
markers are made by one JavaScript loop; no Python loop per incident, read or
camera. Above ``max_markers`` incidents the incident layer is aggregated to
1 km squares (the cluster bubbles still sum to the number of incidents), so
the page stays under 3 MB at 100,000 incidents.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.elements import JSCSSMixin
from folium.template import Template
from pyproj import Transformer

from geo.schema import BNG, LONDON, WGS84

__all__ = [
    "DEFAULT_BASE_URL",
    "INLINE_BASE_URL",
    "STATIC_DIR",
    "VENDOR_DIR",
    "MapLayers",
    "OKABE_ITO",
    "build_map",
    "escape_html",
    "escape_series",
    "hotspot_colours",
    "localise_assets",
    "offline_assets",
    "standalone_html",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
#: Seen from inside the streamlit-folium iframe; survives --server.baseUrlPath.
DEFAULT_BASE_URL = "../../app/static/vendor"
#: Placeholder base used by :func:`standalone_html` before inlining.
INLINE_BASE_URL = "harewatch-inline:"

#: Okabe & Ito (2008) colour-blind-safe qualitative palette.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
# Trail colours: Okabe-Ito without yellow (too faint on a light background).
_TRAIL_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
# Sequential, colour-blind-safe: ColorBrewer YlOrRd (rank 1 darkest) and, for
# briefings, viridis (rank 1 darkest; strongest light/dark contrast).
_SEQ_NORMAL = ["#bd0026", "#f03b20", "#fd8d3c", "#fecc5c", "#ffffb2"]
_SEQ_BRIEFING = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"]

# Vendored files: asset name (as folium names them) -> path under vendor/.
_CORE_JS: list[tuple[str, str]] = [
    ("leaflet", "leaflet/leaflet.js"),
    ("leaflet_imagepath", "harewatch/leaflet-imagepath.js"),
    ("jquery", "jquery/jquery.min.js"),
    ("bootstrap", "bootstrap/js/bootstrap.bundle.min.js"),
    ("awesome_markers", "leaflet-awesome-markers/leaflet.awesome-markers.min.js"),
]
_CORE_CSS: list[tuple[str, str]] = [
    ("leaflet_css", "leaflet/leaflet.css"),
    ("bootstrap_css", "bootstrap/css/bootstrap.min.css"),
    ("awesome_markers_font_css", "fontawesome/css/all.min.css"),
    ("awesome_markers_css", "leaflet-awesome-markers/leaflet.awesome-markers.css"),
    ("harewatch_css", "harewatch/harewatch-map.css"),
]
_PLUGIN_FILES: dict[str, str] = {
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "leaflet-heat.js": "leaflet.heat/leaflet-heat.js",
    "polylinedecorator": "leaflet-polylinedecorator/leaflet.polylineDecorator.js",
}
_BY_NAME: dict[str, str] = {**dict(_CORE_JS), **dict(_CORE_CSS), **_PLUGIN_FILES}
_BY_FILENAME: dict[str, str] = {Path(p).name.lower(): p for p in _BY_NAME.values()}
_BY_FILENAME["leaflet_heat.min.js"] = _PLUGIN_FILES["leaflet-heat.js"]
_BY_FILENAME["leaflet.awesome-markers.js"] = _BY_NAME["awesome_markers"]
_BY_FILENAME["jquery-3.7.1.min.js"] = _BY_NAME["jquery"]
#: folium defaults with no offline copy and no use here (Bootstrap 3
#: glyphicons are not on npm; use ``prefix="fa"`` icons), dropped.
_DROPPABLE = {"glyphicons_css", "awesome_rotate_css"}
#: Not needed by build_map's own layers; left out of the standalone HTML.
_STANDALONE_SKIP = {
    "bootstrap",
    "bootstrap_css",
    "awesome_markers",
    "awesome_markers_css",
    "awesome_markers_font_css",
}

_ESCAPES = [
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&#x27;"),
    # folium's Popup/Tooltip put their HTML inside JS template literals:
    ("`", "&#96;"),
    ("$", "&#36;"),
    ("\\", "&#92;"),
]
_SPECIAL = "[" + re.escape("".join(a for a, _ in _ESCAPES)) + "]"


# --------------------------------------------------------------------------- #
# escaping
# --------------------------------------------------------------------------- #
def escape_html(value: Any) -> str:
    """HTML-escape one value for any HTML context (text or quoted attribute).

    Also escapes the backtick, ``$`` and backslash so the result is inert even
    inside a JavaScript template literal (folium's ``Popup``/``Tooltip``).
    ``None``/NaN give ``""``.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = str(value)
    for a, b in _ESCAPES:
        s = s.replace(a, b)
    return s


def escape_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`escape_html` of a Series (missing values -> ``""``)."""
    s = values.astype(object).where(values.notna(), "").astype(str)
    dirty = s.str.contains(_SPECIAL, regex=True).to_numpy(dtype=bool)
    if not dirty.any():
        return s
    part = s[dirty]
    for a, b in _ESCAPES:
        part = part.str.replace(a, b, regex=False)
    s = s.copy()
    s[dirty] = part
    return s


def _js_json(obj: Any) -> str:
    """JSON for embedding in a <script>: ``<``/``>`` and line separators escaped."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------- #
# offline assets
# --------------------------------------------------------------------------- #
def _url(base_url: str, rel: str) -> str:
    return f"{base_url.rstrip('/')}/{rel}" if base_url != INLINE_BASE_URL else base_url + rel


def offline_assets(
    base_url: str = DEFAULT_BASE_URL,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Local ``(name, url)`` lists to use as a map's ``default_js`` / ``default_css``.

    Parameters
    ----------
    base_url : str
        Where ``dashboard/static/vendor`` is served, as seen by the page that
        loads the map. The default works inside streamlit-folium's iframe,
        also under ``--server.baseUrlPath``.

    Returns
    -------
    (js, css) : tuple of lists of (name, url)
        Leaflet first, then the one-line script that sets
        ``L.Icon.Default.imagePath``, jQuery (folium popups need it),
        Bootstrap and Leaflet.awesome-markers; CSS likewise, plus Font
        Awesome and the Harewatch map stylesheet.
    """
    js = [(name, _url(base_url, rel)) for name, rel in _CORE_JS]
    css = [(name, _url(base_url, rel)) for name, rel in _CORE_CSS]
    return js, css


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _localise_list(items, base_url: str, where: str) -> list[tuple[str, str]]:
    out = []
    for name, url in items:
        rel = _BY_NAME.get(name) or _BY_FILENAME.get(url.rsplit("/", 1)[-1].lower())
        if rel is None:
            if name in _DROPPABLE:
                continue
            raise ValueError(
                f"{where}: no vendored copy of asset {name!r} ({url}); vendor it in "
                "dashboard/static/vendor (scripts/vendor_assets.sh) before using this plugin"
            )
        out.append((name, _url(base_url, rel)))
    return out


def localise_assets(m: folium.Map, base_url: str = DEFAULT_BASE_URL) -> folium.Map:
    """Point the map and every element in it at the vendored files.

    streamlit-folium collects ``default_js``/``default_css`` from every
    element and stops at the first script that fails to load, so one CDN URL
    left in a plugin blanks the whole map offline. Sets instance attributes
    (class defaults are untouched) and returns ``m``.

    Raises
    ------
    ValueError
        When an element needs a file that is not vendored.
    """
    js, css = offline_assets(base_url)
    m.default_js, m.default_css = js, css
    for el in _walk(m):
        if el is m or not isinstance(el, JSCSSMixin):
            continue
        where = type(el).__name__
        el.default_js = _localise_list(el.default_js, base_url, where)
        el.default_css = _localise_list(el.default_css, base_url, where)
    return m


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def repl(mt: re.Match) -> str:
        ref = mt.group(2)
        if ref.startswith(("data:", "#")):
            return mt.group(0)
        target = (path.parent / ref.split("?")[0].split("#")[0]).resolve()
        if not target.is_file() or VENDOR_DIR.resolve() not in target.parents:
            return "url()"
        return f'url("{_data_uri(target)}")'

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", repl, css).replace("</", "<\\/")


def standalone_html(m: folium.Map) -> str:
    """Render ``m`` as one self-contained HTML document (all JS/CSS inlined).

    Opens offline from disk with no server. Bootstrap, Font Awesome and
    awesome-markers are left out (the layers made by :func:`build_map` do not
    use them). ``m`` is re-pointed at placeholder URLs while rendering, then
    back at :data:`DEFAULT_BASE_URL`.
    """
    localise_assets(m, INLINE_BASE_URL)
    for el in _walk(m):
        if isinstance(el, JSCSSMixin) or el is m:
            el.default_js = [(n, u) for n, u in el.default_js if n not in _STANDALONE_SKIP]
            el.default_css = [(n, u) for n, u in el.default_css if n not in _STANDALONE_SKIP]
    try:
        doc = m.get_root().render()
    finally:
        localise_assets(m, DEFAULT_BASE_URL)
    prefix = re.escape(INLINE_BASE_URL)

    def js(mt: re.Match) -> str:
        code = (VENDOR_DIR / mt.group(1)).read_text(encoding="utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def css(mt: re.Match) -> str:
        return "<style>" + _inline_css(VENDOR_DIR / mt.group(1)) + "</style>"

    doc = re.sub(rf'<script src="{prefix}([^"]+)"></script>', js, doc)
    doc = re.sub(rf'<link rel="stylesheet" href="{prefix}([^"]+)"\s*/?>', css, doc)
    if INLINE_BASE_URL in doc:
        raise RuntimeError("standalone_html: an asset link was not inlined")
    return doc


# --------------------------------------------------------------------------- #
# layers
# --------------------------------------------------------------------------- #
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
    attribution : str
        Licence text shown on the map (``geo.boundaries.ATTRIBUTION``).
    """

    boundaries: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame | None = None
    hotspots: gpd.GeoDataFrame | None = None
    trails: pd.DataFrame | None = None
    crossings: pd.DataFrame | None = None
    cameras: pd.DataFrame | None = None
    attribution: str = ""


class _DataLayer(JSCSSMixin):
    """A fixed JavaScript snippet run with one JSON data object.

    In the snippet, ``map`` is the Leaflet map, ``parent`` the layer group the
    element was added to and ``data`` the JSON. The snippet is code from this
    module only; data never becomes code.
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
        self.data_json = _js_json(data) if data_json is None else data_json
        self.default_js = list(js)
        self.default_css = list(css)


_BOUNDARY_JS = """
var seven = data.seven, nb = data.neighbour;
L.geoJSON(data.geojson, {
    style: function (f) { return f.properties.a ? seven : nb; },
    onEachFeature: function (f, layer) {
        layer.bindTooltip(f.properties.t, {sticky: true});
    }
}).addTo(parent);
for (var i = 0; i < data.labels.length; i++) {
    var lb = data.labels[i];
    L.marker([lb[0], lb[1]], {
        interactive: false, keyboard: false,
        icon: L.divIcon({className: lb[3] ? 'hw-label' : 'hw-label hw-neighbour',
                         html: '<span>' + lb[2] + '</span>', iconSize: null})
    }).addTo(parent);
}
"""

_MAP_JS = """
if (data.attribution && map.attributionControl) {
    map.attributionControl.addAttribution(data.attribution);
}
if (data.briefing) { map.getContainer().classList.add('hw-briefing'); }
var legend = L.control({position: 'bottomright'});
legend.onAdd = function () {
    var d = L.DomUtil.create('div', 'hw-legend');
    d.innerHTML = data.legend;
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
};
legend.addTo(map);
// Layer switcher over the groups registered by each layer (not folium's
// LayerControl: it refers to layers by names that streamlit-folium renames
// when the same map object is rendered again, e.g. from st.cache_resource).
if (map._hwOverlays) {
    L.control.layers(null, map._hwOverlays, {collapsed: false, position: 'topright'}).addTo(map);
}
"""

_REGISTER_JS = """
(map._hwOverlays = map._hwOverlays || {})[data.name] = parent;
"""

_INCIDENTS_JS = """
var lat = data.lat, lon = data.lon, w = data.w, f = data.f, style = data.style;
function row(label, v) { return v ? '<br>' + label + ': ' + v : ''; }
function popup(i) {
    return '<div class="hw-popup"><b>Incident ' + f.id[i] + '</b><br>' + f.when[i] + ' \\u00b7 ' +
        f.forces[f.force[i]] + (f.reported[i] ? ' (reported as ' + f.reported[i] + ')' : '') +
        row('Plates', f.plates[i]) + row('Nominals', f.noms[i]) + row('Dogs', f.dogs[i]) +
        row('Outcome', f.outcome[i]) + (f.notes[i] ? '<br><i>' + f.notes[i] + '</i>' : '') + '</div>';
}
function lazyPopup(i) { return function () { return popup(i); }; }
var group = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
    spiderfyOnMaxZoom: true, disableClusteringAtZoom: data.uncluster_zoom,
    iconCreateFunction: function (cluster) {
        var n = 0, ms = cluster.getAllChildMarkers();
        for (var j = 0; j < ms.length; j++) { n += ms[j].options.hwWeight || 1; }
        var size = n < 10 ? 28 : (n < 100 ? 34 : (n < 1000 ? 40 : 48));
        return L.divIcon({html: '<div>' + n + '</div>', className: 'hw-cluster',
                          iconSize: L.point(size, size)});
    }
});
var markers = new Array(lat.length);
for (var i = 0; i < lat.length; i++) {
    var wi = w ? w[i] : 1;
    var r = w ? Math.min(4 + 2 * Math.sqrt(wi), 16) : style.radius;
    var mk = L.circleMarker([lat[i], lon[i]], {
        radius: r, color: style.color, weight: style.weight, fillColor: style.fill,
        fillOpacity: style.fillOpacity, hwWeight: wi
    });
    if (f) {
        mk.bindPopup(lazyPopup(i), {maxWidth: 320});
        mk.bindTooltip('Incident ' + f.id[i]);
    } else if (w) { mk.bindTooltip(wi + (wi === 1 ? ' incident' : ' incidents') + data.cell_text); }
    markers[i] = mk;
}
group.addLayers(markers);
group.addTo(parent);
"""

_HOTSPOTS_JS = """
L.geoJSON(data.geojson, {
    style: function (f) {
        return {color: data.outline, weight: data.weight, fillColor: f.properties.c,
                fillOpacity: data.fillOpacity, opacity: 1};
    },
    onEachFeature: function (f, layer) {
        layer.bindPopup(f.properties.p, {maxWidth: 340});
        layer.bindTooltip(f.properties.t, {sticky: true});
    }
}).addTo(parent);
"""

_TRAILS_JS = """
var lat = data.lat, lon = data.lon, at = data.at, ref = data.ref, kind = data.kind;
var force = data.forces, fi = data.force;
var starts = data.starts, labels = data.labels, colours = data.colours, ci = data.colour;
for (var g = 0; g < starts.length; g++) {
    var a = starts[g], b = (g + 1 < starts.length) ? starts[g + 1] : lat.length;
    var col = colours[ci[g]], pts = [];
    for (var i = a; i < b; i++) { pts.push([lat[i], lon[i]]); }
    var tipHead = labels[g];
    if (pts.length > 1) {
        var line = L.polyline(pts, {color: col, weight: data.weight, opacity: 0.9});
        line.bindTooltip(tipHead + ' ' + at[a] + ' \\u2192 ' + at[b - 1], {sticky: true});
        line.addTo(parent);
        L.polylineDecorator(line, {patterns: [{offset: 12, repeat: 70, symbol:
            L.Symbol.arrowHead({pixelSize: data.arrow, polygon: true,
                pathOptions: {stroke: false, fill: true, fillColor: col, fillOpacity: 1}})}]}).addTo(parent);
    }
    for (var i = a; i < b; i++) {
        var inc = kind[i] === 1;
        L.circleMarker(pts[i - a], {radius: inc ? data.radius + 2 : data.radius, color: inc ? '#000' : col,
            weight: inc ? 2 : 1, fillColor: inc ? '#fff' : col, fillOpacity: 1})
         .bindTooltip(tipHead + '<br>' + at[i] + ' ' + (inc ? 'incident ' : 'ANPR read ') + ref[i] +
                      '<br>' + force[fi[i]])
         .addTo(parent);
    }
}
"""

_CROSSINGS_JS = """
var markers = [];
for (var i = 0; i < data.lat.length; i++) {
    var s = data.size[i];
    markers.push(L.marker([data.lat[i], data.lon[i]], {
        icon: L.divIcon({className: 'hw-crossing', html: '<div></div>', iconSize: [s, s]}),
        riseOnHover: true, zIndexOffset: 500, hwWeight: data.count[i]
    }).bindTooltip(data.tip[i]));
}
if (data.cluster) {
    var group = L.markerClusterGroup({
        showCoverageOnHover: false, maxClusterRadius: 40, disableClusteringAtZoom: 11,
        iconCreateFunction: function (cluster) {
            var n = 0, ms = cluster.getAllChildMarkers();
            for (var j = 0; j < ms.length; j++) { n += ms[j].options.hwWeight || 1; }
            return L.divIcon({html: '<div></div><span>' + n + '</span>',
                              className: 'hw-crossing hw-crossing-cluster', iconSize: L.point(26, 26)});
        }
    });
    group.addLayers(markers);
    group.addTo(parent);
} else {
    for (var k = 0; k < markers.length; k++) { markers[k].addTo(parent); }
}
"""

_CAMERAS_JS = """
for (var i = 0; i < data.lat.length; i++) {
    L.circleMarker([data.lat[i], data.lon[i]], {radius: data.radius, color: data.color, weight: 1,
        fillColor: data.fill, fillOpacity: 1}).bindTooltip(data.tip[i]).addTo(parent);
}
"""

_NOTE_CHARS = 200
_MAX_ZOOM = 18
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


def _london(values: pd.Series, fmt: str = "%Y-%m-%d %H:%M") -> pd.Series:
    t = pd.to_datetime(values, utc=True, errors="coerce")
    return t.dt.tz_convert(LONDON).dt.strftime(fmt).fillna("")


def _mask(values: pd.Series, kind: str, redact: bool) -> pd.Series:
    """Plates (``kind="plate"``) or ids masked when ``redact``; each distinct value once."""
    text = values.astype(object).where(values.notna(), "").astype(str)
    if not redact:
        return text
    from geo.privacy import mask_series

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


def hotspot_colours(ranks, *, briefing: bool = False) -> list[str]:
    """Sequential colour-blind-safe fill for each hotspot rank (1 = darkest).

    Ranks 1-4 get their own step; rank 5 and below share the lightest.
    """
    pal = _SEQ_BRIEFING if briefing else _SEQ_NORMAL
    r = np.clip(np.asarray(ranks, dtype="int64"), 1, len(pal)) - 1
    return [pal[i] for i in r.tolist()]


def _boundary_layer(
    m, fg, boundaries: gpd.GeoDataFrame, *, briefing: bool
) -> tuple[float, float, float, float]:
    data_json, bounds = _boundary_payload(boundaries, briefing=briefing)
    _DataLayer(m, _BOUNDARY_JS, None, data_json=data_json).add_to(fg)
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
    return _js_json(data), tuple(float(v) for v in sel.total_bounds)  # minx, miny, maxx, maxy


def _incident_fields(inc: pd.DataFrame, redact: bool) -> dict[str, Any]:
    """Escaped popup fields, one array each; the browser composes the popup."""
    reported = escape_series(_col(inc, "reported_force"))
    mismatch = _col(inc, "force_mismatch", False).fillna(False).astype(bool).to_numpy()
    force_codes, force_names = pd.factorize(escape_series(_col(inc, "force")))
    # free text cannot be masked reliably: notes are left out when redacting
    notes_col = _col(inc, "notes") if not redact else _col(inc, "__none__")
    raw_notes = notes_col.astype(object).where(notes_col.notna(), "").astype(str)
    long = (raw_notes.str.len() > _NOTE_CHARS).to_numpy()
    notes = escape_series(raw_notes.str.slice(0, _NOTE_CHARS)) + np.where(long, "\u2026", "")

    def multi(col: str, kind: str) -> list[str]:
        masked = _mask(_col(inc, col), kind, redact).str.replace(";", ", ", regex=False)
        return escape_series(masked).tolist()

    return {
        "id": escape_series(_col(inc, "incident_id")).tolist(),
        "when": _london(_col(inc, "occurred_at", None)).tolist(),
        "force": force_codes.tolist(),
        "forces": list(force_names),
        "reported": np.where(mismatch, reported, "").tolist(),
        "plates": multi("vrms", "plate"),
        "noms": multi("nominals", "id"),
        "dogs": escape_series(_col(inc, "dogs")).tolist(),
        "outcome": escape_series(_col(inc, "outcome")).tolist(),
        "notes": notes.tolist(),
    }


def _incident_layer(
    m, fg, inc: gpd.GeoDataFrame, *, redact: bool, briefing: bool, max_markers: int, heat: bool
):
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
    _DataLayer(
        m,
        _INCIDENTS_JS,
        data,
        js=[("markerclusterjs", "")],
        css=[("markerclustercss", ""), ("markerclusterdefaultcss", "")],
    ).add_to(fg)
    if heat and len(lat):
        pts = np.column_stack([lat, lon, np.asarray(weights, dtype="float64")]).tolist()
        _DataLayer(
            m,
            "L.heatLayer(data.pts, data.options).addTo(parent);",
            {"pts": pts, "options": {"radius": 18, "blur": 22, "minOpacity": 0.3, "maxZoom": 12}},
            js=[("leaflet-heat.js", "")],
        ).add_to(_group(m, "Incident density"))
    return aggregated, len(inc)


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


def _hotspot_layer(m, fg, hs: gpd.GeoDataFrame, *, briefing: bool):
    h = hs if hs.crs is None or hs.crs == WGS84 else hs.to_crs(WGS84)
    rank = _col(h, "rank", 0).astype("int64")
    nn = _col(h, "n", 0).astype("int64").astype(str)
    forces = escape_series(_fmt_list(_col(h, "forces")))
    cross = _col(h, "cross_border", False).fillna(False).astype(bool)
    first = _london(_col(h, "first_at", None), "%d %b %Y")
    last = _london(_col(h, "last_at", None), "%d %b %Y")
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
    data = {
        "geojson": json.loads(gj.to_json(drop_id=True)),
        "outline": "#000000" if briefing else "#5a0010",
        "weight": 2.5 if briefing else 1.5,
        "fillOpacity": 0.65 if briefing else 0.55,
    }
    _DataLayer(m, _HOTSPOTS_JS, data).add_to(fg)


def _trail_layer(
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
    labels = escape_series(_mask(t["vrm"].iloc[starts], "plate", redact))
    data = {
        "lat": lat,
        "lon": lon,
        "at": _london(t["at"]).tolist(),
        "ref": escape_series(_col(t, "ref")).tolist(),
        "kind": (_col(t, "kind", "read").astype(str) == "incident").astype("int8").tolist(),
        "force": force_codes.tolist(),
        "forces": escape_series(pd.Series(force_names, dtype=object)).tolist(),
        "starts": starts.tolist(),
        "labels": ("<b>" + labels + "</b>").tolist(),
        "colour": (vrm_codes[starts] % len(_TRAIL_COLOURS)).tolist() if len(starts) else [],
        "colours": _TRAIL_COLOURS,
        "weight": 4 if briefing else 3,
        "arrow": 12 if briefing else 9,
        "radius": 4 if briefing else 3,
    }
    _DataLayer(m, _TRAILS_JS, data, js=[("polylinedecorator", "")]).add_to(fg)
    return len(starts), n_trips_all


def _crossing_layer(m, fg, cx: pd.DataFrame, *, redact: bool, briefing: bool) -> tuple[int, int]:
    """One diamond per crossing site (same place, same from/to forces).

    Crossings happen at cameras, so thousands of crossings collapse onto a few
    hundred sites; each tooltip gives the count and the latest few plates.
    """
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
        + escape_series(_mask(latest["_vrm"], "plate", redact))
        + " "
        + _london(latest["_at"])
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
    _DataLayer(
        m,
        _CROSSINGS_JS,
        data,
        js=[("markerclusterjs", "")],
        css=[("markerclustercss", ""), ("markerclusterdefaultcss", "")],
    ).add_to(fg)
    return len(sites), int(count.sum()) if len(count) else 0


def _camera_layer(m, fg, cams: pd.DataFrame, *, briefing: bool):
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
    _DataLayer(m, _CAMERAS_JS, data).add_to(fg)


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


def _group(m: folium.Map, name: str, *, show: bool = True) -> folium.FeatureGroup:
    """A feature group listed in the map's layer switcher under ``name``."""
    fg = _Group(name=name, show=show, control=False).add_to(m)
    _DataLayer(m, _REGISTER_JS, {"name": escape_html(name)}).add_to(fg)
    return fg


def _legend_html(items: list[tuple[str, str]], notes: list[str], *, title: str) -> str:
    """``items`` are (swatch HTML, escaped label); ``notes`` escaped lines."""
    rows = "".join(f"<div class='hw-row'>{sw}<span>{label}</span></div>" for sw, label in items)
    extra = "".join(f"<div class='hw-note'>{n}</div>" for n in notes)
    return f"<details open><summary><b>{escape_html(title)}</b></summary>{rows}{extra}</details>"


def _sw(style: str) -> str:
    return f"<span class='hw-sw' style='{style}'></span>"


def build_map(
    layers: MapLayers,
    *,
    tiles: bool = False,
    redact: bool = False,
    briefing: bool = False,
    heat: bool = False,
    max_markers: int = 5000,
    max_trail_points: int = 10_000,
    base_url: str = DEFAULT_BASE_URL,
) -> folium.Map:
    """Build the Harewatch map (works offline; see the module docstring).

    Parameters
    ----------
    layers : MapLayers
        Data to draw; ``None`` fields are left out.
    tiles : bool
        ``False`` (default): plain background, no tile requests. ``True``:
        OpenStreetMap tiles (only useful with internet; vectors draw anyway).
    redact : bool
        Mask plates and nominal ids (``geo.privacy``) in popups and tooltips.
    briefing : bool
        High contrast, large labels, colour-blind-safe palettes, for a
        projector or print.
    heat : bool
        Also add an incident density (heat) layer.
    max_markers : int
        Up to this many incidents get one clustered marker each with a popup;
        above it incidents are aggregated to 1 km squares (payload bound).
    max_trail_points : int
        Vehicle trail points budget; whole trips, most recent first, are kept.
    base_url : str
        Where ``dashboard/static/vendor`` is served (see :func:`offline_assets`).

    Returns
    -------
    folium.Map
        With every script/stylesheet pointing at the vendored copies.
    """
    if max_markers < 0 or max_trail_points < 0:
        raise ValueError("max_markers and max_trail_points must be >= 0")
    if layers.boundaries is None or len(layers.boundaries) == 0:
        raise ValueError("build_map needs the force boundaries")
    m = folium.Map(
        location=[52.3, 0.6],
        zoom_start=8,
        tiles="OpenStreetMap" if tiles else None,
        control_scale=True,
        prefer_canvas=False,
        zoom_snap=0.25,
        maxZoom=_MAX_ZOOM,  # Leaflet option; markercluster needs it with no tiles
        minZoom=5,
    )
    legend: list[tuple[str, str]] = []
    notes: list[str] = []

    fg_b = _group(m, "Force areas")
    minx, miny, maxx, maxy = _boundary_layer(m, fg_b, layers.boundaries, briefing=briefing)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    legend.append(
        (
            _sw(
                "border:3px solid #000;"
                if briefing
                else "border:2px solid #1f4e79;background:rgba(31,78,121,.08)"
            ),
            "Seven forces",
        )
    )
    legend.append((_sw("border:1px dashed #888;"), "Neighbouring forces"))

    if layers.hotspots is not None and len(layers.hotspots):
        fg = _group(m, "Hotspots")
        _hotspot_layer(m, fg, layers.hotspots, briefing=briefing)
        pal = _SEQ_BRIEFING if briefing else _SEQ_NORMAL
        top = (
            int(pd.to_numeric(layers.hotspots["rank"], errors="coerce").max())
            if "rank" in layers.hotspots
            else 1
        )
        steps = [(1, "#1"), (2, "#2"), (3, "#3"), (4, "#4"), (5, "#5+")][: max(1, min(top, 5))]
        swatches = "".join(
            f"<span class='hw-sw' style='background:{pal[i - 1]};border:1px solid #333'></span>"
            for i, _ in steps
        )
        legend.append(
            (
                f"<span style='display:flex;gap:1px'>{swatches}</span>",
                "Hotspots by rank (#1 darkest)",
            )
        )

    if layers.incidents is not None and len(layers.incidents):
        fg = _group(m, "Incidents")
        aggregated, n_inc = _incident_layer(
            m,
            fg,
            layers.incidents,
            redact=redact,
            briefing=briefing,
            max_markers=max_markers,
            heat=heat,
        )
        legend.append(
            (
                _sw(f"background:{OKABE_ITO['blue']};border-radius:50%;border:1px solid #fff"),
                f"Incidents ({n_inc:,})",
            )
        )
        if aggregated:
            notes.append(
                f"{n_inc:,} incidents shown as 1 km squares (over {max_markers:,}); zoom in for counts."
            )

    if layers.trails is not None and len(layers.trails):
        fg = _group(m, "Vehicle trails")
        shown, total = _trail_layer(
            m, fg, layers.trails, redact=redact, briefing=briefing, max_points=max_trail_points
        )
        legend.append(
            (
                _sw(f"border-top:3px solid {_TRAIL_COLOURS[0]};height:0"),
                "Vehicle trail (arrow = direction)",
            )
        )
        if shown < total:
            notes.append(f"Trails: the {shown:,} most recent of {total:,} trips.")

    if layers.crossings is not None and len(layers.crossings):
        fg = _group(m, "Border crossings")
        n_sites, n_cross = _crossing_layer(
            m, fg, layers.crossings, redact=redact, briefing=briefing
        )
        legend.append(
            (
                _sw("background:#D55E00;border:2px solid #000;transform:rotate(45deg) scale(.8)"),
                f"Border crossings ({n_cross:,} at {n_sites:,} places)",
            )
        )

    if layers.cameras is not None and len(layers.cameras):
        fg = _group(m, "ANPR cameras")
        _camera_layer(m, fg, layers.cameras, briefing=briefing)
        legend.append(
            (_sw("background:#555;border-radius:50%;width:7px;height:7px"), "ANPR camera")
        )

    if redact:
        notes.append("Plates and ids masked.")
    data = {
        "attribution": escape_html(layers.attribution),
        "briefing": bool(briefing),
        "legend": _legend_html(legend, [escape_html(n) for n in notes], title="Harewatch"),
    }
    _DataLayer(m, _MAP_JS, data).add_to(m)
    return localise_assets(m, base_url)

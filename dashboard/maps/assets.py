"""Offline assets: the map loads every script and stylesheet from the vendored copies.

Every file the map needs is vendored under ``dashboard/static/vendor`` (see
its README) and served by Streamlit's static file serving at
``/app/static/vendor/...``. :func:`localise_assets` points a map and every
plugin element at those files; :func:`standalone_html` inlines them so the
HTML opens from a USB stick with no server.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from pathlib import Path

import folium
from folium.elements import JSCSSMixin

__all__ = [
    "DEFAULT_BASE_URL",
    "INLINE_BASE_URL",
    "STATIC_DIR",
    "VENDOR_DIR",
    "LAYERS_DO_NOT_USE",
    "localise_assets",
    "offline_assets",
    "standalone_html",
    "walk",
]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
#: Seen from inside the streamlit-folium iframe; survives --server.baseUrlPath.
DEFAULT_BASE_URL = "../../app/static/vendor"
#: Placeholder base used by :func:`standalone_html` before inlining.
INLINE_BASE_URL = "harewatch-inline:"

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
#: folium defaults that build_map's own layers never use and that change nothing on
#: screen when left out: scripts (Bootstrap's, awesome-markers') and the stylesheets
#: of icon classes no layer sets (awesome-markers, Font Awesome). The dashboard's map
#: loads its scripts one after another from the Streamlit server: two fewer.
LAYERS_DO_NOT_USE = frozenset({
    "bootstrap",
    "awesome_markers",
    "awesome_markers_css",
    "awesome_markers_font_css",
})
#: Left out of the standalone HTML: the above and Bootstrap's stylesheet (the dashboard
#: keeps it: it sets the box model the legend and labels were laid out with).
_STANDALONE_SKIP = LAYERS_DO_NOT_USE | {"bootstrap_css"}


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


def walk(element):
    """``element`` and every element below it (depth first)."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from walk(child)


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


def localise_assets(m: folium.Map, base_url: str = DEFAULT_BASE_URL, *,
                    leave_out: frozenset[str] = frozenset()) -> folium.Map:
    """Point the map and every element in it at the vendored files.

    streamlit-folium collects ``default_js``/``default_css`` from every
    element and stops at the first script that fails to load, so one CDN URL
    left in a plugin blanks the whole map offline. Sets instance attributes
    (class defaults are untouched) and returns ``m``. Assets named in
    ``leave_out`` (e.g. :data:`LAYERS_DO_NOT_USE`) are not loaded at all.

    Raises
    ------
    ValueError
        When an element needs a file that is not vendored.
    """
    js, css = offline_assets(base_url)
    m.default_js = [(n, u) for n, u in js if n not in leave_out]
    m.default_css = [(n, u) for n, u in css if n not in leave_out]
    for el in walk(m):
        if el is m or not isinstance(el, JSCSSMixin):
            continue
        where = type(el).__name__
        el.default_js = [a for a in _localise_list(el.default_js, base_url, where) if a[0] not in leave_out]
        el.default_css = [a for a in _localise_list(el.default_css, base_url, where) if a[0] not in leave_out]
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
    localise_assets(m, INLINE_BASE_URL, leave_out=_STANDALONE_SKIP)
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

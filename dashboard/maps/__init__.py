"""Folium maps for the dashboard and the briefing pack, working with no internet.

The public face of the map package:

- :func:`build_map` draws :class:`MapLayers` (boundaries, incidents,
  hotspots, vehicle trails, border crossings, cameras, patrol circles) on a
  folium map;
- :func:`standalone_html` renders a map as one self-contained HTML file.

Inside: :mod:`~dashboard.maps.assets` (vendored scripts and stylesheets, so
the map loads nothing from the internet), :mod:`~dashboard.maps.layers` (one
JSON payload per layer, drawn by the snippets in ``dashboard/maps/js``) and
:mod:`~dashboard.maps.escape`.

Security: every string that comes from data (ids, plates, notes, force names,
camera ids) is HTML-escaped before it reaches a popup, tooltip, label or the
legend, and every value embedded in JavaScript is JSON-encoded with ``<`` and
``>`` escaped, so a note such as ``<img src=x onerror=alert(1)>`` shows as
text and can never close a ``<script>``. Plates and ids are masked by the
policy of :mod:`geo.privacy` when ``redact``.
"""

from __future__ import annotations

import folium
import pandas as pd

from dashboard.maps.assets import (
    DEFAULT_BASE_URL,
    INLINE_BASE_URL,
    LAYERS_DO_NOT_USE,
    STATIC_DIR,
    VENDOR_DIR,
    localise_assets,
    offline_assets,
    standalone_html,
)
from dashboard.maps.escape import escape_html, escape_series
from dashboard.maps.layers import (
    MAP_JS,
    MAX_ZOOM,
    DataLayer,
    MapLayers,
    PayloadMemo,
    boundary_layer,
    camera_layer,
    crossing_layer,
    focus_bounds,
    group,
    hotspot_layer,
    incident_layer,
    legend_html,
    make_payload,
    patrol_layer,
    swatch,
    trail_layer,
)
from dashboard.palette import OKABE_ITO, SEQ_BRIEFING, SEQ_NORMAL, TRAIL_COLOURS, hotspot_colours

__all__ = [
    "DEFAULT_BASE_URL",
    "INLINE_BASE_URL",
    "STATIC_DIR",
    "VENDOR_DIR",
    "MapLayers",
    "PayloadMemo",
    "build_map",
    "escape_html",
    "escape_series",
    "hotspot_colours",
    "localise_assets",
    "make_payload",
    "offline_assets",
    "standalone_html",
]


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
    fit_patrols: bool = False,
    payloads: PayloadMemo | None = None,
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
    fit_patrols : bool
        Zoom to the patrol circles instead of the whole region.
    payloads : PayloadMemo, optional
        Gives the boundary, incident, hotspot and crossing layers' payloads (e.g. kept from an
        earlier build of the same map); default: made from ``layers`` (:func:`make_payload`).

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
        maxZoom=MAX_ZOOM,  # Leaflet option; markercluster needs it with no tiles
        minZoom=5,
    )
    legend: list[tuple[str, str]] = []
    notes: list[str] = []

    fg_b = group(m, "Force areas")
    minx, miny, maxx, maxy = boundary_layer(m, fg_b, layers.boundaries, briefing=briefing,
                                            memo=payloads)
    minx, miny, maxx, maxy = focus_bounds(layers.boundaries, layers.focus_forces) or (minx, miny, maxx, maxy)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    legend.append(
        (
            swatch(
                "border:3px solid #000;"
                if briefing
                else "border:2px solid #1f4e79;background:rgba(31,78,121,.08)"
            ),
            "Seven forces",
        )
    )
    legend.append((swatch("border:1px dashed #888;"), "Neighbouring forces"))

    if layers.hotspots is not None and len(layers.hotspots):
        fg = group(m, "Hotspots")
        hotspot_layer(m, fg, layers.hotspots, briefing=briefing, memo=payloads)
        pal = SEQ_BRIEFING if briefing else SEQ_NORMAL
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
        fg = group(m, "Incidents")
        aggregated, n_inc = incident_layer(
            m,
            fg,
            layers.incidents,
            redact=redact,
            briefing=briefing,
            max_markers=max_markers,
            heat=heat,
            memo=payloads,
        )
        legend.append(
            (
                swatch(f"background:{OKABE_ITO['blue']};border-radius:50%;border:1px solid #fff"),
                f"Incidents ({n_inc:,})",
            )
        )
        if aggregated:
            notes.append(
                f"{n_inc:,} incidents shown as 1 km squares (over {max_markers:,}); zoom in for counts."
            )

    if layers.trails is not None and len(layers.trails):
        fg = group(m, "Vehicle trails")
        shown, total = trail_layer(
            m, fg, layers.trails, redact=redact, briefing=briefing, max_points=max_trail_points
        )
        legend.append(
            (
                swatch(f"border-top:3px solid {TRAIL_COLOURS[0]};height:0"),
                "Vehicle trail (arrow = direction)",
            )
        )
        if shown < total:
            notes.append(f"Trails: the {shown:,} most recent of {total:,} trips.")

    if layers.crossings is not None and len(layers.crossings):
        fg = group(m, "Border crossings")
        n_sites, n_cross = crossing_layer(
            m, fg, layers.crossings, redact=redact, briefing=briefing, memo=payloads
        )
        legend.append(
            (
                swatch("background:#D55E00;border:2px solid #000;transform:rotate(45deg) scale(.8)"),
                f"Border crossings ({n_cross:,} at {n_sites:,} places)",
            )
        )

    if layers.cameras is not None and len(layers.cameras):
        fg = group(m, "ANPR cameras")
        camera_layer(m, fg, layers.cameras, briefing=briefing)
        legend.append(
            (swatch("background:#555;border-radius:50%;width:7px;height:7px"), "ANPR camera")
        )

    if layers.patrols is not None and len(layers.patrols):
        fg = group(m, "Patrol plan")
        n_crews = patrol_layer(m, fg, layers.patrols, briefing=briefing, fit=fit_patrols)
        legend.append(
            (
                swatch(f"border:3px dashed {OKABE_ITO['green']};border-radius:50%"),
                f"Patrol circles ({n_crews} crew{'s' if n_crews != 1 else ''}, #1 first)",
            )
        )

    if redact:
        notes.append("Plates and ids masked.")
    data = {
        "attribution": escape_html(layers.attribution),
        "briefing": bool(briefing),
        "legend": legend_html(legend, [escape_html(n) for n in notes], title="Harewatch"),
        "banner": escape_html(layers.banner),
    }
    DataLayer(m, MAP_JS, data).add_to(m)
    return localise_assets(m, base_url, leave_out=LAYERS_DO_NOT_USE)

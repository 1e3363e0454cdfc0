"""dashboard.maps: offline assets, escaping, masking, aggregation, payload."""

from __future__ import annotations

import json
import re

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from folium.elements import JSCSSMixin

from dashboard import maps
from dashboard.maps import MapLayers, build_map, escape_html, offline_assets, standalone_html
from dashboard.maps.assets import walk
from dashboard.maps.layers import REGISTER_JS, DataLayer
from geo.areas import ATTRIBUTION, display_boundaries
from geo.schema import BNG, INCIDENT_COLUMNS, INCIDENT_DEFAULTS

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
SCRIPT_BREAK = "</script><script>alert(2)</script>"
TEMPLATE_LITERAL = "`${alert(3)}`"


@pytest.fixture(scope="module")
def bounds(areas) -> gpd.GeoDataFrame:
    return display_boundaries(areas)


def make_incidents(areas, n: int, seed: int = 0, **overrides) -> gpd.GeoDataFrame:
    """``n`` incidents at random points inside the seven forces (EPSG:27700)."""
    rng = np.random.default_rng(seed)
    pts = areas.seven.geometry.union_all().envelope
    xmin, ymin, xmax, ymax = pts.bounds
    union = areas.seven.geometry.union_all()
    shapely.prepare(union)
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x = rng.uniform(xmin, xmax, 4 * n)
        y = rng.uniform(ymin, ymax, 4 * n)
        ok = shapely.contains_xy(union, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
    x = np.concatenate(xs)[:n]
    y = np.concatenate(ys)[:n]
    df = pd.DataFrame(
        {
            "incident_id": [f"INC{i:06d}" for i in range(n)],
            "occurred_at": pd.Timestamp("2024-10-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 200 * 24 * 60, n), unit="min"),
            "easting": x,
            "northing": y,
            "force": "Norfolk",
            "force_code": "E23000024",
            "in_agreement": True,
            "reported_force": "",
            "force_mismatch": False,
            "vrms": "AB12CDE;XY51ABC",
            "nominals": "N1234567",
            "dogs": "2 lurchers",
            "outcome": "words of advice",
            "notes": "seen near the A47",
            "source_row": np.arange(1, n + 1),
        }
    )
    for k, v in {**INCIDENT_DEFAULTS, **overrides}.items():
        df[k] = v
    return gpd.GeoDataFrame(df[INCIDENT_COLUMNS], geometry=gpd.points_from_xy(x, y), crs=BNG)


def data_layers(m: folium.Map) -> list:
    return [el for el in walk(m) if isinstance(el, DataLayer)]


def layer_data(m: folium.Map, needle: str) -> dict:
    """The JSON data of the first custom layer whose JS contains ``needle``."""
    for el in data_layers(m):
        if needle in el.code:
            return json.loads(el.data_json)
    raise AssertionError(f"no layer with {needle!r}")


def asset_urls(m: folium.Map) -> list[str]:
    """What streamlit-folium loads: default_js/css of every element."""
    urls = []
    for el in walk(m):
        if isinstance(el, JSCSSMixin) or el is m:
            urls += [u for _, u in el.default_js] + [u for _, u in el.default_css]
    return urls


# ----------------------------------------------------------------- assets
def test_offline_assets_are_local_files_with_imagepath_after_leaflet():
    js, css = offline_assets()
    assert [n for n, _ in js[:2]] == ["leaflet", "leaflet_imagepath"]
    assert "jquery" in dict(js)
    for _, url in js + css:
        assert url.startswith("../../app/static/vendor/")
        assert (maps.VENDOR_DIR / url.removeprefix("../../app/static/vendor/")).is_file(), url
    js2, _ = offline_assets("/app/static/vendor/")
    assert js2[0][1] == "/app/static/vendor/leaflet/leaflet.js"


def test_vendored_packages_keep_their_licences():
    manifest = json.loads((maps.VENDOR_DIR / "manifest.json").read_text())
    names = {p["name"] for p in manifest["packages"]}
    assert {"leaflet", "jquery", "leaflet.markercluster", "leaflet.heat"} <= names
    for d in maps.VENDOR_DIR.iterdir():
        if d.is_dir() and d.name != "harewatch":
            assert any("licen" in f.name.lower() for f in d.iterdir()), d


def test_every_element_of_a_full_map_loads_only_local_assets(areas, bounds):
    inc = make_incidents(areas, 50)
    m = build_map(MapLayers(boundaries=bounds, incidents=inc, attribution=ATTRIBUTION), heat=True)
    urls = asset_urls(m)
    assert urls and not [u for u in urls if "://" in u or u.startswith("//")]
    for u in urls:
        assert (maps.VENDOR_DIR / u.removeprefix("../../app/static/vendor/")).is_file(), u
    html = m.get_root().render()
    assert not re.search(r"<script[^>]+src=[\"'](https?:)?//", html)
    assert not re.search(r"<link[^>]+href=[\"'](https?:)?//", html)
    assert "leaflet.markercluster.js" in html and "leaflet-heat.js" in html


def test_localise_assets_refuses_a_plugin_with_no_vendored_copy(bounds):
    m = build_map(MapLayers(boundaries=bounds))
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ValueError, match="no vendored copy"):
        maps.localise_assets(m)


def test_localise_assets_maps_folium_plugin_defaults_to_local_files(bounds):
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    folium.plugins.HeatMap([[52.0, 0.5]]).add_to(m)
    maps.localise_assets(m)
    assert all(u.startswith("../../app/static/vendor/") for u in asset_urls(m))
    assert folium.plugins.MarkerCluster.default_js[0][1].startswith("https://")  # class untouched


# --------------------------------------------------------------- contents
def test_tiles_off_by_default_and_osm_when_asked(bounds):
    m = build_map(MapLayers(boundaries=bounds))
    assert not [c for c in m._children.values() if isinstance(c, folium.TileLayer)]
    assert "tile.openstreetmap.org" not in m.get_root().render()
    m2 = build_map(MapLayers(boundaries=bounds), tiles=True)
    assert "tile.openstreetmap.org" in m2.get_root().render()


def test_boundaries_labelled_neighbours_faint_and_attribution_shown(bounds):
    m = build_map(MapLayers(boundaries=bounds, attribution=ATTRIBUTION))
    d = layer_data(m, "L.geoJSON(data.geojson, {\n    style: function (f) { return f.properties.a")
    feats = d["geojson"]["features"]
    assert len(feats) == len(bounds) == 9
    assert sum(f["properties"]["a"] for f in feats) == 7
    assert d["neighbour"]["fill"] is False
    assert [lb[2] for lb in d["labels"]][:7] == list(bounds["force"][:7])
    meta = layer_data(m, "attributionControl")
    assert meta["attribution"] == escape_html(ATTRIBUTION)
    assert "Open Government Licence" in m.get_root().render()
    registered = [
        json.loads(el.data_json)["name"] for el in data_layers(m) if el.code == REGISTER_JS
    ]
    assert registered == ["Force areas"]
    assert any("L.control.layers(null, map._hwOverlays" in el.code for el in data_layers(m))


def test_rendering_the_same_map_twice_keeps_every_reference_defined(areas, bounds):
    """streamlit-folium renames elements in place; a cached map is rendered again on reruns."""
    import streamlit_folium as sf

    m = build_map(
        MapLayers(boundaries=bounds, incidents=make_incidents(areas, 40)), heat=True, tiles=True
    )
    for _ in range(3):
        m.get_root().render()
        m.render()
        script = sf._get_map_string(m)
        declared = set(re.findall(r"\bvar (\w+)\s*=", script))
        used = set(re.findall(r"\b((?:feature_group|heat_map|tile_layer|map)_\w+)\b", script))
        assert used <= declared, sorted(used - declared)


def test_boundary_payload_is_simplified(bounds):
    html = build_map(MapLayers(boundaries=bounds)).get_root().render()
    assert len(html) < 400_000


def test_hostile_strings_are_escaped_everywhere(areas, bounds):
    inc = make_incidents(
        areas,
        20,
        notes=XSS,
        incident_id=[f"{SCRIPT_BREAK}{i}" for i in range(20)],
        dogs=TEMPLATE_LITERAL,
    )
    hostile_b = bounds.copy()
    hostile_b.loc[0, "force"] = XSS
    hostile_b.loc[8, "force"] = SCRIPT_BREAK
    hs = gpd.GeoDataFrame(
        {
            "hotspot_id": ["H001"],
            "rank": [1],
            "n": [7],
            "forces": [[XSS, "Suffolk"]],
            "cross_border": [True],
            "first_at": [pd.Timestamp("2024-10-02", tz="UTC")],
            "last_at": [pd.Timestamp("2024-12-02", tz="UTC")],
            "busiest_month": [XSS],
            "busiest_weekday": ["Sunday"],
            "busiest_hours": ["06:00-09:00"],
            "previous_n": [3],
            "change": [4],
            "change_pct": [133.3],
        },
        geometry=[shapely.Point(600000, 290000).buffer(2000)],
        crs=BNG,
    )
    trails = pd.DataFrame(
        {
            "vrm": ["AB12CDE", "AB12CDE"],
            "at": pd.to_datetime(["2024-10-02 05:00", "2024-10-02 06:00"], utc=True),
            "easting": [600000.0, 610000.0],
            "northing": [290000.0, 295000.0],
            "force": [XSS, "Suffolk"],
            "kind": ["read", "incident"],
            "ref": [XSS, SCRIPT_BREAK],
            "trip": [0, 0],
        }
    )
    crossings = pd.DataFrame(
        {
            "vrm": ["AB12CDE"],
            "trip": [0],
            "from_force": [XSS],
            "to_force": ["Suffolk"],
            "from_at": pd.to_datetime(["2024-10-02 05:00"], utc=True),
            "at": pd.to_datetime(["2024-10-02 06:00"], utc=True),
            "camera_id": [SCRIPT_BREAK],
            "easting": [605000.0],
            "northing": [292000.0],
        }
    )
    cameras = pd.DataFrame(
        {"camera_id": [XSS], "easting": [600000.0], "northing": [290000.0], "force": [XSS]}
    )
    layers = MapLayers(
        boundaries=hostile_b,
        incidents=inc,
        hotspots=hs,
        trails=trails,
        crossings=crossings,
        cameras=cameras,
        attribution=XSS,
    )
    for kw in ({}, {"briefing": True, "redact": True}):
        m = build_map(layers, **kw)
        html = m.get_root().render()
        assert "<img src=x" not in html
        assert "</script><script>alert(2)" not in html
        assert "${alert(3)}" not in html
        assert XSS_ESCAPED in html  # (hostile force names etc.; notes only when not redacting)
        assert "&lt;/script&gt;&lt;script&gt;alert(2)" in html
        # the escaped strings really are the ones the browser gets
        b = layer_data(m, "data.labels")
        assert b["labels"][0][2] == XSS_ESCAPED
        assert XSS_ESCAPED in b["geojson"]["features"][0]["properties"]["t"]
        assert layer_data(m, "polylineDecorator")["ref"][0] == XSS_ESCAPED
        assert XSS_ESCAPED in layer_data(m, "hw-crossing")["tip"][0]
        cam_tip = layer_data(m, "fillColor: data.fill")["tip"][0]
        assert cam_tip == f"ANPR camera {XSS_ESCAPED} ({XSS_ESCAPED})"
        hot = layer_data(m, "f.properties.p")["geojson"]["features"][0]["properties"]["p"]
        assert XSS_ESCAPED + ", Suffolk" in hot and "Cross-border" in hot
        f = layer_data(m, "markerClusterGroup")["f"]
        assert set(f["notes"]) == ({""} if kw.get("redact") else {XSS_ESCAPED})
        assert f["dogs"][0] == "&#96;&#36;{alert(3)}&#96;"


def test_escape_html_covers_template_literal_characters():
    assert escape_html("a<b>&\"'`$\\") == "a&lt;b&gt;&amp;&quot;&#x27;&#96;&#36;&#92;"
    assert escape_html(None) == "" and escape_html(float("nan")) == ""
    s = maps.escape_series(pd.Series([XSS, None, 3]))
    assert s.tolist() == [XSS_ESCAPED, "", "3"]


def test_redact_masks_plates_and_nominal_ids(areas, bounds):
    inc = make_incidents(areas, 10)
    trails = pd.DataFrame(
        {
            "vrm": ["AB12CDE"] * 2,
            "at": pd.to_datetime(["2024-10-02 05:00", "2024-10-02 06:00"], utc=True),
            "easting": [600000.0, 610000.0],
            "northing": [290000.0, 295000.0],
            "force": ["Norfolk", "Suffolk"],
            "kind": ["read", "read"],
            "ref": ["CAM1", "CAM2"],
            "trip": [0, 0],
        }
    )
    cx = pd.DataFrame(
        {
            "vrm": ["XY51ABC"],
            "trip": [0],
            "from_force": ["Norfolk"],
            "to_force": ["Suffolk"],
            "from_at": pd.to_datetime(["2024-10-02 05:00"], utc=True),
            "at": pd.to_datetime(["2024-10-02 06:00"], utc=True),
            "camera_id": ["CAM2"],
            "easting": [605000.0],
            "northing": [292000.0],
        }
    )
    layers = MapLayers(boundaries=bounds, incidents=inc, trails=trails, crossings=cx)
    masked = build_map(layers, redact=True).get_root().render()
    for raw in ("AB12CDE", "XY51ABC", "N1234567"):
        assert raw not in masked
    for shown in ("AB12 C**", "XY51 A**", "N12*****"):
        assert shown in masked
    assert "seen near the A47" not in masked  # free-text notes are left out when redacting
    plain = build_map(layers, redact=False).get_root().render()
    for raw in ("AB12CDE", "XY51ABC", "N1234567", "seen near the A47"):
        assert raw in plain


def test_crossings_aggregated_per_site_with_latest_plates(bounds):
    cx = pd.DataFrame(
        {
            "vrm": ["AA11AAA", "BB22BBB", "CC33CCC", "DD44DDD"],
            "trip": [0, 0, 0, 0],
            "from_force": ["Norfolk", "Norfolk", "Norfolk", "Suffolk"],
            "to_force": ["Suffolk", "Suffolk", "Suffolk", "Norfolk"],
            "from_at": pd.to_datetime(["2024-10-01 01:00"] * 4, utc=True),
            "at": pd.to_datetime(
                ["2024-10-01 02:00", "2024-10-03 02:00", "2024-10-02 02:00", "2024-10-01 02:00"],
                utc=True,
            ),
            "camera_id": ["CAM1", "CAM1", "CAM1", "CAM1"],
            "easting": [600000.0, 600001.0, 600002.0, 600000.0],
            "northing": [290000.0] * 4,
        }
    )
    m = build_map(MapLayers(boundaries=bounds, crossings=cx), redact=True)
    d = layer_data(m, "hw-crossing")
    assert len(d["tip"]) == 2  # Norfolk -> Suffolk (3) and Suffolk -> Norfolk (1)
    tip = d["tip"][0]
    assert tip.startswith("<b>3 crossings</b> Norfolk \u2192 Suffolk<br>camera CAM1")
    # latest first, masked
    assert tip.index("BB22 B**") < tip.index("CC33 C**") < tip.index("AA11 A**")
    assert "BB22BBB" not in m.get_root().render()
    assert d["size"][0] > d["size"][1]
    assert "Border crossings (4 at 2 places)" in m.get_root().render()


def test_incident_popups_compose_fields_per_incident(areas, bounds):
    inc = make_incidents(areas, 30)
    inc.loc[3, "force_mismatch"] = True
    inc.loc[3, "reported_force"] = "Suffolk"
    inc.loc[4, "notes"] = "x" * 500
    f = layer_data(build_map(MapLayers(boundaries=bounds, incidents=inc)), "markerClusterGroup")[
        "f"
    ]
    assert f["id"][:2] == ["INC000000", "INC000001"]
    assert f["reported"][3] == "Suffolk" and f["reported"][2] == ""
    assert len(f["notes"][4]) == 201 and f["notes"][4].endswith("\u2026")
    assert f["plates"][0] == "AB12CDE, XY51ABC"
    # 2024-10-01 00:00 UTC + k minutes, shown in Europe/London (BST = UTC+1 in October)
    t0 = inc["occurred_at"].iloc[0].tz_convert("Europe/London").strftime("%Y-%m-%d %H:%M")
    assert f["when"][0] == t0


def test_many_incidents_are_aggregated_and_counts_preserved(areas, bounds):
    inc = make_incidents(areas, 400, seed=3)
    m = build_map(MapLayers(boundaries=bounds, incidents=inc), max_markers=100)
    d = layer_data(m, "markerClusterGroup")
    assert d["f"] is None
    assert sum(d["w"]) == 400
    assert len(d["w"]) == len(d["lat"]) < 400
    html = m.get_root().render()
    assert "INC000001" not in html
    assert "1 km squares" in html
    few = layer_data(
        build_map(MapLayers(boundaries=bounds, incidents=inc), max_markers=400),
        "markerClusterGroup",
    )
    assert few["w"] is None and len(few["lat"]) == 400


def test_aggregation_cells_are_the_1km_squares(bounds):
    # three incidents in one square, one in the next
    e = np.array([600_100.0, 600_900.0, 600_500.0, 601_200.0])
    n = np.array([290_100.0, 290_200.0, 290_999.0, 290_100.0])
    inc = gpd.GeoDataFrame(
        {"incident_id": list("abcd"), "easting": e, "northing": n},
        geometry=gpd.points_from_xy(e, n),
        crs=BNG,
    )
    d = layer_data(
        build_map(MapLayers(boundaries=bounds, incidents=inc), max_markers=1), "markerClusterGroup"
    )
    assert sorted(d["w"]) == [1, 3]


def test_hotspots_coloured_by_rank_with_colour_blind_safe_palettes(bounds):
    hs = gpd.GeoDataFrame(
        {"rank": [1, 2, 7], "n": [30, 20, 6], "forces": [["Norfolk"], ["Essex", "Kent"], ["Kent"]]},
        geometry=[shapely.Point(600000 + 10000 * i, 290000).buffer(1500) for i in range(3)],
        crs=BNG,
    )
    assert maps.hotspot_colours([1, 2, 7]) == ["#bd0026", "#f03b20", "#ffffb2"]
    assert maps.hotspot_colours([1], briefing=True) == ["#440154"]
    d = layer_data(build_map(MapLayers(boundaries=bounds, hotspots=hs)), "f.properties.p")
    props = [f["properties"] for f in d["geojson"]["features"]]
    assert [p["r"] for p in props] == [7, 2, 1]  # rank 1 drawn last (on top)
    assert props[-1]["c"] == "#bd0026"
    assert "Hotspot #1" in props[-1]["p"] and "30 incidents" in props[-1]["p"]


def test_trails_grouped_by_vehicle_and_trip_and_budgeted(bounds):
    t = pd.DataFrame(
        {
            "vrm": ["AA11AAA"] * 3 + ["BB22BBB"] * 2 + ["AA11AAA"] * 2,
            "at": pd.to_datetime(
                [
                    "2024-10-01 01:00",
                    "2024-10-01 02:00",
                    "2024-10-01 03:00",
                    "2024-11-01 01:00",
                    "2024-11-01 02:00",
                    "2024-12-01 01:00",
                    "2024-12-01 02:00",
                ],
                utc=True,
            ),
            "easting": np.linspace(590000, 620000, 7),
            "northing": np.linspace(280000, 300000, 7),
            "force": "Norfolk",
            "kind": "read",
            "ref": "CAM",
            "trip": [0, 0, 0, 0, 0, 1, 1],
        }
    )
    d = layer_data(build_map(MapLayers(boundaries=bounds, trails=t)), "polylineDecorator")
    assert d["starts"] == [0, 3, 5]
    assert d["at"][0] == "2024-10-01 02:00"  # BST
    m = build_map(MapLayers(boundaries=bounds, trails=t), max_trail_points=4)
    d = layer_data(m, "polylineDecorator")
    # the two most recent trips (2 + 2 points) fit the budget of 4
    assert len(d["lat"]) == 4 and len(d["starts"]) == 2
    assert "the 2 most recent of 3 trips" in m.get_root().render()


def test_geographic_coordinates_refused_where_metres_expected(bounds):
    cams = pd.DataFrame(
        {"camera_id": ["C1"], "easting": [0.5], "northing": [52.1], "force": ["Norfolk"]}
    )
    with pytest.raises(ValueError, match="metres"):
        build_map(MapLayers(boundaries=bounds, cameras=cams))


def test_briefing_mode_flags_high_contrast_and_legend(areas, bounds):
    m = build_map(MapLayers(boundaries=bounds, incidents=make_incidents(areas, 5)), briefing=True)
    meta = layer_data(m, "attributionControl")
    assert meta["briefing"] is True
    assert "Incidents (5)" in meta["legend"]
    b = layer_data(m, "data.labels")
    assert b["seven"]["color"] == "#000000" and b["seven"]["weight"] >= 3


def test_inputs_not_mutated(areas, bounds):
    inc = make_incidents(areas, 12)
    before_inc, before_b = inc.copy(), bounds.copy()
    build_map(MapLayers(boundaries=bounds, incidents=inc), redact=True)
    pd.testing.assert_frame_equal(inc, before_inc)
    pd.testing.assert_frame_equal(bounds, before_b)


def test_payload_under_3mb_with_100k_incidents(areas, bounds):
    inc = make_incidents(areas, 100_000, seed=1)
    html = (
        build_map(MapLayers(boundaries=bounds, incidents=inc, attribution=ATTRIBUTION))
        .get_root()
        .render()
    )
    assert len(html.encode()) < 3_000_000


# ------------------------------------------------------------- standalone
def test_standalone_html_inlines_everything(areas, bounds):
    m = build_map(MapLayers(boundaries=bounds, incidents=make_incidents(areas, 30)), heat=True)
    doc = standalone_html(m)
    assert not re.search(r"<script[^>]*\bsrc=", doc)
    assert not re.search(r"<link[^>]*\bhref=", doc)
    assert "L.markerClusterGroup" in doc and "L.heatLayer" in doc and "harewatch-inline" not in doc
    assert 'url("data:image/png;base64,' in doc  # leaflet.css images inlined
    # the map itself is left pointing at the served files
    assert asset_urls(m)[0].startswith("../../app/static/vendor/")

"""Tests for geo.boundaries: reading any format/CRS, fetching, loading, display
copies and point-to-force assignment."""

from __future__ import annotations

import json
import pickle
import socket
import threading
import time
import warnings
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.areas import ForceAreas, _index_for, assign_force, display_boundaries
from geo.errors import BoundariesNotFound, BoundaryFetchError
from geo.io.boundaries import (
    BOUNDARIES_FILENAME,
    fetch_boundaries,
    load_boundaries,
    read_boundaries,
    resolve_boundaries_path,
)
from geo.schema import BNG, SEVEN_FORCES

NEIGHBOURS = {"E23000020": "Lincolnshire", "E23000022": "Northamptonshire"}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _raw(boundaries_path: Path) -> gpd.GeoDataFrame:
    return gpd.read_file(boundaries_path)


def _assert_same_areas(got, ref, rel=1e-3):
    """Same forces in the same order, each area equal within ``rel``."""
    assert list(got.gdf["force_code"]) == list(ref.gdf["force_code"])
    assert list(got.gdf["force"]) == list(ref.gdf["force"])
    assert list(got.gdf["in_agreement"]) == list(ref.gdf["in_agreement"])
    assert got.gdf.crs.to_epsg() == 27700
    np.testing.assert_allclose(got.gdf.area.to_numpy(), ref.gdf.area.to_numpy(), rtol=rel)


def _reference_closed(areas: ForceAreas, x, y) -> np.ndarray:
    """Plain reference: intersects_xy per area on all points, first hit kept."""
    out = np.full(np.shape(x), -1, dtype=np.int64)
    for i, g in enumerate(areas.gdf.geometry.values):
        hit = (out == -1) & shapely.intersects_xy(g, x, y)
        out[hit] = i
    return out


def _reference_open(areas: ForceAreas, x, y) -> np.ndarray:
    """Plain reference with contains_xy (boundary points excluded)."""
    out = np.full(np.shape(x), -1, dtype=np.int64)
    for i, g in enumerate(areas.gdf.geometry.values):
        hit = (out == -1) & shapely.contains_xy(g, x, y)
        out[hit] = i
    return out


def _squares(order=("A", "B")) -> ForceAreas:
    """Two adjacent 1 km squares sharing the edge x = 501000."""
    sq = {
        "A": ("E23000023", "Cambridgeshire", shapely.box(500_000, 200_000, 501_000, 201_000)),
        "B": ("E23000024", "Norfolk", shapely.box(501_000, 200_000, 502_000, 201_000)),
    }
    rows = [sq[k] for k in order]
    gdf = gpd.GeoDataFrame(
        {
            "force_code": [r[0] for r in rows],
            "force": [r[1] for r in rows],
            "in_agreement": [True] * len(rows),
        },
        geometry=[r[2] for r in rows],
        crs=BNG,
    )
    return ForceAreas(gdf=gdf, source="test squares")


# --------------------------------------------------------------------------
# read_boundaries: formats, CRS, columns
# --------------------------------------------------------------------------


def test_reads_shared_file_seven_plus_neighbours(areas):
    assert areas.names == list(SEVEN_FORCES.values())
    assert list(areas.seven["force_code"]) == list(SEVEN_FORCES)
    assert dict(zip(areas.neighbours["force_code"], areas.neighbours["force"], strict=True)) == NEIGHBOURS
    assert areas.gdf.crs.to_epsg() == 27700
    assert list(areas.gdf.columns) == ["force_code", "force", "in_agreement", "geometry"]
    assert shapely.is_valid(areas.gdf.geometry.values).all()
    assert set(areas.gdf.geom_type) <= {"Polygon", "MultiPolygon"}


def _write(gdf: gpd.GeoDataFrame, tmp_path: Path, fmt: str) -> Path:
    if fmt == "gpkg":
        p = tmp_path / "pfa.gpkg"
        gdf.to_file(p, driver="GPKG")
    elif fmt == "shp":
        p = tmp_path / "pfa.shp"
        gdf.to_file(p, driver="ESRI Shapefile")
    elif fmt == "zip":
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        gdf.to_file(shp_dir / "pfa.shp", driver="ESRI Shapefile")
        p = tmp_path / "pfa.zip"
        with zipfile.ZipFile(p, "w") as zf:
            for f in sorted(shp_dir.iterdir()):
                zf.write(f, arcname=f.name)
    elif fmt == "geojson":
        p = tmp_path / "pfa.geojson"
        gdf.to_file(p, driver="GeoJSON")
    elif fmt == "fgb":
        p = tmp_path / "pfa.fgb"
        gdf.to_file(p, driver="FlatGeobuf")
    else:  # pragma: no cover
        raise AssertionError(fmt)
    return p


@pytest.mark.parametrize("epsg", [27700, 3857])
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "zip", "geojson", "fgb"])
def test_formats_and_crs_round_trip(boundaries_path, areas, tmp_path, epsg, fmt):
    raw = _raw(boundaries_path).to_crs(epsg=epsg)
    p = _write(raw, tmp_path, fmt)
    got = read_boundaries(p)
    _assert_same_areas(got, areas)


def test_zip_path_really_is_a_zip(boundaries_path, areas, tmp_path):
    p = _write(_raw(boundaries_path).to_crs(epsg=27700), tmp_path, "zip")
    assert zipfile.is_zipfile(p)
    assert {n.rsplit(".", 1)[1] for n in zipfile.ZipFile(p).namelist()} >= {"shp", "shx", "dbf", "prj"}
    _assert_same_areas(read_boundaries(p), areas)


def test_kml(boundaries_path, areas, tmp_path):
    p = tmp_path / "pfa.kml"
    _raw(boundaries_path).to_file(p, driver="KML")  # GDAL's KML writer is available here
    got = read_boundaries(p)
    _assert_same_areas(got, areas)


def test_column_names_other_years_and_case(boundaries_path, areas, tmp_path):
    raw = _raw(boundaries_path).rename(columns={"PFA23CD": "PFA22CD", "PFA23NM": "pfa21nm"})
    p = tmp_path / "pfa.gpkg"
    raw.to_file(p, driver="GPKG")
    _assert_same_areas(read_boundaries(p), areas)


def test_name_only_file_picks_seven_by_name(boundaries_path, areas, tmp_path):
    raw = _raw(boundaries_path).drop(columns=["PFA23CD", "FID"])
    p = tmp_path / "names.geojson"
    raw.to_file(p, driver="GeoJSON")
    got = read_boundaries(p)
    assert got.names == list(SEVEN_FORCES.values())
    assert list(got.seven["force_code"]) == list(SEVEN_FORCES)
    # neighbours are kept, their codes found by name in the alias table (geo.forces)
    assert sorted(got.neighbours["force"]) == sorted(NEIGHBOURS.values())
    assert dict(zip(got.neighbours["force_code"], got.neighbours["force"], strict=True)) == NEIGHBOURS
    np.testing.assert_allclose(got.seven.area.to_numpy(), areas.seven.area.to_numpy(), rtol=1e-9)


def test_name_only_variants_of_spelling(boundaries_path, tmp_path):
    raw = _raw(boundaries_path)
    raw = gpd.GeoDataFrame(
        {"Name": raw["PFA23NM"].replace({"Kent": "KENT", "Essex": "Essex Police", "Norfolk": " norfolk "})},
        geometry=raw.geometry,
        crs=raw.crs,
    )
    p = tmp_path / "variants.gpkg"
    raw.to_file(p, driver="GPKG")
    got = read_boundaries(p)
    assert got.names == list(SEVEN_FORCES.values())  # canonical names for the seven


def test_missing_code_cell_falls_back_to_name(boundaries_path, tmp_path):
    raw = _raw(boundaries_path)
    raw.loc[raw["PFA23NM"] == "Suffolk", "PFA23CD"] = None
    p = tmp_path / "gap.gpkg"
    raw.to_file(p, driver="GPKG")
    assert read_boundaries(p).names == list(SEVEN_FORCES.values())


def test_file_without_the_seven_is_refused(boundaries_path, tmp_path):
    raw = _raw(boundaries_path)
    p = tmp_path / "neighbours.geojson"
    raw[raw["PFA23CD"].isin(list(NEIGHBOURS))].to_file(p, driver="GeoJSON")
    with pytest.raises(ValueError, match="none of the seven forces"):
        read_boundaries(p)


def test_file_without_name_column_is_refused(boundaries_path, tmp_path):
    raw = _raw(boundaries_path)[["FID", "geometry"]]
    p = tmp_path / "noname.geojson"
    raw.to_file(p, driver="GeoJSON")
    with pytest.raises(ValueError, match="no police force name column"):
        read_boundaries(p)


def test_unusable_geometries_do_not_crash(tmp_path):
    bowtie = shapely.Polygon([(500_000, 200_000), (501_000, 201_000), (501_000, 200_000), (500_000, 201_000)])
    gdf = gpd.GeoDataFrame(
        {
            "PFA23CD": ["E23000023", "E23000024", "E23000025"],
            "PFA23NM": ["Cambridgeshire", "Norfolk", "Suffolk"],
        },
        geometry=[bowtie, None, shapely.box(510_000, 200_000, 511_000, 201_000)],
        crs=BNG,
    )
    p = tmp_path / "bad.gpkg"
    gdf.to_file(p, driver="GPKG")
    with pytest.warns(UserWarning, match="Norfolk"):
        got = read_boundaries(p)
    assert got.names == ["Cambridgeshire", "Norfolk", "Suffolk"]
    assert shapely.is_valid(got.gdf.geometry.values).all()
    assert got.gdf.geometry.iloc[1].is_empty
    assert got.gdf.geometry.iloc[0].area == pytest.approx(500_000)  # two 250,000 m2 triangles
    res = assign_force(got, [500_100, 500_500, 510_500, 505_000], [200_500, 200_900, 200_500, 200_500])
    assert res.tolist() == [0, -1, 2, -1]


def test_make_valid_keeps_only_polygonal_parts(tmp_path):
    # A polygon with a spike: make_valid returns polygon + line; the line must go.
    spiky = shapely.Polygon(
        [(500_000, 200_000), (501_000, 200_000), (501_000, 201_000), (501_000, 202_000), (501_000, 201_000), (500_000, 201_000)]
    )
    gdf = gpd.GeoDataFrame({"PFA23CD": ["E23000023"], "PFA23NM": ["Cambridgeshire"]}, geometry=[spiky], crs=BNG)
    p = tmp_path / "spike.gpkg"
    gdf.to_file(p, driver="GPKG")
    got = read_boundaries(p)
    assert set(got.gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert assign_force(got, [501_000.0], [201_500.0]).tolist() == [-1]  # on the spike: not an area


def test_no_crs_with_bng_coordinates_assumed_27700(boundaries_path, areas, tmp_path):
    raw = _raw(boundaries_path).to_crs(epsg=27700)
    p = _write(raw, tmp_path, "shp")
    p.with_suffix(".prj").unlink()
    with pytest.warns(UserWarning, match="assuming EPSG:27700"):
        got = read_boundaries(p)
    _assert_same_areas(got, areas)


# --------------------------------------------------------------------------
# display_boundaries
# --------------------------------------------------------------------------


def test_display_boundaries_simplified_wgs84_and_input_untouched(areas):
    before = shapely.to_wkb(areas.gdf.geometry.values)
    cols_before = areas.gdf.drop(columns="geometry").copy()
    disp = display_boundaries(areas, tolerance_m=100.0)
    assert disp.crs.to_epsg() == 4326
    assert list(disp.columns) == ["force_code", "force", "in_agreement", "geometry"]
    assert list(disp["force_code"]) == list(areas.gdf["force_code"])
    assert list(disp["in_agreement"]) == list(areas.gdf["in_agreement"])
    n_disp = shapely.get_num_coordinates(disp.geometry.values)
    n_orig = shapely.get_num_coordinates(areas.gdf.geometry.values)
    assert (n_disp < n_orig).all()
    assert shapely.is_valid(disp.geometry.values).all()
    # areas within 2 % after simplification (compared in metres)
    np.testing.assert_allclose(disp.to_crs(BNG).area.to_numpy(), areas.gdf.area.to_numpy(), rtol=0.02)
    # smaller on the wire
    assert len(disp.to_json()) < len(areas.gdf.to_crs(4326).to_json())
    # the analysis geometry did not change
    assert shapely.to_wkb(areas.gdf.geometry.values).tolist() == before.tolist()
    assert areas.gdf.crs.to_epsg() == 27700
    assert areas.gdf.drop(columns="geometry").equals(cols_before)


def test_display_boundaries_zero_tolerance_keeps_geometry(areas):
    disp = display_boundaries(areas, tolerance_m=0.0, precision_deg=None)
    np.testing.assert_allclose(disp.to_crs(BNG).area.to_numpy(), areas.gdf.area.to_numpy(), rtol=1e-7)


def test_display_boundaries_precision_grid(areas):
    full = display_boundaries(areas, tolerance_m=100.0, precision_deg=None)
    snapped = display_boundaries(areas, tolerance_m=100.0)  # default 1e-5 degrees
    xy = shapely.get_coordinates(snapped.geometry.values)
    np.testing.assert_allclose(xy, np.round(xy / 1e-5) * 1e-5, rtol=0, atol=1e-9)
    assert shapely.is_valid(snapped.geometry.values).all()
    assert len(snapped.to_json()) < 0.7 * len(full.to_json())
    np.testing.assert_allclose(snapped.to_crs(BNG).area.to_numpy(), full.to_crs(BNG).area.to_numpy(), rtol=1e-3)
    with pytest.raises(ValueError, match="precision_deg"):
        display_boundaries(areas, precision_deg=0.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_display_boundaries_rejects_bad_tolerance(areas, bad):
    with pytest.raises(ValueError, match="tolerance_m"):
        display_boundaries(areas, tolerance_m=bad)


# --------------------------------------------------------------------------
# assign_force
# --------------------------------------------------------------------------


def test_two_squares_inside_outside_and_shared_edge():
    sq = _squares(("A", "B"))
    x = np.array([500_500, 501_500, 499_000, 503_000, 501_000, 501_000, 501_000, 502_000, 500_000, 501_000, np.nan])
    y = np.array([200_500, 200_500, 200_500, 200_500, 200_500, 200_000, 201_000, 200_500, 200_000, 201_001, 200_500])
    expect = [0, 1, -1, -1, 0, 0, 0, 1, 0, -1, -1]
    #         in A in B  out  out edge corner corner B's outer edge, A's corner, above, NaN
    assert assign_force(sq, x, y).tolist() == expect
    assert assign_force(sq, x, y).tolist() == _reference_closed(sq, x, y).tolist()


def test_two_squares_shared_edge_goes_to_first_in_order():
    sq = _squares(("B", "A"))  # B is row 0 now
    res = assign_force(sq, [501_000.0, 500_500.0, 501_500.0], [200_500.0, 200_500.0, 200_500.0])
    assert res.tolist() == [0, 1, 0]


def test_two_squares_lattice_matches_reference():
    sq = _squares()
    # lattice every 125 m: hits corners, edges and interiors
    gx, gy = np.meshgrid(np.arange(499_750, 502_251, 125.0), np.arange(199_750, 201_251, 125.0))
    res = assign_force(sq, gx, gy)
    assert res.shape == gx.shape
    np.testing.assert_array_equal(res, _reference_closed(sq, gx, gy))
    # boundary points differ from contains_xy; interior ones do not
    edges = shapely.union_all(shapely.boundary(sq.gdf.geometry.values))
    on_boundary = shapely.intersects_xy(edges, gx, gy)
    np.testing.assert_array_equal(res[~on_boundary], _reference_open(sq, gx, gy)[~on_boundary])
    assert (res[on_boundary] >= 0).any()


def test_overlapping_areas_first_wins():
    gdf = gpd.GeoDataFrame(
        {"force_code": ["X", "Y"], "force": ["X", "Y"], "in_agreement": [True, False]},
        geometry=[shapely.box(500_000, 200_000, 502_000, 202_000), shapely.box(501_000, 201_000, 503_000, 203_000)],
        crs=BNG,
    )
    fa = ForceAreas(gdf=gdf, source="overlap")
    rng = np.random.default_rng(7)
    x = rng.uniform(499_500, 503_500, 50_000)
    y = rng.uniform(199_500, 203_500, 50_000)
    res = assign_force(fa, x, y)
    np.testing.assert_array_equal(res, _reference_closed(fa, x, y))
    assert assign_force(fa, [501_500.0], [201_500.0]).tolist() == [0]


_box = st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(1, 6), st.integers(1, 6))


@settings(max_examples=60, deadline=None)
@given(boxes=st.lists(_box, min_size=1, max_size=4), step_m=st.sampled_from([1.0, 250.0, 1000.0]))
def test_lattice_of_boxes_matches_reference(boxes, step_m):
    # Boxes on a coarse lattice share edges, corners and overlap; points on a
    # half-step lattice land on all of those.
    x0, y0 = 500_000.0, 200_000.0
    geoms = [shapely.box(x0 + a * step_m, y0 + b * step_m, x0 + (a + w) * step_m, y0 + (b + h) * step_m) for a, b, w, h in boxes]
    gdf = gpd.GeoDataFrame(
        {"force_code": [f"C{i}" for i in range(len(geoms))], "force": [f"F{i}" for i in range(len(geoms))], "in_agreement": True},
        geometry=geoms,
        crs=BNG,
    )
    fa = ForceAreas(gdf=gdf, source="lattice")
    gx, gy = np.meshgrid(x0 + np.arange(-1, 30) * step_m / 2, y0 + np.arange(-1, 30) * step_m / 2)
    np.testing.assert_array_equal(assign_force(fa, gx, gy), _reference_closed(fa, gx, gy))


def test_random_points_equal_plain_contains_reference(areas):
    rng = np.random.default_rng(12345)
    xmin, ymin, xmax, ymax = areas.gdf.total_bounds
    x = rng.uniform(xmin - 5_000, xmax + 5_000, 300_000)
    y = rng.uniform(ymin - 5_000, ymax + 5_000, 300_000)
    res = assign_force(areas, x, y)
    assert res.dtype == np.int32
    np.testing.assert_array_equal(res, _reference_open(areas, x, y))
    np.testing.assert_array_equal(res, _reference_closed(areas, x, y))
    # all nine areas get points, and some points fall outside every area
    assert set(np.unique(res)) == set(range(-1, len(areas.gdf)))


def test_vertices_and_edge_points_equal_closed_reference(areas):
    geoms = areas.gdf.geometry.values
    xy, owner = shapely.get_coordinates(geoms, return_index=True)
    res = assign_force(areas, xy[:, 0], xy[:, 1])
    np.testing.assert_array_equal(res, _reference_closed(areas, xy[:, 0], xy[:, 1]))
    # a vertex of area i is covered by i, so it goes to i or an earlier area
    assert (res >= 0).all()
    assert (res <= owner).all()
    # midpoints of edges (on the edge up to rounding) and points just off vertices
    mid = (xy[:-1] + xy[1:]) / 2
    res_mid = assign_force(areas, mid[:, 0], mid[:, 1])
    np.testing.assert_array_equal(res_mid, _reference_closed(areas, mid[:, 0], mid[:, 1]))
    nudged = xy + np.array([1e-7, -1e-7])
    np.testing.assert_array_equal(
        assign_force(areas, nudged[:, 0], nudged[:, 1]), _reference_closed(areas, nudged[:, 0], nudged[:, 1])
    )


def test_points_on_index_cell_edges_equal_reference(areas):
    idx = _index_for(areas)
    cell = 1.0 / idx.inv_cell
    i = np.arange(0, idx.nx + 1, 7)
    j = np.arange(0, idx.ny + 1, 7)
    gx, gy = np.meshgrid(idx.x0 + i * cell, idx.y0 + j * cell)
    res = assign_force(areas, gx.ravel(), gy.ravel())
    np.testing.assert_array_equal(res, _reference_closed(areas, gx.ravel(), gy.ravel()))


def test_refuses_lon_lat(areas):
    with pytest.raises(ValueError, match="expected EPSG:27700 metres"):
        assign_force(areas, np.array([0.12, 1.3]), np.array([52.2, 52.6]))
    with pytest.raises(ValueError, match="expected EPSG:27700 metres"):
        assign_force(areas, [0.12, np.nan], [52.2, np.nan])


def test_shapes_empty_nan_and_inputs_untouched(areas):
    assert assign_force(areas, np.array([]), np.array([])).shape == (0,)
    assert assign_force(areas, [np.nan], [np.nan]).tolist() == [-1]
    with pytest.raises(ValueError, match="same shape"):
        assign_force(areas, [1.0, 2.0], [1.0])
    x = np.array([[545_000.0, 600_000.0], [0.0, 560_000.0]])
    y = np.array([[258_000.0, 300_000.0], [0.0, 170_000.0]])
    x0, y0 = x.copy(), y.copy()
    wkb = shapely.to_wkb(areas.gdf.geometry.values)
    res = assign_force(areas, x, y)
    assert res.shape == (2, 2)
    np.testing.assert_array_equal(res, _reference_closed(areas, x, y))
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    assert shapely.to_wkb(areas.gdf.geometry.values).tolist() == wkb.tolist()


def test_assign_does_not_prepare_or_touch_callers_geometries():
    sq = _squares()
    assign_force(sq, [500_500.0], [200_500.0])
    assert not shapely.is_prepared(sq.gdf.geometry.values).any()


def test_known_places(areas):
    # Cambridge, Norwich, Ipswich, Chelmsford, Maidstone, Lincoln, North Sea
    x = [545_000, 623_000, 616_500, 571_000, 576_000, 497_500, 680_000]
    y = [258_000, 308_500, 244_500, 207_000, 155_500, 371_500, 250_000]
    got = [areas.gdf["force"].iloc[i] if i >= 0 else None for i in assign_force(areas, x, y)]
    assert got == ["Cambridgeshire", "Norfolk", "Suffolk", "Essex", "Kent", "Lincolnshire", None]


def test_index_is_cached_and_not_pickled(areas):
    a = _index_for(areas)
    assert _index_for(areas) is a
    clone = pickle.loads(pickle.dumps(areas))
    assert "_assign_index" not in clone.__dict__
    x = np.array([545_000.0, 623_000.0])
    y = np.array([258_000.0, 308_500.0])
    np.testing.assert_array_equal(assign_force(clone, x, y), assign_force(areas, x, y))


def test_all_empty_geometries_assign_nothing():
    gdf = gpd.GeoDataFrame(
        {"force_code": ["E23000023"], "force": ["Cambridgeshire"], "in_agreement": [True]},
        geometry=[shapely.Polygon()],
        crs=BNG,
    )
    assert assign_force(ForceAreas(gdf=gdf, source="empty"), [500_000.0], [200_000.0]).tolist() == [-1]


# --------------------------------------------------------------------------
# fetch_boundaries / load_boundaries against a local HTTP server
# --------------------------------------------------------------------------

ARCGIS_ERROR = {"error": {"code": 400, "message": "Invalid query parameters", "details": ["'where' is invalid"]}}


class _Server:
    def __init__(self, routes: dict[str, tuple[int, bytes]]):
        self.routes = routes
        self.release = threading.Event()
        self.hits: list[str] = []
        srv = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                srv.hits.append(path)
                if path == "/slow":
                    srv.release.wait(10)
                status, body = srv.routes.get(path, (404, b"not found"))
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path + "?where=1%3D1&f=geojson"

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(boundaries_path):
    body = boundaries_path.read_bytes()
    raw = gpd.read_file(boundaries_path)
    neighbours_only = raw[raw["PFA23CD"].isin(list(NEIGHBOURS))].to_json().encode()
    no_cols = json.dumps(
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"foo": 1}, "geometry": None}]}
    ).encode()
    routes = {
        "/ok": (200, body),
        "/slow": (200, body),
        "/500": (500, b'{"oops": true}'),
        "/arcgis-error": (200, json.dumps(ARCGIS_ERROR).encode()),
        "/invalid": (200, b"<html><body>Service unavailable</body></html>"),
        "/empty": (200, b'{"type": "FeatureCollection", "features": []}'),
        "/not-fc": (200, b'{"type": "Feature", "properties": {}, "geometry": null}'),
        "/no-columns": (200, no_cols),
        "/neighbours": (200, neighbours_only),
        "/truncated": (200, body.replace(b'"type": "FeatureCollection",', b'"type": "FeatureCollection", "exceededTransferLimit": true,', 1)),
    }
    s = _Server(routes)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """Requests to 127.0.0.1 must not go through a proxy configured in the environment."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture()
def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/query?f=geojson"


def _files(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.mark.network
def test_fetch_ok_writes_validated_file(server, boundaries_path, tmp_path):
    dest = tmp_path / "cache" / "boundaries"
    p = fetch_boundaries(dest, url=server.url("/ok"), timeout_s=10)
    assert p == dest / BOUNDARIES_FILENAME
    assert p.read_bytes() == boundaries_path.read_bytes()
    assert _files(dest) == [BOUNDARIES_FILENAME]  # no temp file left
    assert read_boundaries(p).names == list(SEVEN_FORCES.values())


@pytest.mark.network
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/500", "HTTP 500"),
        ("/arcgis-error", "ArcGIS server returned an error .code 400.: Invalid query parameters"),
        ("/invalid", "not JSON"),
        ("/empty", "no features"),
        ("/not-fc", "not a GeoJSON FeatureCollection"),
        ("/no-columns", "no PFAyyCD / PFAyyNM column"),
        ("/neighbours", "none of the seven forces"),
        ("/truncated", "exceededTransferLimit"),
        ("/missing", "HTTP 404"),
    ],
)
def test_fetch_errors_leave_nothing(server, tmp_path, path, message):
    with pytest.raises(BoundaryFetchError, match=message):
        fetch_boundaries(tmp_path, url=server.url(path), timeout_s=10)
    assert _files(tmp_path) == []


@pytest.mark.network
def test_fetch_timeout(server, tmp_path):
    t0 = time.monotonic()
    with pytest.raises(BoundaryFetchError, match="timed out"):
        fetch_boundaries(tmp_path, url=server.url("/slow"), timeout_s=0.5)
    assert time.monotonic() - t0 < 5
    assert _files(tmp_path) == []


@pytest.mark.network
def test_fetch_failure_keeps_existing_file(server, tmp_path):
    existing = tmp_path / BOUNDARIES_FILENAME
    existing.write_bytes(b"previous")
    with pytest.raises(BoundaryFetchError):
        fetch_boundaries(tmp_path, url=server.url("/invalid"), timeout_s=10)
    assert existing.read_bytes() == b"previous"
    assert _files(tmp_path) == [BOUNDARIES_FILENAME]


def test_fetch_refuses_non_http(tmp_path, boundaries_path):
    with pytest.raises(BoundaryFetchError, match="only http"):
        fetch_boundaries(tmp_path, url=boundaries_path.as_uri())
    assert _files(tmp_path) == []


def test_fetch_connection_refused(tmp_path, closed_port_url):
    with pytest.raises(BoundaryFetchError, match="could not connect"):
        fetch_boundaries(tmp_path, url=closed_port_url, timeout_s=5)
    assert _files(tmp_path) == []


def test_resolution_order(boundaries_path, tmp_path):
    raw = _raw(boundaries_path)
    env_file = tmp_path / "env.gpkg"
    raw.to_file(env_file, driver="GPKG")
    search = tmp_path / "data"
    search.mkdir()
    dir_file = search / "pfa.geojson"
    dir_file.write_bytes(boundaries_path.read_bytes())
    env = {"HAREWATCH_BOUNDARIES": str(env_file)}
    never = "http://127.0.0.1:9/never"

    def load(path, env):
        return load_boundaries(path, env=env, search_dir=search, url=never, log=pytest.fail)

    assert load(boundaries_path, env).source == str(boundaries_path)  # --boundaries beats env
    assert load(None, env).source == str(env_file)  # env beats data dir
    assert load(None, {}).source == str(dir_file)  # data dir last
    assert resolve_boundaries_path(None, env={}, search_dir=search) == dir_file


def test_explicit_missing_path_is_an_error_not_a_fetch(tmp_path):
    logs: list[str] = []
    with pytest.raises(BoundariesNotFound, match="--boundaries points at"):
        load_boundaries(tmp_path / "nope.geojson", env={}, search_dir=tmp_path, log=logs.append, url="http://127.0.0.1:9/")
    with pytest.raises(BoundariesNotFound, match="HAREWATCH_BOUNDARIES points at"):
        load_boundaries(
            env={"HAREWATCH_BOUNDARIES": str(tmp_path / "nope.gpkg")}, search_dir=tmp_path, log=logs.append, url="http://127.0.0.1:9/"
        )
    assert logs == []


@pytest.mark.network
def test_first_run_fetches_into_search_dir(server, tmp_path):
    search = tmp_path / "data" / "boundaries"
    logs: list[str] = []
    got = load_boundaries(env={}, search_dir=search, log=logs.append, url=server.url("/ok"), timeout_s=10)
    assert got.names == list(SEVEN_FORCES.values())
    assert (search / BOUNDARIES_FILENAME).is_file()
    assert got.source == str(search / BOUNDARIES_FILENAME)
    assert logs and logs[0].startswith("No boundary file found; fetching ONS police force areas from 127.0.0.1")
    assert "(first run)" in logs[0] and str(search) in logs[0]
    # second run: found in the cache, no fetch, no message
    n_hits = len(server.hits)
    logs.clear()
    again = load_boundaries(env={}, search_dir=search, log=logs.append, url=server.url("/ok"))
    assert logs == [] and len(server.hits) == n_hits
    assert again.names == got.names


def test_no_network_gives_instructions(tmp_path, closed_port_url):
    search = tmp_path / "boundaries"
    logs: list[str] = []
    with pytest.raises(BoundariesNotFound) as exc:
        load_boundaries(env={}, search_dir=search, log=logs.append, url=closed_port_url, timeout_s=5)
    msg = str(exc.value)
    for needle in ("ONS Open Geography Portal", "--boundaries", "HAREWATCH_BOUNDARIES", str(search), "could not connect"):
        assert needle in msg
    assert len(logs) == 1 and "fetching" in logs[0]
    assert _files(search) == []


def test_allow_fetch_false_does_not_fetch(tmp_path):
    logs: list[str] = []
    with pytest.raises(BoundariesNotFound, match="ONS Open Geography Portal"):
        load_boundaries(env={}, search_dir=tmp_path, allow_fetch=False, log=logs.append)
    assert logs == []


def test_load_ignores_hidden_partial_files(boundaries_path, tmp_path):
    (tmp_path / ".police_force_areas.abc.geojson").write_text("{")
    (tmp_path / "README.md").write_text("x")
    with pytest.raises(BoundariesNotFound):
        resolve_boundaries_path(None, env={}, search_dir=tmp_path)


def test_no_warnings_reading_shared_file(boundaries_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_boundaries(boundaries_path)

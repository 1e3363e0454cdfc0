"""Generalised coasts and ANPR cameras without coordinates.

Coast: on the official BUC file (coast simplified to about 500 m) a point just off the coast is
given the nearest force and its distance; far out at sea it stays rejected.
Cameras: reads that name a camera but carry no coordinates are placed through the camera register.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import shapely
import shapely.ops

from geo.areas import nearest_force
from geo.cli import main
from geo.io.cameras import import_cameras, read_cameras
from geo.io.readers import read_table
from geo.validate.cameras import validate_cameras
from geo.validate.incidents import validate_incidents
from geo.validate.sightings import validate_sightings

#: A point well out at sea off each force's coast (WGS84 lat, lon).
SEA = {"Essex": (51.75, 1.40), "Suffolk": (52.47, 2.00), "Norfolk": (53.10, 1.30),
       "Kent": (51.50, 1.40)}


def _point_off_coast(ons_areas, force: str, metres: float) -> tuple[float, float]:
    """A point ``metres`` out from the force's BUC coast, towards the open sea.

    From a point far out at sea, the nearest point of the force's polygon is on
    its coast; every point on the line back out to sea is exactly its distance
    along that line from the coast.
    """
    from pyproj import Transformer

    lat, lon = SEA[force]
    sx, sy = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon, lat)
    poly = ons_areas.gdf.set_index("force").loc[force, "geometry"]
    q = shapely.ops.nearest_points(poly, shapely.Point(sx, sy))[0]
    d = np.array([sx - q.x, sy - q.y])
    e, n = np.array([q.x, q.y]) + d / np.linalg.norm(d) * metres
    return float(e), float(n)


def _incident(e: float, n: float) -> pd.DataFrame:
    return pd.DataFrame({"incident_id": ["C1"], "occurred_at": ["2021-10-01 20:00"],
                         "easting": [repr(e)], "northing": [repr(n)]})


def test_300_m_off_the_coast_is_assigned_and_flagged(ons_areas):
    for force in ("Essex", "Suffolk", "Norfolk", "Kent"):
        e, n = _point_off_coast(ons_areas, force, 300)
        res = validate_incidents(_incident(e, n), ons_areas)
        assert res.n_accepted == 1, (force, res.rejects)
        row = res.accepted.iloc[0]
        assert row["force"] == force
        assert abs(row["force_distance_m"] - 300) < 1
        assert res.to_report()["nearest_force"] == 1


def test_20_km_out_to_sea_is_rejected(ons_areas):
    e, n = _point_off_coast(ons_areas, "Essex", 20_000)
    res = validate_incidents(_incident(e, n), ons_areas)
    assert res.n_accepted == 0
    assert "outside the region" in res.rejects.iloc[0]["reason"]
    assert "within 1,000 m" in res.rejects.iloc[0]["reason"]


def test_inside_points_have_no_distance_and_tolerance_is_a_setting(ons_areas):
    from geo._config import Settings

    e, n = _point_off_coast(ons_areas, "Kent", 300)
    strict = validate_incidents(_incident(e, n), ons_areas, settings=Settings(coastal_tolerance_m=0))
    assert strict.n_accepted == 0
    idx, dist = nearest_force(ons_areas, [e, 0.0], [n, 0.0], 1000)
    assert ons_areas.gdf["force"].iat[idx[0]] == "Kent" and idx[1] == -1
    assert np.isnan(dist[1])


def test_nearest_force_equals_shapely_nearest_polygon_on_the_ons_file(ons_areas):
    """Boundary pieces give the area and the distance shapely's nearest polygon gives,
    for points scattered along the coast (inside, just off, beyond reach), and a point
    inside an area gets it at distance 0."""
    rng = np.random.default_rng(7)
    seven = shapely.union_all(ons_areas.seven.geometry.to_numpy())
    ring = shapely.segmentize(shapely.boundary(seven), 2_000)
    xy = shapely.get_coordinates(ring)
    xy = xy[rng.choice(len(xy), 1_500)] + rng.uniform(-3_000, 3_000, (1_500, 2))
    idx, dist = nearest_force(ons_areas, xy[:, 0], xy[:, 1], 1_000)
    geoms = ons_areas.gdf.geometry.to_numpy()
    points = shapely.points(xy)
    for i in range(len(xy)):  # one per point: a plain distance to every area
        d = shapely.distance(points[i], geoms)
        if d.min() > 1_000:
            assert idx[i] == -1 and np.isnan(dist[i])
        else:
            assert dist[i] == d.min() and idx[i] == int(np.flatnonzero(d == d.min())[0])
    assert (dist == 0).sum() > 100 and (dist > 0).sum() > 100 and (idx == -1).sum() > 100


REGISTER = (
    "Camera ID,Camera Name,Latitude,Longitude\n"
    "CAM-101,A14 Bar Hill westbound,52.2510,0.0290\n"
    "cam-102 ,A11 Thetford bypass,52.4060,0.7510\n"
    ",No id,52.0,0.1\n"
)
SUPPLIER_READS = (
    "Plate,TimeStamp,DeviceId,Name\n"
    "AB12 CDE,2021-10-01 20:05:11,CAM-101,A14 Bar Hill westbound\n"
    "AB12 CDE,2021-10-01 20:41:07,CAM-102,A11 Thetford bypass\n"
    "XY99 ZZZ,2021-10-01 21:00:00,CAM-999,Unknown site\n"
)


def test_camera_register_places_supplier_reads(areas, tmp_path):
    reg = validate_cameras(read_table(io.BytesIO(REGISTER.encode()), name="cams.csv"), areas)
    assert (reg.n_accepted, reg.n_rejected) == (2, 1)
    assert reg.rejects.iloc[0]["reason"] == "missing camera id"
    report = import_cameras(reg, tmp_path)
    assert (report.added, report.updated, report.total) == (2, 0, 2)
    cams = read_cameras(tmp_path)
    assert list(cams["camera_id"]) == ["CAM-101", "cam-102"]
    reads = validate_sightings(read_table(io.BytesIO(SUPPLIER_READS.encode()), name="r.csv"),
                               areas, cameras=cams)
    assert (reads.n_accepted, reads.n_rejected) == (2, 1)
    assert list(reads.accepted["force"]) == ["Cambridgeshire", "Norfolk"]
    assert list(reads.accepted["vrm"]) == ["AB12CDE", "AB12CDE"]
    assert list(reads.accepted["camera_id"]) == ["CAM-101", "CAM-102"]  # "cam-102 " is CAM-102
    assert reads.rejects.iloc[0]["reason"].startswith("unknown camera 'CAM-999'")


def test_unknown_camera_becomes_acceptable_once_registered(areas, tmp_path, capsys):
    reads = tmp_path / "reads.csv"
    reads.write_text(SUPPLIER_READS, encoding="utf-8")
    cams = tmp_path / "cams.csv"
    cams.write_text(REGISTER, encoding="utf-8")
    store = ["--data-dir", str(tmp_path / "store")]
    assert main(["cameras", "import", str(cams), *store]) == 1  # one register row rejected
    assert json.loads(capsys.readouterr().out)["total"] == 2
    assert main(["validate", str(reads), "--format", "json", *store]) == 1
    assert json.loads(capsys.readouterr().out)["accepted"] == 2
    more = tmp_path / "more.csv"
    more.write_text("DeviceId,Easting,Northing\nCAM-999,545000,258000\n", encoding="utf-8")
    assert main(["cameras", "import", str(more), *store]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 3
    assert main(["validate", str(reads), "--format", "json", *store]) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 3


def test_reads_with_cameras_but_no_register_are_refused_once(areas):
    from geo.pipeline.ingest import check_file

    check = check_file(io.BytesIO(SUPPLIER_READS.encode()), areas, name="r.csv")
    assert check.kind == "sightings" and not check.ok
    assert "no camera register" in check.error

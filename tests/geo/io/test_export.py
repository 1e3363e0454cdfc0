import io
import json

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.io.export import neutralise_csv_cell, to_geojson, to_safe_csv


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tx"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise_csv_cell(cell) == "'" + cell


def test_plain_cells_and_numbers_unchanged():
    assert neutralise_csv_cell("Fen edge, dogs seen") == "Fen edge, dogs seen"
    assert neutralise_csv_cell(-3) == -3


def _gdf():
    return gpd.GeoDataFrame(
        {
            "incident_id": ["=cmd|' /C calc'!A0", "INC2"],
            "occurred_at": pd.to_datetime(["2021-10-01T20:00Z", "2021-10-02T21:00Z"], utc=True),
            "notes": ["<img src=x onerror=alert(1)>", "£5 bet, café"],
            "forces": [["Norfolk", "Suffolk"], ["Essex"]],
            "n": [-1, 2],
        },
        geometry=[Point(545000, 258000), Point(623000, 308000)],
        crs="EPSG:27700",
    )


def test_safe_csv_round_trip():
    raw = to_safe_csv(_gdf())
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert back.loc[0, "incident_id"] == "'=cmd|' /C calc'!A0"
    assert back.loc[0, "notes"] == "<img src=x onerror=alert(1)>"
    assert back.loc[1, "notes"] == "£5 bet, café"
    assert back.loc[0, "forces"] == "Norfolk;Suffolk"
    assert back.loc[0, "n"] == -1
    assert back.loc[0, "lat"] == pytest.approx(52.205, abs=0.01)  # Cambridge
    assert back.loc[0, "occurred_at"] == "2021-10-01 21:00 +01:00"  # London time, as on screen
    assert back.loc[1, "occurred_at"] == "2021-10-02 22:00 +01:00"


def test_geojson_is_wgs84_and_keeps_text():
    fc = json.loads(to_geojson(_gdf()))
    lon, lat = fc["features"][1]["geometry"]["coordinates"]
    assert 52.5 < lat < 52.7 and 1.2 < lon < 1.4  # Norwich
    assert fc["features"][0]["properties"]["notes"] == "<img src=x onerror=alert(1)>"


def test_geojson_refuses_missing_crs():
    with pytest.raises(ValueError, match="CRS"):
        to_geojson(gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)]))

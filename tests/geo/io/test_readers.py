"""read_table: encodings, formats, everything as text; column alias matching."""

from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely
from factories import FIXTURES as FIX
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import UnreadableFile
from geo.io.readers import read_table
from geo.validate.columns import ALIASES, match_columns, normalise_name


def test_csv_all_text_nothing_coerced(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("id,n,flag,empty\n007,1.50,NA,\n008,nan,TRUE,\n", encoding="utf-8")
    df = read_table(p)
    assert list(df.columns) == ["id", "n", "flag", "empty"]
    assert df.to_dict("list") == {"id": ["007", "008"], "n": ["1.50", "nan"],
                                  "flag": ["NA", "TRUE"], "empty": ["", ""]}
    assert all(str(t) == "str" for t in df.dtypes)


def test_bom_utf8():
    df = read_table(FIX / "incidents_bom.csv")
    assert df.columns[0] == "Incident_ID"  # BOM not glued to the first name
    assert df.loc[0, "Notes"] == "\u00e9t\u00e9 \u00a3"


def test_cp1252_fallback():
    df = read_table(FIX / "incidents_cp1252.csv")
    assert df.loc[0, "notes"] == "Damage \u00a3200 to crops (caf\u00e9 owner)"
    assert df.loc[0, "incident_id"] == "C1"  # CRLF line ends handled


def test_file_like_with_name_and_bytes():
    data = (FIX / "incidents_bom.csv").read_bytes()
    buf = io.BytesIO(data)
    assert read_table(buf, name="upload.CSV").loc[0, "Incident_ID"] == "B1"
    assert read_table(data, name="x.csv").shape == (1, 5)


def test_quoted_fields_and_newlines_kept(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('id,notes\n1,"a, ""b""\nc"\n2,=HYPERLINK("x")\n', encoding="utf-8")
    df = read_table(p)
    assert list(df["notes"]) == ['a, "b"\nc', '=HYPERLINK("x")']


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("x.doc", b"a,b\n1,2\n", "unknown file type"),
        ("x.csv", b"", "empty"),
        ("x.csv", b"a,b\n1,2,3\n", "not a readable CSV"),
        ("x.xlsx", b"not a zip", "Excel"),
        ("x.geojson", b"{not json", "GeoJSON"),
        ("x.parquet", b"PAR1nonsense", "GeoParquet"),
    ],
)
def test_unreadable(name, content, match):
    with pytest.raises(UnreadableFile, match=match):
        read_table(io.BytesIO(content), name=name)


def test_missing_path_is_unreadable(tmp_path):
    with pytest.raises(UnreadableFile, match="cannot open"):
        read_table(tmp_path / "nope.csv")


def test_xlsx(tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Incident Ref", "Date", "Time", "Easting", "Northing", "Notes"])
    ws.append(["X1", dt.datetime(2021, 11, 1), "14:30", 545000, 258000, "=1+1 kept?"])
    ws.append(["007", "01/11/2021", "10:00", 616000.5, 244000, ""])
    p = tmp_path / "a.xlsx"
    wb.save(p)
    df = read_table(p)
    assert list(df["Incident Ref"]) == ["X1", "007"]
    assert df.loc[0, "Date"].startswith("2021-11-01")
    assert df.loc[0, "Easting"] == "545000" and df.loc[1, "Easting"] == "616000.5"
    assert df.loc[1, "Notes"] == ""


def _points_gdf(crs):
    return gpd.GeoDataFrame(
        {"incident_id": ["G1", "G2", "G3"], "occurred_at": ["2021-11-01T10:00:00Z"] * 3,
         "lat": ["1", "2", "3"]},  # attribute that would also name a location: dropped
        geometry=[shapely.Point(545000, 258000), None,
                  shapely.Polygon([(616000, 244000), (616010, 244000), (616010, 244010)])],
        crs="EPSG:27700",
    ).to_crs(crs)


def test_geoparquet_bng_gives_easting_northing(tmp_path):
    p = tmp_path / "a.parquet"
    _points_gdf("EPSG:27700").to_parquet(p)
    df = read_table(p)
    assert {"easting", "northing"} <= set(df.columns) and "lat" not in df.columns
    assert float(df.loc[0, "easting"]) == 545000 and float(df.loc[0, "northing"]) == 258000
    assert df.loc[1, "easting"] == ""  # missing geometry -> empty cells
    assert 616000 < float(df.loc[2, "easting"]) < 616010  # polygon -> a point inside it


def test_geojson_wgs84_gives_lat_lon(tmp_path):
    p = tmp_path / "a.geojson"
    _points_gdf("EPSG:4326").to_file(p, driver="GeoJSON")
    df = read_table(p)
    assert {"latitude", "longitude"} <= set(df.columns)
    assert abs(float(df.loc[0, "latitude"]) - 52.2) < 0.05
    assert abs(float(df.loc[0, "longitude"]) - 0.12) < 0.05
    assert df.loc[0, "incident_id"] == "G1"


# ---------------------------------------------------------------- columns


def test_normalise_name():
    assert normalise_name(" Date/Time Reported ") == "datetimereported"
    assert normalise_name("OS_Grid-Ref") == "osgridref"


def test_match_columns_examples():
    cols = ["Incident Ref", "DATE/TIME", "Lat", "Long", "Grid Ref", "VRMs", "Reporting Force",
            "Suspects", "Dogs seen", "Outcome", "Notes", "Unrelated"]
    m = match_columns(cols)
    assert m == {"id": "Incident Ref", "time": "DATE/TIME", "lat": "Lat", "lon": "Long",
                 "gridref": "Grid Ref", "vrms": "VRMs", "force": "Reporting Force",
                 "nominals": "Suspects", "dogs": "Dogs seen", "outcome": "Outcome",
                 "notes": "Notes"}


def test_match_columns_exact_first_alias_wins():
    assert match_columns(["ref", "incident_id"], ["id"]) == {"id": "incident_id"}
    assert match_columns(["ref", "reference"], ["id"]) == {"id": "ref"}  # else leftmost


_FIELDS = sorted(ALIASES)


@settings(deadline=None)
@given(
    field=st.sampled_from(_FIELDS),
    data=st.data(),
    junk=st.lists(st.sampled_from([" ", "_", "-", "/", ".", "(", ")"]), max_size=3),
)
def test_match_robust_to_case_and_punctuation(field, data, junk):
    alias = data.draw(st.sampled_from(ALIASES[field]))
    mangled = "".join(
        (c.upper() if data.draw(st.booleans()) else c.lower()) + (junk[i % len(junk)] if junk and
                                                                  i % 3 == 0 else "")
        for i, c in enumerate(alias)
    )
    mangled = " " + mangled.replace("_", data.draw(st.sampled_from(["_", " ", "", "-"]))) + " "
    assert normalise_name(mangled) == normalise_name(alias)
    assert match_columns(["something else", mangled], [field]) == {field: mangled}


def test_cp1252_header_and_undecodable_bytes():
    df = read_table(io.BytesIO("caf\u00e9,b\n1,\u00a3\n".encode("cp1252")), name="x.csv")
    assert list(df.columns) == ["caf\u00e9", "b"] and df.loc[0, "b"] == "\u00a3"
    with pytest.raises(UnreadableFile, match="neither UTF-8 nor Windows-1252"):
        read_table(io.BytesIO(b"a,b\n1,\x81\n"), name="x.csv")


def test_header_only_gives_empty_frame(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("incident_id,occurred_at\n", encoding="utf-8")
    df = read_table(p)
    assert list(df.columns) == ["incident_id", "occurred_at"] and len(df) == 0

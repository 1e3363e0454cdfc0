"""validate_incidents / load_incidents against hand-made files with known answers."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from factories import FIXTURES as FIX

from geo.forces import force_key
from geo.pipeline.ingest import load_incidents
from geo.schema import BNG, INCIDENT_COLUMNS, REJECT_COLUMNS
from geo.validate.common import normalise_multi, normalise_plates
from geo.validate.incidents import validate_incidents

# row -> reason start, for tests/fixtures/incidents_mixed.csv
EXPECTED_REJECTS = {
    3: "missing time",
    4: "unparseable time 'yesterday'",
    5: "invalid date '31/02/2021'",
    6: "missing coordinates",
    7: "non-finite coordinates",
    8: "latitude/longitude out of range",
    9: "invalid grid reference 'ZZ 1234 5678'",
    10: "location outside the region (E 700000 N 300000",
    11: "duplicate id 'INC001' (first used on row 1)",
    12: "missing id",
    14: "location outside the region",  # Edinburgh
    15: "missing time; missing coordinates",
    16: "time '28/03/2021 01:30' does not exist in UK local time (clocks went forward",
    18: "easting/northing look like degrees",
}


@pytest.fixture(scope="module")
def mixed(areas):
    return load_incidents(FIX / "incidents_mixed.csv", areas)


def test_every_row_accounted_for(mixed):
    assert mixed.rows == 18
    assert mixed.n_accepted == 4 and mixed.n_rejected == 14
    assert mixed.n_accepted + mixed.n_rejected == mixed.rows
    assert sorted(list(mixed.accepted["source_row"]) + list(mixed.rejects["row"])) == list(
        range(1, 19))


def test_rejects_row_by_row(mixed):
    rej = mixed.rejects
    assert list(rej.columns) == REJECT_COLUMNS
    assert list(rej["row"]) == sorted(EXPECTED_REJECTS)
    for row, id_, reason in rej.itertuples(index=False):
        assert reason.startswith(EXPECTED_REJECTS[row]), (row, reason)
        assert id_ == (None if row == 12 else ("INC001" if row == 11 else f"INC{row:03d}"))
    assert rej["row"].dtype == "int64"


def test_accepted_schema_and_values(mixed):
    acc = mixed.accepted
    assert list(acc.columns) == [*INCIDENT_COLUMNS, "geometry"]
    assert acc.crs == BNG
    assert str(acc["occurred_at"].dtype).endswith("UTC]")
    by_id = acc.set_index("incident_id")
    r1 = by_id.loc["INC001"]
    assert (r1.easting, r1.northing) == (545000, 258000)
    assert r1.force == "Cambridgeshire" and r1.force_code == "E23000023" and r1.in_agreement
    assert r1.occurred_at == pd.Timestamp("2021-11-01 14:30", tz="UTC")  # GMT in November
    assert r1.vrms == "AB12CDE;XY99ZZZ" and r1.nominals == "N1;N2"
    assert r1.reported_force == "Cambridgeshire Constabulary" and not r1.force_mismatch
    assert (r1.dogs, r1.outcome) == ("3", "Warned")
    assert by_id.loc["INC002", "force"] == "Norfolk"  # lat/lon row
    assert not by_id.loc["INC002", "force_mismatch"]  # "Norfolk Police"
    # grid reference row (centre of the 100 m square), reported force disagrees: kept, flagged
    r13 = by_id.loc["INC013"]
    assert (r13.easting, r13.northing) == (616050, 244050)
    assert r13.force == "Suffolk" and r13.reported_force == "Norfolk" and r13.force_mismatch
    # lat/lon empty but grid ref filled -> grid ref used
    assert (by_id.loc["INC017", "easting"], by_id.loc["INC017", "northing"]) == (545050, 258050)
    assert list(acc["source_row"]) == [1, 2, 13, 17]
    assert acc.geometry.x.tolist() == acc["easting"].tolist()


def test_text_kept_verbatim(mixed):
    notes = mixed.accepted.set_index("incident_id")["notes"]
    assert notes["INC001"] == "<script>alert(1)</script>"
    assert notes["INC002"] == '=HYPERLINK("http://x","y")'


def test_report_is_json(mixed):
    rep = json.loads(json.dumps(mixed.to_report()))
    assert set(rep) == {"rows", "accepted", "rejected", "rejects", "by_force",
                        # added with real police files (issue 11)
                        "duplicates_collapsed", "kind", "layout", "notes", "force_mismatches",
                        "nearest_force", "time_precision"}
    assert rep["rows"] == rep["accepted"] + rep["rejected"] + rep["duplicates_collapsed"]
    assert (rep["rows"], rep["accepted"], rep["rejected"]) == (18, 4, 14)
    assert rep["by_force"] == {"Cambridgeshire": 2, "Norfolk": 1, "Suffolk": 1}
    assert rep["rejects"][0] == {"row": 3, "id": "INC003", "reason": "missing time"}
    assert mixed.by_force == rep["by_force"]


def test_mixed_location_forms_and_precedence(areas):
    raw = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "datetime": ["2021-11-01T10:00:00Z"] * 4,
        "latitude": ["52.6309", "", "", "52.0567"],
        "longitude": ["1.2974", "", "", "1.1482"],
        "easting": ["", "616000", "", "545000"],  # d: lat/lon wins over easting/northing
        "northing": ["", "244000", "", "258000"],
        "os grid ref": ["", "", "TL4558", ""],
    })
    res = validate_incidents(raw, areas)
    assert res.n_rejected == 0
    assert list(res.accepted["force"]) == ["Norfolk", "Suffolk", "Cambridgeshire", "Suffolk"]
    assert (res.accepted["easting"].iloc[2], res.accepted["northing"].iloc[2]) == (545500, 258500)


def test_separate_date_and_time_columns(areas):
    raw = pd.DataFrame({"Ref": ["a", "b", "c"], "Date": ["2021-07-01 00:00:00", "01/12/2021", ""],
                        "Time": ["10:00", "10:00", "10:00"], "Easting": ["545000"] * 3,
                        "Northing": ["258000"] * 3})
    res = validate_incidents(raw, areas)
    assert list(res.accepted["occurred_at"]) == [pd.Timestamp("2021-07-01 09:00", tz="UTC"),
                                                 pd.Timestamp("2021-12-01 10:00", tz="UTC")]
    assert list(res.rejects["reason"]) == ["missing time"]


def test_no_id_column_says_so(areas):
    raw = pd.DataFrame({"datetime": ["2021-11-01 10:00"], "easting": ["545000"],
                        "northing": ["258000"]})
    res = validate_incidents(raw, areas)
    assert res.n_rejected == 1 and res.rejects["id"].iloc[0] is None
    assert res.rejects["reason"].iloc[0].startswith("missing id (no such column")


def test_input_not_mutated(areas):
    raw = pd.read_csv(FIX / "incidents_mixed.csv", dtype=str, keep_default_na=False)
    before = raw.copy()
    validate_incidents(raw, areas)
    pd.testing.assert_frame_equal(raw, before)


def test_empty_frame(areas):
    res = validate_incidents(pd.DataFrame({"id": [], "datetime": [], "easting": [],
                                           "northing": []}), areas)
    assert (res.rows, res.n_accepted, res.n_rejected) == (0, 0, 0)
    assert res.to_report()["by_force"] == {}


@pytest.mark.parametrize(
    ("name", "norm"),
    [("Cambridgeshire Constabulary", "cambridgeshire"), ("NORFOLK POLICE", "norfolk"),
     ("norfolk", "norfolk"), ("Essex Police Force", "essex"), ("The Kent Police", "kent"),
     ("Bedfordshire Police Service", "bedfordshire")],
)
def test_force_names(name, norm):
    assert force_key(name) == norm


def test_multi_values():
    plates, count = normalise_plates(pd.Series(["ab12 cde ; xy99zzz", "A|B,C", "", " ; "]))
    assert list(plates) == ["AB12CDE;XY99ZZZ", "A;B;C", "", ""]
    assert list(count) == [2, 3, 0, 0]
    assert list(normalise_multi(pd.Series([" N1 | N2,N3 ;", "x"]))) == ["N1;N2;N3", "x"]


def test_force_code_and_suffixes_are_not_mismatches(areas):
    raw = pd.DataFrame({"id": ["a", "b", "c"], "datetime": ["2021-11-01 10:00"] * 3,
                        "easting": ["616000"] * 3, "northing": ["244000"] * 3,
                        "force": ["E23000025", "SUFFOLK CONSTABULARY", "Essex Police"]})
    res = validate_incidents(raw, areas)
    assert list(res.accepted["force_mismatch"]) == [False, False, True]
    assert list(res.accepted["reported_force"]) == list(raw["force"])


def test_xlsx_with_separate_date_and_time(areas, tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Incident Ref", "Date", "Time", "Easting", "Northing", "Notes"])
    ws.append(["X1", dt.datetime(2021, 7, 1), "14:30", 545000, 258000, "=1+1"])
    ws.append(["X2", "31/02/2021", "10:00", 623000, 308000, ""])
    ws["F2"].data_type = "s"  # text that starts with "=" (not a formula)
    p = tmp_path / "incidents.xlsx"
    wb.save(p)
    res = load_incidents(p, areas)
    assert list(res.accepted["incident_id"]) == ["X1"]
    assert res.accepted["occurred_at"].iloc[0] == pd.Timestamp("2021-07-01 13:30", tz="UTC")
    assert res.accepted["notes"].iloc[0] == "=1+1"
    assert res.rejects["reason"].iloc[0].startswith("invalid date '31/02/2021 10:00'")


@pytest.mark.parametrize("fmt", ["geojson", "parquet"])
def test_geo_formats(areas, tmp_path, fmt):
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame(
        {"incident_id": ["G1", "G2", "G3"],
         "occurred_at": ["2021-11-01T10:00:00Z"] * 3},
        geometry=[shapely.Point(545000, 258000), shapely.Point(700000, 300000), None],
        crs="EPSG:27700",
    )
    p = tmp_path / f"inc.{fmt}"
    if fmt == "geojson":
        gdf.to_crs("EPSG:4326").to_file(p, driver="GeoJSON")
    else:
        gdf.to_parquet(p)
    res = load_incidents(p, areas)
    assert list(res.accepted["incident_id"]) == ["G1"]
    assert abs(res.accepted["easting"].iloc[0] - 545000) < 0.01
    assert res.accepted["force"].iloc[0] == "Cambridgeshire"
    reasons = dict(zip(res.rejects["row"], res.rejects["reason"], strict=True))
    assert reasons[2].startswith("location outside the region")
    assert reasons[3] == "missing coordinates"


def test_result_refuses_lost_rows(mixed):
    from geo.validate.common import ValidationResult

    with pytest.raises(AssertionError, match="!= 19 rows"):
        ValidationResult(kind="incidents", accepted=mixed.accepted, rejects=mixed.rejects,
                         rows=19)

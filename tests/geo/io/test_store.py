"""The store: idempotent ingest, corrections, normalised keys, rejects CSV, read back."""

from __future__ import annotations

import csv

import duckdb
import pandas as pd
import pytest
from factories import FIXTURES as FIX
from factories import T, incidents, reads

from geo.io.store.layout import default_data_dir
from geo.io.store.read import read_incidents, read_sightings, sightings_paths, store_history
from geo.io.store.write import ingest
from geo.pipeline.ingest import load_incidents, load_sightings
from geo.schema import BNG, INCIDENT_COLUMNS, SIGHTING_COLUMNS
from geo.validate.common import ValidationResult
from geo.validate.incidents import validate_incidents


def test_default_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("HAREWATCH_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path
    monkeypatch.delenv("HAREWATCH_DATA_DIR")
    assert default_data_dir().parts[-2:] == ("data", "incidents")


def test_incidents_idempotent_and_round_trip(areas, tmp_path):
    res = load_incidents(FIX / "incidents_mixed.csv", areas)
    assert read_incidents(tmp_path) is None
    first = ingest(res, tmp_path)
    assert (first.rows_added, first.rows_already_stored, first.rows_rejected) == (4, 0, 14)
    assert first.part_path.parent == tmp_path / "tables" / "incidents"
    assert first.version == 1  # version 0 created the table
    second = ingest(res, tmp_path)
    assert (second.rows_added, second.rows_already_stored) == (0, 4)
    assert second.part_path is None and second.version == 1  # nothing committed
    back = read_incidents(tmp_path)
    assert len(back) == 4 and back.crs == BNG
    assert list(back.columns) == [*INCIDENT_COLUMNS, "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")).reset_index(drop=True),
        pd.DataFrame(res.accepted.drop(columns="geometry")).reset_index(drop=True),
        check_dtype=False,
    )
    assert back["notes"].iloc[0] == "<script>alert(1)</script>"


def _result(frame) -> ValidationResult:
    kind = "incidents" if "incident_id" in frame.columns else "sightings"
    return ValidationResult(kind=kind, accepted=frame, rejects=pd.DataFrame(
        {"row": pd.Series([], dtype="int64"), "id": [], "reason": []}), rows=len(frame))


def test_same_id_different_content_is_a_correction(areas, tmp_path):
    raw = pd.DataFrame({"id": ["A"], "datetime": ["2021-11-01 10:00"], "easting": ["545000"],
                        "northing": ["258000"], "notes": ["first"]})
    first = ingest(validate_incidents(raw, areas), tmp_path)
    changed = raw.assign(notes=["second"], id=["A"])
    extra = pd.concat([changed, raw.assign(id=["B"])], ignore_index=True)
    rep = ingest(validate_incidents(extra, areas), tmp_path)
    assert (rep.rows_added, rep.rows_corrected, rep.rows_already_stored) == (1, 1, 0)
    assert rep.version == first.version + 1  # one commit: correction and new row together
    back = read_incidents(tmp_path).set_index("incident_id")
    assert back.loc["A", "notes"] == "second" and back.loc["B", "notes"] == "first"
    assert len(back) == 2
    # the previous version keeps the old content (time travel)
    before = read_incidents(tmp_path, version=first.version).set_index("incident_id")
    assert before.loc["A", "notes"] == "first" and list(before.index) == ["A"]
    history = store_history(tmp_path, "incidents")
    assert history[["version", "operation", "rows_added", "rows_corrected", "rows"]].values.tolist()[:2] \
        == [[2, "ingest", 1, 1, 2], [1, "ingest", 1, 0, 1]]
    # the same corrected content again is a no-op
    again = ingest(validate_incidents(extra, areas), tmp_path)
    assert (again.rows_added, again.rows_corrected, again.rows_already_stored) == (0, 0, 2)
    assert again.version == rep.version


def test_correction_of_one_incident_keeps_the_others_of_its_file(tmp_path):
    three = incidents(occurred_at=["2021-11-01T10:00Z", "2021-11-02T10:00Z", "2021-11-03T10:00Z"],
                      notes=["a", "b", "c"])
    ingest(_result(three), tmp_path)
    moved = incidents(incident_id=["I2"], occurred_at=["2021-11-02T11:30Z"], notes=["b"],
                      easting=[545100.0])
    rep = ingest(_result(moved), tmp_path)
    assert (rep.rows_added, rep.rows_corrected) == (0, 1)
    back = read_incidents(tmp_path).set_index("incident_id").sort_index()
    assert back["notes"].tolist() == ["a", "b", "c"]
    assert back.loc["I2", "occurred_at"] == T("2021-11-02T11:30Z")
    assert back.loc["I2", "easting"] == 545100.0 and back.loc["I2"].geometry.x == 545100.0
    assert back.loc["I1", "occurred_at"] == T("2021-11-01T10:00Z")


def test_identical_incident_from_another_file_row_is_a_no_op(tmp_path):
    one = incidents(occurred_at=["2021-11-01T10:00Z"], reported_force=["Norfolk"])
    ingest(_result(one), tmp_path)
    # another file: other row number, force name spelt differently, id padded and lower case
    same = incidents(incident_id=[" i1 "], occurred_at=["2021-11-01T10:00Z"], source_row=[7],
                     reported_force=["NORFOLK  Constabulary"])
    rep = ingest(_result(same), tmp_path)
    assert (rep.rows_added, rep.rows_corrected, rep.rows_already_stored) == (0, 0, 1)
    assert len(read_incidents(tmp_path)) == 1


def test_camera_ids_and_plates_are_normalised_before_keys(tmp_path):
    first = reads(vrm=["AB12CDE"], read_at=["2021-11-01T10:00Z"], camera_id=["CAM1"])
    rep = ingest(_result(first), tmp_path)
    assert rep.rows_added == 1
    again = reads(vrm=["ab12 cde", "AB12CDE"], read_at=["2021-11-01T10:00Z"] * 2,
                  camera_id=["CAM1 ", " cam1"])
    rep = ingest(_result(again), tmp_path)
    assert (rep.rows_added, rep.rows_already_stored) == (0, 2)
    other = reads(vrm=["AB12CDE"], read_at=["2021-11-01T10:00Z"], camera_id=["CAM 1"])
    assert ingest(_result(other), tmp_path).rows_added == 1  # CAM 1 is another camera
    back = read_sightings(tmp_path)
    assert sorted(back["camera_id"]) == ["CAM 1", "CAM1"]


def test_new_and_missing_columns_are_tolerated(tmp_path):
    ingest(_result(incidents(occurred_at=["2021-11-01T10:00Z"])), tmp_path)
    richer = incidents(incident_id=["I2"], occurred_at=["2021-11-02T10:00Z"],
                       crime_type=["Hare coursing"], lsoa_code=["E01000001"])
    rep = ingest(_result(richer), tmp_path)
    assert rep.rows_added == 1
    back = read_incidents(tmp_path).set_index("incident_id")
    assert back.loc["I2", "crime_type"] == "Hare coursing"
    assert back.loc["I1", "crime_type"] == ""  # older file: not recorded (INCIDENT_DEFAULTS)
    # a batch with the columns empty still goes in; an empty value is no change
    poorer = incidents(incident_id=["I3", "I1"], occurred_at=["2021-11-03T10:00Z",
                                                             "2021-11-01T10:00Z"])
    rep = ingest(_result(poorer), tmp_path)
    assert (rep.rows_added, rep.rows_corrected, rep.rows_already_stored) == (1, 0, 1)
    assert (read_incidents(tmp_path)["crime_type"] == "").sum() == 2
    reads_extra = reads(vrm=["AB12CDE"], read_at=["2021-11-01T10:00Z"], camera_name=["A14 J5"])
    assert ingest(_result(reads_extra), tmp_path).rows_added == 1
    assert read_sightings(tmp_path)["camera_name"].tolist() == ["A14 J5"]


def test_rejects_csv_is_formula_safe(areas, tmp_path):
    raw = pd.DataFrame({"id": ["=cmd|' /C calc'!A0", "+1", "@x", "-2", "ok"],
                        "datetime": [""] * 5, "easting": ["545000"] * 5,
                        "northing": ["258000"] * 5})
    rep = ingest(validate_incidents(raw, areas), tmp_path)
    assert rep.rows_added == 0 and rep.rows_rejected == 5
    with open(rep.rejects_path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["'=cmd|' /C calc'!A0", "'+1", "'@x", "'-2", "ok"]
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert all(r["reason"].startswith("missing time") for r in rows)


def test_sightings_idempotent_and_scannable(areas, tmp_path):
    res = load_sightings(FIX / "sightings_mixed.csv", areas)
    first = ingest(res, tmp_path)
    assert (first.rows_added, first.rows_already_stored, first.rows_rejected) == (3, 0, 6)
    assert (ingest(res, tmp_path).rows_added, ingest(res, tmp_path).rows_already_stored) == (0, 3)
    paths = sightings_paths(tmp_path)
    # one file per (season, month, bucket) touched: two plates, one month
    assert len(paths) == 2 and set(first.part_paths) == set(paths)
    assert first.part_path == first.part_paths[0]
    assert {p.relative_to(tmp_path).parts[:4] for p in paths} == {
        ("tables", "sightings", "season=2021-22", "month=2021-11")}
    n = duckdb.sql(f"select count(*) from read_parquet({[str(p) for p in paths]})").fetchall()[0][0]
    assert n == 3
    back = read_sightings(tmp_path)
    assert list(back.columns) == [*SIGHTING_COLUMNS, "geometry"] and back.crs == BNG
    slim = read_sightings(tmp_path, columns=["vrm", "read_at"])
    assert list(slim.columns) == ["vrm", "read_at"] and not hasattr(slim, "geometry")
    assert sorted(slim["vrm"]) == ["AB12CDE", "AB12CDE", "XY99ZZZ"]


def test_nothing_stored_reads_none(tmp_path):
    assert read_sightings(tmp_path) is None
    assert sightings_paths(tmp_path) == []


@pytest.mark.parametrize("kind", ["incidents", "sightings"])
def test_report_dict(areas, tmp_path, kind):
    loader = load_incidents if kind == "incidents" else load_sightings
    res = loader(FIX / f"{kind}_mixed.csv", areas)
    d = ingest(res, tmp_path).to_dict()
    assert d["kind"] == kind and d["rows_added"] == res.n_accepted
    assert d["part_path"] == d["part_paths"][0] and all(isinstance(p, str) for p in d["part_paths"])


def test_sightings_other_time_range_not_confused(areas, tmp_path):
    from geo.validate.sightings import validate_sightings

    raw = pd.DataFrame({"vrm": ["AB12CDE", "AB12CDE"],
                        "read_at": ["2021-11-01T10:00:00Z", "2021-11-02T10:00:00Z"],
                        "easting": ["545000", "545000"], "northing": ["258000", "258000"]})
    assert ingest(validate_sightings(raw.iloc[:1], areas), tmp_path).rows_added == 1
    rep = ingest(validate_sightings(raw, areas), tmp_path)  # no camera: position identifies
    assert (rep.rows_added, rep.rows_already_stored) == (1, 1)
    assert len(read_sightings(tmp_path)) == 2

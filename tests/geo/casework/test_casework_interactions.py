"""Interactions register: validation row by row, and the register in the store."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.casework import CaseworkInputError
from geo.casework.interactions import (
    INTERACTION_COLUMNS,
    INTERACTION_TYPES,
    normalise_force,
    normalise_type,
    validate_interactions,
)
from geo.io.interactions import (
    append_interactions,
    import_interactions,
    interactions_paths,
    read_interactions,
)

XSS = '<script>alert("x")</script> & <b>bold</b>'


def raw(rows: list[list[str]], header: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=header, dtype="str")


HEADER = ["VRM", "Nominal", "Action", "Force", "Date", "Time", "Officer", "Incident ID", "Notes"]
ROWS = [
    ["ab12 cde", "", "CPW", "Norfolk Constabulary", "03/10/2021", "21:30", "PC 123", "N1", XSS],
    ["", "", "warning", "Kent", "04/10/2021", "10:00", "", "", ""],  # 2: no subject
    ["XY99ZZZ", "", "told off", "Essex", "05/10/2021", "10:00", "", "", ""],  # 3: bad type
    ["ab12 cde", "", "CPW", "Norfolk Constabulary", "03/10/2021", "21:30", "PC 123", "N1", XSS],
    ["XY99ZZZ", "", "s.35 dispersal", "Lincolnshire", "31/02/2022", "10:00", "", "", ""],  # 5
    ["", "P77", "Community Protection Notice", "Herts", "2021-11-09", "20:00", "", "", "  x  "],
]


@pytest.mark.parametrize(("written", "code"), [
    ("CPW", "cpw"), ("Community Protection Warning", "cpw"), ("cpn served", "cpn"),
    ("Community Protection Notice", "cpn"), ("s35 dispersal", "dispersal"),
    ("S.35", "dispersal"), ("Section 35 direction", "dispersal"),
    ("Dispersal Direction", "dispersal"), ("words of advice", "warning"), ("WOA", "warning"),
    ("Words of advice / warning", "warning"), ("dogs seized", "dog_seizure"),
    ("dog_seizure", "dog_seizure"), ("vehicle seized", "vehicle_seizure"), ("Arrested", "arrest"),
    ("Charged", "charge"), ("convicted", "conviction"), ("Other", "other"),
    ("told off", None), ("", None), ("CPW and CPN", None),
])
def test_type_spellings(written, code):
    assert normalise_type(written) == code


def test_every_label_of_the_vocabulary_is_accepted_as_written():
    for code, label in INTERACTION_TYPES.items():
        assert normalise_type(label) == code


@pytest.mark.parametrize(("written", "name"), [
    ("Norfolk Constabulary", "Norfolk"), ("KENT POLICE", "Kent"), ("Herts", "Hertfordshire"),
    ("Cambs", "Cambridgeshire"), ("E23000028", "Essex"), ("Lincolnshire", None), ("", None),
])
def test_forces(written, name):
    assert normalise_force(written) == name


def test_rows_accepted_or_rejected_with_row_number_and_reason():
    result = validate_interactions(raw(ROWS, HEADER))
    assert result.rows == 6
    assert result.n_accepted + result.n_rejected == 6
    assert result.duplicates == 1  # row 4 repeats row 1
    assert len(result.accepted) == 2
    rejects = {r["row"]: r["reason"] for r in result.to_report()["rejects"]}
    assert set(rejects) == {2, 3, 5}
    assert rejects[2] == "missing subject (no plate or person id)"
    assert rejects[3].startswith("unknown interaction type 'told off' (expected one of: ")
    # every problem of a row, in the fixed order (subject, type, force, time)
    assert rejects[5].startswith("force 'Lincolnshire' is not one of the seven forces")
    assert "; invalid date '31/02/2022 10:00' (no such day)" in rejects[5]

    first = result.accepted.iloc[0]
    assert first["subject"] == "AB12CDE" and first["kind"] == "vehicle"
    assert first["type"] == "cpw" and first["type_as_written"] == "CPW"
    assert first["force"] == "Norfolk" and first["force_as_written"] == "Norfolk Constabulary"
    assert first["at"] == pd.Timestamp("2021-10-03T20:30Z")  # 21:30 BST
    assert first["season"] == "2021-22"
    assert first["reference"] == "PC 123" and first["incident_id"] == "N1"
    assert first["note"] == XSS  # exactly as written
    assert first["copies"] == 2 and first["source_row"] == 1

    person = result.accepted.iloc[1]
    assert (person["subject"], person["kind"], person["person_id"]) == ("P77", "person", "P77")
    assert person["force"] == "Hertfordshire" and person["note"] == "  x  "
    assert list(result.accepted.columns) == INTERACTION_COLUMNS


def test_interaction_id_is_stable_and_content_derived():
    a = validate_interactions(raw(ROWS[:1], HEADER)).accepted
    b = validate_interactions(raw(ROWS[:1], HEADER)).accepted
    assert a["interaction_id"].iat[0] == b["interaction_id"].iat[0]
    assert a["interaction_id"].iat[0].startswith("I") and len(a["interaction_id"].iat[0]) == 17
    changed = [ROWS[0][:8] + ["another note"]]
    c = validate_interactions(raw(changed, HEADER)).accepted
    assert c["interaction_id"].iat[0] != a["interaction_id"].iat[0]
    # the same fact written differently (CPW / Community Protection Warning) is the same id
    spelled = [["AB12CDE", "", "Community Protection Warning", "norfolk", "2021-10-03 21:30", "",
                "", "", ""]]
    short = [["ab12cde", "", "cpw", "Norfolk Police", "03/10/2021 21:30", "", "", "", ""]]
    hdr = HEADER[:5] + ["Time2", "Officer", "Incident ID", "Notes"]
    assert (validate_interactions(raw(spelled, hdr)).accepted["interaction_id"].iat[0]
            == validate_interactions(raw(short, hdr)).accepted["interaction_id"].iat[0])


def test_given_id_reused_with_other_content_is_rejected():
    header = ["Interaction ID", "VRM", "Type", "Force", "Occurred At"]
    rows = [["X1", "AB12CDE", "CPW", "Kent", "2021-10-03T20:00Z"],
            ["X1", "AB12CDE", "CPW", "Kent", "2021-10-03T20:00Z"],
            ["X1", "AB12CDE", "CPN", "Kent", "2021-10-03T20:00Z"]]
    result = validate_interactions(raw(rows, header))
    assert result.n_accepted == 2 and result.duplicates == 1
    assert result.to_report()["rejects"] == [
        {"row": 3, "id": "X1",
         "reason": "duplicate interaction id 'X1' with different content (first used on row 1)"}]


def test_file_level_problems_are_said_once():
    result = validate_interactions(raw([["a", "b"]] * 50, ["Colour", "Size"]))
    report = result.to_report()
    assert report["rejected"] == 50 and report["accepted"] == 0
    assert report["rejects"] == []  # not repeated on every row
    problems = report["file_problems"]
    assert problems[0].startswith("no subject column")
    assert any(p.startswith("no type column") for p in problems)
    assert problems[-1].endswith("columns found: 'Colour', 'Size'")
    assert sum("columns found" in p for p in problems) == 1


def test_missing_type_column_alone():
    result = validate_interactions(raw([["AB12CDE", "Kent", "2021-10-03"]],
                                       ["VRM", "Force", "Date"]))
    assert [p.split(";")[0] for p in result.file_problems] == [
        "no type column (expected e.g. 'type', 'action' or 'interaction')"]
    assert result.n_rejected == 1


def test_generic_subject_column_needs_kind():
    hdr = ["Subject", "Kind", "Action", "Force", "Date"]
    ok = validate_interactions(raw([["ab12 cde", "Vehicle", "CPW", "Kent", "2021-10-03"],
                                    ["N123", "person", "CPW", "Kent", "2021-10-03"],
                                    ["Q1", "horse", "CPW", "Kent", "2021-10-03"]], hdr))
    assert ok.accepted[["subject", "kind"]].values.tolist() == [["AB12CDE", "vehicle"],
                                                                 ["N123", "person"]]
    assert ok.to_report()["rejects"][0]["reason"] == ("unknown subject kind 'horse' (expected "
                                                      "'vehicle' or 'person')")
    no_kind = validate_interactions(raw([["AB12CDE", "CPW", "Kent", "2021-10-03"]],
                                        ["Subject", "Action", "Force", "Date"]))
    assert "needs a 'kind' column" in no_kind.file_problems[0]


def test_input_is_not_modified_and_must_be_a_frame():
    frame = raw(ROWS, HEADER)
    before = frame.copy()
    validate_interactions(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(CaseworkInputError):
        validate_interactions([["AB12CDE"]])


# --------------------------------------------------------------------------- register I/O


def test_register_append_is_idempotent_and_partitioned_by_season(tmp_path):
    rows = ROWS + [["AB12CDE", "", "conviction", "Kent", "01/10/2022", "10:00", "", "", ""]]
    accepted = validate_interactions(raw(rows, HEADER)).accepted
    first = append_interactions(accepted, tmp_path)
    assert first.rows_added == 3 and first.rows_already_stored == 0
    folders = sorted(p.parent.name for p in interactions_paths(tmp_path))
    assert folders == ["season=2021-22", "season=2022-23"]
    again = append_interactions(accepted, tmp_path)
    assert again.rows_added == 0 and again.rows_already_stored == 3
    back = read_interactions(tmp_path)
    assert len(back) == 3 and list(back.columns) == INTERACTION_COLUMNS
    assert back["season"].tolist() == ["2021-22", "2021-22", "2022-23"]
    expected = accepted.sort_values(["at", "interaction_id"], ignore_index=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert back["note"].iat[0] == XSS
    assert len(read_interactions(tmp_path, season="2022-23")) == 1
    assert read_interactions(tmp_path, subjects=["P77"])["subject"].tolist() == ["P77"]
    assert read_interactions(tmp_path / "nothing").empty


def test_import_file(tmp_path):
    path = tmp_path / "actions.csv"
    pd.DataFrame(ROWS, columns=HEADER).to_csv(path, index=False)
    result, report = import_interactions(path, tmp_path / "store")
    assert result.to_report()["rejected"] == 3
    assert report.rows_added == 2
    json.dumps(result.to_report())
    json.dumps(report.to_dict())


def test_form_row_is_validated_like_a_file_and_recorded_once(tmp_path):
    from geo.casework.interactions import form_row
    from geo.io.interactions import read_interactions, record_interactions

    bad = form_row(subject="", kind="vehicle", type_text="cpw", force="Norfolk",
                   when="31/02/2021 20:00")
    result, report = record_interactions(bad, tmp_path)
    assert result.n_rejected == 1 and report.rows_added == 0
    assert result.to_report()["rejects"][0]["reason"] == (
        "missing subject (no plate or person id); invalid date '31/02/2021 20:00' (no such day)")
    good = form_row(subject="ab12 cde", kind="vehicle", type_text="cpw", force="Norfolk Constabulary",
                    when="03/10/2021 21:30", note=" kept as written ")
    assert record_interactions(good, tmp_path)[1].rows_added == 1
    assert record_interactions(good, tmp_path)[1].rows_already_stored == 1
    (row,) = read_interactions(tmp_path).to_dict("records")
    assert (row["vrm"], row["type"], row["force"], row["note"]) == (
        "AB12CDE", "cpw", "Norfolk", " kept as written ")
    person = form_row(subject="P1", kind="person", type_text="arrest", force="Essex",
                      when="2021-10-03T21:30:00+01:00")
    assert record_interactions(person, tmp_path)[0].accepted["kind"].tolist() == ["person"]
    with pytest.raises(CaseworkInputError):
        form_row(subject="x", kind="boat", type_text="cpw", force="Essex", when="")

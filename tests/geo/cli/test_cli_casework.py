"""The casework CLI (issue 16): interactions import, offenders with actions, case files, plates.

One hand-made store (built with the store's public ingest API from factories
data): plate AB12CDE has incidents in Norfolk, Suffolk and Cambridgeshire in
2021-22 (stage 3); XY34ZZZ was read with it by two cameras (an associate);
AB17CDE was read near the Suffolk incident (a partial-plate candidate).
"""

from __future__ import annotations

import io
import json

import pytest
from factories import casework_store
from pyproj import Transformer

from geo.cli import main

XSS = "<img src=x onerror=alert(1)>"
INCIDENTS = [
    ("N1", "2021-10-02T20:00:00Z", "Norfolk", "AB12CDE", "", 620000, 300000),
    ("S1", "2021-11-05T21:00:00Z", "Suffolk", "AB12CDE", "", 615000, 260000),
    ("C1", "2021-12-01T22:00:00Z", "Cambridgeshire", "AB12CDE", "", 545000, 258000),
    ("E1", "2022-01-10T16:00:00Z", "Essex", "", "P123", 575000, 205000),
]
READS = [
    ("AB12CDE", "2021-11-05T20:30:00Z", "Suffolk", "CAM1", 614000, 261000),
    ("XY34ZZZ", "2021-11-05T20:32:00Z", "Suffolk", "CAM1", 614000, 261000),
    ("AB12CDE", "2021-11-05T20:50:00Z", "Suffolk", "CAM2", 616000, 259000),
    ("XY34ZZZ", "2021-11-05T20:51:00Z", "Suffolk", "CAM2", 616000, 259000),
    ("AB17CDE", "2021-11-05T22:00:00Z", "Suffolk", "CAM3", 620000, 262000),
    ("AB12CDE", "2021-12-01T21:30:00Z", "Cambridgeshire", "CAM9", 546000, 258000),
    ("ZZ99ZZZ", "2021-12-01T21:31:00Z", "Cambridgeshire", "CAM9", 546000, 258000),
]
REGISTER = (
    "VRM,Person ID,Action,Force,Date/Time,Reference,Incident,Notes\n"
    f'AB12CDE,,words of advice,Norfolk,02/10/2021 21:30,PC 123,N1,"{XSS}"\n'
    "AB12CDE,,CPW,Suffolk,05/11/2021 23:00,PC 456,S1,second\n"
    ",,,Norfolk,,,,\n"
    "XY34ZZZ,,tea and biscuits,Lincolnshire,31/02/2021 20:00,,,\n"
)


@pytest.fixture()
def store(tmp_path):
    return casework_store(tmp_path / "store", INCIDENTS, READS)


@pytest.fixture()
def register_csv(tmp_path):
    path = tmp_path / "interactions.csv"
    path.write_text(REGISTER, encoding="utf-8")
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _imported(store, register_csv, capsys):
    code, out, _ = _run(capsys, "interactions", "import", register_csv, "--data-dir", store)
    return code, json.loads(out)


# --------------------------------------------------------------------------- interactions


def test_interactions_import_reports_row_reasons_and_exit_1(store, register_csv, capsys):
    code, rep = _imported(store, register_csv, capsys)
    assert code == 1
    assert {"rows", "accepted", "rejected", "rejects", "rows_added"} <= set(rep)
    assert (rep["rows"], rep["accepted"], rep["rejected"], rep["rows_added"]) == (4, 2, 2, 2)
    reasons = {r["row"]: r["reason"] for r in rep["rejects"]}
    assert set(reasons) == {3, 4}
    assert reasons[3].startswith("missing subject") and "missing type" in reasons[3]
    assert "unknown interaction type 'tea and biscuits'" in reasons[4]
    assert "'Lincolnshire' is not one of the seven forces" in reasons[4]
    assert "no such day" in reasons[4]
    # the same file again: nothing new is written
    code, rep = _imported(store, register_csv, capsys)
    assert (code, rep["rows_added"], rep["rows_already_stored"]) == (1, 0, 2)


def test_interactions_import_exit_0_clean_and_2_unusable(store, tmp_path, capsys):
    clean = tmp_path / "clean.csv"
    clean.write_text("vrm,type,force,occurred_at\nAB12CDE,CPN,Essex,2022-01-11T10:00:00Z\n")
    code, out, _ = _run(capsys, "interactions", "import", clean, "--data-dir", store)
    assert code == 0 and json.loads(out)["rows_added"] == 1

    no_force = tmp_path / "no_force.csv"
    no_force.write_text("vrm,type,occurred_at\nAB12CDE,CPN,2022-01-11T10:00:00Z\n")
    code, out, err = _run(capsys, "interactions", "import", no_force, "--data-dir", store)
    assert code == 2
    assert json.loads(out)["file_problems"][0].startswith("no force column")
    assert "no force column" in err

    all_bad = tmp_path / "all_bad.csv"
    all_bad.write_text("vrm,type,force,occurred_at\nAB12CDE,CPN,Essex,yesterday\n")
    code, out, err = _run(capsys, "interactions", "import", all_bad, "--data-dir", store)
    assert code == 2 and json.loads(out)["accepted"] == 0
    assert "no row accepted" in err

    code, _, err = _run(capsys, "interactions", "import", tmp_path / "missing.csv",
                        "--data-dir", store)
    assert code == 2 and err


# --------------------------------------------------------------------------- offenders


def test_offenders_json_rows_gain_actions_and_next_action(store, register_csv, boundaries_path,
                                                          capsys):
    _imported(store, register_csv, capsys)
    code, out, _ = _run(capsys, "offenders", "--data-dir", store, "--boundaries", boundaries_path)
    assert code == 0
    rows = {(o["subject"], o["season"]): o for o in json.loads(out)["offenders"]}
    ab = rows[("AB12CDE", "2021-22")]
    assert {"subject", "stage", "evidence", "crossings"} <= set(ab)  # the keys kept
    assert [(a["type"], a["force"], a["at"]) for a in ab["actions"]] == [
        ("warning", "Norfolk", "2021-10-02T20:30:00+00:00"),
        ("cpw", "Suffolk", "2021-11-05T23:00:00+00:00")]
    assert ab["next_action"] == "prosecution file to CPS"
    assert "Community Protection Warning served by Suffolk on 5 Nov 2021" in ab["next_action_rule"]
    assert ab["gaps"] == []
    assert ab["now_in"]["force"] == "Cambridgeshire"
    person = rows[("P123", "2021-22")]
    assert person["actions"] == [] and person["next_action"] == "warning"


# --------------------------------------------------------------------------- case


def test_case_json_has_the_sections_and_associates(store, register_csv, capsys):
    _imported(store, register_csv, capsys)
    code, out, _ = _run(capsys, "case", "ab12 cde", "--format", "json", "--data-dir", store)
    assert code == 0
    case = json.loads(out)
    assert {"subject", "incidents", "reads", "interactions", "ladder", "associates"} <= set(case)
    assert case["subject"] == {"id": "AB12CDE", "kind": "vehicle", "masked": False}
    assert [i["incident_id"] for i in case["incidents"]] == ["N1", "S1", "C1"]
    assert len(case["reads"]) == 3
    assert [a["plate"] for a in case["associates"]] == ["XY34ZZZ"]
    (assoc,) = case["associates"]
    assert assoc["n_cameras"] == 2 and assoc["worth_watching"] is True
    assert [e["camera_id"] for e in assoc["evidence"]] == ["CAM1", "CAM2"]
    assert case["interactions"][0]["note"] == XSS  # in full by default
    assert case["ladder"][-1]["next_action"] == "prosecution file to CPS"


def test_case_mask_masks_plates_and_withholds_notes(store, register_csv, tmp_path, capsys):
    _imported(store, register_csv, capsys)
    out = tmp_path / "case.json"
    code, _, err = _run(capsys, "case", "AB12CDE", "--format", "json", "--mask", "--out", out,
                        "--data-dir", store)
    assert code == 0 and str(out) in err
    text = out.read_text(encoding="utf-8")
    assert "AB12CDE" not in text and "XY34ZZZ" not in text and XSS not in text
    assert json.loads(text)["subject"]["masked"] is True


def test_case_pdf_has_the_section_headings(store, register_csv, boundaries_path, tmp_path,
                                           capsys):
    from pypdf import PdfReader

    _imported(store, register_csv, capsys)
    out = tmp_path / "case.pdf"
    code, _, _ = _run(capsys, "case", "AB12CDE", "--format", "pdf", "--out", out,
                      "--data-dir", store, "--boundaries", boundaries_path)
    assert code == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    text = " ".join(text.split())
    for heading in ("Escalation ladder and next action", "Incidents", "ANPR trail",
                    "Interactions on record", "Associates"):
        assert heading in text, heading
    assert "prosecution file to CPS" in text


def test_case_html_escapes_a_hostile_note(store, register_csv, boundaries_path, capsys):
    _imported(store, register_csv, capsys)
    code, out, _ = _run(capsys, "case", "AB12CDE", "--format", "html", "--data-dir", store,
                        "--boundaries", boundaries_path)
    assert code == 0
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert XSS not in out and "<img src=x" not in out


def test_case_of_an_unknown_subject_is_exit_2(store, capsys):
    code, _, err = _run(capsys, "case", "NOPE123", "--format", "json", "--data-dir", store)
    assert code == 2 and "NOPE123" in err


# --------------------------------------------------------------------------- plates


def test_plates_near_an_incident_ranks_candidates(store, capsys):
    code, out, _ = _run(capsys, "plates", "ab1? cde", "--incident", "S1", "--data-dir", store)
    assert code == 0
    doc = json.loads(out)
    rows = {r["plate"]: r for r in doc["candidates"]}
    assert set(rows) == {"AB12CDE", "AB17CDE"}
    for r in rows.values():
        assert {"plate", "reads", "nearest_km", "nearest_minutes", "score", "on_ladder",
                "misread"} <= set(r)
    assert rows["AB12CDE"]["on_ladder"] is True and rows["AB12CDE"]["reads"] == 2
    assert rows["AB17CDE"]["on_ladder"] is False and rows["AB17CDE"]["misread"] is False
    assert doc["candidates"][0]["plate"] == "AB12CDE"  # closer in time and place
    assert doc["search"]["pattern"] == "AB1?CDE"


def test_plates_misread_near_a_place_and_time(store, capsys):
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(
        615000, 260000)
    code, out, _ = _run(capsys, "plates", "A8I2CDE", "--near", f"{lat:.6f},{lon:.6f}",
                        "--at", "2021-11-05T21:00:00Z", "--km", "5", "--hours", "1",
                        "--data-dir", store)
    assert code == 0
    (cand,) = json.loads(out)["candidates"]
    assert cand["plate"] == "AB12CDE" and cand["misread"] is True


def test_plates_text_mask_and_bad_input(store, capsys):
    code, out, _ = _run(capsys, "plates", "AB1?CDE", "--incident", "S1", "--format", "text",
                        "--mask", "--data-dir", store)
    assert code == 0 and "AB12CDE" not in out and "stage 3" in out
    code, _, err = _run(capsys, "plates", "*", "--incident", "S1", "--data-dir", store)
    assert code == 2 and err
    code, _, err = _run(capsys, "plates", "AB*", "--near", "52.2,0.1", "--data-dir", store)
    assert code == 2 and "--at" in err
    code, _, err = _run(capsys, "plates", "AB*", "--incident", "NOPE", "--data-dir", store)
    assert code == 2 and "NOPE" in err

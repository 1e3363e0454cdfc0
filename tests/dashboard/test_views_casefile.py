"""dashboard.views.casefile: pure shaping of casework results (no Streamlit)."""

from __future__ import annotations

import pandas as pd
from factories import casework_incidents, casework_reads

from dashboard.views import casefile as view
from geo.casework.casefile import case_file
from geo.casework.convoys import associates
from geo.casework.plates import search_plates
from geo.offenders import ladder

INC = [("N1", "2021-10-02T20:00:00Z", "Norfolk", "AB12CDE", ""),
       ("S1", "2021-11-05T21:00:00Z", "Suffolk", "AB12CDE", "P9"),
       ("C1", "2021-12-01T22:00:00Z", "Cambridgeshire", "AB12CDE", ""),
       ("E1", "2022-01-10T16:00:00Z", "Essex", "XY34ZZZ", "")]
READS = [("AB12CDE", "2021-11-05T20:30:00Z", "Suffolk", "CAM1"),
         ("XY34ZZZ", "2021-11-05T20:32:00Z", "Suffolk", "CAM1"),
         ("AB12CDE", "2021-11-05T20:50:00Z", "Suffolk", "CAM2"),
         ("XY34ZZZ", "2021-11-05T20:51:00Z", "Suffolk", "CAM2")]


def test_subject_choices_highest_stage_first_and_masked():
    lad = ladder(casework_incidents(INC))
    plain = view.subject_choices(lad, redact=False)
    assert list(plain)[0] == "vehicle|AB12CDE"
    assert plain["vehicle|AB12CDE"].startswith("AB12CDE (vehicle) · stage 3")
    assert view.parse_choice("person|P9") == ("person", "P9")
    masked = view.subject_choices(lad, redact=True)
    assert "AB12CDE" not in " ".join(masked.values()) and "*" in masked["vehicle|AB12CDE"]
    assert view.subject_choices(lad, redact=False, season="1999-00") == {}


def test_case_tables_keep_time_order_and_the_evidence_chain():
    case = case_file("AB12CDE", incidents=casework_incidents(INC), reads=casework_reads(READS),
                     mask=False)
    inc = view.case_incidents(case)
    assert list(inc["incident"]) == ["N1", "S1", "C1"]
    assert list(inc["force"]) == ["Norfolk", "Suffolk", "Cambridgeshire"]
    ev = view.case_evidence(case)
    assert list(ev["step"]) == [1, 2, 3] and list(ev["incident"]) == ["N1", "S1", "C1"]
    assert view.case_ladder(case)["next action"].iloc[0] == "warning"
    assert len(view.case_reads(case)) == 2
    assert view.download_name(case, "pdf") == "harewatch_case_AB12CDE.pdf"
    labels = [m[0] for m in view.case_summary(case)]
    assert labels[0] == "Incidents" and "Associates" in labels


def test_associate_records_flag_worth_watching_from_step_2():
    reads = casework_reads(READS)
    lad = ladder(casework_incidents(INC))
    recs = view.associate_records(associates(reads, "AB12CDE"), lad, subject_stage=3)
    assert [(r["plate"], r["stage"], r["worth_watching"]) for r in recs] == [("XY34ZZZ", 1, True)]
    assert not view.associate_records(associates(reads, "AB12CDE"), lad,
                                      subject_stage=1)[0]["worth_watching"]
    table = view.associates_table(recs)
    assert list(table["flag"]) == ["worth watching"]
    assert table["camera ids"].iloc[0] == "CAM1, CAM2"
    assert view.associate_records(pd.DataFrame(), lad, subject_stage=3) == []


def test_candidates_table_masks_plates():
    found = search_plates(casework_reads(READS), "AB1?CDE", easting_m=560000,
                          northing_m=260000, at_utc="2021-11-05T21:00:00Z")
    assert list(view.candidates_table(found, redact=False)["plate"]) == ["AB12CDE"]
    assert "AB12CDE" not in set(view.candidates_table(found, redact=True)["plate"])
    assert list(view.candidates_table(None, redact=True).columns)[0] == "plate"


def test_first_reject_reason():
    assert view.first_reject_reason({"rejects": [{"reason": "missing type"}]}) == "missing type"
    assert view.first_reject_reason({"file_problems": ["no force column"]}) == "no force column"

"""Case file: JSON keys and content, masking, HTML escaping, the PDF read back."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest
from factories import casework_incidents as incidents
from factories import casework_reads as reads
from factories import interactions as register
from pypdf import PdfReader

from geo.casework import CaseworkInputError
from geo.casework.casefile import CASE_KEYS, NOTE_WITHHELD, case_file
from geo.casework.render import SECTION_TITLES, render_html, render_pdf, trail_map_png
from geo.offenders import ladder

XSS = '<script>alert("pwned")</script> <img src=x onerror=alert(1)> & "quotes"'
NORFOLK, SUFFOLK, ESSEX, HERTS = (610000, 310000), (610000, 255000), (570000, 210000), (
    520000, 215000)


def _incidents():
    inc = incidents([
        ("H1", "2021-11-09T20:00Z", "Hertfordshire", "AB12CDE", "", *HERTS),
        ("N1", "2021-10-01T20:00Z", "Norfolk", "AB12CDE;ZZ11ZZZ", "P1", *NORFOLK),
        ("E1", "2021-11-20T21:00Z", "Essex", "AB12CDE", "", *ESSEX),
        ("L1", "2021-10-15T21:00Z", "Lincolnshire", "AB12CDE", "", 510000, 370000),
        ("X1", "2021-10-20T21:00Z", "Kent", "QQ11QQQ", "P9", 590000, 150000),
    ])
    inc.loc[inc["incident_id"] == "N1", "notes"] = XSS
    return inc


def _reads():
    rows = []
    for plate, minutes in (("AB12CDE", 0), ("PAL", 2)):
        for k, (cam, place, force) in enumerate((("C1", NORFOLK, "Norfolk"),
                                                 ("C2", SUFFOLK, "Suffolk"),
                                                 ("C3", ESSEX, "Essex"))):
            at = pd.Timestamp("2021-11-20T19:00Z") + pd.Timedelta(minutes=40 * k + minutes)
            rows.append((plate, at.isoformat(), force, cam, *place))
    rows.append(("ONCE", "2021-11-20T19:01Z", "Norfolk", "C1", *NORFOLK))
    return reads(rows)


def _register():
    return register([
        ("AB12CDE", "P1", "words of advice", "Norfolk", "03/10/2021 21:30", "PC 123", "N1", ""),
        ("AB12CDE", "", "CPW", "Hertfordshire", "10/11/2021 10:00", "PC 9", "H1", XSS),
    ])


def _case(**kwargs):
    inc = _incidents()
    return case_file("ab12 cde", incidents=inc, reads=_reads(), interactions=_register(),
                     ladder=ladder(inc), generated_at=pd.Timestamp("2022-01-05T09:00Z")
                     .to_pydatetime(), **kwargs)


def test_case_file_keys_and_content():
    case = _case(mask=False)
    assert list(case) == CASE_KEYS
    case = json.loads(json.dumps(case))  # JSON-able, nothing lost
    assert case["subject"] == {"id": "AB12CDE", "kind": "vehicle", "masked": False}
    assert [i["incident_id"] for i in case["incidents"]] == ["N1", "L1", "H1", "E1"]
    assert [i["counted"] for i in case["incidents"]] == [True, False, True, True]
    n1 = case["incidents"][0]
    assert n1["force"] == "Norfolk" and n1["grid_ref"] == "TG 1000 1000"
    assert n1["local_time"] == "01 Oct 2021 21:00 BST" and n1["notes"] == XSS
    assert n1["vrms"] == ["AB12CDE", "ZZ11ZZZ"]
    assert [r["camera_id"] for r in case["reads"]] == ["C1", "C2", "C3"]
    assert [(c["from_force"], c["to_force"]) for c in case["crossings"]] == [
        ("Norfolk", "Suffolk"), ("Suffolk", "Essex")]
    assert [c["near_incident_ids"] for c in case["crossings"]] == [["E1"], ["E1"]]
    assert [a["type"] for a in case["interactions"]] == ["warning", "cpw"]
    assert case["interactions"][1]["note"] == XSS
    (season,) = case["ladder"]
    assert season["stage"] == 3 and [e["incident_id"] for e in season["evidence"]] == [
        "N1", "H1", "E1"]
    assert season["next_action"] == "prosecution file to CPS"
    assert [a["plate"] for a in case["associates"]] == ["PAL"]
    pal = case["associates"][0]
    assert pal["n_cameras"] == 3 and pal["worth_watching"] is True
    assert [e["camera_id"] for e in pal["evidence"]] == ["C1", "C2", "C3"]
    assert {s["section"] for s in case["sources"]} >= {"Incidents", "ANPR trail", "Associates"}
    assert case["generated_at"] == "2022-01-05T09:00:00+00:00"
    assert case["summary"]["n_incidents"] == 4 and case["summary"]["highest_stage"] == 3


def test_masked_case_file_shows_no_plate_id_or_note():
    case = _case()  # mask=True is the default
    text = json.dumps(case)
    for secret in ("AB12CDE", "ZZ11ZZZ", "PAL\"", "P1\"", "pwned"):
        assert secret not in text
    assert case["subject"]["id"] == "AB12 C**"
    assert case["associates"][0]["plate"] == "P**"
    assert case["incidents"][0]["notes"] == NOTE_WITHHELD
    assert case["interactions"][1]["note"] == NOTE_WITHHELD
    assert case["interactions"][0]["person_id"] == "P*"


def test_person_subject_and_errors():
    inc = _incidents()
    case = case_file("P1", incidents=inc, reads=_reads(), interactions=_register(), mask=False)
    assert case["subject"]["kind"] == "person"
    assert [i["incident_id"] for i in case["incidents"]] == ["N1"]
    assert case["reads"] == [] and case["associates"] == [] and case["crossings"] == []
    assert [a["type"] for a in case["interactions"]] == ["warning"]
    with pytest.raises(CaseworkInputError, match="none of the incidents"):
        case_file("NOBODY", incidents=inc)
    both = incidents([("A", "2021-10-01T20:00Z", "Norfolk", "X1", "X1")])
    with pytest.raises(CaseworkInputError, match="both a plate and a person"):
        case_file("X1", incidents=both)
    assert case_file("X1", incidents=both, kind="person")["subject"]["kind"] == "person"


def test_html_escapes_every_data_string():
    page = render_html(_case(mask=False), include_map=False)
    assert "<script>alert" not in page and "onerror=alert(1)>" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert page.count("&lt;script&gt;") == 2  # the incident note and the interaction note
    for k, title in enumerate(SECTION_TITLES, start=1):
        assert f"<h2>{k}. {title}</h2>" in page
    assert "Generated by Harewatch on 05 Jan 2022 09:00 GMT" in page
    assert "prosecution file to CPS" in page


def test_map_png(areas):
    png = trail_map_png(_case(mask=False), areas=areas)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    empty = trail_map_png(json.loads(json.dumps({"reads": [], "incidents": [],
                                                 "crossings": []})))
    assert empty[:4] == b"\x89PNG"


def test_pdf_sections_page_numbers_and_footer(areas):
    case = _case(mask=False, synthetic=True)
    case["reads"] = case["reads"] * 40  # long enough for several pages
    pdf = render_pdf(case, areas=areas)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() for p in reader.pages]
    n = len(pages)
    assert n >= 3
    for k, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert f"Page {k} of {n}" in flat
        assert "Generated by Harewatch on 05 Jan 2022 09:00 GMT" in flat
        assert "SYNTHETIC DEMO DATA" in flat
        assert "OFFICIAL-SENSITIVE" in flat
    whole = " ".join(" ".join(pages).split())
    positions = [whole.find(f"{k}. {title}") for k, title in enumerate(SECTION_TITLES, start=1)]
    assert -1 not in positions and positions == sorted(positions)
    assert "<script>alert" in whole  # shown as text, never markup
    assert re.search(r"Case file: AB12CDE \(vehicle\)", whole)
    assert reader.metadata.title == "Case file: AB12CDE (vehicle)"


def test_pdf_survives_a_very_long_multiline_note():
    case = _case(mask=False)
    case["interactions"][1]["note"] = "line one\nline two " + "x" * 20_000
    pdf = render_pdf(case)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "line one line two" in text and "cut here" in text
    assert "x" * 20_000 in render_html(case, include_map=False)  # the HTML keeps it all


def test_inputs_are_not_modified():
    inc, trail, regs = _incidents(), _reads(), _register()
    copies = [x.copy(deep=True) for x in (inc, trail, regs)]
    case_file("AB12CDE", incidents=inc, reads=trail, interactions=regs)
    for before, after in zip(copies, (inc, trail, regs), strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_missing_columns_are_a_clear_error():
    with pytest.raises(CaseworkInputError, match="reads lack column"):
        case_file("AB12CDE", incidents=_incidents(), reads=_reads().drop(columns="camera_id"))

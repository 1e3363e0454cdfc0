"""One bad line never sinks a file: every row is read, or rejected in place with its reason."""

from __future__ import annotations

import io
import zipfile

import pandas as pd
import pytest

from geo._config import Settings
from geo.errors import UnreadableFile
from geo.io.readers import read_table
from geo.pipeline.ingest import check_file
from geo.validate.incidents import validate_incidents

HEAD = "incident_id,occurred_at,easting,northing\n"


def good(i: int) -> str:
    return f"I{i},2021-10-01 20:{i % 60:02d},545{i % 1000:03d},258000\n"


def rows_and_problems(data: bytes, name: str = "x.csv"):
    frame = read_table(io.BytesIO(data), name=name)
    return frame, frame.attrs["row_problems"]


def test_ragged_rows_rejected_in_place():
    frame, problems = rows_and_problems(
        (HEAD + good(1) + "I2,2021-10-01 20:02,545002\n" + good(3) + "I4,x,1,2,3\n").encode())
    assert len(frame) == 4
    assert problems == {1: "3 fields where the header has 4", 3: "5 fields where the header has 4"}
    assert list(frame["incident_id"]) == ["I1", "", "I3", ""]


def test_ragged_last_row_of_a_1m_row_file_loses_only_itself(areas):
    n = 1_000_000
    body = "".join(f"I{i},2021-10-01 20:{i % 60:02d},545{i % 1000:03d},258000\n" for i in range(n))
    text = HEAD + body + "I-bad,2021-10-01 20:00,545000\n"
    res = validate_incidents(read_table(io.BytesIO(text.encode()), name="big.csv"), areas)
    assert (res.rows, res.n_accepted, res.n_rejected) == (n + 1, n, 1)
    assert res.rejects.iloc[0]["row"] == n + 1
    assert res.rejects.iloc[0]["reason"] == "3 fields where the header has 4"


def test_unclosed_quote_rejects_its_row_and_keeps_the_lines_it_swallowed():
    data = (HEAD + good(1) + 'I2,"2021-10-01 20:02,545002,258000\n' + good(3) + good(4)).encode()
    frame, problems = rows_and_problems(data)
    assert list(frame["incident_id"]) == ["I1", "", "I3", "I4"]
    assert problems == {1: "unclosed quote (a field opens a quote that never closes)"}


def test_quoted_newlines_in_notes_are_still_one_field():
    frame, problems = rows_and_problems(
        b'id,notes\n1,"seen at the gate,\nthen left"\n2,plain\n')
    assert problems == {} and list(frame["notes"]) == ["seen at the gate,\nthen left", "plain"]


def test_undecodable_bytes_in_a_utf8_file_reject_that_row_only():
    data = (HEAD + good(1)).encode() + b"I2,\xff\xfe bad,545002,258000\n" + (
        good(3) + "I4,caf\u00e9,1,2\n").encode()
    frame, problems = rows_and_problems(data)
    assert list(problems) == [1] and problems[1].startswith("bytes that are not text (byte 0xff")
    assert list(frame["incident_id"]) == ["I1", "", "I3", "I4"]
    assert frame.loc[3, "occurred_at"] == "caf\u00e9"  # the rest stays UTF-8


def test_windows_1252_file_still_reads():
    frame, problems = rows_and_problems("id,notes\n1,\u00a3 5 caf\u00e9\n".encode("cp1252"))
    assert problems == {} and frame.loc[0, "notes"] == "\u00a3 5 caf\u00e9"


def test_utf16_with_bom_is_read():
    frame, problems = rows_and_problems("id,notes\n1,caf\u00e9\n".encode("utf-16"))
    assert problems == {} and frame.loc[0, "notes"] == "caf\u00e9"


def test_oversized_field_is_a_row_reject_not_a_lost_file(areas):
    data = (HEAD + good(1) + "I2,2021-10-01 20:02," + "9" * 2_000_000 + ",258000\n" + good(3)).encode()
    res = validate_incidents(read_table(io.BytesIO(data), name="x.csv"), areas)
    assert (res.n_accepted, res.n_rejected) == (2, 1)
    assert "2,000,000 characters; the limit is 32,767" in res.rejects.iloc[0]["reason"]


def test_a_file_with_no_readable_row_is_unreadable():
    with pytest.raises(UnreadableFile, match="no row could be read"):
        read_table(io.BytesIO(b"a,b\n1,2,3\n4\n"), name="x.csv")


def test_two_columns_with_one_name_said_once(areas):
    data = b"incident_id,occurred_at,easting,northing,notes,Notes\nI1,2021-10-01 20:00,545000,258000,a,b\n"
    frame = read_table(io.BytesIO(data), name="x.csv")
    assert frame.attrs["notes"] == ["two columns are named 'Notes' (columns 5 and 6): the first is used"]
    res = validate_incidents(frame, areas)
    assert res.to_report()["notes"] == frame.attrs["notes"]


def test_wrong_columns_said_once_with_what_was_found(areas):
    check = check_file(io.BytesIO(b"name,colour,size\nRex,brown,large\nFido,black,small\n"), areas,
                       name="dogs.csv")
    assert not check.ok
    assert "no time or location column; found: name, colour, size" in check.error


def test_swapped_latitude_longitude_gets_a_hint(areas):
    raw = pd.DataFrame({"incident_id": ["S1"], "occurred_at": ["2021-10-01 20:00"],
                        "latitude": ["0.12"], "longitude": ["52.2"]})
    res = validate_incidents(raw, areas)
    assert "look swapped" in res.rejects.iloc[0]["reason"]


def test_implausible_years_are_rejected(areas):
    raw = pd.DataFrame({"incident_id": ["Y1", "Y2", "Y3", "Y4"],
                        "occurred_at": ["0001-10-01 20:00", "1900-10-01 20:00", "9999-10-01 20:00",
                                        "2021-10-01 20:00"],
                        "easting": ["545000"] * 4, "northing": ["258000"] * 4})
    res = validate_incidents(raw, areas)
    assert list(res.accepted["incident_id"]) == ["Y4"]
    assert all("implausible date" in r or "unparseable" in r for r in res.rejects["reason"])
    assert "before 2000" in res.rejects.iloc[1]["reason"]
    assert "in the future" in res.rejects.iloc[2]["reason"]


def _xlsx(rows: list[list], formula_cells: dict[str, str] | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for ref, formula in (formula_cells or {}).items():
        ws[ref] = formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_formula_without_saved_value_is_said(areas):
    data = _xlsx([["incident_id", "occurred_at", "easting", "northing"],
                  ["I1", "2021-10-01 20:00", 545000, 258000],
                  [None, "2021-10-01 20:05", 545100, 258000]], {"A3": '=CONCAT("I","2")'})
    frame = read_table(io.BytesIO(data), name="x.xlsx")
    assert frame.attrs["row_problems"] == {
        1: "formula cell without a saved value (incident_id): open the file in Excel and save it again"}
    res = validate_incidents(frame, areas)
    assert res.n_accepted == 1 and "formula" in res.rejects.iloc[0]["reason"]


def test_xlsx_bomb_refused_before_unpacking():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (64 * 1024 * 1024))  # compresses to ~64 KB
    limits = Settings(max_unpacked_bytes=32 * 1024 * 1024)
    with pytest.raises(UnreadableFile, match="zip bomb"):
        read_table(buf.getvalue(), name="bomb.xlsx", limits=limits)


def test_file_size_and_row_caps(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text(HEAD + good(1) + good(2) + good(3), encoding="utf-8")
    with pytest.raises(UnreadableFile, match="over the limit of 2 rows"):
        read_table(p, limits=Settings(max_rows=2))
    with pytest.raises(UnreadableFile, match="MB per file"):
        read_table(p, limits=Settings(max_file_bytes=10))

"""data.police.uk files as published: street, outcomes, stop and search, any header spelling or none.

Fixtures are hand-written rows in the published layouts (tests/fixtures/policeuk/), validated
against the official ONS BUC boundaries the product ships.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from factories import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.cli import main
from geo.hotspots import NOT_KNOWN_MONTH_ONLY, find_hotspots
from geo.io.readers import read_table
from geo.pipeline.ingest import check_file
from geo.seasons import filter_incidents
from geo.validate.incidents import validate_incidents
from geo.validate.layouts import STREET, layout_of_row

PU = FIXTURES / "policeuk"
STREET_FILE = PU / "2021-10-essex-street.csv"
ASB_ROWS = [1, 2, 3, 8]  # 1-based data rows of anti-social behaviour (blank Crime ID)


@pytest.fixture(scope="module")
def street(ons_areas):
    check = check_file(STREET_FILE, ons_areas)
    assert check.ok, check.error
    return check


def test_street_file_read_as_published_layout(street):
    res = street.result
    assert street.kind == "incidents" and street.read_as == "data.police.uk street file"
    assert (res.rows, res.n_accepted, res.n_rejected, res.collapsed) == (9, 8, 1, 0)
    assert res.rejects.iloc[0]["row"] == 7
    assert "No Location" in res.rejects.iloc[0]["reason"]


def test_month_is_kept_as_a_month(street):
    acc = street.result.accepted
    assert set(acc["time_precision"]) == {"month"}
    # the month's first instant in London (BST on 1 October): not a made-up day or hour
    assert (acc["occurred_at"] == pd.Timestamp("2021-09-30 23:00", tz="UTC")).all()


def test_what_police_record_is_kept(street):
    acc = street.result.accepted.set_index("source_row")
    assert acc.loc[4, "crime_type"] == "Criminal damage and arson"
    assert acc.loc[4, "outcome"] == "Investigation complete; no suspect identified"
    assert acc.loc[4, "location"] == "On or near Duke Street"
    assert (acc.loc[4, "lsoa_code"], acc.loc[4, "lsoa_name"]) == ("E01021567", "Chelmsford 011C")
    assert acc.loc[9, "context"] == "Reported near the county boundary"
    assert acc.loc[1, "reported_force"] == "Essex Police"


def test_reporting_force_kept_and_disagreement_counted(street):
    acc = street.result.accepted.set_index("source_row")
    # row 9 is reported by Essex Police but lies in Cambridge
    assert acc.loc[9, "force"] == "Cambridgeshire" and acc.loc[9, "force_mismatch"]
    assert not acc.drop(index=9)["force_mismatch"].any()
    assert street.result.to_report()["force_mismatches"] == 1


def test_asb_rows_get_stable_content_ids_and_identical_reports_stay_separate(street, ons_areas):
    acc = street.result.accepted.set_index("source_row")
    asb = acc.loc[ASB_ROWS, "incident_id"]
    assert asb.str.match(r"^row-[0-9a-f]{16}(-\d+)?$").all()
    # rows 1 and 2 are identical reports (same month and map point): two incidents, not one
    assert asb[2] == asb[1] + "-2"
    again = check_file(STREET_FILE, ons_areas).result.accepted.set_index("source_row")
    assert list(again.loc[ASB_ROWS, "incident_id"]) == list(asb)
    assert acc.loc[4, "incident_id"].startswith("ca978112")


def test_coastal_row_is_assigned_to_the_nearest_force(street):
    row = street.result.accepted.set_index("source_row").loc[6]  # Canvey Point, off the BUC coast
    assert row["force"] == "Essex"
    assert 0 < row["force_distance_m"] < 1000
    assert street.result.to_report()["nearest_force"] == 1


@pytest.mark.parametrize("variant", ["snake", "noheader"])
@pytest.mark.parametrize("kind", ["street", "outcomes", "stop-and-search"])
def test_snake_case_and_headerless_copies_give_the_same_rows(ons_areas, kind, variant):
    base = check_file(PU / f"2021-10-essex-{kind}.csv", ons_areas)
    other = check_file(PU / f"2021-10-essex-{kind}-{variant}.csv", ons_areas)
    assert other.ok and other.read_as == base.read_as
    pd.testing.assert_frame_equal(other.result.accepted, base.result.accepted)
    pd.testing.assert_frame_equal(other.result.rejects, base.result.rejects)


def test_outcomes_file(ons_areas):
    check = check_file(PU / "2021-10-essex-outcomes.csv", ons_areas)
    assert check.kind == "outcomes" and check.result.kind == "outcomes"
    acc = check.result.accepted
    assert list(acc["outcome"]) == ["Investigation complete; no suspect identified",
                                    "Offender given a caution"]
    assert acc["incident_id"].str.len().eq(64).all()


def test_stop_and_search_file(ons_areas):
    check = check_file(PU / "2021-10-essex-stop-and-search.csv", ons_areas)
    acc = check.result.accepted
    assert check.kind == "incidents" and check.read_as == "data.police.uk stop and search file"
    assert set(acc["time_precision"]) == {"minute"}  # Date is a full ISO time with +00:00
    assert acc["occurred_at"].iloc[0] == pd.Timestamp("2021-10-02 21:40", tz="UTC")
    assert set(acc["crime_type"]) == {"Stop and search"}
    assert acc["legislation"].iloc[1] == "Misuse of Drugs Act 1971 (section 23)"
    assert acc["object_of_search"].iloc[0] == "Articles for use in criminal damage"
    assert acc["outcome"].iloc[2] == "Community resolution"
    assert acc["context"].iloc[0] == "Person and Vehicle search"
    assert acc["incident_id"].str.startswith("row-").all()


def test_unknown_headerless_file_is_refused_plainly(ons_areas):
    check = check_file(io.BytesIO(b"7,2021-10-01 20:00,51.7,0.47\n8,2021-10-02 21:00,51.7,0.47\n"),
                       ons_areas, name="x.csv")
    assert not check.ok and "no header: the first row looks like data" in check.error


def test_first_row_shape_recognises_the_layout_only_when_it_fits():
    row = STREET_FILE.read_text().splitlines()[1].split(",")
    assert layout_of_row(row) == STREET
    assert layout_of_row(row[:-1]) is None
    assert layout_of_row([*row[:1], "October", *row[2:]]) is None


# ------------------------------------------------------------- any column order, any spelling


def _spell(name: str, style: int) -> str:
    if style == 0:
        return name
    if style == 1:
        return name.lower().replace(" ", "_")
    if style == 2:
        return name.upper()
    return f" {name.replace(' ', '-')} "


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(list(range(len(STREET.columns)))),
       styles=st.lists(st.integers(0, 3), min_size=len(STREET.columns), max_size=len(STREET.columns)))
def test_shuffled_columns_and_header_spellings_parse_to_the_same_rows(ons_areas, order, styles):
    raw = read_table(STREET_FILE)
    base = validate_incidents(raw, ons_areas)
    shuffled = raw.iloc[:, list(order)].copy()
    shuffled.columns = [_spell(STREET.columns[i], styles[i]) for i in order]
    buf = io.BytesIO(shuffled.to_csv(index=False).encode("utf-8"))
    again = validate_incidents(read_table(buf, name="x.csv"), ons_areas)
    pd.testing.assert_frame_equal(again.accepted.drop(columns="incident_id"),
                                  base.accepted.drop(columns="incident_id"))
    # derived ids hash the cells in file order; explicit Crime IDs are unchanged
    explicit = base.accepted["incident_id"].str.len() == 64
    assert list(again.accepted["incident_id"][explicit]) == list(base.accepted["incident_id"][explicit])


# ------------------------------------------------------------- month-only dates stay honest


def test_month_only_dates_never_invent_a_weekday_or_hour(street):
    inc = street.result.accepted
    res = find_hotspots(inc, eps_m=500, min_samples=2)
    assert len(res.hotspots) == 1
    h = res.hotspots.iloc[0]
    assert h["busiest_month"] == "Oct"
    assert h["busiest_weekday"] == NOT_KNOWN_MONTH_ONLY and h["busiest_hours"] == NOT_KNOWN_MONTH_ONLY
    night = filter_incidents(inc, hours=(20, 4))
    assert night.empty and night.attrs["excluded_unknown_time"] == len(inc)
    weekend = filter_incidents(inc, days=[4, 5])
    assert weekend.empty and weekend.attrs["excluded_unknown_time"] == len(inc)
    # seasons and months work on month-only rows
    assert len(filter_incidents(inc, season="2021-22")) == len(inc)
    assert filter_incidents(inc, season="2021-22").attrs["excluded_unknown_time"] == 0


def test_crime_type_filter(street):
    inc = street.result.accepted
    asb = filter_incidents(inc, crime_types=["anti-social  BEHAVIOUR"])
    assert sorted(asb["source_row"]) == ASB_ROWS
    assert filter_incidents(inc, crime_types=[]).empty


# ------------------------------------------------------------- the CLI on a data.police.uk file


def test_cli_validate_and_ingest_with_no_options(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HAREWATCH_BOUNDARIES")  # the shipped ONS file is the default
    store = tmp_path / "store"
    assert main(["validate", str(STREET_FILE), "--format", "json"]) == 1
    out = capsys.readouterr()
    report = json.loads(out.out)
    assert "read as data.police.uk street file" in out.err
    assert (report["rows"], report["accepted"], report["rejected"]) == (9, 8, 1)
    assert report["time_precision"] == {"minute": 0, "day": 0, "month": 8}
    assert main(["ingest", "incidents", str(STREET_FILE), "--data-dir", str(store)]) == 1
    first = json.loads(capsys.readouterr().out)
    assert (first["rows_added"], first["force_mismatches"]) == (8, 1)
    assert main(["ingest", "incidents", str(STREET_FILE), "--data-dir", str(store)]) == 1
    assert json.loads(capsys.readouterr().out)["rows_added"] == 0  # idempotent, ASB rows included
    assert main(["hotspots", "--data-dir", str(store), "--eps-m", "500", "--min-samples", "2",
                 "--force", "Essex Police", "--crime-type", "Anti-social behaviour"]) == 0
    hot = json.loads(capsys.readouterr().out)["hotspots"]
    assert [h["n"] for h in hot] == [2] and hot[0]["busiest_hours"] == NOT_KNOWN_MONTH_ONLY


def test_cli_force_names_as_police_write_them(tmp_path, capsys):
    for name in ("Essex", "Essex Police", "E23000028", "essex constabulary"):
        assert main(["hotspots", "--incidents", str(STREET_FILE), "--force", name, "--eps-m", "500",
                     "--min-samples", "2", "--boundaries",
                     str(FIXTURES.parent.parent / "data/boundaries/Police_Force_Areas_December_2023_EW_BUC.geojson")]) == 1  # the unlocated row is skipped
        assert json.loads(capsys.readouterr().out)["params"]["n_incidents"] == 7  # row 9 is in Cambridge
    assert main(["hotspots", "--incidents", str(STREET_FILE), "--force", "Esex"]) == 2
    assert "did you mean Essex" in capsys.readouterr().err


def test_ingest_of_a_file_with_no_accepted_row_fails_with_the_commonest_reasons(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("incident_id,occurred_at,easting,northing\n"
                   "A,2021-10-01 20:00,,\nB,2021-10-01 21:00,,\nC,yesterday,545000,258000\n",
                   encoding="utf-8")
    assert main(["ingest", "incidents", str(bad), "--data-dir", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "no row accepted" in err and "missing coordinates (2)" in err
    assert "unparseable time" in err
    assert not (tmp_path / "s" / "incidents").exists()


def test_ten_km_grid_references_stay_refused_and_say_why(areas):
    raw = pd.DataFrame({"incident_id": ["G1", "G2", "G3"],
                        "occurred_at": ["2021-10-01 20:00"] * 3,
                        "grid ref": ["TL46", "TL 45 67", "TL"]})
    res = validate_incidents(raw, areas)
    reasons = dict(zip(res.rejects["row"], res.rejects["reason"], strict=True))
    assert "only a 10 km square" in reasons[1] and "at least 4 digits" in reasons[1]
    assert "100 km square" in reasons[3]
    assert list(res.accepted["incident_id"]) == ["G2"]
    np.testing.assert_allclose(res.accepted[["easting", "northing"]].to_numpy()[0],
                               [545500, 267500])


def test_a_repeated_rejected_row_is_rejected_not_collapsed(ons_areas):
    # a crime published twice with no location, and twice far out at sea: each copy is a
    # reject with its reason (not also a collapsed repeat); an accepted row's copy collapses
    lines = STREET_FILE.read_text(encoding="utf-8").splitlines()
    sea = "f" * 64 + lines[4][64:].replace("0.473012,51.735188", "2.900000,52.900000")
    body = [lines[0], lines[7], lines[7], sea, sea, lines[4], lines[4]]
    res = check_file(("\n".join(body) + "\n").encode(), ons_areas, name="s.csv").result
    assert (res.rows, res.n_accepted, res.n_rejected, res.collapsed) == (6, 1, 4, 1)
    assert list(res.rejects["row"]) == [1, 2, 3, 4]
    assert res.rejects["reason"].str.contains("No Location").sum() == 2
    assert res.rejects["reason"].str.contains("outside the region").sum() == 2


def _fnv_reference(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) % 2**64
    return h


def test_content_ids_are_the_published_hash_of_the_joined_cells(ons_areas):
    # the id format existing stores hold: "row-" + 16 hex digits of the 64-bit FNV-1a of every
    # cell joined with U+001F, "-2", "-3" on identical repeats (in file order)
    raw = read_table(STREET_FILE)
    ids = validate_incidents(raw, ons_areas).accepted.set_index("source_row")["incident_id"]
    seen: dict[str, int] = {}
    for row in ASB_ROWS:
        base = f"row-{_fnv_reference(chr(0x1F).join(raw.iloc[row - 1])):016x}"
        seen[base] = seen.get(base, 0) + 1
        assert ids[row] == base + ("" if seen[base] == 1 else f"-{seen[base]}")


def test_content_ids_survive_a_hash_collision(ons_areas, monkeypatch):
    # every content given one hash: the rows are grouped by their text instead, same ids
    import geo.validate.incidents as incidents

    raw = read_table(STREET_FILE)
    want = validate_incidents(raw, ons_areas).accepted["incident_id"]
    real, calls = incidents.fnv1a64, []

    def colliding(values):
        calls.append(len(values))
        return real(values) * 0 if len(calls) == 1 else real(values)

    monkeypatch.setattr(incidents, "fnv1a64", colliding)
    got = validate_incidents(raw, ons_areas).accepted["incident_id"]
    assert len(calls) == 2
    pd.testing.assert_series_equal(got, want)


@pytest.mark.parametrize("text,published", [("No Location", True), ("  no location ", True),
                                            ("NO LOCATION", True), ("No Location Given", False),
                                            ("On or near No Location Road", False)])
def test_no_location_is_said_in_any_case_and_spacing_only_when_it_is_the_whole_text(
        ons_areas, text, published):
    lines = STREET_FILE.read_text(encoding="utf-8").splitlines()
    row = lines[7].replace("No Location", text)
    res = check_file(f"{lines[0]}\n{row}\n".encode(), ons_areas, name="s.csv").result
    reason = res.rejects["reason"].iloc[0]
    assert ("the file gives 'No Location'" in reason) == published
    assert published or reason == "missing coordinates"

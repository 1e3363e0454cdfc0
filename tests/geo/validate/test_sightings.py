"""validate_sightings: one plate per read, duplicates, plate normalisation."""

from __future__ import annotations

import pandas as pd
from factories import FIXTURES as FIX
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.pipeline.ingest import load_sightings
from geo.schema import BNG, SIGHTING_COLUMNS
from geo.validate.common import normalise_plates
from geo.validate.sightings import validate_sightings


def test_mixed_file_row_by_row(areas):
    res = load_sightings(FIX / "sightings_mixed.csv", areas)
    assert res.kind == "sightings"
    assert (res.rows, res.n_accepted, res.n_rejected) == (9, 3, 6)
    reasons = dict(zip(res.rejects["row"], res.rejects["reason"], strict=True))
    assert reasons == {
        2: "duplicate read (same plate, time and camera/position as row 1)",
        4: "missing plate (vrm)",
        5: "an ANPR read names one plate, got 2",
        7: "duplicate read (same plate, time and camera/position as row 6)",
        8: "unparseable time 'not a time' (expected ISO 8601 or dd/mm/yyyy HH:MM)",
        9: reasons[9],
    }
    assert reasons[9].startswith("location outside the region")
    acc = res.accepted
    assert list(acc.columns) == [*SIGHTING_COLUMNS, "geometry"] and acc.crs == BNG
    assert list(acc["vrm"]) == ["AB12CDE", "AB12CDE", "XY99ZZZ"]
    assert list(acc["force"]) == ["Cambridgeshire", "Norfolk", "Suffolk"]
    assert list(acc["camera_id"]) == ["CAM1", "CAM2", ""]
    assert list(acc["source_row"]) == [1, 3, 6]
    assert acc["read_at"].iloc[0] == pd.Timestamp("2021-11-01 10:00", tz="UTC")


def test_same_plate_time_different_camera_is_not_duplicate(areas):
    raw = pd.DataFrame({"vrm": ["AB12CDE", "AB12CDE", "AB12CDE"],
                        "timestamp": ["2021-11-01T10:00:00Z"] * 3,
                        "site": ["S1", "S2", "S1"],
                        "easting": ["545000", "545000", "546000"],
                        "northing": ["258000"] * 3})
    res = validate_sightings(raw, areas)
    # row 3: same camera as row 1 (position differs but the camera identifies the read)
    assert list(res.rejects["row"]) == [3]
    assert res.n_accepted == 2


def test_several_problems_joined(areas):
    raw = pd.DataFrame({"vrm": [""], "read_at": ["31/02/2021"], "lat": [""], "lon": [""]})
    res = validate_sightings(raw, areas)
    assert res.rejects["reason"].iloc[0] == (
        "invalid date '31/02/2021' (no such day); missing coordinates; missing plate (vrm)")


_plate_chars = st.sampled_from(list("ABCDEFGHJKLMNOPRSTUVWXYZ0123456789abcxyz "))


@settings(deadline=None)
@given(st.lists(st.lists(_plate_chars, min_size=0, max_size=9).map("".join), max_size=4),
       st.sampled_from([";", ",", "|", " ; ", ", "]))
def test_plate_normalisation_idempotent(parts, sep):
    text = sep.join(parts)
    once, count = normalise_plates(pd.Series([text]))
    twice, count2 = normalise_plates(once)
    assert list(once) == list(twice) and list(count) == list(count2)
    out = once.iloc[0]
    assert out == out.upper() and " " not in out
    expected = [p.replace(" ", "").upper() for p in parts if p.strip()]
    assert out == ";".join(expected) and count[0] == len(expected)


_cell = st.sampled_from(["", " ", "AB12CDE", "a;b", "2021-11-01T10:00:00", "31/02/2021",
                         "52.2053", "0.1218", "nan", "95", "TL4558", "545000", "258000",
                         "CAM1", "=1+1", "<b>x</b>"])


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(_cell, _cell, _cell, _cell, _cell, _cell), max_size=12))
def test_any_rows_accounted_for(areas, rows):
    raw = pd.DataFrame(rows, columns=["vrm", "read_at", "lat", "lon", "grid ref", "camera"],
                       dtype="str")
    res = validate_sightings(raw, areas)
    assert res.n_accepted + res.n_rejected == len(rows)
    assert sorted([*res.accepted["source_row"], *res.rejects["row"]]) == list(
        range(1, len(rows) + 1))
    assert (res.rejects["reason"] != "").all()

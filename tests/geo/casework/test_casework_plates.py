"""Partial plates: pattern syntax, misreads, ranking, and the store engine."""

from __future__ import annotations

import fnmatch
import json
import re

import pandas as pd
import pytest
from factories import casework_incidents as incidents
from factories import casework_reads as reads
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.casework import CaseworkInputError
from geo.casework.plates import (
    CANDIDATE_COLUMNS,
    MISREAD_FACTOR,
    MISREADS,
    candidates_to_json,
    match_plates,
    origin_from_latlon,
    origin_of_incident,
    parse_pattern,
    search_plates,
)
from geo.engines.plates import search_plates_store
from geo.io.store.write import write_sightings
from geo.offenders import ladder

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

# --------------------------------------------------------------------------- syntax


def test_pattern_syntax_examples():
    p = parse_pattern("AB12*")
    assert p.text == "AB12*" and p.known == 4
    assert [bool(re.fullmatch(p.exact, x)) for x in ("AB12CDE", "AB12", "AB1", "XAB12CDE")] == [
        True, True, False, False]
    q = parse_pattern(" ab1? cde ")
    assert q.text == "AB1?CDE" and q.known == 6
    assert [bool(re.fullmatch(q.exact, x)) for x in ("AB12CDE", "AB1XCDE", "AB1CDE",
                                                      "AB12XCDE")] == [True, True, False, False]
    assert parse_pattern("a b 1 2 * * c").text == "AB12*C"  # runs of * collapse


@pytest.mark.parametrize("bad", ["", "*", "A*", "??", "AB-12", "AB12%", "AB_1", "Ä B12"])
def test_bad_patterns_are_refused(bad):
    with pytest.raises(CaseworkInputError):
        parse_pattern(bad)


def test_misread_table():
    assert MISREADS == {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B",
                        "B": "8"}
    found = match_plates(["AB12CDE", "A812CDE", "AB1ZCDE", "A8I2CDE", "AB12CDF", "0B12CDE"],
                         "AB12CDE")
    assert found.to_dict("records") == [
        {"plate": "A812CDE", "misread": True},  # 8 for B
        {"plate": "A8I2CDE", "misread": True},  # 8 for B and I for 1
        {"plate": "AB12CDE", "misread": False},
    ]
    both_ways = match_plates(["SO5", "5OS", "S0S", "ZZZ"], "S0S")
    assert both_ways.to_dict("records") == [
        {"plate": "5OS", "misread": True}, {"plate": "S0S", "misread": False},
        {"plate": "SO5", "misread": True}]
    # unknown characters are not "misread": ? already matches anything
    assert match_plates(["AB1OCDE"], "AB1?CDE")["misread"].tolist() == [False]


plates = st.text(alphabet=ALNUM, min_size=2, max_size=8)


@settings(max_examples=200, deadline=None)
@given(plate=plates, data=st.data())
def test_hidden_characters_still_match(plate, data):
    keep = data.draw(st.lists(st.booleans(), min_size=len(plate), max_size=len(plate)))
    if sum(keep) < 2:
        keep = [True, True] + keep[2:]
    pattern = "".join(c if k else "?" for c, k in zip(plate, keep, strict=True))
    lo = data.draw(st.integers(0, len(plate)))
    hi = data.draw(st.integers(lo, len(plate)))
    starred = pattern[:lo] + "*" + pattern[hi:]
    spaced = " ".join(pattern.lower())
    for text in (pattern, spaced):
        p = parse_pattern(text)
        assert p.matches(plate) and not p.is_misread(plate)
    if sum(c.isalnum() for c in starred) >= 2:
        assert parse_pattern(starred).matches(plate)


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet=ALNUM[:6] + "015?*", min_size=2, max_size=7),
       plate=st.text(alphabet=ALNUM[:6] + "015OIS", min_size=0, max_size=8))
def test_exact_match_agrees_with_shell_wildcards(pattern, plate):
    if sum(c.isalnum() for c in pattern) < 2:
        return
    p = parse_pattern(pattern)
    assert (re.fullmatch(p.exact, plate) is not None) == fnmatch.fnmatchcase(plate, p.text)


@settings(max_examples=200, deadline=None)
@given(plate=st.text(alphabet="AB0158OISXY", min_size=2, max_size=7), data=st.data())
def test_one_misread_substitution_is_found_and_flagged(plate, data):
    pos = [i for i, c in enumerate(plate) if c in MISREADS]
    if not pos:
        return
    i = data.draw(st.sampled_from(pos))
    witnessed = plate[:i] + MISREADS[plate[i]] + plate[i + 1:]
    p = parse_pattern(witnessed)
    assert p.matches(plate) and p.is_misread(plate)


# --------------------------------------------------------------------------- search

AT = "2021-10-01T20:00Z"
E0, N0 = 560000.0, 260000.0
READS = [
    ("AB12CDE", "2021-10-01T20:00Z", "Norfolk", "C1", E0, N0),  # at the place and time
    ("AB12CDE", "2021-10-01T21:00Z", "Norfolk", "C2", E0 + 1000, N0),
    ("AB1ZCDE", "2021-10-01T20:30Z", "Norfolk", "C3", E0 + 5000, N0),  # 5 km, 30 min
    ("A812CDE", "2021-10-01T20:00Z", "Norfolk", "C1", E0, N0),  # misread of B
    ("AB19CDE", "2021-10-01T23:00Z", "Norfolk", "C4", E0, N0),  # exactly 3 h: in, score 0
    ("AB18CDE", "2021-10-01T23:00:01Z", "Norfolk", "C4", E0, N0),  # 1 s too late
    ("AB17CDE", "2021-10-01T20:00Z", "Suffolk", "C5", E0, N0 + 20001),  # 1 m too far
    ("XY99ZZZ", "2021-10-01T20:00Z", "Norfolk", "C1", E0, N0),  # no match
    ("AB13CDE", "2021-10-03T20:00Z", "Norfolk", "C1", E0, N0),  # two days later
]


def test_search_ranks_by_closeness_then_reads():
    out = search_plates(reads(READS), "AB1? CDE", easting_m=E0, northing_m=N0, at_utc=AT)
    assert list(out.columns) == CANDIDATE_COLUMNS
    assert out["plate"].tolist() == ["AB12CDE", "AB1ZCDE", "A812CDE", "AB19CDE"]
    assert out["reads"].tolist() == [2, 1, 1, 1]
    assert out["score"].tolist() == [1.0, round(0.75 * (1 - 30 / 180), 4), MISREAD_FACTOR, 0.0]
    assert out["misread"].tolist() == [False, False, True, False]
    assert out["nearest_km"].tolist() == [0.0, 5.0, 0.0, 0.0]
    assert out["nearest_minutes"].tolist() == [0.0, 30.0, 0.0, 180.0]
    assert out["best_camera_id"].tolist() == ["C1", "C3", "C1", "C4"]


def test_ties_on_score_go_to_more_reads():
    rows = [("AB12CDE", "2021-10-01T21:00Z", "Norfolk", "C1", E0, N0),
            ("AB13CDE", "2021-10-01T21:00Z", "Norfolk", "C1", E0, N0),
            ("AB13CDE", "2021-10-01T22:00Z", "Norfolk", "C1", E0, N0)]
    out = search_plates(reads(rows), "AB1*", easting_m=E0, northing_m=N0, at_utc=AT)
    assert out["plate"].tolist() == ["AB13CDE", "AB12CDE"]
    assert out["score"].iat[0] == out["score"].iat[1]


def test_ladder_marks_candidates_and_json_contract():
    inc = incidents([("I1", "2021-09-20T20:00Z", "Norfolk", "AB1ZCDE", ""),
                     ("I2", "2021-09-22T20:00Z", "Essex", "AB1ZCDE", "")])
    out = search_plates(reads(READS), "AB1?CDE", easting_m=E0, northing_m=N0, at_utc=AT,
                        km=20, hours=3, ladder=ladder(inc))
    assert out.set_index("plate")["stage"].to_dict() == {"AB12CDE": 0, "AB1ZCDE": 2,
                                                          "A812CDE": 0, "AB19CDE": 0}
    doc = json.loads(json.dumps(candidates_to_json(out)))
    first = doc["candidates"][0]
    assert {"plate", "reads", "nearest_km", "nearest_minutes", "score", "on_ladder"} <= set(first)
    assert doc["candidates"][1]["on_ladder"] is True
    masked = candidates_to_json(out, mask=True)["candidates"][0]["plate"]
    assert masked == "AB12 C**"


def test_window_parameters():
    small = search_plates(reads(READS), "AB1?CDE", easting_m=E0, northing_m=N0, at_utc=AT,
                          km=2, hours=0.25)
    assert small["plate"].tolist() == ["AB12CDE", "A812CDE"]
    assert small["reads"].tolist() == [1, 1]
    none = search_plates(reads(READS), "ZZ*", easting_m=E0, northing_m=N0, at_utc=AT)
    assert none.empty and list(none.columns) == CANDIDATE_COLUMNS


@pytest.mark.parametrize("kwargs", [
    {"km": 0}, {"hours": -1}, {"easting_m": 0.5, "northing_m": 52.1},
    {"at_utc": "2021-10-01 20:00"},  # naive
])
def test_bad_search_arguments(kwargs):
    args = {"easting_m": E0, "northing_m": N0, "at_utc": AT, **kwargs}
    with pytest.raises(CaseworkInputError):
        search_plates(reads(READS), "AB1?CDE", **args)


def test_store_engine_gives_identical_candidates(tmp_path):
    frame = reads(READS)
    write_sightings(frame, tmp_path)
    for pattern in ("AB1?CDE", "AB*", "A81*"):
        mem = search_plates(frame, pattern, easting_m=E0, northing_m=N0, at_utc=AT)
        disk = search_plates_store(tmp_path, pattern, easting_m=E0, northing_m=N0, at_utc=AT,
                                   threads=1)
        pd.testing.assert_frame_equal(mem, disk)
    assert search_plates_store(tmp_path / "empty", "AB*", easting_m=E0, northing_m=N0,
                               at_utc=AT).empty


def test_origins():
    inc = incidents([("I9", "2021-10-01T20:00Z", "Norfolk", "", "", 601000, 301000)])
    o = origin_of_incident(inc, " I9 ")
    assert (o.easting_m, o.northing_m, o.at_utc) == (601000.0, 301000.0, pd.Timestamp(AT))
    with pytest.raises(CaseworkInputError):
        origin_of_incident(inc, "nope")
    # Norwich-ish; UK local time without offset is BST in October
    near = origin_from_latlon(52.63, 1.30, "2021-10-01T21:00")
    assert near.at_utc == pd.Timestamp(AT)
    assert 620_000 < near.easting_m < 626_000 and 306_000 < near.northing_m < 312_000
    with pytest.raises(CaseworkInputError):
        origin_from_latlon(52.6, 1.3, "tomorrow")

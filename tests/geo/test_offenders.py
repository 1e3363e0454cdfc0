"""Tests for geo.offenders: the cross-border escalation ladder."""

from __future__ import annotations

import json

import factories
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from geo.engines.duckdb import (
    crossings_and_latest_reads,
    crossings_from_parquet,
    offenders_and_latest_reads,
    offenders_from_store,
)
from geo.io.formats import offenders_to_frame, offenders_to_json
from geo.movements import border_crossings, crossings_near_incidents, vehicle_points
from geo.offenders import LADDER_COLUMNS, STAGES, ladder
from geo.schema import SEVEN_FORCES

SEVEN = set(SEVEN_FORCES.values())


def incidents(rows: list[tuple]) -> gpd.GeoDataFrame:
    """rows: (incident_id, occurred_at UTC, force, vrms, nominals)."""
    return factories.incident_rows(rows, ("incident_id", "occurred_at", "force", "vrms", "nominals"),
                                   easting=560000.0 + np.arange(len(rows)) * 100.0, northing=260000.0)


def reads(rows: list[tuple]) -> gpd.GeoDataFrame:
    """rows: (vrm, read_at UTC, force, camera_id)."""
    return factories.read_rows(rows, ("vrm", "read_at", "force", "camera_id"),
                               easting=560000.0 + np.arange(len(rows)) * 10.0, northing=250000.0)


# Season 2021-22. Plates: ONE11AA 1 incident, TWO22BB 2, THR33CC 3, FOU44DD 4 (in time order
# I-listed out of order on purpose); nominal N1 on three incidents, N2 on one.
LADDER_ROWS = [
    ("F4", "2021-12-01 21:00", "Kent", "FOU44DD", ""),
    ("O1", "2021-10-01 20:00", "Norfolk", "ONE11AA", "N1"),
    ("T1", "2021-10-02 20:00", "Suffolk", "TWO22BB;THR33CC", ""),
    ("T2", "2021-10-09 20:00", "Essex", "TWO22BB", "N1;N2"),
    ("R2", "2021-10-20 20:00", "Cambridgeshire", "THR33CC;FOU44DD", ""),
    ("R3", "2021-11-01 20:00", "Cambridgeshire", "THR33CC", "N1"),
    ("F1", "2021-10-03 21:00", "Hertfordshire", "FOU44DD", ""),
    ("F3", "2021-11-15 21:00", "Bedfordshire", "FOU44DD", ""),
]


def row(
    df: pd.DataFrame, subject: str, kind: str = "vehicle", season: str = "2021-22"
) -> pd.Series:
    sel = df[(df["subject"] == subject) & (df["kind"] == kind) & (df["season"] == season)]
    assert len(sel) == 1, (subject, kind, season, len(sel))
    return sel.iloc[0]


def test_stages_and_evidence():
    lad = ladder(incidents(LADDER_ROWS))
    assert list(lad.columns) == LADDER_COLUMNS
    assert STAGES == {1: "warning", 2: "proactive ASB measures", 3: "prosecution"}
    got = {s: int(row(lad, s)["stage"]) for s in ["ONE11AA", "TWO22BB", "THR33CC", "FOU44DD"]}
    assert got == {"ONE11AA": 1, "TWO22BB": 2, "THR33CC": 3, "FOU44DD": 3}
    four = row(lad, "FOU44DD")
    assert four["n_incidents"] == 4
    assert four["incidents"] == ["F1", "R2", "F3", "F4"]
    assert four["stage_label"] == "prosecution"
    assert [
        (e["stage"], e["stage_label"], e["incident_id"], e["force"]) for e in four["evidence"]
    ] == [
        (1, "warning", "F1", "Hertfordshire"),
        (2, "proactive ASB measures", "R2", "Cambridgeshire"),
        (3, "prosecution", "F3", "Bedfordshire"),
    ]
    assert four["evidence"][0]["occurred_at"] == "2021-10-03T21:00:00+00:00"
    assert four["first_at"] == pd.Timestamp("2021-10-03 21:00", tz="UTC")
    assert four["last_at"] == pd.Timestamp("2021-12-01 21:00", tz="UTC")
    two = row(lad, "TWO22BB")
    assert [e["incident_id"] for e in two["evidence"]] == ["T1", "T2"]
    assert two["stage_label"] == "proactive ASB measures"
    assert [e["incident_id"] for e in row(lad, "ONE11AA")["evidence"]] == ["O1"]


def test_border_hopper_and_forces_order():
    lad = ladder(incidents(LADDER_ROWS))
    assert row(lad, "FOU44DD")["forces"] == [
        "Hertfordshire",
        "Cambridgeshire",
        "Bedfordshire",
        "Kent",
    ]
    assert bool(row(lad, "FOU44DD")["border_hopper"])
    assert not bool(row(lad, "ONE11AA")["border_hopper"])
    lad2 = ladder(
        incidents(
            [("A", "2021-10-01", "Kent", "KK11KKK", ""), ("B", "2021-10-02", "Kent", "KK11KKK", "")]
        )
    )
    assert row(lad2, "KK11KKK")["forces"] == ["Kent"]
    assert not bool(row(lad2, "KK11KKK")["border_hopper"])
    assert row(lad2, "KK11KKK")["stage"] == 2


def test_nominals_are_separate_subjects():
    lad = ladder(incidents(LADDER_ROWS))
    n1 = row(lad, "N1", "person")
    assert n1["incidents"] == ["O1", "T2", "R3"]
    assert n1["stage"] == 3
    assert n1["forces"] == ["Norfolk", "Essex", "Cambridgeshire"]
    assert row(lad, "N2", "person")["stage"] == 1
    assert n1["crossings"] == []
    # a plate and a nominal with the same text are different subjects
    same = ladder(
        incidents([("A", "2021-10-01", "Kent", "X1", "X1"), ("B", "2021-10-02", "Kent", "X1", "")])
    )
    assert row(same, "X1", "vehicle")["stage"] == 2
    assert row(same, "X1", "person")["stage"] == 1


def test_sorted_stage_desc_then_count_then_subject():
    lad = ladder(incidents(LADDER_ROWS))
    keys = list(zip(-lad["stage"], -lad["n_incidents"], lad["subject"], strict=True))
    assert keys == sorted(keys)
    assert lad["subject"].tolist()[:3] == ["FOU44DD", "N1", "THR33CC"]


def test_two_seasons_give_two_rows():
    # 2021-08-31 23:30 UTC is 00:30 BST on 1 September: already season 2021-22
    lad = ladder(
        incidents(
            [
                ("A", "2021-08-31 22:30", "Norfolk", "SS11SSS", ""),  # 23:30 BST 31 Aug: 2020-21
                ("B", "2021-08-31 23:30", "Suffolk", "SS11SSS", ""),
                ("C", "2021-10-01 12:00", "Suffolk", "SS11SSS", ""),
            ]
        )
    )
    assert sorted(lad["season"]) == ["2020-21", "2021-22"]
    assert row(lad, "SS11SSS", season="2020-21")["stage"] == 1
    new = row(lad, "SS11SSS", season="2021-22")
    assert new["incidents"] == ["B", "C"] and new["stage"] == 2
    assert not bool(new["border_hopper"])
    # another start month moves the boundary
    lad1 = ladder(incidents([("A", "2021-08-31 22:30", "Norfolk", "SS11SSS", "")]), start_month=1)
    assert lad1["season"].tolist() == ["2021"]


def test_neighbour_force_incidents_excluded():
    lad = ladder(
        incidents(
            [
                ("L1", "2021-10-01", "Lincolnshire", "NB11NNN;ONLYLIN", "P9"),
                ("S1", "2021-10-02", "Suffolk", "NB11NNN", ""),
                ("N1", "2021-10-03", "Northamptonshire", "NB11NNN", ""),
            ]
        )
    )
    nb = row(lad, "NB11NNN")
    assert nb["incidents"] == ["S1"] and nb["stage"] == 1
    assert nb["forces"] == ["Suffolk"] and not bool(nb["border_hopper"])
    assert "ONLYLIN" not in set(lad["subject"]) and "P9" not in set(lad["subject"])


def test_duplicate_plate_in_one_incident_counts_once():
    lad = ladder(incidents([("A", "2021-10-01", "Kent", "DD11DDD;DD11DDD", "P1;P1")]))
    assert lad["n_incidents"].tolist() == [1, 1]


def test_forces_filter_keeps_cross_force_counts():
    lad = ladder(incidents(LADDER_ROWS), forces=["Kent"])
    assert lad["subject"].tolist() == ["FOU44DD"]
    assert lad.loc[0, "stage"] == 3 and lad.loc[0, "n_incidents"] == 4
    assert ladder(incidents(LADDER_ROWS), forces="Lincolnshire").empty


CROSS_READS = [
    ("TWO22BB", "2021-10-02 18:30", "Norfolk", "NF01"),
    ("TWO22BB", "2021-10-02 19:10", "Suffolk", "SF07"),  # crossing 50 min before T1
    ("TWO22BB", "2021-10-05 12:00", "Suffolk", "SF08"),
    ("TWO22BB", "2021-10-05 12:30", "Essex", "EX02"),  # crossing, no incident near
    ("ONE11AA", "2022-10-01 12:00", "Essex", "EX02"),
    ("ONE11AA", "2022-10-01 12:30", "Kent", "KT01"),  # crossing in another season
    ("NOT00NN", "2021-10-02 19:00", "Essex", "EX02"),
    ("NOT00NN", "2021-10-02 19:30", "Kent", "KT01"),  # plate not linked to any incident
]


def test_crossings_attached_to_vehicles():
    inc = incidents(LADDER_ROWS)
    cr = border_crossings(vehicle_points(None, reads(CROSS_READS)))
    assert len(cr) == 4
    lad = ladder(inc, crossings=cr)  # near_incident computed with window_h=3
    two = row(lad, "TWO22BB")
    assert two["crossings"] == [
        {
            "from": "Norfolk",
            "to": "Suffolk",
            "at": "2021-10-02T19:10:00+00:00",
            "camera_id": "SF07",
            "near_incident": True,
        },
        {
            "from": "Suffolk",
            "to": "Essex",
            "at": "2021-10-05T12:30:00+00:00",
            "camera_id": "EX02",
            "near_incident": False,
        },
    ]
    assert row(lad, "ONE11AA")["crossings"] == []  # its crossing is in 2022-23
    assert row(lad, "N1", "person")["crossings"] == []
    assert "NOT00NN" not in set(lad["subject"])
    # a precomputed near_incident column is used as given
    flagged = crossings_near_incidents(cr, inc, window_h=0.5)
    two = row(ladder(inc, crossings=flagged), "TWO22BB")
    assert [c["near_incident"] for c in two["crossings"]] == [False, False]
    assert ladder(inc)["crossings"].map(len).sum() == 0


def test_crossings_flagged_near_every_season_while_one_season_counts():
    """``near=`` and ladder_from_crossings flag only the ladder's plates, with the same
    answer as flagging every crossing first (each flag depends on its own plate and time)."""
    from geo.offenders import ladder_from_crossings
    from geo.seasons import filter_incidents

    # the last 2021-22 crossing (23:00 London, 31 Aug) is 1.5 h before a 2022-23 incident
    inc = factories.incidents(occurred_at=["2021-10-05T20:00Z", "2022-08-31T23:30Z"],
                              vrms=["AB12CDE", "AB12CDE"], force=["Norfolk", "Norfolk"])
    rd = factories.reads(vrm=["AB12CDE", "AB12CDE", "XY99ZZZ", "XY99ZZZ"],
                         read_at=["2022-08-31T21:00Z", "2022-08-31T22:00Z",
                                  "2021-10-05T19:00Z", "2021-10-05T20:00Z"],
                         force=["Cambridgeshire", "Norfolk", "Cambridgeshire", "Norfolk"])
    cr = border_crossings(vehicle_points(None, rd))
    season = filter_incidents(inc, season="2021-22")
    expected = ladder(season, crossings=crossings_near_incidents(cr, inc))
    assert [c["near_incident"] for c in expected["crossings"][0]] == [True]
    assert list(expected["subject"]) == ["AB12CDE"]  # XY99ZZZ's crossing is not listed
    pd.testing.assert_frame_equal(ladder(season, crossings=cr, near=inc), expected)
    got = ladder_from_crossings(inc, season, cr, start_month=9, window_h=3.0, forces=None)
    pd.testing.assert_frame_equal(got, expected)


def test_json_and_frame():
    inc = incidents(LADDER_ROWS)
    cr = border_crossings(vehicle_points(None, reads(CROSS_READS)))
    lad = ladder(inc, crossings=cr)
    doc = offenders_to_json(lad)
    text = json.dumps(doc)  # serialisable, only built-in types
    back = json.loads(text)["offenders"]
    assert len(back) == len(lad)
    assert set(back[0]) == {
        "subject", "kind", "season", "incidents", "forces", "stage", "stage_label",
        "border_hopper", "crossings", "first_at", "last_at", "evidence", "n_incidents",
    }  # fmt: skip
    first = back[0]
    assert first["subject"] == "FOU44DD" and first["stage"] == 3
    assert first["first_at"] == "2021-10-03T21:00:00+00:00"
    assert first["border_hopper"] is True
    two = next(o for o in back if o["subject"] == "TWO22BB")
    assert two["crossings"][0]["near_incident"] is True
    flat = offenders_to_frame(lad)
    assert len(flat) == len(lad)
    f = flat[flat["subject"] == "FOU44DD"].iloc[0]
    assert f["forces"] == "Hertfordshire;Cambridgeshire;Bedfordshire;Kent"
    assert f["incidents"] == "F1;R2;F3;F4"
    assert (f["stage1_incident"], f["stage2_force"], f["stage3_incident"]) == (
        "F1",
        "Cambridgeshire",
        "F3",
    )
    t = flat[flat["subject"] == "TWO22BB"].iloc[0]
    assert (
        t["stage3_incident"] == "" and t["n_crossings"] == 2 and t["n_crossings_near_incident"] == 1
    )
    assert t["crossings"].startswith("Norfolk>Suffolk@2021-10-02 20:10 +01:00;")  # London time
    assert f["first_at"] == "2021-10-03 22:00 +01:00" and f["stage1_at"] == f["first_at"]
    for col in flat.columns:
        assert not flat[col].map(lambda v: isinstance(v, list | dict)).any(), col
    assert offenders_to_json(ladder(incidents([]))) == {"offenders": []}
    assert offenders_to_frame(ladder(incidents([]))).empty


def test_offenders_from_store_matches_in_memory(tmp_path):
    inc = incidents(LADDER_ROWS)
    rd = reads(CROSS_READS)
    (tmp_path / "sightings").mkdir()
    rd.to_parquet(tmp_path / "sightings" / "part-00000.parquet")
    got = offenders_from_store(inc, tmp_path / "sightings" / "*.parquet")
    want = ladder(
        inc, crossings=crossings_near_incidents(border_crossings(vehicle_points(None, rd)), inc)
    )
    pd.testing.assert_frame_equal(got, want)
    one = offenders_from_store(inc, tmp_path / "sightings", season="2022-23")
    assert one.empty  # no counted incidents in 2022-23
    s21 = offenders_from_store(inc, tmp_path / "sightings", season="2021-22")
    pd.testing.assert_frame_equal(s21, want)


# CROSS_READS plus a plate read once (its first read is its last), one whose last read
# starts a new trip in another force (a break, not a crossing), and a second read of a
# crossing at the same time, camera and force but another position (reads() spaces them)
LATEST_READS = CROSS_READS + [
    ("TWO22BB", "2021-10-05 12:30", "Essex", "EX02"),
    ("FOU44DD", "2021-12-01 20:00", "Kent", "KT02"),
    ("THR33CC", "2021-10-20 10:00", "Essex", "EX01"),
    ("THR33CC", "2021-10-21 10:00", "Kent", "KT01"),
]


def test_offenders_and_latest_reads_one_scan(tmp_path):
    inc = incidents(LADDER_ROWS)
    rd = reads(LATEST_READS)
    (tmp_path / "sightings").mkdir()
    rd.to_parquet(tmp_path / "sightings" / "part-00000.parquet")
    paths = tmp_path / "sightings"
    lad, latest = offenders_and_latest_reads(inc, paths)
    pd.testing.assert_frame_equal(lad, offenders_from_store(inc, paths))
    want = ladder(
        inc, crossings=crossings_near_incidents(border_crossings(vehicle_points(None, rd)), inc)
    )
    pd.testing.assert_frame_equal(lad, want)
    assert latest.plates == {"ONE11AA", "TWO22BB", "THR33CC", "FOU44DD"}
    expect = pd.DataFrame({
        "vrm": pd.Series(["FOU44DD", "ONE11AA", "THR33CC", "TWO22BB"], dtype="str"),
        "read_at": pd.to_datetime(["2021-12-01 20:00", "2022-10-01 12:30", "2021-10-21 10:00",
                                   "2021-10-05 12:30"], utc=True).as_unit("us"),
        "force": pd.Series(["Kent", "Kent", "Kent", "Essex"], dtype="str"),
    })
    pd.testing.assert_frame_equal(latest.reads, expect)
    _, every = offenders_and_latest_reads(inc, paths, all_plates=True)
    assert every.plates is None
    assert every.reads["vrm"].tolist() == ["FOU44DD", "NOT00NN", "ONE11AA", "THR33CC", "TWO22BB"]
    assert offenders_and_latest_reads(inc, paths, season="2021-22")[1] is None
    assert offenders_and_latest_reads(inc, paths, latest=False)[1] is None
    crossings, last = crossings_and_latest_reads(paths)
    pd.testing.assert_frame_equal(crossings, crossings_from_parquet(paths))
    pd.testing.assert_frame_equal(last, every.reads)
    none, no_reads = crossings_and_latest_reads(paths, plates=[])
    assert none.empty and no_reads.empty and list(no_reads.columns) == ["vrm", "read_at", "force"]


def test_empty_and_not_mutated_and_errors():
    inc = incidents(LADDER_ROWS)
    cr = border_crossings(vehicle_points(None, reads(CROSS_READS)))
    i0, c0 = inc.copy(), cr.copy()
    lad = ladder(inc, crossings=cr)
    l0 = lad.copy()
    offenders_to_json(lad)
    offenders_to_frame(lad)
    pd.testing.assert_frame_equal(inc, i0)
    pd.testing.assert_frame_equal(cr, c0)
    pd.testing.assert_frame_equal(lad, l0)
    empty = ladder(incidents([]))
    assert empty.empty and list(empty.columns) == LADDER_COLUMNS
    assert ladder(incidents([("A", "2021-10-01", "Kent", "", "")])).empty
    with pytest.raises(ValueError, match="nominals"):
        ladder(inc.drop(columns=["nominals"]))
    with pytest.raises(ValueError, match="start_month"):
        ladder(inc, start_month=13)
    naive = inc.copy()
    naive["occurred_at"] = naive["occurred_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone"):
        ladder(naive)


def test_iso_times_match_isoformat():
    inc = incidents(
        [
            ("A", "2021-10-01 20:00:00.5", "Kent", "MS11MMM", ""),
            ("B", "2021-10-01 21:00:00.000007", "Kent", "MS11MMM", ""),
        ]
    )
    ev = ladder(inc).loc[0, "evidence"]
    want = [t.isoformat() for t in inc["occurred_at"]]
    assert (
        [e["occurred_at"] for e in ev]
        == want
        == [
            "2021-10-01T20:00:00.500000+00:00",
            "2021-10-01T21:00:00.000007+00:00",
        ]
    )


def test_non_unique_index_is_harmless():
    inc = incidents(LADDER_ROWS)
    dup = inc.copy()
    dup.index = [0] * len(dup)  # e.g. frames concatenated without ignore_index
    a = ladder(inc)
    b = ladder(dup)
    pd.testing.assert_frame_equal(a, b)
    cr = border_crossings(vehicle_points(None, reads(CROSS_READS)))
    pd.testing.assert_series_equal(
        crossings_near_incidents(cr, dup)["near_incident_ids"],
        crossings_near_incidents(cr, inc)["near_incident_ids"],
    )
    assert len(vehicle_points(dup)) == len(vehicle_points(inc)) == 10


# ------------------------------------------------------------------ now in (issue 13)
def test_latest_sighting_uses_the_later_of_anpr_read_and_incident():
    """AB12CDE: incidents in Norfolk then Essex, then read by ANPR in Suffolk: now in Suffolk
    (ANPR read). N1: a person, placed by incidents only: now in Essex."""
    from factories import reads

    from geo.movements import vehicle_points
    from geo.offenders import latest_sighting

    inc = factories.incidents(occurred_at=["2021-10-02T20:00:00Z", "2021-11-05T21:00:00Z"], force=["Norfolk", "Essex"],
                    vrms=["AB12CDE", "AB12CDE"], nominals=["N1", "N1"])
    lad = ladder(inc)
    rd = reads(vrm=["AB12CDE"], read_at=["2021-11-06T19:30:00Z"], force=["Suffolk"], camera_id=["C1"])
    out = latest_sighting(lad, inc, vehicle_points(inc, rd)).assign(subject=lad["subject"].to_numpy())
    by = out.set_index("subject")
    assert (by.loc["AB12CDE", "now_in"], by.loc["AB12CDE", "now_in_from"]) == ("Suffolk", "ANPR read")
    assert by.loc["AB12CDE", "now_in_at"] == pd.Timestamp("2021-11-06T19:30:00Z")
    assert (by.loc["N1", "now_in"], by.loc["N1", "now_in_from"]) == ("Essex", "incident")
    no_reads = latest_sighting(lad, inc).assign(subject=lad["subject"].to_numpy()).set_index("subject")
    assert (no_reads.loc["AB12CDE", "now_in"], no_reads.loc["AB12CDE", "now_in_from"]) == ("Essex", "incident")

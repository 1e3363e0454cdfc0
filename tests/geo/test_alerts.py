"""Tests for geo.alerts: cross-border alerts, cooldown and the alerts database."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from geo.alerts import ALERT_COLUMNS, apply_cooldown, find_alerts
from geo.io.alert_db import AlertStore, alerts_db_path, read_alerts
from geo.pipeline.watch import raise_alerts
from geo.validate.incidents import validate_incidents
from geo.validate.sightings import validate_sightings

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def points(areas):
    """A point inside each force (metres, EPSG:27700)."""
    reps = areas.gdf.geometry.representative_point()
    return {f: (round(p.x), round(p.y)) for f, p in zip(areas.gdf["force"], reps, strict=True)}


@pytest.fixture(scope="module")
def make_incidents(areas, points):
    """rows: (incident_id, occurred_at, force, vrm, nominal) -> accepted incidents."""

    def make(rows):
        raw = pd.DataFrame(
            [{"incident_id": i, "occurred_at": t, "easting": str(points[f][0]),
              "northing": str(points[f][1]), "vrm": v, "nominal": n}
             for i, t, f, v, n in rows])
        result = validate_incidents(raw, areas)
        assert result.n_rejected == 0, result.rejects
        return result.accepted

    return make


@pytest.fixture(scope="module")
def make_reads(areas, points):
    """rows: (vrm, read_at, force, camera_id) -> accepted reads."""

    def make(rows):
        raw = pd.DataFrame(
            [{"vrm": v, "read_at": t, "easting": str(points[f][0]),
              "northing": str(points[f][1]), "camera_id": c} for v, t, f, c in rows])
        result = validate_sightings(raw, areas)
        assert result.n_rejected == 0, result.rejects
        return result.accepted

    return make


WARNED = [("N1", "2021-10-01T20:00:00Z", "Norfolk", "AB12CDE", "")]


def test_warned_in_norfolk_read_in_cambridgeshire(make_incidents, make_reads):
    reads = make_reads([("AB12CDE", "2021-10-02T21:30:00Z", "Cambridgeshire", "CAM-7")])
    raised = pd.Timestamp("2021-10-02T21:31:00Z")
    out = find_alerts(reads, make_incidents(WARNED), source_file="reads.csv", raised_at=raised)
    assert list(out.columns) == ALERT_COLUMNS[1:]
    assert len(out) == 1
    a = out.iloc[0]
    assert (a["subject"], a["stage"], a["stage_label"]) == ("AB12CDE", 1, "warning")
    assert (a["warned_in"], a["now_in"], a["forces"]) == ("Norfolk", "Cambridgeshire", "Norfolk")
    assert a["warned_at"] == pd.Timestamp("2021-10-01T20:00:00Z")
    assert a["read_at"] == pd.Timestamp("2021-10-02T21:30:00Z")
    assert (a["camera_id"], a["season"], a["source_file"]) == ("CAM-7", "2021-22", "reads.csv")
    assert a["raised_at"] == raised
    assert a["easting"] == reads["easting"].iloc[0]


@pytest.mark.parametrize(
    ("force", "when", "expected"),
    [
        ("Cambridgeshire", "2021-10-02T21:30:00Z", 1),
        ("Norfolk", "2021-10-02T21:30:00Z", 0),  # where it was warned
        ("Lincolnshire", "2021-10-02T21:30:00Z", 0),  # neighbour, outside the agreement
        ("Cambridgeshire", "2021-09-30T21:30:00Z", 0),  # before its first incident
        ("Cambridgeshire", "2022-09-02T21:30:00Z", 0),  # next season: the ladder restarts
    ],
)
def test_which_reads_alert(make_incidents, make_reads, force, when, expected):
    reads = make_reads([("AB12CDE", when, force, "C1")])
    assert len(find_alerts(reads, make_incidents(WARNED))) == expected


def test_stage_and_forces_as_of_the_read(make_incidents, make_reads):
    incidents = make_incidents([
        ("N1", "2021-10-01T20:00:00Z", "Norfolk", "AB12CDE", ""),
        ("S1", "2021-10-10T20:00:00Z", "Suffolk", "AB12CDE", ""),
        ("E1", "2021-10-20T20:00:00Z", "Essex", "AB12CDE", ""),
        ("E2", "2021-10-21T20:00:00Z", "Essex", "AB12CDE", ""),
    ])
    reads = make_reads([
        ("AB12CDE", "2021-10-05T12:00:00Z", "Cambridgeshire", "C1"),  # 1 incident so far
        ("AB12CDE", "2021-10-05T13:00:00Z", "Suffolk", "S9"),  # Suffolk incident not yet
        ("AB12CDE", "2021-10-12T12:00:00Z", "Cambridgeshire", "C1"),  # 2
        ("AB12CDE", "2021-10-12T13:00:00Z", "Suffolk", "S9"),  # warned there by now
        ("AB12CDE", "2021-10-22T12:00:00Z", "Kent", "K1"),  # 4 -> stage 3
    ])
    out = find_alerts(reads, incidents)
    got = list(zip(out["now_in"], out["stage"], out["stage_label"], out["forces"], strict=True))
    assert got == [
        ("Cambridgeshire", 1, "warning", "Norfolk"),
        ("Suffolk", 1, "warning", "Norfolk"),
        ("Cambridgeshire", 2, "proactive ASB measures", "Norfolk;Suffolk"),
        ("Kent", 3, "prosecution", "Norfolk;Suffolk;Essex"),
    ]
    assert set(out["warned_in"]) == {"Norfolk"}


def test_persons_and_neighbour_incidents_never_alert(make_incidents, make_reads):
    incidents = make_incidents([
        ("P1", "2021-10-01T20:00:00Z", "Norfolk", "", "AB12CDE"),  # a nominal, not a plate
        ("L1", "2021-10-01T20:00:00Z", "Lincolnshire", "XY34ZZZ", ""),  # outside the seven
    ])
    reads = make_reads([
        ("AB12CDE", "2021-10-02T20:00:00Z", "Cambridgeshire", "C1"),
        ("XY34ZZZ", "2021-10-02T20:00:00Z", "Cambridgeshire", "C1"),
    ])
    assert find_alerts(reads, incidents).empty
    assert find_alerts(reads, None).empty
    assert find_alerts(reads.iloc[:0], incidents).empty


def _reference(reads: pd.DataFrame, incidents: pd.DataFrame, start_month: int = 9) -> set:
    """Per-read loop straight from the rule, to check the vectorised version."""
    from geo.seasons import season_of

    inc = incidents[incidents["in_agreement"]].copy()
    inc["season"] = season_of(inc["occurred_at"], start_month).to_numpy()
    seasons = season_of(reads["read_at"], start_month).to_numpy()
    out = set()
    for r, season in zip(reads.itertuples(), seasons, strict=True):
        if not r.in_agreement:
            continue
        mine = inc[(inc["vrms"].str.split(";").map(lambda v, p=r.vrm: p in v))
                   & (inc["season"] == season) & (inc["occurred_at"] <= r.read_at)]
        mine = mine.sort_values(["occurred_at", "incident_id"])
        if len(mine) and r.force not in set(mine["force"]):
            forces = ";".join(dict.fromkeys(mine["force"]))
            out.add((r.vrm, r.read_at, r.camera_id, min(len(mine), 3), forces,
                     mine["force"].iloc[0]))
    return out


def test_matches_a_per_read_reference(make_incidents, make_reads, points):
    rng = np.random.default_rng(7)
    plates = [f"AB{i:02d}CDE" for i in range(12)]
    forces = list(points)  # seven + two neighbours
    start = pd.Timestamp("2021-08-01T00:00:00Z")
    inc_rows = []
    for i in range(40):
        chosen = rng.choice(plates, size=rng.integers(1, 3), replace=False)
        when = start + pd.Timedelta(hours=int(rng.integers(0, 24 * 120)))
        inc_rows.append((f"I{i}", when.isoformat(), forces[rng.integers(len(forces))],
                         ";".join(chosen), ""))
    read_rows = []
    for i in range(400):
        when = start + pd.Timedelta(minutes=int(rng.integers(0, 60 * 24 * 120)))
        read_rows.append((plates[rng.integers(len(plates))], when.isoformat(),
                          forces[rng.integers(len(forces))], f"C{i}"))
    incidents, reads = make_incidents(inc_rows), make_reads(read_rows)
    out = find_alerts(reads, incidents)
    got = set(zip(out["subject"], out["read_at"], out["camera_id"], out["stage"], out["forces"],
                  out["warned_in"], strict=True))
    expected = _reference(reads, incidents)
    assert len(expected) > 20  # the fixture does exercise the rule
    assert got == expected


def _at(hours: float) -> str:
    return (pd.Timestamp("2021-10-02T12:00:00Z") + pd.Timedelta(hours=hours)).isoformat()


def test_cooldown_per_plate_and_force(make_incidents, make_reads):
    incidents = make_incidents(WARNED)
    reads = make_reads([
        ("AB12CDE", _at(0), "Cambridgeshire", "C1"),
        ("AB12CDE", _at(1), "Cambridgeshire", "C2"),  # 1 h later: suppressed
        ("AB12CDE", _at(1), "Suffolk", "S1"),  # other force: its own alert
        ("AB12CDE", _at(7), "Cambridgeshire", "C3"),  # 7 h after the alert: new alert
    ])
    kept = apply_cooldown(find_alerts(reads, incidents), cooldown_h=6)
    assert list(zip(kept["now_in"], kept["camera_id"], strict=True)) == [
        ("Cambridgeshire", "C1"), ("Suffolk", "S1"), ("Cambridgeshire", "C3")]
    assert len(apply_cooldown(find_alerts(reads, incidents), cooldown_h=0)) == 4


def test_cooldown_counts_from_the_last_alert_not_the_last_read(make_incidents, make_reads):
    reads = make_reads([("AB12CDE", _at(h), "Cambridgeshire", f"C{h}") for h in (0, 4, 8, 12)])
    kept = apply_cooldown(find_alerts(reads, make_incidents(WARNED)), cooldown_h=6)
    assert kept["camera_id"].tolist() == ["C0", "C8"]


def test_stored_alerts_dedupe_and_cool_down_across_batches(tmp_path, make_incidents,
                                                            make_reads):
    incidents = make_incidents(WARNED)
    batch1 = make_reads([("AB12CDE", _at(0), "Cambridgeshire", "C1")])
    batch2 = make_reads([("AB12CDE", _at(1), "Cambridgeshire", "C2")])
    batch3 = make_reads([("AB12CDE", _at(7), "Cambridgeshire", "C3"),
                         ("AB12CDE", _at(-3), "Suffolk", "S1")])
    with AlertStore(tmp_path) as store:
        first = raise_alerts(batch1, incidents, store, source_file="a.csv")
        assert len(first) == 1 and first["alert_id"].iloc[0] >= 1
        assert raise_alerts(batch1, incidents, store, source_file="a.csv").empty  # reprocessed
        assert raise_alerts(batch2, incidents, store).empty  # within the cooldown of a stored one
        third = raise_alerts(batch3, incidents, store)
        assert sorted(third["camera_id"]) == ["C3", "S1"]
        assert third["alert_id"].min() > first["alert_id"].iloc[0]
        assert store.add(first) == 0  # same key: ignored
        assert store.add(first.iloc[:0]) == 0
        assert len(store.recent(limit=None)) == 3
    # a new store on the same folder (a restart) sees the same alerts
    with AlertStore(tmp_path) as store:
        assert raise_alerts(batch3, incidents, store).empty
    assert alerts_db_path(tmp_path).is_file()


def test_read_alerts_order_limit_since_and_empty(tmp_path, make_incidents, make_reads):
    empty = read_alerts(tmp_path)
    assert list(empty.columns) == ALERT_COLUMNS and empty.empty
    assert not alerts_db_path(tmp_path).exists()  # reading never creates the database

    plates = ["AA11AAA", "BB22BBB", "CC33CCC"]
    incidents = make_incidents([(f"N{i}", "2021-10-01T20:00:00Z", "Norfolk", p, "")
                                for i, p in enumerate(plates)])
    with AlertStore(tmp_path) as store:
        # stored in this order: the middle read first, then the latest, then the earliest
        for p, h in zip(plates, (5, 9, 1), strict=True):
            store.add(find_alerts(make_reads([(p, _at(h), "Essex", XSS)]), incidents))
    out = read_alerts(tmp_path)
    assert list(out.columns) == ALERT_COLUMNS
    assert out["subject"].tolist() == ["BB22BBB", "AA11AAA", "CC33CCC"]  # newest read first
    assert out["alert_id"].tolist() == [2, 1, 3]
    for c in ("raised_at", "read_at", "warned_at"):
        assert str(out[c].dt.tz) == "UTC"
    assert out["read_at"].iloc[0] == pd.Timestamp(_at(9))
    assert out["camera_id"].tolist() == [XSS] * 3  # plain text, unchanged
    assert read_alerts(tmp_path, limit=1)["subject"].tolist() == ["BB22BBB"]
    assert read_alerts(tmp_path, since_id=1)["alert_id"].tolist() == [2, 3]
    assert read_alerts(tmp_path, since_id=3).empty
    with pytest.raises(ValueError, match="limit"):
        read_alerts(tmp_path, limit=-1)


def test_read_alerts_while_the_writer_holds_a_transaction(tmp_path, make_incidents,
                                                          make_reads):
    incidents = make_incidents(WARNED)
    with AlertStore(tmp_path) as store:
        store.add(find_alerts(make_reads([("AB12CDE", _at(0), "Essex", "E1")]), incidents))
        con = store._con
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE alerts SET camera_id = 'uncommitted'")
        t0 = time.perf_counter()
        out = read_alerts(tmp_path)
        assert time.perf_counter() - t0 < 1.0  # WAL: the reader does not wait for the writer
        assert out["camera_id"].tolist() == ["E1"]  # last committed state
        con.execute("ROLLBACK")

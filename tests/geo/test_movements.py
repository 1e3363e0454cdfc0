"""Tests for geo.movements: points, trips, border crossings, both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factories import T, incident_rows, read_rows

from geo.engines.duckdb import crossings_from_parquet
from geo.movements import (
    CROSSING_COLUMNS,
    POINT_COLUMNS,
    border_crossings,
    crossings_near_incidents,
    trips,
    vehicle_points,
)


def make_reads(rows: list[tuple]) -> pd.DataFrame:
    """rows: (vrm, read_at, force, camera_id, easting, northing)."""
    return read_rows(rows, ("vrm", "read_at", "force", "camera_id", "easting", "northing"),
                     in_agreement=True)


def make_incidents(rows: list[tuple]) -> pd.DataFrame:
    """rows: (incident_id, occurred_at, force, vrms, easting, northing)."""
    return incident_rows(rows, ("incident_id", "occurred_at", "force", "vrms", "easting", "northing"),
                         in_agreement=True)


# AB12CDE: Norfolk 20:00, Suffolk 20:40, then 10 h later Cambridgeshire
AB_READS = [
    ("AB12CDE", "2021-10-01 20:00", "Norfolk", "NF01", 620000, 300000),
    ("AB12CDE", "2021-10-01 20:40", "Suffolk", "SF07", 615000, 260000),
    ("AB12CDE", "2021-10-02 06:40", "Cambridgeshire", "CB03", 540000, 270000),
]


def test_vehicle_points_explodes_incidents_and_sorts():
    reads = make_reads(AB_READS)
    inc = make_incidents(
        [
            ("I2", "2021-10-01 20:40", "Suffolk", "XY34ZZZ;AB12CDE", 615500, 260500),
            ("I3", "2021-10-01 21:00", "Suffolk", "", 615500, 260500),
        ]
    )
    p = vehicle_points(inc, reads)
    assert list(p.columns) == POINT_COLUMNS
    assert len(p) == 5  # 3 reads + I2 twice (two plates) + I3 none
    ab = p[p["vrm"] == "AB12CDE"]
    # same time 20:40: "incident" sorts before "read"
    assert ab["ref"].tolist() == ["NF01", "I2", "SF07", "CB03"]
    assert ab["kind"].tolist() == ["read", "incident", "read", "read"]
    assert p["vrm"].tolist() == ["AB12CDE"] * 4 + ["XY34ZZZ"]
    assert str(p["at"].dtype) == "datetime64[us, UTC]"
    assert p.index.tolist() == list(range(5))


def test_trips_split_on_gap():
    p = vehicle_points(None, make_reads(AB_READS))
    t = trips(p, max_gap_h=6.0)
    assert t["trip"].tolist() == [0, 0, 1]
    assert trips(p, max_gap_h=11.0)["trip"].tolist() == [0, 0, 0]


def test_trips_gap_exactly_max_stays_in_trip():
    reads = make_reads(
        [
            ("AA11AAA", "2021-10-01 00:00", "Kent", "K1", 590000, 150000),
            ("AA11AAA", "2021-10-01 06:00", "Essex", "E1", 570000, 210000),
            ("AA11AAA", "2021-10-01 12:00:00.000001", "Kent", "K2", 590000, 150000),
            ("BB22BBB", "2021-10-01 12:00", "Kent", "K3", 590000, 150000),
        ]
    )
    t = trips(vehicle_points(None, reads), max_gap_h=6.0)
    assert t["trip"].tolist() == [0, 0, 1, 0]


def test_border_crossings_known_answer():
    p = vehicle_points(None, make_reads(AB_READS))
    c = border_crossings(p, max_gap_h=6.0)
    assert list(c.columns) == CROSSING_COLUMNS
    assert len(c) == 1  # none across the 10 h gap
    row = c.iloc[0]
    assert (row["vrm"], row["trip"]) == ("AB12CDE", 0)
    assert (row["from_force"], row["to_force"]) == ("Norfolk", "Suffolk")
    assert row["from_at"] == T("2021-10-01 20:00")
    assert row["at"] == T("2021-10-01 20:40")
    assert (row["camera_id"], row["from_ref"], row["ref"]) == ("SF07", "NF01", "SF07")
    assert (row["easting"], row["northing"]) == (615000.0, 260000.0)
    # with a 12 h gap allowed, the Cambridgeshire read is a second crossing
    c12 = border_crossings(p, max_gap_h=12.0)
    assert c12["to_force"].tolist() == ["Suffolk", "Cambridgeshire"]
    assert c12["trip"].tolist() == [0, 0]


def test_incident_point_crossing_has_empty_camera():
    reads = make_reads(AB_READS[:1])
    inc = make_incidents([("I9", "2021-10-01 21:00", "Suffolk", "AB12CDE", 615500, 260500)])
    c = border_crossings(vehicle_points(inc, reads))
    assert len(c) == 1
    assert (c.loc[0, "camera_id"], c.loc[0, "ref"], c.loc[0, "from_ref"]) == ("", "I9", "NF01")


def test_same_force_and_other_plates_do_not_cross():
    reads = make_reads(
        [
            ("AA11AAA", "2021-10-01 20:00", "Kent", "K1", 590000, 150000),
            ("AA11AAA", "2021-10-01 20:30", "Kent", "K2", 590000, 150000),
            ("BB22BBB", "2021-10-01 20:31", "Essex", "E1", 570000, 210000),
        ]
    )
    assert border_crossings(vehicle_points(None, reads)).empty


def test_crossings_near_incidents_window():
    c = border_crossings(vehicle_points(None, make_reads(AB_READS)))  # at 20:40
    inc = make_incidents(
        [
            ("I1", "2021-10-01 22:00", "Suffolk", "AB12CDE", 615500, 260500),  # +1 h 20 min
            ("I0", "2021-10-01 18:00", "Norfolk", "AB12CDE;ZZ99ZZZ", 620500, 300500),  # -2 h 40 min
            ("I7", "2021-10-01 20:40", "Suffolk", "XY34ZZZ", 615500, 260500),  # other plate
            ("I8", "2021-10-02 00:00", "Suffolk", "AB12CDE", 615500, 260500),  # +3 h 20 min
        ]
    )
    out = crossings_near_incidents(c, inc, window_h=3.0)
    assert out["near_incident_ids"].tolist() == ["I0;I1"]  # time order
    assert out["near_incident"].tolist() == [True]
    assert crossings_near_incidents(c, inc, window_h=1.5)["near_incident_ids"].tolist() == ["I1"]
    none = crossings_near_incidents(c, inc, window_h=1.0)
    assert none["near_incident"].tolist() == [False]
    assert none["near_incident_ids"].tolist() == [""]
    # exactly on the window edge counts (inclusive)
    assert crossings_near_incidents(c, inc, window_h=80 / 60)["near_incident_ids"].tolist() == [
        "I1"
    ]
    assert out.index.equals(c.index)


def test_empty_inputs():
    empty_p = vehicle_points(None, None)
    assert list(empty_p.columns) == POINT_COLUMNS and empty_p.empty
    c = border_crossings(empty_p)
    assert list(c.columns) == CROSSING_COLUMNS and c.empty
    assert trips(empty_p).empty
    inc = make_incidents([])
    out = crossings_near_incidents(c, inc)
    assert out.empty and {"near_incident", "near_incident_ids"} <= set(out.columns)
    assert vehicle_points(inc, make_reads([])).empty
    assert crossings_from_parquet([]).columns.tolist() == CROSSING_COLUMNS


def test_inputs_not_mutated():
    reads = make_reads(AB_READS)
    inc = make_incidents([("I1", "2021-10-01 22:00", "Suffolk", "AB12CDE", 615500, 260500)])
    r0, i0 = reads.copy(), inc.copy()
    p = vehicle_points(inc, reads)
    p0 = p.copy()
    shuffled = p.iloc[::-1]
    s0 = shuffled.copy()
    trips(shuffled)
    c = border_crossings(shuffled)
    c0 = c.copy()
    crossings_near_incidents(c, inc)
    pd.testing.assert_frame_equal(reads, r0)
    pd.testing.assert_frame_equal(inc, i0)
    pd.testing.assert_frame_equal(p, p0)
    pd.testing.assert_frame_equal(shuffled, s0)
    pd.testing.assert_frame_equal(c, c0)
    # unsorted input gives the same answer as sorted
    pd.testing.assert_frame_equal(c, border_crossings(p))


def test_validation_errors():
    reads = make_reads(AB_READS)
    p = vehicle_points(None, reads)
    with pytest.raises(ValueError, match="max_gap_h"):
        border_crossings(p, max_gap_h=0)
    with pytest.raises(ValueError, match="max_gap_h"):
        trips(p, max_gap_h=-1)
    with pytest.raises(ValueError, match="max_gap_h"):
        border_crossings(p, max_gap_h=float("nan"))
    with pytest.raises(ValueError, match="window_h"):
        crossings_near_incidents(border_crossings(p), make_incidents([]), window_h=-1)
    with pytest.raises(ValueError, match="camera_id"):
        vehicle_points(None, reads.drop(columns=["camera_id"]))
    with pytest.raises(ValueError, match="force"):
        border_crossings(p.drop(columns=["force"]))
    with pytest.raises(ValueError, match="vrms"):
        vehicle_points(make_incidents([]).drop(columns=["vrms"]))
    naive = reads.copy()
    naive["read_at"] = naive["read_at"].dt.tz_localize(None)
    with pytest.raises(ValueError, match="timezone"):
        vehicle_points(None, naive)
    degrees = reads.copy()
    degrees["easting"] = [1.3, 1.1, 0.1]
    degrees["northing"] = [52.6, 52.1, 52.2]
    with pytest.raises(ValueError, match="longitude"):
        vehicle_points(None, degrees)
    with pytest.raises(ValueError, match="no parquet"):
        crossings_from_parquet("/nonexistent/dir/x.parquet")


# --------------------------------------------------------------------------- duckdb engine


def random_reads(seed: int, n: int = 3000, n_plates: int = 25) -> pd.DataFrame:
    """Reads with many ties (minute resolution, few cameras) to test the tie-break."""
    rng = np.random.default_rng(seed)
    forces = np.array(["Norfolk", "Suffolk", "Essex", "Lincolnshire"])
    plates = np.array([f"PL{i:02d}ABC" for i in range(n_plates)])
    minutes = rng.integers(0, 60 * 24 * 20, n)  # 20 days
    f = rng.integers(0, len(forces), n)
    rows = pd.DataFrame(
        {
            "vrm": plates[rng.integers(0, n_plates, n)],
            "read_at": pd.Timestamp("2021-08-25", tz="UTC")
            + pd.to_timedelta(minutes * 30, unit="s"),
            "force": forces[f],
            "camera_id": np.where(
                rng.random(n) < 0.05, "", np.char.add("C", rng.integers(0, 4, n).astype(str))
            ),
            "easting": 500000.0 + rng.integers(0, 3, n) * 1000.0,
            "northing": 250000.0 + rng.integers(0, 2, n) * 1000.0,
        }
    )
    return make_reads(list(rows.itertuples(index=False, name=None)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_duckdb_engine_equals_pandas_engine(tmp_path, seed):
    reads = random_reads(seed)
    store = tmp_path / "sightings"
    store.mkdir()
    half = len(reads) // 2
    reads.iloc[:half].to_parquet(store / "part-00000.parquet")  # GeoParquet, as the store writes
    reads.iloc[half:].to_parquet(store / "part-00001.parquet", geometry_encoding="geoarrow")
    (store / ".tmp-part.parquet").write_bytes(b"half-written")  # ignored: hidden
    for gap in (6.0, 0.75):
        expected = border_crossings(vehicle_points(None, reads), max_gap_h=gap)
        got = crossings_from_parquet(str(store / "*.parquet"), max_gap_h=gap)
        assert len(expected) > 20
        assert expected["trip"].max() > 0
        pd.testing.assert_frame_equal(got, expected)
    # directory form, plates filter
    expected = border_crossings(vehicle_points(None, reads))
    some = ["PL03ABC", "pl07 abc", "NOSUCH"]
    got = crossings_from_parquet(store, plates=some)
    want = expected[expected["vrm"].isin(["PL03ABC", "PL07ABC"])].reset_index(drop=True)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got, want)
    assert crossings_from_parquet(store, plates=[]).empty
    # season filter: crossings from 2021-09-01 00:00 London (= 08-31 23:00 UTC); trips renumbered
    start = T("2021-08-31 23:00")
    got = crossings_from_parquet(store, season="2021-22")
    want = expected[expected["at"] >= start].reset_index(drop=True)
    assert 0 < len(want) < len(expected)
    cols = [c for c in CROSSING_COLUMNS if c != "trip"]
    pd.testing.assert_frame_equal(got[cols], want[cols])
    got = crossings_from_parquet(store, season="2020-21")
    want = expected[expected["at"] < start].reset_index(drop=True)
    assert len(want) > 0
    pd.testing.assert_frame_equal(got[cols], want[cols])
    pd.testing.assert_series_equal(got["trip"], want["trip"])  # same first read
    assert crossings_from_parquet(store, season="2019-20").empty


def test_duckdb_nanosecond_times_truncated_like_pandas(tmp_path):
    reads = make_reads(AB_READS)
    reads["read_at"] = reads["read_at"].dt.as_unit("ns") + pd.to_timedelta(
        [999, 1999, 0], unit="ns"
    )
    reads.to_parquet(tmp_path / "a.parquet")
    got = crossings_from_parquet(tmp_path / "a.parquet")
    expected = border_crossings(vehicle_points(None, reads))
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[0, "at"] == T("2021-10-01 20:40:00.000001")


def test_duckdb_missing_column(tmp_path):
    reads = make_reads(AB_READS).drop(columns=["camera_id"])
    reads.to_parquet(tmp_path / "a.parquet")
    with pytest.raises(ValueError, match="camera_id"):
        crossings_from_parquet(tmp_path)
    with pytest.raises(ValueError, match="max_gap_h"):
        crossings_from_parquet(tmp_path, max_gap_h=0)

"""The dask engine gives exactly the embedded (duckdb) engine's crossings and ladder.

Runs on a real dask.distributed LocalCluster of 2 worker processes (no mock).
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from factories import T, incident_rows, read_rows
from pyproj import Transformer

from geo.cli import main
from geo.engines.dask import crossings_dask, dask_client, offenders_dask, write_crossings_dask
from geo.engines.duckdb import crossings_from_parquet, offenders_from_store
from geo.errors import StoreCorrupt
from geo.io.store.layout import init_sightings_store
from geo.io.store.read import sightings_partitions, sightings_paths
from geo.io.store.write import write_sightings
from geo.movements import CROSSING_COLUMNS
from geo.schema import BNG, SEVEN_FORCES

distributed = pytest.importorskip("distributed")

SEVEN = set(SEVEN_FORCES.values())
#: Rough force centres (m, EPSG:27700): the engines do not look at geometry, the CLI's
#: incident validation does.
CENTRE = {
    "Norfolk": (623000.0, 308000.0),
    "Suffolk": (616000.0, 244000.0),
    "Essex": (575000.0, 205000.0),
    "Cambridgeshire": (545000.0, 258000.0),
    "Kent": (590000.0, 150000.0),
    "Lincolnshire": (510000.0, 370000.0),
}





def make_reads(rows: list[tuple]) -> pd.DataFrame:
    """rows: (vrm, read_at UTC, force, camera_id) -> SIGHTING_COLUMNS."""
    df = read_rows(rows, ("vrm", "read_at", "force", "camera_id"),
                   easting=[CENTRE[r[2]][0] + 10.0 * i for i, r in enumerate(rows)],
                   northing=[CENTRE[r[2]][1] for r in rows])
    return pd.DataFrame(df.drop(columns="geometry")).assign(read_at=df["read_at"].dt.as_unit("us"))


# Season 2021-22 starts 2021-08-31 23:00 UTC (00:00 BST). Known crossings at max_gap_h=6:
HAND_READS = [
    # plain: Norfolk -> Suffolk at 19:40, Suffolk -> Essex at 21:00
    ("AB12CDE", "2021-10-01 19:00", "Norfolk", "N1"),
    ("AB12CDE", "2021-10-01 19:40", "Suffolk", "S1"),
    ("AB12CDE", "2021-10-01 20:10", "Suffolk", "S2"),
    ("AB12CDE", "2021-10-01 21:00", "Essex", "E1"),
    # across a month boundary (London = UTC after 31 Oct 02:00): two month folders
    ("MO11NTH", "2021-10-31 23:30", "Norfolk", "N2"),
    ("MO11NTH", "2021-11-01 00:30", "Cambridgeshire", "C1"),
    # across the season start: Kent 16:00 is 7 h before it (outside the 6 h margin)
    ("SE45SON", "2021-08-25 10:00", "Cambridgeshire", "C2"),
    ("SE45SON", "2021-08-25 10:30", "Norfolk", "N3"),  # 2020-21, trip 0
    ("SE45SON", "2021-08-31 16:00", "Kent", "K1"),
    ("SE45SON", "2021-08-31 20:00", "Norfolk", "N4"),  # 2020-21, trip 1
    ("SE45SON", "2021-08-31 23:30", "Suffolk", "S3"),  # 2021-22: trip 1, or 0 from the window
    # a gap of 7 h > 6 h breaks the trip; exactly 6 h does not
    ("GA12PPP", "2021-11-10 10:00", "Norfolk", "N5"),
    ("GA12PPP", "2021-11-10 17:00", "Suffolk", "S4"),  # no crossing: new trip
    ("GA12PPP", "2021-11-10 23:00", "Essex", "E2"),  # exactly 6 h: crossing, trip 1
    # identical times, tie broken by camera: S-A (Suffolk) < CAM-B (Norfolk)
    ("TI33EEE", "2021-12-01 20:00", "Norfolk", "CAM-B"),
    ("TI33EEE", "2021-12-01 20:00", "Suffolk", "CAM-A"),
    ("TI33EEE", "2021-12-01 20:10", "Norfolk", "CAM-C"),
    # neighbour force and next season
    ("NE16HBR", "2022-10-05 02:00", "Lincolnshire", "L1"),
    ("NE16HBR", "2022-10-05 03:00", "Norfolk", "N6"),
    ("LO11NLY", "2021-10-02 12:00", "Essex", "E3"),
]

WANT_ALL = [  # (vrm, trip, from, to, at, camera) at max_gap_h=6, all seasons
    ("AB12CDE", 0, "Norfolk", "Suffolk", "2021-10-01 19:40", "S1"),
    ("AB12CDE", 0, "Suffolk", "Essex", "2021-10-01 21:00", "E1"),
    ("GA12PPP", 1, "Suffolk", "Essex", "2021-11-10 23:00", "E2"),
    ("MO11NTH", 0, "Norfolk", "Cambridgeshire", "2021-11-01 00:30", "C1"),
    ("NE16HBR", 0, "Lincolnshire", "Norfolk", "2022-10-05 03:00", "N6"),
    ("SE45SON", 0, "Cambridgeshire", "Norfolk", "2021-08-25 10:30", "N3"),
    ("SE45SON", 1, "Kent", "Norfolk", "2021-08-31 20:00", "N4"),
    ("SE45SON", 1, "Norfolk", "Suffolk", "2021-08-31 23:30", "S3"),
    ("TI33EEE", 0, "Suffolk", "Norfolk", "2021-12-01 20:00", "CAM-B"),
]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
            memory_limit="1GB",
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("hand")
    init_sightings_store(root, buckets=4)
    reads = make_reads(HAND_READS)
    write_sightings(reads.iloc[:9], root)  # two batches: several files per partition
    write_sightings(reads.iloc[9:], root)
    return root


def _summary(df: pd.DataFrame) -> list[tuple]:
    return [
        (r.vrm, r.trip, r.from_force, r.to_force, r.at.strftime("%Y-%m-%d %H:%M"), r.camera_id)
        for r in df.itertuples()
    ]


def test_hand_made_store_known_crossings(hand_store, client):
    parts = sightings_partitions(hand_store)
    assert len(parts) >= 2  # plates spread over several buckets (tasks)
    got = crossings_dask(hand_store, client=client)
    assert _summary(got) == WANT_ALL
    assert got.columns.tolist() == CROSSING_COLUMNS
    pd.testing.assert_frame_equal(got, crossings_from_parquet(sightings_paths(hand_store)))


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        ({"season": "2021-22"}, [  # trip numbers count from the window start (17:00)
            ("AB12CDE", 0, "Norfolk", "Suffolk", "2021-10-01 19:40", "S1"),
            ("AB12CDE", 0, "Suffolk", "Essex", "2021-10-01 21:00", "E1"),
            ("GA12PPP", 1, "Suffolk", "Essex", "2021-11-10 23:00", "E2"),
            ("MO11NTH", 0, "Norfolk", "Cambridgeshire", "2021-11-01 00:30", "C1"),
            ("SE45SON", 0, "Norfolk", "Suffolk", "2021-08-31 23:30", "S3"),
            ("TI33EEE", 0, "Suffolk", "Norfolk", "2021-12-01 20:00", "CAM-B"),
        ]),
        ({"season": "2020-21"}, [
            ("SE45SON", 0, "Cambridgeshire", "Norfolk", "2021-08-25 10:30", "N3"),
            ("SE45SON", 1, "Kent", "Norfolk", "2021-08-31 20:00", "N4"),
        ]),
        ({"plates": ["se45 son", "ti33eee", "NOSUCH1"], "season": "2021-22"}, [
            ("SE45SON", 0, "Norfolk", "Suffolk", "2021-08-31 23:30", "S3"),
            ("TI33EEE", 0, "Suffolk", "Norfolk", "2021-12-01 20:00", "CAM-B"),
        ]),
        ({"max_gap_h": 0.6}, [  # 36 min: AB12CDE's 40 and 50 min gaps break its trips
            ("SE45SON", 0, "Cambridgeshire", "Norfolk", "2021-08-25 10:30", "N3"),
            ("TI33EEE", 0, "Suffolk", "Norfolk", "2021-12-01 20:00", "CAM-B"),
        ]),
        ({"season": "2019-20"}, []),
        ({"plates": []}, []),
        ({"plates": ["NOSUCH1"]}, []),
    ],
)
def test_filters_match_duckdb(hand_store, client, kwargs, want):
    got = crossings_dask(hand_store, client=client, **kwargs)
    assert _summary(got) == want
    pd.testing.assert_frame_equal(got, crossings_from_parquet(sightings_paths(hand_store), **kwargs))


def test_empty_store_and_errors(tmp_path, hand_store, client):
    empty = crossings_dask(tmp_path / "nothing-here", client=client)
    pd.testing.assert_frame_equal(empty, crossings_from_parquet([]))
    init_sightings_store(tmp_path / "fresh")
    assert crossings_dask(tmp_path / "fresh", client=client).empty
    with pytest.raises(ValueError, match="max_gap_h"):
        crossings_dask(hand_store, max_gap_h=0, client=client)
    with pytest.raises(ValueError, match="season label"):
        crossings_dask(hand_store, season="2021/22", client=client)


def test_default_client_is_used(hand_store, client):
    # the module's client is this process's default client: no new cluster is started
    got = crossings_dask(hand_store, season="2021-22")
    assert len(got) == 6


@pytest.mark.parametrize("damage", ["replaced", "missing"])
def test_damaged_or_missing_file_is_named(tmp_path, client, damage):
    init_sightings_store(tmp_path, buckets=2)
    (path,) = write_sightings(make_reads(HAND_READS[:1]), tmp_path)
    if damage == "replaced":
        make_reads(HAND_READS[:1]).drop(columns=["camera_id"]).to_parquet(path)
        problem = "content does not match"
    else:
        path.unlink()
        problem = "missing"
    with pytest.raises(StoreCorrupt, match=rf"{path.name} \({problem}"):
        crossings_dask(tmp_path, client=client)  # checked on the worker, raised here


# --------------------------------------------------------------------------- random store


def random_reads(seed: int, n_reads: int, n_plates: int) -> pd.DataFrame:
    """Reads of ``n_plates`` plates over two seasons: trips of reads ~40 min apart, a force
    random walk, times on whole minutes (ties) and a few cameras per force."""
    rng = np.random.default_rng(seed)
    forces = ["Norfolk", "Suffolk", "Essex", "Cambridgeshire", "Lincolnshire"]
    plates = np.array([f"RP{i:03d}XYZ" for i in range(n_plates)], dtype=object)
    plate = rng.integers(0, n_plates, n_reads)
    # a plate's reads cluster in a few nights, so gaps are both short and long
    nights = (rng.integers(0, 40, n_reads) * 17 + plate * 3) % 720
    start = T("2021-07-01").value // 1000
    at_us = start + (nights * 24 * 60 + rng.integers(0, 600, n_reads)) * 60_000_000
    force = rng.integers(0, len(forces), n_reads)
    rows = pd.DataFrame(
        {
            "vrm": plates[plate],
            "read_at": pd.to_datetime(at_us, unit="us", utc=True),
            "force": np.array(forces, dtype=object)[force],
            "camera_id": np.char.add("CAM", rng.integers(0, 3, n_reads).astype(str)),
        }
    )
    return make_reads(list(rows.itertuples(index=False, name=None)))


def test_random_store_equivalence(tmp_path, client):
    reads = random_reads(7, 20_000, 300)
    init_sightings_store(tmp_path, buckets=8)
    for chunk in np.array_split(np.arange(len(reads)), 3):  # 3 ingest batches
        write_sightings(reads.iloc[chunk], tmp_path)
    paths = sightings_paths(tmp_path)
    some = sorted(set(reads["vrm"].iloc[::97]))
    for kwargs in ({}, {"season": "2021-22"}, {"season": "2022-23", "max_gap_h": 0.75},
                   {"plates": some}, {"plates": some, "season": "2022-23"}):
        got = crossings_dask(tmp_path, client=client, **kwargs)
        want = crossings_from_parquet(paths, **kwargs)
        assert len(want) > 50, kwargs
        pd.testing.assert_frame_equal(got, want, obj=str(kwargs))
    everything = crossings_from_parquet(paths)
    assert everything["trip"].max() > 0
    assert (everything["at"] == everything["from_at"]).any()  # ties at identical times


def test_write_crossings_dask_files_hold_the_same_rows(tmp_path, client):
    reads = random_reads(11, 6_000, 120)
    store = tmp_path / "store"
    init_sightings_store(store, buckets=4)
    write_sightings(reads, store)
    for i, kwargs in enumerate(({}, {"season": "2022-23"}, {"plates": ["NO1SUCH"]})):
        out = tmp_path / f"out{i}"
        n = write_crossings_dask(store, out, client=client, **kwargs)
        files = sorted(out.glob("part.*.parquet"))
        back = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        want = crossings_dask(store, client=client, **kwargs)
        assert n == len(want) == len(back)
        assert n > 50 or "plates" in kwargs
        assert len(files) == (1 if "plates" in kwargs else 4)  # one file per bucket
        got = back.sort_values("vrm", kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want, check_dtype=False, obj=str(kwargs))
    assert n == 0
    with pytest.raises(ValueError, match="not an empty folder"):
        write_crossings_dask(store, tmp_path / "out0", client=client)


# --------------------------------------------------------------------------- ladder


def make_incidents(rows: list[tuple]) -> gpd.GeoDataFrame:
    """rows: (incident_id, occurred_at UTC, force, vrms, nominals)."""
    return incident_rows(rows, ("incident_id", "occurred_at", "force", "vrms", "nominals"),
                         easting=[CENTRE[r[2]][0] for r in rows], northing=[CENTRE[r[2]][1] for r in rows])


INCIDENT_ROWS = [
    ("I1", "2021-10-01 20:00", "Suffolk", "AB12CDE", "P1"),
    ("I2", "2021-10-09 20:00", "Essex", "AB12CDE;TI33EEE", ""),
    ("I3", "2021-12-01 21:00", "Norfolk", "TI33EEE", "P1"),
    ("I4", "2021-09-01 01:00", "Suffolk", "SE45SON", ""),
    ("I5", "2022-10-05 04:00", "Norfolk", "NE16HBR", ""),
    ("I6", "2021-11-10 22:00", "Lincolnshire", "GA12PPP", ""),  # neighbour: not counted
]


def test_offenders_dask_equals_offenders_from_store(hand_store, client):
    inc = make_incidents(INCIDENT_ROWS)
    for kwargs in ({}, {"season": "2021-22"}, {"season": "2022-23"}, {"forces": ["Essex"]},
                   {"all_plates": True}, {"plates": ["AB12CDE"]}):
        got = offenders_dask(inc, hand_store, client=client, **kwargs)
        want = offenders_from_store(inc, data_dir=hand_store, **kwargs)
        pd.testing.assert_frame_equal(got, want, obj=str(kwargs))
        # pruned file list gives the same ladder as every file
        pd.testing.assert_frame_equal(
            want, offenders_from_store(inc, sightings_paths(hand_store), **kwargs), obj=str(kwargs)
        )
    full = offenders_dask(inc, hand_store, client=client)
    ab = full[full["subject"] == "AB12CDE"].iloc[0]
    assert [(c["from"], c["to"], c["near_incident"]) for c in ab["crossings"]] == [
        ("Norfolk", "Suffolk", True), ("Suffolk", "Essex", True)]
    se = full[full["subject"] == "SE45SON"].iloc[0]
    assert [c["at"] for c in se["crossings"]] == ["2021-08-31T23:30:00+00:00"]
    assert "GA12PPP" not in set(full["subject"])


# --------------------------------------------------------------------------- CLI


def test_cli_engine_dask_equals_embedded(hand_store, client, tmp_path, boundaries_path, capsys):
    to_wgs = Transformer.from_crs(BNG, "EPSG:4326", always_xy=True)
    lines = ["incident_id,occurred_at,lat,lon,vrm"]
    for ref, when, force, vrms, _ in INCIDENT_ROWS:
        if force == "Lincolnshire":
            continue
        lon, lat = to_wgs.transform(*CENTRE[force])
        lines.append(f"{ref},{when}Z,{lat:.6f},{lon:.6f},{vrms.split(';')[0]}")
    inc = tmp_path / "inc.csv"
    inc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    base = ["offenders", "--incidents", str(inc), "--data-dir", str(hand_store),
            "--boundaries", str(boundaries_path)]
    assert main([*base, "--engine", "embedded"]) == 0
    embedded = json.loads(capsys.readouterr().out)
    assert main([*base, "--engine", "dask", "--scheduler", client.cluster.scheduler_address]) == 0
    dask_out = json.loads(capsys.readouterr().out)
    assert dask_out == embedded
    by = {o["subject"]: o for o in embedded["offenders"]}
    assert [c["camera_id"] for c in by["AB12CDE"]["crossings"]] == ["S1", "E1"]
    assert main([*base, "--engine", "dask", "--scheduler", client.cluster.scheduler_address,
                 "--season", "2021-22", "--all-plates", "--format", "csv"]) == 0
    dask_csv = capsys.readouterr().out
    assert main([*base, "--season", "2021-22", "--format", "csv"]) == 0
    assert capsys.readouterr().out == dask_csv


def test_cli_scheduler_needs_engine_dask(hand_store, boundaries_path, capsys):
    code = main(["offenders", "--data-dir", str(hand_store), "--scheduler", "tcp://127.0.0.1:1",
                 "--boundaries", str(boundaries_path)])
    assert code == 2
    assert "--engine dask" in capsys.readouterr().err


def test_dask_client_starts_and_closes_a_local_cluster():
    with dask_client(n_workers=1, memory_limit="1GB") as c:
        assert len(c.scheduler_info()["workers"]) == 1
        cluster = c.cluster
    assert c.status == "closed"
    assert cluster.status.name == "closed"

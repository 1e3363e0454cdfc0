"""Partitioned sightings table: Delta partitions, pruning, idempotent ingest, upgrade of 0.1/0.2 stores."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo._frames import fnv1a64, repeated
from geo.cli import main
from geo.engines.duckdb import crossings_from_parquet
from geo.errors import LegacyLayoutError, StoreCorrupt
from geo.io.store.layout import (
    DEFAULT_BUCKETS,
    PLATE_HASH,
    SightingsLayout,
    init_sightings_store,
    plate_buckets,
    sightings_layout,
)
from geo.io.store.maintain import upgrade_store
from geo.io.store.read import (
    read_incidents,
    read_sightings,
    sightings_partitions,
    sightings_paths,
)
from geo.io.store.write import ingest, write_sightings
from geo.schema import BNG, SIGHTING_COLUMNS
from geo.validate.incidents import validate_incidents
from geo.validate.sightings import validate_sightings

CAMBS = ("545000", "258000")  # Cambridge: Cambridgeshire
NORFOLK = ("610000", "310000")  # Norwich area: Norfolk

# (plate, UTC time, place, camera); buckets of 16: AB12AAH 9, XY99AAG 3, CD34AAJ 7
TWO_SEASONS = [
    ("AB12AAH", "2021-10-05T10:00:00Z", CAMBS, "C1"),
    ("AB12AAH", "2021-10-05T11:00:00Z", NORFOLK, "N1"),
    ("XY99AAG", "2021-11-02T09:00:00Z", NORFOLK, "N2"),
    ("XY99AAG", "2021-11-02T10:00:00Z", CAMBS, "C2"),
    ("AB12AAH", "2022-10-05T10:00:00Z", CAMBS, "C1"),
    ("AB12AAH", "2022-10-05T12:00:00Z", NORFOLK, "N1"),
    ("CD34AAJ", "2022-11-01T08:00:00Z", NORFOLK, "N3"),
]


def _accepted(areas, rows):
    raw = pd.DataFrame(
        {
            "vrm": [r[0] for r in rows],
            "read_at": [r[1] for r in rows],
            "easting": [r[2][0] for r in rows],
            "northing": [r[2][1] for r in rows],
            "camera_id": [r[3] for r in rows],
        }
    )
    res = validate_sightings(raw, areas)
    assert res.n_rejected == 0, res.rejects
    return res


def _rel(root: Path, paths) -> set[str]:
    return {str(Path(p).relative_to(root / "tables" / "sightings").parent) for p in paths}


def test_fnv1a64_matches_the_published_test_vectors():
    # from the FNV reference test suite (64-bit FNV-1a)
    got = fnv1a64(["", "a", "foobar", None]).tolist()
    assert got == [0xCBF29CE484222325, 0xAF63DC4C8601EC8C, 0x85944171F73967E8,
                   0xCBF29CE484222325]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), max_size=30))
def test_fnv1a64_equals_a_byte_by_byte_reference(texts):
    def reference(text: str) -> int:
        h = 0xCBF29CE484222325
        for byte in text.encode("utf-8", "surrogatepass"):
            h = ((h ^ byte) * 0x100000001B3) % 2**64
        return h

    texts = [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    assert fnv1a64(texts).tolist() == [reference(t) for t in texts]
    assert fnv1a64(pd.Series(texts, dtype="str")).tolist() == [reference(t) for t in texts]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "ab", "abcdefgh", "abcdefghi", "abcdefghij" * 3, "é",
                                 "abcdefgh\x00", "\x00"]) | st.text(max_size=20), max_size=40))
def test_repeated_is_duplicated_keep_false(texts):
    texts = [t for t in texts if not any(0xD800 <= ord(c) <= 0xDFFF for c in t)]
    want = pd.Series(texts, dtype=object).duplicated(keep=False).to_numpy(dtype=bool)
    assert repeated(texts).tolist() == want.tolist()


def test_plate_buckets_are_pinned():
    # a change of the hash must be caught: existing stores would be mis-pruned
    plates = ["AB12CDE", "XY99ZZZ", "CD34EFG", "GH56IJK", ""]
    assert plate_buckets(plates, 16).tolist() == [1, 2, 15, 7, 5]
    assert plate_buckets(plates, 100).tolist() == [57, 22, 31, 59, 37]
    assert plate_buckets(pd.Series(plates, dtype="str"), 4).tolist() == [1, 2, 3, 3, 1]
    assert plate_buckets([], 16).dtype == "int64" and len(plate_buckets([], 16)) == 0
    with pytest.raises(ValueError, match="buckets"):
        plate_buckets(plates, 101)


def test_layout_directories_with_bst_month_boundary(areas, tmp_path):
    rows = [
        ("AB12AAH", "2021-09-30T23:30:00Z", CAMBS, "C1"),  # 00:30 BST on 1 October
        ("AB12AAH", "2021-09-30T22:30:00Z", CAMBS, "C2"),  # 23:30 BST on 30 September
        ("XY99AAG", "2021-08-31T23:30:00Z", NORFOLK, "N1"),  # 00:30 BST 1 Sep: new season
        ("XY99AAG", "2021-08-31T22:30:00Z", NORFOLK, "N2"),  # 23:30 BST 31 Aug: old season
        ("CD34AAJ", "2021-12-31T23:30:00Z", NORFOLK, "N3"),  # GMT: still December
    ]
    rep = ingest(_accepted(areas, rows), tmp_path)
    assert rep.rows_added == 5 and len(rep.part_paths) == 5
    assert _rel(tmp_path, sightings_paths(tmp_path)) == {
        "season=2021-22/month=2021-10/bucket=09",
        "season=2021-22/month=2021-09/bucket=09",
        "season=2021-22/month=2021-09/bucket=03",
        "season=2020-21/month=2021-08/bucket=03",
        "season=2021-22/month=2021-12/bucket=07",
    }
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in rep.part_paths)
    layout = json.loads((tmp_path / "tables" / "sightings" / "_layout.json").read_text())
    assert layout == {"version": 3, "format": "delta", "buckets": 16, "season_start_month": 9,
                      "hash": PLATE_HASH}
    assert sightings_layout(tmp_path) == SightingsLayout(16, 9, PLATE_HASH)


def test_init_layout_rules(areas, tmp_path):
    assert sightings_layout(tmp_path) == SightingsLayout(DEFAULT_BUCKETS, 9, PLATE_HASH)
    assert not (tmp_path / "tables").exists()  # reading the layout writes nothing
    assert init_sightings_store(tmp_path, buckets=4, season_start_month=1).buckets == 4
    assert init_sightings_store(tmp_path, buckets=4, season_start_month=1).season_start_month == 1
    with pytest.raises(ValueError, match="already has buckets=4.*cannot change"):
        init_sightings_store(tmp_path, buckets=16, season_start_month=1)
    with pytest.raises(ValueError, match="season_start_month"):
        init_sightings_store(tmp_path, buckets=4, season_start_month=9)
    ingest(_accepted(areas, TWO_SEASONS), tmp_path)
    dirs = _rel(tmp_path, sightings_paths(tmp_path))
    # calendar-year seasons, 4 buckets: AB12AAH -> 1, XY99AAG -> 3, CD34AAJ -> 3
    assert dirs == {"season=2021/month=2021-10/bucket=01", "season=2021/month=2021-11/bucket=03",
                    "season=2022/month=2022-10/bucket=01", "season=2022/month=2022-11/bucket=03"}
    (tmp_path / "tables" / "sightings" / "_layout.json").write_text('{"version": 2}')
    with pytest.raises(ValueError, match="_layout.json"):
        sightings_layout(tmp_path)


def test_ingest_is_idempotent_and_adds_only_new_rows(areas, tmp_path):
    res = _accepted(areas, TWO_SEASONS[:4])
    first = ingest(res, tmp_path)
    assert (first.rows_added, first.rows_already_stored) == (4, 0)
    second = ingest(res, tmp_path)
    assert (second.rows_added, second.rows_already_stored) == (0, 4)
    assert second.part_path is None and second.part_paths == ()
    assert second.to_dict()["part_paths"] == []
    overlap = ingest(_accepted(areas, TWO_SEASONS[2:]), tmp_path)  # 2 stored + 3 new
    assert (overlap.rows_added, overlap.rows_already_stored) == (3, 2)
    assert len(overlap.part_paths) == 2  # only the new rows' partitions get a file
    assert len(read_sightings(tmp_path)) == 7
    # files not in the table's current version (e.g. an interrupted write's) are never read
    folder = tmp_path / "tables" / "sightings" / "season=2021-22" / "month=2021-10" / "bucket=09"
    (folder / "part-half-written.parquet").write_bytes(b"not yet parquet")
    (folder / ".tmp-half-written.parquet").write_bytes(b"not yet parquet")
    assert len(sightings_paths(tmp_path)) == 4 and len(read_sightings(tmp_path)) == 7


def test_read_sightings_columns_and_order(areas, tmp_path):
    res = _accepted(areas, list(reversed(TWO_SEASONS)))
    ingest(res, tmp_path)
    back = read_sightings(tmp_path)
    assert list(back.columns) == [*SIGHTING_COLUMNS, "geometry"] and back.crs == BNG
    expected = res.accepted.sort_values(["read_at", "vrm"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(back), pd.DataFrame(expected))
    slim = read_sightings(tmp_path, columns=["read_at", "vrm"])
    assert list(slim.columns) == ["read_at", "vrm"] and not hasattr(slim, "geometry")
    assert slim["read_at"].is_monotonic_increasing
    with pytest.raises(ValueError, match="season"):
        read_sightings(tmp_path, columns=["vrm", "season"])


def test_write_sightings_plain_frame_without_check(areas, tmp_path):
    frame = pd.DataFrame(_accepted(areas, TWO_SEASONS).accepted.drop(columns="geometry"))
    written = write_sightings(frame, tmp_path)
    assert len(written) == 4 and sorted(written) == sorted(sightings_paths(tmp_path))
    write_sightings(frame, tmp_path)  # no duplicate check: for generators
    back = read_sightings(tmp_path)
    assert len(back) == 14 and back.crs == BNG
    assert (back.geometry.x == back["easting"]).all()
    with pytest.raises(ValueError, match="timezone-aware"):
        write_sightings(frame.assign(read_at=frame["read_at"].dt.tz_localize(None)), tmp_path)
    with pytest.raises(ValueError, match="camera_id"):
        write_sightings(frame.drop(columns="camera_id"), tmp_path)


def test_pruning_by_season_with_margin(areas, tmp_path):
    ingest(_accepted(areas, TWO_SEASONS), tmp_path)
    s21 = sightings_paths(tmp_path, season="2021-22")
    assert _rel(tmp_path, s21) == {"season=2021-22/month=2021-10/bucket=09",
                                   "season=2021-22/month=2021-11/bucket=03"}
    assert _rel(tmp_path, sightings_paths(tmp_path, season="2022-23")) == {
        "season=2022-23/month=2022-10/bucket=09", "season=2022-23/month=2022-11/bucket=07"}
    assert sightings_paths(tmp_path, season="2019-20") == []
    # a season starting in November (other than the store's) overlaps both stored seasons
    assert _rel(tmp_path, sightings_paths(tmp_path, season="2021-22", start_month=11)) == {
        "season=2021-22/month=2021-11/bucket=03", "season=2022-23/month=2022-10/bucket=09"}
    # the month before the start comes in only with a margin reaching into it
    ingest(_accepted(areas, [("AB12AAH", "2021-08-31T20:00:00Z", CAMBS, "C9")]), tmp_path)
    assert len(sightings_paths(tmp_path, season="2021-22")) == 2
    with_margin = _rel(tmp_path, sightings_paths(tmp_path, season="2021-22", margin_h=6))
    assert "season=2020-21/month=2021-08/bucket=09" in with_margin and len(with_margin) == 3
    # time ranges: London months overlapping [lo - margin, hi]
    lo = pd.Timestamp("2021-11-01T00:00:00Z")  # GMT again: 1 November
    hi = pd.Timestamp("2022-09-30T23:30:00Z")  # 00:30 BST on 1 October
    assert _rel(tmp_path, sightings_paths(tmp_path, time_range=(lo, hi))) == {
        "season=2021-22/month=2021-11/bucket=03", "season=2022-23/month=2022-10/bucket=09"}
    assert len(sightings_paths(tmp_path, time_range=(lo, hi), margin_h=1)) == 3  # + Oct 2021
    just_before = pd.Timestamp("2021-10-31T23:59:59Z")
    assert len(sightings_paths(tmp_path, time_range=(None, just_before))) == 2  # Aug + Oct 2021
    with pytest.raises(ValueError, match="timezone-aware"):
        sightings_paths(tmp_path, time_range=(pd.Timestamp("2021-10-01"), None))
    with pytest.raises(ValueError, match="margin_h"):
        sightings_paths(tmp_path, season="2021-22", margin_h=-1)


def test_season_scan_does_not_open_other_seasons(areas, tmp_path):
    ingest(_accepted(areas, TWO_SEASONS), tmp_path)
    expected = crossings_from_parquet(sightings_paths(tmp_path), season="2021-22")
    assert len(expected) == 2  # AB12AAH Cambs->Norfolk, XY99AAG Norfolk->Cambs
    for p in sightings_paths(tmp_path, season="2022-23"):  # poison the other season
        p.write_bytes(b"garbage, not parquet")
    with pytest.raises(StoreCorrupt, match="season=2022-23"):
        crossings_from_parquet(sightings_paths(tmp_path), season="2021-22")
    got = crossings_from_parquet(sightings_paths(tmp_path, season="2021-22", margin_h=6),
                                 season="2021-22")
    pd.testing.assert_frame_equal(got, expected)


def test_margin_keeps_crossings_just_after_the_season_start(areas, tmp_path):
    rows = [
        ("AB12AAH", "2021-08-31T20:00:00Z", CAMBS, "C1"),  # 21:00 BST, August: season 2020-21
        ("AB12AAH", "2021-09-01T01:00:00Z", NORFOLK, "N1"),  # crossing in season 2021-22
        ("XY99AAG", "2021-12-01T10:00:00Z", NORFOLK, "N2"),
        ("XY99AAG", "2021-12-01T11:00:00Z", CAMBS, "C2"),
    ]
    ingest(_accepted(areas, rows), tmp_path)
    everything = crossings_from_parquet(sightings_paths(tmp_path), season="2021-22")
    assert everything["vrm"].tolist() == ["AB12AAH", "XY99AAG"]
    pruned = crossings_from_parquet(sightings_paths(tmp_path, season="2021-22", margin_h=6),
                                    season="2021-22")
    pd.testing.assert_frame_equal(pruned, everything)
    no_margin = crossings_from_parquet(sightings_paths(tmp_path, season="2021-22"),
                                       season="2021-22")
    assert no_margin["vrm"].tolist() == ["XY99AAG"]  # why the margin is needed


def test_pruning_by_plates(areas, tmp_path):
    ingest(_accepted(areas, TWO_SEASONS), tmp_path)
    got = sightings_paths(tmp_path, plates=["ab12 aah"])
    assert {p.parent.name for p in got} == {"bucket=09"} and len(got) == 2
    both = sightings_paths(tmp_path, plates=["AB12AAH", "CD34AAJ"], season="2022-23")
    assert _rel(tmp_path, both) == {"season=2022-23/month=2022-10/bucket=09",
                                    "season=2022-23/month=2022-11/bucket=07"}
    assert sightings_paths(tmp_path, plates=[]) == [] and sightings_partitions(
        tmp_path, plates=[" "]) == {}
    parts = sightings_partitions(tmp_path)
    assert list(parts) == [3, 7, 9] and len(parts[9]) == 2
    assert sightings_partitions(tmp_path, season="2021-22", plates=["XY99AAG"]) == {
        3: sightings_paths(tmp_path, season="2021-22", plates=["XY99AAG"])}
    # a store bucketed with another hash: never pruned by plate (and not written to)
    layout_file = tmp_path / "tables" / "sightings" / "_layout.json"
    layout_file.write_text(json.dumps({**json.loads(layout_file.read_text()), "hash": "other"}))
    assert sightings_paths(tmp_path, plates=["AB12AAH"]) == sightings_paths(tmp_path)
    with pytest.raises(ValueError, match="plate hash"):
        ingest(_accepted(areas, TWO_SEASONS[:1]), tmp_path)


def test_readable_by_delta_readers_and_duckdb(areas, tmp_path):
    from deltalake import DeltaTable

    ingest(_accepted(areas, TWO_SEASONS), tmp_path)
    table = DeltaTable(str(tmp_path / "tables" / "sightings"))
    con = duckdb.connect()
    con.register("reads", table.to_pyarrow_dataset())
    rows = con.sql("SELECT season, month, bucket, vrm, read_at FROM reads ORDER BY read_at").df()
    assert len(rows) == 7
    labels = rows[["season", "month", "bucket"]].astype(str).agg("/".join, axis=1)
    assert labels.tolist() == [
        "2021-22/2021-10/09", "2021-22/2021-10/09", "2021-22/2021-11/03", "2021-22/2021-11/03",
        "2022-23/2022-10/09", "2022-23/2022-10/09", "2022-23/2022-11/07",
    ]
    assert table.metadata().partition_columns == ["season", "month", "bucket"]


def _legacy_store(areas, root: Path, rows) -> None:
    """A 0.1.0 store: one flat GeoParquet file per ingest call."""
    folder = root / "sightings"
    folder.mkdir(parents=True, exist_ok=True)
    for i, chunk in enumerate((rows[:3], rows[3:])):
        acc = _accepted(areas, chunk).accepted
        acc.to_parquet(folder / f"part-2025010{i}T000000Z-legacy{i}.parquet", index=False)


def _v020_store(areas, root: Path, rows, buckets: int = 4) -> None:
    """A 0.2.0 store: GeoParquet per season/month/bucket folder, layout version 2, incidents."""
    from geo.io.store.layout import month_codes, month_name, season_name

    acc = _accepted(areas, rows).accepted
    folder = root / "sightings"
    folder.mkdir(parents=True)
    (folder / "_layout.json").write_text(json.dumps(
        {"version": 2, "buckets": buckets, "season_start_month": 9, "hash": PLATE_HASH}))
    codes, bkt = month_codes(acc["read_at"]), plate_buckets(acc["vrm"], buckets)
    for code, b in sorted(set(zip(codes.tolist(), bkt.tolist(), strict=True))):
        part = (folder / f"season={season_name(code, 9)}" / f"month={month_name(code)}"
                / f"bucket={b:02d}")
        part.mkdir(parents=True)
        acc[(codes == code) & (bkt == b)].to_parquet(part / "part-x.parquet", index=False)
    raw = pd.DataFrame({"id": ["A", "B"], "datetime": ["2021-11-01 10:00", "2021-11-02 10:00"],
                        "easting": ["545000", "545100"], "northing": ["258000", "258000"]})
    (root / "incidents").mkdir()
    validate_incidents(raw, areas).accepted.to_parquet(root / "incidents" / "part-1.parquet")


def test_legacy_store_is_refused_then_upgraded(areas, tmp_path):
    _legacy_store(areas, tmp_path, TWO_SEASONS)
    for read in (read_sightings, sightings_paths, sightings_partitions, read_incidents):
        with pytest.raises(LegacyLayoutError, match=r"harewatch store upgrade --data-dir"):
            read(tmp_path)
    with pytest.raises(LegacyLayoutError):
        ingest(_accepted(areas, TWO_SEASONS[:2]), tmp_path)
    assert issubclass(LegacyLayoutError, ValueError)

    report = upgrade_store(tmp_path)
    assert (report.sightings_moved, report.incidents_moved, report.legacy_files) == (7, 0, 2)
    assert not (tmp_path / "sightings").exists()
    assert len(sightings_partitions(tmp_path)) == 3
    chunks = [_accepted(areas, c).accepted for c in (TWO_SEASONS[:3], TWO_SEASONS[3:])]
    want = pd.concat(chunks, ignore_index=True).sort_values(["read_at", "vrm"], kind="stable")
    pd.testing.assert_frame_equal(pd.DataFrame(read_sightings(tmp_path)),
                                  pd.DataFrame(want.reset_index(drop=True)))
    assert upgrade_store(tmp_path).sightings_moved == 0
    assert ingest(_accepted(areas, TWO_SEASONS[:2]), tmp_path).rows_already_stored == 2


def test_v020_store_upgraded_keeps_its_layout(areas, tmp_path):
    _v020_store(areas, tmp_path, TWO_SEASONS, buckets=4)
    report = upgrade_store(tmp_path)
    assert (report.sightings_moved, report.incidents_moved, report.legacy_files) == (7, 2, 5)
    assert report.layout["buckets"] == 4 and sightings_layout(tmp_path).buckets == 4
    # AB12AAH -> bucket 1, XY99AAG and CD34AAJ -> 3 (as the 0.2.0 store had them)
    assert _rel(tmp_path, sightings_paths(tmp_path)) == {
        "season=2021-22/month=2021-10/bucket=01", "season=2021-22/month=2021-11/bucket=03",
        "season=2022-23/month=2022-10/bucket=01", "season=2022-23/month=2022-11/bucket=03"}
    assert sorted(read_incidents(tmp_path)["incident_id"]) == ["A", "B"]
    assert not (tmp_path / "sightings").exists() and not (tmp_path / "incidents").exists()


def test_upgrade_rerun_after_interruption_writes_no_duplicates(areas, tmp_path, monkeypatch):
    import geo.io.store.maintain as maintain

    _legacy_store(areas, tmp_path, TWO_SEASONS)
    monkeypatch.setattr(maintain, "_remove_legacy", lambda root, files: None)  # dies here
    assert upgrade_store(tmp_path).sightings_moved == 7
    with pytest.raises(LegacyLayoutError):  # half-upgraded stores are not read
        read_sightings(tmp_path)
    monkeypatch.undo()
    assert upgrade_store(tmp_path).sightings_moved == 0
    assert len(read_sightings(tmp_path)) == 7
    assert not (tmp_path / "sightings").exists()


def test_upgrade_legacy_file_without_geometry_and_corrupt_file(areas, tmp_path):
    folder = tmp_path / "sightings"
    folder.mkdir()
    plain = pd.DataFrame(_accepted(areas, TWO_SEASONS).accepted.drop(columns="geometry"))
    plain.to_parquet(folder / "part-plain.parquet", index=False)  # no GeoParquet metadata
    (folder / "part-bad.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="part-bad.parquet"):
        upgrade_store(tmp_path)
    assert (folder / "part-bad.parquet").exists() and (folder / "part-plain.parquet").exists()
    (folder / "part-bad.parquet").unlink()
    assert upgrade_store(tmp_path).sightings_moved == 7
    back = read_sightings(tmp_path)
    assert back.crs == BNG and (back.geometry.y == back["northing"]).all()


def test_cli_store_upgrade(areas, tmp_path, capsys):
    _legacy_store(areas, tmp_path, TWO_SEASONS)
    assert main(["store", "upgrade", "--data-dir", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows_moved"] == 7 and out["layout"]["buckets"] == DEFAULT_BUCKETS
    assert len(sightings_partitions(tmp_path)) == 3
    assert main(["store", "upgrade", "--data-dir", str(tmp_path / "missing")]) == 2
    assert "no store" in capsys.readouterr().err

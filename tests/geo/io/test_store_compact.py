"""Store writer lock and compaction of small sightings files (atomic: one commit)."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from filelock import FileLock

import geo.io.store.maintain as store_maintain
from geo.cli import main
from geo.engines.duckdb import crossings_from_parquet
from geo.errors import LegacyLayoutError, StoreLockTimeout, StoreWriteFailed
from geo.io.store.layout import STORE_LOCK_FILE
from geo.io.store.maintain import CompactReport, compact_sightings
from geo.io.store.read import read_sightings, sightings_paths
from geo.io.store.write import ingest, write_sightings
from geo.schema import LONDON, SIGHTING_COLUMNS
from geo.validate.sightings import validate_sightings

CAMBS = ("545000", "258000")  # Cambridgeshire
NORFOLK = ("610000", "310000")  # Norfolk

# buckets of 16: AB12AAH 9, XY99AAG 3, CD34AAJ 7
BATCHES = [
    [("AB12AAH", "2021-10-05T10:00:00Z", CAMBS, "C1"),
     ("AB12AAH", "2021-10-05T11:00:00Z", NORFOLK, "N1"),
     ("AB12AAH", "2021-11-03T10:00:00Z", CAMBS, "C1")],
    [("AB12AAH", "2021-10-05T12:00:00Z", CAMBS, "C1"),
     ("AB12AAH", "2021-10-05T13:00:00Z", NORFOLK, "N1"),
     ("XY99AAG", "2021-10-06T09:00:00Z", NORFOLK, "N2"),
     ("AB12AAH", "2021-11-03T11:00:00Z", NORFOLK, "N1")],
    [("AB12AAH", "2021-10-05T14:00:00Z", CAMBS, "C3"),
     ("AB12AAH", "2021-10-20T10:00:00Z", NORFOLK, "N1")],
]
OCT_09 = Path("season=2021-22/month=2021-10/bucket=09")
OCT_03 = Path("season=2021-22/month=2021-10/bucket=03")
NOV_09 = Path("season=2021-22/month=2021-11/bucket=09")


def _result(areas, rows):
    raw = pd.DataFrame({
        "vrm": [r[0] for r in rows], "read_at": [r[1] for r in rows],
        "easting": [r[2][0] for r in rows], "northing": [r[2][1] for r in rows],
        "camera_id": [r[3] for r in rows],
    })
    res = validate_sightings(raw, areas)
    assert res.n_rejected == 0, res.rejects
    return res


def _store(areas, root: Path) -> Path:
    for rows in BATCHES:
        assert ingest(_result(areas, rows), root).rows_added == len(rows)
    return root


def _files(root: Path, rel: Path) -> list[str]:
    """Live files (current table version) of one partition."""
    folder = root / "tables" / "sightings" / rel
    return sorted(p.name for p in sightings_paths(root) if p.parent == folder)


def _reads(root: Path) -> pd.DataFrame:
    df = read_sightings(root)
    out = pd.DataFrame(df[SIGHTING_COLUMNS]).assign(x=df.geometry.x, y=df.geometry.y)
    return out.sort_values([*SIGHTING_COLUMNS, "x", "y"]).reset_index(drop=True)


def _crossings(root: Path) -> pd.DataFrame:
    return crossings_from_parquet(sightings_paths(root), max_gap_h=6.0, threads=1)


# --------------------------------------------------------------------------- compaction


def test_compaction_makes_one_sorted_file_with_same_reads_and_crossings(areas, tmp_path):
    root = _store(areas, tmp_path)
    assert len(_files(root, OCT_09)) == 3 and len(_files(root, NOV_09)) == 2
    reads, crossings = _reads(root), _crossings(root)
    assert len(crossings) == 5  # 4 on 5 October, 1 on 3 November (20 October: new trip)
    table = root / "tables" / "sightings"
    ingest_schema = pq.read_schema(table / OCT_03 / _files(root, OCT_03)[0])

    report = compact_sightings(root)

    assert report == CompactReport(folders=2, files_before=5, files_after=2, rows=8,
                                   bytes_before=report.bytes_before,
                                   bytes_after=report.bytes_after, commits=1)
    assert report.bytes_after < report.bytes_before
    assert len(_files(root, OCT_09)) == 1 and len(_files(root, NOV_09)) == 1
    assert len(_files(root, OCT_03)) == 1  # a single file is left alone
    pd.testing.assert_frame_equal(_reads(root), reads)
    pd.testing.assert_frame_equal(_crossings(root), crossings)
    # same schema as an ingest file; page checksums; sorted by plate, time, camera
    path = table / OCT_09 / _files(root, OCT_09)[0]
    schema = pq.read_schema(path)
    assert schema.remove_metadata().equals(ingest_schema.remove_metadata())
    stored = pq.read_table(path, page_checksum_verification=True).to_pandas()
    assert stored["read_at"].is_monotonic_increasing and len(stored) == 6
    assert json.dumps(report.to_dict())


def test_min_files_is_respected(areas, tmp_path):
    root = _store(areas, tmp_path)
    report = compact_sightings(root, min_files=3)
    assert (report.folders, report.files_before, report.files_after) == (1, 3, 1)
    assert len(_files(root, OCT_09)) == 1 and len(_files(root, NOV_09)) == 2
    with pytest.raises(ValueError, match="min_files"):
        compact_sightings(root, min_files=1)


def test_before_keeps_months_not_yet_closed(areas, tmp_path):
    root = _store(areas, tmp_path)
    nov_first = pd.Timestamp("2021-11-01", tz=LONDON)  # October ends here
    assert compact_sightings(root, before=nov_first - pd.Timedelta("1us")).folders == 0
    assert len(_files(root, OCT_09)) == 3
    report = compact_sightings(root, before=nov_first)
    assert (report.folders, report.rows) == (1, 6)
    assert len(_files(root, OCT_09)) == 1 and len(_files(root, NOV_09)) == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        compact_sightings(root, before=pd.Timestamp("2021-11-01"))


def test_second_compaction_is_a_no_op_and_ingest_stays_idempotent(areas, tmp_path):
    root = _store(areas, tmp_path)
    compact_sightings(root)
    files = sightings_paths(root)
    reads = _reads(root)

    assert compact_sightings(root) == CompactReport()
    assert sightings_paths(root) == files
    for rows in BATCHES:  # re-ingesting compacted batches adds nothing
        report = ingest(_result(areas, rows), root)
        assert (report.rows_added, report.rows_already_stored) == (0, len(rows))
    pd.testing.assert_frame_equal(_reads(root), reads)
    new = [("AB12AAH", "2021-10-05T15:00:00Z", NORFOLK, "N9")]
    assert ingest(_result(areas, [*BATCHES[0], *new]), root).rows_added == 1


def test_failed_compaction_changes_nothing_then_rerun(areas, tmp_path, monkeypatch):
    root = _store(areas, tmp_path)
    files, reads, crossings = sightings_paths(root), _reads(root), _crossings(root)
    on_disk = sorted((root / "tables").rglob("*.parquet"))

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_maintain, "commit", crash)  # files written, commit fails
    with pytest.raises(StoreWriteFailed, match=str(root)):
        compact_sightings(root)
    assert sightings_paths(root) == files  # the store is as it was
    assert sorted((root / "tables").rglob("*.parquet")) == on_disk  # new files removed
    pd.testing.assert_frame_equal(_reads(root), reads)

    monkeypatch.undo()
    report = compact_sightings(root)
    assert (report.folders, report.duplicates_dropped) == (2, 0)
    pd.testing.assert_frame_equal(_reads(root), reads)
    pd.testing.assert_frame_equal(_crossings(root), crossings)


def test_files_outside_the_current_version_are_never_read(areas, tmp_path):
    root = _store(areas, tmp_path)
    once, n = _crossings(root), len(read_sightings(root))
    compact_sightings(root)  # the replaced files stay on disk (time travel) until vacuum
    for path in sightings_paths(root):
        shutil.copy(path, path.with_name("part-zz-copy-" + path.name))  # stray copies
    assert len(read_sightings(root)) == n
    pd.testing.assert_frame_equal(_crossings(root), once)
    table = root / "tables" / "sightings"
    assert len(list(table.rglob("*.parquet"))) > len(sightings_paths(root))


def test_legacy_files_stop_compaction(areas, tmp_path):
    root = _store(areas, tmp_path)
    (root / "sightings").mkdir()
    shutil.copy(sightings_paths(root)[0], root / "sightings" / "part-legacy.parquet")
    with pytest.raises(LegacyLayoutError, match="store upgrade"):
        compact_sightings(root)


def test_cli_store_compact(areas, tmp_path, capsys):
    root = _store(areas, tmp_path)
    assert main(["store", "compact", "--data-dir", str(root), "--before", "2021-11-01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["folders"], out["files_before"], out["files_after"], out["rows"]) == (1, 3, 1, 6)
    assert out["data_dir"] == str(root) and out["incidents"]["files_before"] == 0
    assert main(["store", "compact", "--data-dir", str(root), "--min-files", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["folders"] == 1  # November now
    assert main(["store", "compact", "--data-dir", str(root), "--before", "soon"]) == 2
    assert "--before" in capsys.readouterr().err


# --------------------------------------------------------------------------- writer lock


def _ingest_at_once(result, root, barrier, queue):
    barrier.wait(timeout=60)
    report = ingest(result, root)
    queue.put((report.rows_added, report.rows_already_stored))


def _hold_lock(path, acquired, release):
    with FileLock(path):
        acquired.set()
        release.wait(timeout=60)


def _batch(areas, n: int = 2000, seed: int = 5):
    order = np.random.default_rng(seed).permutation(n)
    start = pd.Timestamp("2021-10-01", tz="UTC")
    rows = [(f"PL{i % 97:03d}X", (start + pd.Timedelta(minutes=37 * int(k))).isoformat(),
             CAMBS if k % 3 else NORFOLK, f"C{k % 11}") for i, k in enumerate(order)]
    return _result(areas, rows)


def test_concurrent_ingests_of_one_batch_store_it_once(areas, tmp_path):
    result = _batch(areas)
    n = len(result.accepted)
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_ingest_at_once, args=(result, tmp_path, barrier, queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    reports = sorted(queue.get(timeout=5) for _ in procs)
    assert reports == [(0, n), (n, 0)]
    assert len(read_sightings(tmp_path)) == n


def test_held_lock_makes_writes_wait_then_time_out(areas, tmp_path):
    root = _store(areas, tmp_path)
    lock_path = root / STORE_LOCK_FILE
    ctx = mp.get_context("spawn")
    acquired, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(lock_path, acquired, release))
    holder.start()
    try:
        assert acquired.wait(timeout=60)
        new = _result(areas, [("AB12AAH", "2021-10-05T15:00:00Z", NORFOLK, "N9")])
        for write in (lambda t: ingest(new, root, lock_timeout_s=t),
                      lambda t: write_sightings(new.accepted, root, lock_timeout_s=t),
                      lambda t: compact_sightings(root, lock_timeout_s=t)):
            with pytest.raises(StoreLockTimeout, match=str(lock_path).replace(".", r"\.")):
                write(0.3)
        assert len(read_sightings(root)) == 9  # readers never lock
        assert len(_files(root, OCT_09)) == 3

        threading.Timer(1.0, release.set).start()
        t0 = time.monotonic()
        assert ingest(new, root, lock_timeout_s=30).rows_added == 1
        assert time.monotonic() - t0 >= 0.8  # waited for the holder
    finally:
        release.set()
        holder.join(timeout=30)
    assert holder.exitcode == 0
    with pytest.raises(ValueError, match="lock_timeout_s"):
        ingest(new, root, lock_timeout_s=-1)

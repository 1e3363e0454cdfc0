"""Retention (geo.io.store.retention): old ANPR reads leave the store in one commit, and a
purge killed half way (kill -9) completes when run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factories import T, read_rows

from geo.io.store import read_sightings, store_history, verify_store, write_sightings
from geo.io.store.retention import plan_purge, purge_reads
from geo.io.store.table import SIGHTINGS, load_snapshot, table_dir

CUTOFF = T("2024-03-11")
ROWS = [  # plate, read_at: one old month, a month that straddles the cut-off, a new month
    ("AB12CDE", "2024-01-15 22:00"),
    ("AB12CDE", "2024-03-05 22:00"),
    ("AB12CDE", "2024-03-20 22:00"),
    ("AB12CDE", "2024-05-01 22:00"),
]
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path) -> Path:
    write_sightings(read_rows(ROWS, ["vrm", "read_at"], camera_id="C1"), tmp_path)
    return tmp_path


def _files_on_disk(store: Path) -> list[Path]:
    return sorted(table_dir(store, SIGHTINGS).rglob("*.parquet"))


def _oldest_on_disk(store: Path):
    times = [t for p in _files_on_disk(store)
             for t in pq.read_table(p, columns=["read_at"])["read_at"].to_pylist()]
    return min(times)


def test_plan_splits_whole_and_straddling_files(store):
    files = load_snapshot(table_dir(store, SIGHTINGS)).files
    whole, partial = plan_purge(files, CUTOFF)
    assert sorted(whole["month"]) == ["2024-01"] and sorted(partial["month"]) == ["2024-03"]


def test_dry_run_changes_nothing(store):
    before = _files_on_disk(store)
    report = purge_reads(store, cutoff=CUTOFF, dry_run=True)
    assert report.reads_removed == 2 and report.files_removed == 1 and report.files_rewritten == 1
    assert report.months == ["2024-01", "2024-03"] and not report.committed
    assert _files_on_disk(store) == before and len(read_sightings(store)) == 4


def test_purge_removes_old_reads_in_one_commit_and_from_disk(store):
    report = purge_reads(store, cutoff=CUTOFF)
    assert report.reads_removed == 2 and report.committed
    assert list(read_sightings(store)["read_at"]) == [T("2024-03-20 22:00"), T("2024-05-01 22:00")]
    assert "purge" in set(store_history(store, SIGHTINGS)["operation"])
    assert _oldest_on_disk(store) >= CUTOFF.to_pydatetime()  # no file keeps an old read
    assert verify_store(store).ok
    again = purge_reads(store, cutoff=CUTOFF)
    assert again.reads_removed == 0 and not again.committed


_KILLED_RUN = textwrap.dedent("""
    import sys, time, pathlib
    import pandas as pd
    import geo.io.store.retention as r

    def hang(*args, **kwargs):
        pathlib.Path(sys.argv[2]).write_text("ready")
        time.sleep(600)

    setattr(r, sys.argv[4], hang)
    r.purge_reads(sys.argv[1], cutoff=pd.Timestamp(sys.argv[3]))
""")


def _purge_killed_at(store: Path, tmp_path: Path, step: str) -> None:
    """Run a purge in another process, ``kill -9`` it when it reaches ``step``."""
    marker = tmp_path / f"at-{step}"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(store), str(marker),
                             CUTOFF.isoformat(), step], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "the purge ended before the kill"
            assert time.monotonic() < deadline, "the purge never reached " + step
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)


def test_purge_killed_before_its_commit_changes_nothing_and_a_rerun_completes(store, tmp_path):
    _purge_killed_at(store, tmp_path, "commit")
    assert len(read_sightings(store)) == 4 and verify_store(store).ok  # nothing half deleted
    report = purge_reads(store, cutoff=CUTOFF)
    assert report.reads_removed == 2 and report.committed
    assert len(read_sightings(store)) == 2 and verify_store(store).ok
    assert _oldest_on_disk(store) >= CUTOFF.to_pydatetime()  # the orphan rewrite is gone too


def test_purge_killed_after_its_commit_deletes_the_files_on_rerun(store, tmp_path):
    _purge_killed_at(store, tmp_path, "_delete_unused")
    assert len(read_sightings(store)) == 2  # committed: the reads are no longer shown
    assert _oldest_on_disk(store) < CUTOFF.to_pydatetime()  # but still on disk
    report = purge_reads(store, cutoff=CUTOFF)
    assert report.reads_removed == 0 and report.files_deleted >= 2
    assert _oldest_on_disk(store) >= CUTOFF.to_pydatetime()
    assert verify_store(store).ok

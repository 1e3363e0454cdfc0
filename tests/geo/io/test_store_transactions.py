"""An ingest is visible all at once or not at all: kill -9, a full disk, a power cut mid-commit."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from factories import CENTRES, reads

import geo.io.store.write as store_write
from geo.cli import main
from geo.errors import StoreCorrupt, StoreWriteFailed
from geo.io.store.maintain import vacuum_store
from geo.io.store.read import read_sightings, sightings_paths, store_version
from geo.io.store.verify import store_stats, verify_store
from geo.io.store.write import ingest
from geo.validate.common import ValidationResult

REPO = Path(__file__).resolve().parents[3]


def _result(frame) -> ValidationResult:
    empty = pd.DataFrame({"row": pd.Series([], dtype="int64"), "id": [], "reason": []})
    return ValidationResult(kind="sightings", accepted=frame, rejects=empty, rows=len(frame))


def _batch(plates: int, months: int, start: str = "2021-10-01T12:00Z") -> pd.DataFrame:
    """One read per plate and month, Cambridgeshire and Norfolk in turn: plates x months rows."""
    t0 = pd.Timestamp(start)
    rows = [(f"PL{p:03d}X", t0 + pd.DateOffset(months=m) + pd.Timedelta(minutes=p),
             "Cambridgeshire" if (p + m) % 2 else "Norfolk", f"C{p % 7}")
            for p in range(plates) for m in range(months)]
    return reads(vrm=[r[0] for r in rows], read_at=[r[1].isoformat() for r in rows],
                 force=[r[2] for r in rows], camera_id=[r[3] for r in rows])


def _on_disk(root: Path) -> list[Path]:
    return sorted((root / "tables" / "sightings").rglob("*.parquet"))


# the child ingests the batch but stalls after its third data file until it is killed
_CHILD = """
import sys, time
import pandas as pd
import geo.io.store.write as w
from geo.validate.common import ValidationResult

real, count = w.write_data_file, [0]

def stalling(*args, **kwargs):
    out = real(*args, **kwargs)
    count[0] += 1
    if count[0] == 3:
        print("3 files written", flush=True)
        time.sleep(120)
    return out

w.write_data_file = stalling
frame = pd.read_pickle(sys.argv[1])
empty = pd.DataFrame({"row": pd.Series([], dtype="int64"), "id": [], "reason": []})
w.ingest(ValidationResult("sightings", frame, empty, len(frame)), sys.argv[2])
print("finished", flush=True)
"""


def test_kill_9_mid_ingest_shows_nothing_then_rerun_completes(tmp_path):
    root = tmp_path / "store"
    before = _batch(plates=5, months=1)
    assert ingest(_result(before), root).rows_added == 5
    version = store_version(root)["sightings"]
    batch = _batch(plates=40, months=6, start="2021-11-01T12:00Z")  # 6 months x 16 buckets
    batch.to_pickle(tmp_path / "batch.pkl")
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path / "batch.pkl"),
                             str(root)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "3 files written"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    # nothing of the batch is visible: same version, same reads, store intact
    assert store_version(root)["sightings"] == version
    assert len(read_sightings(root)) == 5 and store_stats(root)["sightings"] == 5
    left = len(_on_disk(root)) - len(sightings_paths(root))
    assert left >= 3  # its files exist, invisibly (3 or more: files are written in parallel)
    assert verify_store(root).ok
    # the rerun (lock released by the kill) stores the whole batch once
    rep = ingest(_result(batch), root, lock_timeout_s=30)
    assert (rep.rows_added, rep.rows_already_stored) == (240, 0)
    assert ingest(_result(batch), root).rows_already_stored == 240
    back = read_sightings(root)
    assert len(back) == 245 and not back.duplicated(["vrm", "read_at", "camera_id"]).any()
    # vacuum removes what the killed writer left
    removed = vacuum_store(root, retention_h=0)
    assert len(removed["sightings"]) == left
    assert len(_on_disk(root)) == len(sightings_paths(root))


def test_disk_full_mid_batch_leaves_the_previous_version(tmp_path, monkeypatch):
    root = tmp_path / "store"
    ingest(_result(_batch(plates=5, months=1)), root)
    version, files = store_version(root), _on_disk(root)
    real, calls = store_write.write_data_file, []

    def fill_disk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(store_write, "write_data_file", fill_disk)
    batch = _batch(plates=40, months=3, start="2021-11-01T12:00Z")
    with pytest.raises(StoreWriteFailed) as info:
        ingest(_result(batch), root)
    message = str(info.value)
    assert str(root) in message and "disk is full" in message and "Nothing of it was stored" \
        in message
    assert isinstance(info.value, OSError)
    assert store_version(root) == version and len(read_sightings(root)) == 5
    assert _on_disk(root) == files  # the two files written before the failure were removed
    monkeypatch.undo()
    assert ingest(_result(batch), root).rows_added == 120


def test_cli_ingest_on_a_full_disk_exits_2_naming_the_store(tmp_path, monkeypatch, capsys,
                                                            boundaries_path):
    root = tmp_path / "store"
    e, n = CENTRES["Cambridgeshire"]
    csv = tmp_path / "reads.csv"
    csv.write_text(f"vrm,read_at,easting,northing\nAB12CDE,2021-10-01T10:00:00Z,{e},{n}\n")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_write, "write_data_file", full)
    code = main(["ingest", "sightings", str(csv), "--data-dir", str(root),
                 "--boundaries", str(boundaries_path)])
    err = capsys.readouterr().err
    assert code == 2 and str(root) in err and "disk is full" in err
    assert "Traceback" not in err


def test_interrupted_commit_file(tmp_path):
    """A power cut while the log entry is renamed in: an empty entry is an empty version
    (nothing visible), a truncated one is named as damage."""
    root = tmp_path / "store"
    ingest(_result(_batch(plates=3, months=1)), root)
    log = root / "tables" / "sightings" / "_delta_log"
    last = max(int(p.stem) for p in log.glob("*.json"))
    empty = log / f"{last + 1:020d}.json"
    empty.write_bytes(b"")
    assert len(read_sightings(root)) == 3  # nothing of the interrupted commit
    assert ingest(_result(_batch(plates=4, months=1)), root).rows_added == 1  # writes go on
    assert len(read_sightings(root)) == 4
    last = max(int(p.stem) for p in log.glob("*.json"))
    broken = log / f"{last + 1:020d}.json"
    broken.write_text('{"commitInfo":{"timestamp":17')
    with pytest.raises(StoreCorrupt, match="_delta_log") as info:
        read_sightings(root)
    assert str(broken) in str(info.value)
    report = verify_store(root)
    assert not report.ok and report.problems[0]["table"] == "sightings"


def test_store_stats_json(tmp_path, capsys):
    root = tmp_path / "store"
    ingest(_result(_batch(plates=3, months=2)), root)
    assert main(["store", "stats", "--data-dir", str(root), "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["incidents"], stats["sightings"], stats["alerts"]) == (0, 6, 0)
    assert stats["files"]["sightings"] == len(sightings_paths(root))
    assert stats["bytes"]["sightings"] == sum(p.stat().st_size for p in sightings_paths(root))

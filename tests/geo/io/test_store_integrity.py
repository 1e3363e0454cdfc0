"""Damaged or missing stored files: `store verify` names them; every reader refuses them clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from factories import incidents, reads

from geo.cli import main
from geo.engines.duckdb import crossings_from_parquet, offenders_from_store
from geo.errors import StoreCorrupt, StoreError
from geo.io.store.read import read_incidents, read_sightings, sightings_paths
from geo.io.store.verify import forget_verified, verify_store
from geo.io.store.write import ingest
from geo.validate.common import ValidationResult

# AB12CDE: Cambridgeshire -> Norfolk on 5 October 2021 (one crossing); XY99ZZZ in Norfolk
READS = reads(vrm=["AB12CDE", "AB12CDE", "XY99ZZZ"],
              read_at=["2021-10-05T10:00Z", "2021-10-05T11:00Z", "2021-10-06T09:00Z"],
              force=["Cambridgeshire", "Norfolk", "Norfolk"], camera_id=["C1", "N1", "N2"])
INCIDENTS = incidents(occurred_at=["2021-10-05T20:00Z"], vrms=["AB12CDE"], force=["Norfolk"])


def _result(frame) -> ValidationResult:
    kind = "incidents" if "incident_id" in frame.columns else "sightings"
    empty = pd.DataFrame({"row": pd.Series([], dtype="int64"), "id": [], "reason": []})
    return ValidationResult(kind=kind, accepted=frame, rejects=empty, rows=len(frame))


@pytest.fixture()
def store(tmp_path) -> Path:
    root = tmp_path / "store"
    ingest(_result(INCIDENTS), root)
    ingest(_result(READS), root)
    forget_verified()  # each test sees its damage, whatever this process verified before
    return root


def _flip_last_data_byte(path: Path) -> None:
    """Flip one bit inside the first column's data (covered by the page checksum)."""
    col = pq.ParquetFile(path).metadata.row_group(0).column(0)
    start = col.dictionary_page_offset or col.data_page_offset
    offset = start + col.total_compressed_size - 1
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_files_carry_page_checksums_that_pyarrow_checks(store):
    path = sightings_paths(store)[0]
    assert pq.read_table(path, page_checksum_verification=True).num_rows >= 1
    _flip_last_data_byte(path)
    with pytest.raises(OSError, match="CRC"):
        pq.read_table(path, page_checksum_verification=True)


def test_flipped_bit_named_by_verify_and_refused_by_every_reader(store, capsys):
    damaged = sightings_paths(store)[0]
    _flip_last_data_byte(damaged)

    assert main(["store", "verify", "--data-dir", str(store), "--format", "json"]) == 1
    cap = capsys.readouterr()
    report = json.loads(cap.out)
    assert [p["path"] for p in report["problems"]] == [str(damaged)]
    assert "SHA-256" in report["problems"][0]["problem"] and str(damaged) in cap.err

    for read in (lambda: read_sightings(store), lambda: sightings_paths(store),
                 lambda: offenders_from_store(INCIDENTS, data_dir=store),
                 lambda: crossings_from_parquet(store / "tables" / "sightings")):
        with pytest.raises(StoreCorrupt) as info:
            read()
        assert str(damaged) in str(info.value) and info.value.paths == (str(damaged),)
    assert read_incidents(store) is not None  # the other table is intact


def test_cli_reader_exits_2_naming_the_file_without_traceback(store, capsys, boundaries_path):
    damaged = sightings_paths(store)[-1]
    _flip_last_data_byte(damaged)
    code = main(["offenders", "--data-dir", str(store), "--all-plates",
                 "--boundaries", str(boundaries_path)])
    err = capsys.readouterr().err
    assert code == 2 and str(damaged) in err and "damaged" in err and "Traceback" not in err


def test_missing_file_named(store, capsys):
    victim = sorted((store / "tables" / "incidents").glob("*.parquet"))[0]
    victim.unlink()
    with pytest.raises(StoreCorrupt, match="missing"):
        read_incidents(store)
    assert main(["store", "verify", "--data-dir", str(store)]) == 1
    assert f"{victim}: missing" in capsys.readouterr().err


def test_damaged_log_is_refused(store):
    log = store / "tables" / "sightings" / "_delta_log"
    last = sorted(log.glob("*.json"))[-1]
    lines = last.read_text().splitlines()
    kept = [ln for i, ln in enumerate(lines) if not (ln.startswith('{"add"') and i == 1)]
    assert len(kept) == len(lines) - 1
    last.write_text("\n".join(kept) + "\n")  # valid JSON, one file fewer: a silent loss
    with pytest.raises(StoreCorrupt, match="does not match its last commit's manifest"):
        read_sightings(store)
    assert not verify_store(store).ok


def test_intact_store_verifies(store, capsys):
    assert main(["store", "verify", "--data-dir", str(store)]) == 0
    assert "intact: 3 file(s)" in capsys.readouterr().err
    assert issubclass(StoreCorrupt, StoreError)


def test_duplicate_check_opens_only_files_overlapping_the_batch(tmp_path):
    """Two batches of one plate and month: the check of a third batch from another week
    never opens the first batch's file (damaged here), but a batch in its week does."""
    root = tmp_path / "store"
    week1 = reads(vrm=["AB12CDE"] * 2, read_at=["2021-10-04T10:00Z", "2021-10-05T10:00Z"],
                  camera_id=["C1", "C2"])
    week3 = reads(vrm=["AB12CDE"], read_at=["2021-10-18T10:00Z"], camera_id=["C3"])
    ingest(_result(week1), root)
    ingest(_result(week3), root)
    assert len(sightings_paths(root)) == 2  # one partition, one file per ingest
    (first,) = [p for p in sightings_paths(root) if pq.read_table(p).num_rows == 2]
    forget_verified()
    _flip_last_data_byte(first)
    later = reads(vrm=["AB12CDE", "AB12CDE"], read_at=["2021-10-18T10:00Z", "2021-10-19T10:00Z"],
                  camera_id=["C3", "C4"])
    rep = ingest(_result(later), root)
    assert (rep.rows_added, rep.rows_already_stored) == (1, 1)  # week 3's file was read
    again = reads(vrm=["AB12CDE"], read_at=["2021-10-05T10:00Z"], camera_id=["C2"])
    with pytest.raises(StoreCorrupt, match=first.name):
        ingest(_result(again), root)

"""Tests for geo.watch and ``harewatch watch``: each incoming file once, rejects, alerts."""

from __future__ import annotations

import os
import shutil
import time

import numpy as np
import pandas as pd
import pytest

from geo.cli import main
from geo.io.alert_db import AlertStore, read_alerts
from geo.io.store.read import read_sightings
from geo.io.store.write import ingest
from geo.pipeline.watch import Watcher
from geo.validate.incidents import validate_incidents

PLATE = "AB12CDE"


@pytest.fixture(scope="module")
def points(areas):
    reps = areas.gdf.geometry.representative_point()
    return {f: (round(p.x), round(p.y)) for f, p in zip(areas.gdf["force"], reps, strict=True)}


@pytest.fixture()
def data_dir(tmp_path, areas, points):
    """A store holding one incident: AB12CDE warned in Norfolk on 1 Oct 2021."""
    e, n = points["Norfolk"]
    raw = pd.DataFrame({"incident_id": ["N1"], "occurred_at": ["2021-10-01T20:00:00Z"],
                        "easting": [str(e)], "northing": [str(n)], "vrm": [PLATE]})
    d = tmp_path / "store"
    ingest(validate_incidents(raw, areas), d)
    return d


@pytest.fixture()
def incoming(tmp_path):
    d = tmp_path / "incoming"
    d.mkdir()
    return d


@pytest.fixture()
def write_reads(points):
    """Write an ANPR CSV; rows: (vrm, read_at, force, camera_id). Mtime set ``age_s`` ago."""

    def write(path, rows, age_s: float = 5.0):
        lines = ["vrm,read_at,easting,northing,camera_id"]
        lines += [f"{v},{t},{points[f][0]},{points[f][1]},{c}" for v, t, f, c in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        stamp = time.time() - age_s
        os.utime(path, (stamp, stamp))
        return path

    return write


def _at(hours: float) -> str:
    return (pd.Timestamp("2021-10-02T12:00:00Z") + pd.Timedelta(hours=hours)).isoformat()


def _rows(n: int, force: str = "Essex", plate: str = "ZZ99ZZZ", start_h: float = 0) -> list:
    return [(plate, _at(start_h + i / 60), force, f"E{i}") for i in range(n)]


def _stored_reads(data_dir) -> int:
    df = read_sightings(data_dir, columns=["vrm"])
    return 0 if df is None else len(df)


def _watcher(incoming, data_dir, areas, lines=None, **kw) -> Watcher:
    kw.setdefault("settle_s", 0.0)
    return Watcher(incoming, data_dir, areas, log=(lines.append if lines is not None else
                                                    lambda _msg: None), **kw)


def test_each_file_processed_once_across_restart(incoming, data_dir, areas, write_reads):
    write_reads(incoming / "a.csv", [(PLATE, _at(0), "Cambridgeshire", "C1"), *_rows(3)],
                age_s=20)
    write_reads(incoming / "b.csv", _rows(2, start_h=5), age_s=10)
    lines: list[str] = []
    with _watcher(incoming, data_dir, areas, lines) as w:
        out = w.poll_once()
        assert [o.name for o in out] == ["a.csv", "b.csv"]  # oldest first
        assert [(o.status, o.rows, o.rows_added, o.alerts_raised) for o in out] == [
            ("ingested", 4, 4, 1), ("ingested", 2, 2, 0)]
        assert w.poll_once() == []
    assert _stored_reads(data_dir) == 6
    assert len(read_alerts(data_dir)) == 1

    # restart: a new watcher on the same store processes nothing again, even a touched file
    os.utime(incoming / "a.csv")
    with _watcher(incoming, data_dir, areas, lines) as w:
        assert w.poll_once() == []
        write_reads(incoming / "c.csv", _rows(1, start_h=9))
        assert [o.name for o in w.poll_once()] == ["c.csv"]
        assert w.poll_once() == []
        ledger = w.store.processed_files()
    assert sorted(ledger["name"]) == ["a.csv", "b.csv", "c.csv"]
    assert _stored_reads(data_dir) == 7
    assert len(read_alerts(data_dir)) == 1
    assert any(line.startswith("a.csv: ingested, 4 rows, 4 added, 0 rejected, 1 alerts")
               for line in lines)


def test_corrupt_files_rejected_with_reason_others_go_through(incoming, data_dir, areas,
                                                              write_reads):
    write_reads(incoming / "good1.csv", _rows(3), age_s=60)
    (incoming / "garbage.csv").write_bytes(np.random.default_rng(3).bytes(2000))
    (incoming / "empty.csv").write_bytes(b"")
    (incoming / "header_only.csv").write_text("vrm,read_at,easting,northing\n")
    (incoming / "wrong_columns.csv").write_text("foo,bar\n1,2\n3,4\n")
    (incoming / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (incoming / "incidents.csv").write_text("incident_id,occurred_at,vrm\nX1,2021-10-01,AB1\n")
    write_reads(incoming / "good2.csv", _rows(2, start_h=3), age_s=1)
    lines: list[str] = []
    with _watcher(incoming, data_dir, areas, lines) as w:
        out = {o.name: o for o in w.poll_once()}
        ledger = w.store.processed_files().set_index("name")
        assert w.poll_once() == []  # not retried while they do not change
        assert sorted(w.unreadable()["name"]) == ["broken.xlsx", "empty.csv", "garbage.csv"]
    assert len(out) == 8 and len(ledger) == 8
    for name in ("good1.csv", "good2.csv"):
        assert (out[name].status, out[name].rows_added) == ("ingested", out[name].rows)
    bad = {n: o for n, o in out.items() if not n.startswith("good")}
    assert all(o.reason for o in bad.values())
    assert {n: o.status for n, o in bad.items()} == {
        "garbage.csv": "unreadable", "empty.csv": "unreadable", "broken.xlsx": "unreadable",
        "header_only.csv": "rejected", "wrong_columns.csv": "rejected",
        "incidents.csv": "rejected"}
    assert "empty" in bad["empty.csv"].reason
    assert "header" in bad["header_only.csv"].reason
    assert "all 2 rows rejected" in bad["wrong_columns.csv"].reason
    assert bad["wrong_columns.csv"].rows_rejected == 2
    assert "incidents file" in bad["incidents.csv"].reason
    assert ledger.loc["garbage.csv", "status"] == "unreadable"
    assert ledger.loc["garbage.csv", "reason"] == bad["garbage.csv"].reason
    assert ledger.loc["wrong_columns.csv", "rejects_path"].endswith(".csv")
    assert _stored_reads(data_dir) == 5
    assert sum("unreadable" in line and "broken.xlsx" in line for line in lines) == 1

    # fixed content under the same name is new data: processed again
    write_reads(incoming / "wrong_columns.csv", _rows(1, start_h=8))
    with _watcher(incoming, data_dir, areas) as w:
        (o,) = w.poll_once()
    assert (o.name, o.status, o.rows_added) == ("wrong_columns.csv", "ingested", 1)


def test_partially_written_file_waits_until_settled(incoming, data_dir, areas, write_reads):
    path = incoming / "slow.csv"
    rows = [(PLATE, _at(i), "Cambridgeshire", f"C{i}") for i in range(0, 30, 7)]
    with _watcher(incoming, data_dir, areas, settle_s=0.5) as w:
        path.write_text("vrm,read_at,easting,northing,camera_id\n")  # being written right now
        assert w.poll_once() == [] and w.pending == ["slow.csv"]
        time.sleep(0.3)
        write_reads(path, rows, age_s=0)  # more bytes, fresh mtime
        assert w.poll_once() == [] and w.pending == ["slow.csv"]
        time.sleep(0.6)
        (o,) = w.poll_once()
        assert w.pending == []
    assert (o.status, o.rows, o.rows_added, o.alerts_raised) == ("ingested", 5, 5, 5)  # 7 h apart: no cooldown


def test_only_finished_data_files_directly_in_the_folder(incoming, data_dir, areas,
                                                         write_reads):
    for name in (".hidden.csv", "a.csv.part", "b.csv.tmp", "c.partial", "notes.pdf", "d.csv~"):
        write_reads(incoming / name, _rows(1))
    (incoming / "sub").mkdir()
    write_reads(incoming / "sub" / "e.csv", _rows(1))
    write_reads(incoming / "READS.CSV", _rows(1))
    with _watcher(incoming, data_dir, areas) as w:
        assert [o.name for o in w.poll_once()] == ["READS.CSV"]


def test_same_name_new_content_and_duplicate_content(incoming, data_dir, areas, write_reads):
    write_reads(incoming / "a.csv", _rows(2), age_s=30)
    with _watcher(incoming, data_dir, areas) as w:
        (first,) = w.poll_once()
        write_reads(incoming / "a.csv", _rows(3, start_h=4), age_s=20)  # new content, same name
        (again,) = w.poll_once()
        shutil.copy(incoming / "a.csv", incoming / "copy_of_a.csv")  # same content, new name
        (dup,) = w.poll_once()
        ledger = w.store.processed_files()
    assert (first.rows_added, again.rows_added) == (2, 3)
    assert again.sha256 != first.sha256
    assert dup.reason == "duplicate of a.csv"
    assert (dup.status, dup.rows, dup.rows_added, dup.alerts_raised) == ("ingested", 3, 0, 0)
    assert ledger["name"].tolist().count("a.csv") == 2 and len(ledger) == 3
    assert _stored_reads(data_dir) == 5


def test_crash_before_the_ledger_is_recovered(incoming, data_dir, areas, write_reads,
                                              monkeypatch):
    write_reads(incoming / "a.csv", [(PLATE, _at(0), "Cambridgeshire", "C1"), *_rows(2)])
    lines: list[str] = []
    with _watcher(incoming, data_dir, areas, lines) as w:
        def crash(entry):
            raise OSError("disk full")

        monkeypatch.setattr(w.store, "record_file", crash)
        assert w.poll_once() == []  # ingested and alerted, but the ledger write failed
    assert any("a.csv: error (OSError: disk full); will retry" in line for line in lines)
    assert _stored_reads(data_dir) == 3 and len(read_alerts(data_dir)) == 1
    with _watcher(incoming, data_dir, areas) as w:  # restart
        (o,) = w.poll_once()
    assert (o.status, o.rows_added, o.rows_already_stored, o.alerts_raised) == (
        "ingested", 0, 3, 0)
    assert _stored_reads(data_dir) == 3 and len(read_alerts(data_dir)) == 1


def test_run_stops_on_event_and_max_polls(incoming, data_dir, areas, write_reads):
    import threading

    write_reads(incoming / "a.csv", _rows(1))
    stop = threading.Event()
    with _watcher(incoming, data_dir, areas) as w:
        assert w.run(poll_s=0.01, max_polls=3, stop=stop) == 1
        stop.set()
        write_reads(incoming / "b.csv", _rows(1, start_h=2))
        assert w.run(poll_s=0.01, stop=stop) == 0  # stopped before polling
    with pytest.raises(FileNotFoundError):
        Watcher(incoming / "nope", data_dir, areas)


def test_cli_watch_once_end_to_end(incoming, data_dir, write_reads, boundaries_path, capsys):
    write_reads(incoming / "reads.csv", [
        (PLATE, _at(0), "Cambridgeshire", "CAM-1"),
        (PLATE, _at(1), "Cambridgeshire", "CAM-2"),  # within the cooldown
        (PLATE, _at(2), "Norfolk", "NOR-1"),  # where it was warned
        *_rows(2),
    ])
    (incoming / "bad.csv").write_bytes(b"\x00\x01\x02garbage")
    code = main(["watch", "--incoming", str(incoming), "--data-dir", str(data_dir), "--once",
                 "--boundaries", str(boundaries_path)])
    err = capsys.readouterr().err
    assert code == 1  # done; a file could not be read (logged, in the ledger, retried later)
    assert "reads.csv: ingested, 5 rows, 5 added, 0 rejected, 1 alerts" in err
    assert "bad.csv: unreadable" in err
    assert "bad.csv could not be read" in err and "--retry bad.csv" in err
    assert "ALERT AB12 C** stage 1 (warning), warned in Norfolk" in err
    assert "now in Cambridgeshire: camera CAM-1" in err
    assert PLATE not in err  # masked on shared screens
    alerts = read_alerts(data_dir)
    assert alerts[["subject", "now_in", "camera_id", "source_file"]].values.tolist() == [
        [PLATE, "Cambridgeshire", "CAM-1", "reads.csv"]]
    with AlertStore(data_dir) as store:
        assert set(store.processed_files()["status"]) == {"ingested", "unreadable"}

    # a second run finds nothing new, but still names the file waiting for a fix
    assert main(["watch", "--incoming", str(incoming), "--data-dir", str(data_dir), "--once",
                 "--boundaries", str(boundaries_path)]) == 0
    err = capsys.readouterr().err
    assert "0 file(s) processed" in err and "bad.csv could not be read" in err


def test_cli_watch_missing_incoming_dir(tmp_path, boundaries_path, capsys):
    code = main(["watch", "--incoming", str(tmp_path / "missing"), "--data-dir",
                 str(tmp_path / "store"), "--once", "--boundaries", str(boundaries_path)])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def test_100k_reads_file_gives_the_right_alerts(incoming, tmp_path, areas, points):
    """20,000 plates, 500 warned in Norfolk; each of those is read in Cambridgeshire,
    again 1 h later (cooldown), then in Norfolk and Lincolnshire (no alert): 500 alerts."""
    rng = np.random.default_rng(11)
    ladder = [f"LD{i:05d}" for i in range(500)]
    e, n = points["Norfolk"]
    raw = pd.DataFrame({"incident_id": [f"N{i}" for i in range(500)],
                        "occurred_at": "2021-10-01T20:00:00Z", "easting": str(e),
                        "northing": str(n), "vrm": ladder})
    store = tmp_path / "big"
    ingest(validate_incidents(raw, areas), store)

    base = pd.Timestamp("2021-10-02T00:00:00Z")
    n_other = 100_000 - 4 * len(ladder)
    forces = list(points)
    f_other = rng.integers(0, len(forces), n_other)
    frames = [pd.DataFrame({
        "vrm": [f"OT{i:05d}" for i in rng.integers(0, 19_500, n_other)],
        "read_at": base + pd.to_timedelta(rng.integers(0, 86_400, n_other), unit="s"),
        "force": [forces[i] for i in f_other], "camera_id": [f"X{i}" for i in range(n_other)]})]
    for k, (force, hours) in enumerate((("Cambridgeshire", 0), ("Cambridgeshire", 1),
                                        ("Norfolk", 2), ("Lincolnshire", 3))):
        frames.append(pd.DataFrame({
            "vrm": ladder, "read_at": base + pd.Timedelta(hours=hours),
            "force": force, "camera_id": [f"L{k}-{i}" for i in range(len(ladder))]}))
    reads = pd.concat(frames, ignore_index=True)
    reads["easting"] = reads["force"].map(lambda f: points[f][0])
    reads["northing"] = reads["force"].map(lambda f: points[f][1])
    reads["read_at"] = reads["read_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = incoming / "big.csv"
    reads.drop(columns="force").to_csv(path, index=False)
    stamp = time.time() - 5
    os.utime(path, (stamp, stamp))

    t0 = time.perf_counter()
    with Watcher(incoming, store, areas, settle_s=0.0, log=lambda _m: None) as w:
        (o,) = w.poll_once()
    elapsed = time.perf_counter() - t0
    assert (o.status, o.rows, o.rows_added, o.alerts_raised) == ("ingested", 100_000, 100_000,
                                                                  500)
    alerts = read_alerts(store, limit=None)
    assert len(alerts) == 500 and set(alerts["now_in"]) == {"Cambridgeshire"}
    assert set(alerts["camera_id"].str[:3]) == {"L0-"}
    assert elapsed < 10


def test_cli_watch_live_then_sigterm_stops_cleanly(incoming, data_dir, write_reads,
                                                    boundaries_path, tmp_path):
    import signal
    import subprocess
    import sys
    from pathlib import Path

    log = tmp_path / "watch.log"
    repo = Path(__file__).resolve().parents[3]
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "geo.cli", "watch", "--incoming", str(incoming),
             "--data-dir", str(data_dir), "--boundaries", str(boundaries_path),
             "--poll-s", "0.2"], cwd=repo, stderr=err, stdout=subprocess.DEVNULL)
    try:
        def wait_for(text: str, timeout_s: float = 60.0) -> None:
            deadline = time.monotonic() + timeout_s
            while text not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

        wait_for("watching")
        write_reads(incoming / "live.csv", [(PLATE, _at(0), "Cambridgeshire", "C1")])
        wait_for("live.csv: ingested")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "ALERT AB12 C**" in text and "stopped; 1 file(s) processed" in text
    assert len(read_alerts(data_dir)) == 1


BAD_LAST_LINES = [
    pytest.param("ZZ99ZZZ,the day after tomorrow,545000,258000,X1", id="bad-value"),
    pytest.param("ZZ99ZZZ,2021-10-02T2", id="truncated"),
]


@pytest.mark.parametrize("bad_line", BAD_LAST_LINES)
def test_feed_with_one_bad_last_line_stores_the_rest_and_raises_alerts(
        incoming, tmp_path, areas, points, bad_line):
    """8,000 reads: 400 plates warned in Norfolk are each read once in Cambridgeshire (400
    alerts), 7,599 reads of other plates, and a bad last line: 7,999 stored, 400 alerts."""
    warned = [f"WN{i:05d}" for i in range(400)]
    e, n = points["Norfolk"]
    raw = pd.DataFrame({"incident_id": [f"N{i}" for i in range(400)],
                        "occurred_at": "2021-10-01T20:00:00Z", "easting": str(e),
                        "northing": str(n), "vrm": warned})
    store = tmp_path / "feed-store"
    ingest(validate_incidents(raw, areas), store)
    rng = np.random.default_rng(12)
    forces = list(points)
    lines = ["vrm,read_at,easting,northing,camera_id"]
    ce, cn = points["Cambridgeshire"]
    lines += [f"{p},2021-10-02T0{i % 10}:{i % 60:02d}:00Z,{ce},{cn},CAM-{i % 9}"
              for i, p in enumerate(warned)]
    for i in range(7_599):
        f = forces[int(rng.integers(0, len(forces)))]
        lines.append(f"OT{int(rng.integers(0, 3000)):05d},2021-10-02T{i % 24:02d}:"
                     f"{i % 60:02d}:{i % 59:02d}Z,{points[f][0]},{points[f][1]},X{i}")
    lines.append(bad_line)
    path = incoming / "feed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stamp = time.time() - 5
    os.utime(path, (stamp, stamp))

    with Watcher(incoming, store, areas, settle_s=0.0, log=lambda _m: None) as w:
        (o,) = w.poll_once()
        ledger = w.store.processed_files().set_index("name")
    assert (o.status, o.rows, o.rows_added, o.rows_rejected, o.alerts_raised) == (
        "ingested", 8_000, 7_999, 1, 400)
    assert _stored_reads(store) == 7_999 and len(read_alerts(store, limit=None)) == 400
    assert o.reason.startswith("1 of 8000 rows rejected (row 8000:")
    entry = ledger.loc["feed.csv"]
    assert (entry["status"], entry["rows_rejected"]) == ("ingested", 1)
    rejects = pd.read_csv(entry["rejects_path"])
    assert rejects["row"].tolist() == [8000]


def test_unreadable_file_retried_when_it_changes_or_on_request(incoming, data_dir, areas,
                                                               write_reads, boundaries_path,
                                                               capsys):
    bad = incoming / "feed.xlsx"
    bad.write_bytes(b"PK\x03\x04 cut off while copying")
    stamp = time.time() - 5
    os.utime(bad, (stamp, stamp))
    with _watcher(incoming, data_dir, areas) as w:
        (first,) = w.poll_once()
        assert first.status == "unreadable" and "xlsx" in first.reason
        assert w.poll_once() == []  # not retried while unchanged
        assert w.retry(["feed.xlsx", "other.csv"]) == ["feed.xlsx"]  # on request
        (again,) = w.poll_once()
        assert again.status == "unreadable"
        # a request from another process (``harewatch watch --retry``) is seen at the next poll
        with AlertStore(data_dir) as elsewhere:
            assert elsewhere.forget_files(None) == ["feed.xlsx"]
        (third,) = w.poll_once()
        assert third.name == "feed.xlsx"
        # fixed: the new content is processed at once
        bad.unlink()
        write_reads(incoming / "feed.xlsx.csv", _rows(2))
        (fixed,) = w.poll_once()
        assert (fixed.status, fixed.rows_added) == ("ingested", 2)

    (incoming / "late.csv").write_bytes(b"\x00\x01 garbage")
    args = ["watch", "--incoming", str(incoming), "--data-dir", str(data_dir), "--once",
            "--boundaries", str(boundaries_path)]
    assert main(args) == 1
    capsys.readouterr()
    assert main([*args, "--retry-all"]) == 1
    err = capsys.readouterr().err
    assert "will process again: late.csv" in err and "late.csv: unreadable" in err
    assert main([*args, "--retry", "nothing.csv"]) == 0
    assert "nothing.csv is not in the ledger" in capsys.readouterr().err


def test_ledger_of_0_2_0_is_migrated(data_dir):
    import sqlite3

    from geo.io.alert_db import alerts_db_path

    path = alerts_db_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE processed_files (
            name TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ingested', 'rejected')),
            reason TEXT NOT NULL DEFAULT '', rows INTEGER NOT NULL DEFAULT 0,
            rows_added INTEGER NOT NULL DEFAULT 0, rows_already_stored INTEGER NOT NULL DEFAULT 0,
            rows_rejected INTEGER NOT NULL DEFAULT 0, alerts_raised INTEGER NOT NULL DEFAULT 0,
            processed_at INTEGER NOT NULL, PRIMARY KEY (name, sha256));
        INSERT INTO processed_files VALUES ('old.csv', 10, 1, 'abc', 'rejected', 'why', 2, 0, 0,
                                            2, 0, 1600000000000000);
    """)
    con.close()
    with AlertStore(data_dir) as store:
        ledger = store.processed_files()
        assert ledger[["name", "status", "reason", "rejects_path"]].values.tolist() == [
            ["old.csv", "rejected", "why", ""]]
        store.record_file({**ledger.iloc[0].to_dict(), "name": "new.csv", "status": "unreadable"})
        assert sorted(store.processed_files()["status"]) == ["rejected", "unreadable"]

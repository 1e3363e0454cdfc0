"""The hash-chained audit trail (geo.io.audit): append, read, filter, verify, tampering."""

from __future__ import annotations

import json
import threading

import pytest
from factories import T

from geo.errors import AuditError
from geo.io.audit import (
    AUDIT_FILE,
    GENESIS,
    entry_hash,
    filter_entries,
    read_entries,
    record,
    repair_trail,
    verify_trail,
)


def _trail(tmp_path, n=5):
    d = tmp_path / "audit"
    for i in range(n):
        record(d, user=f"u{i % 2}@x", action="view" if i % 2 else "reveal",
               detail={"page": "map", "i": i}, reason="because" if i % 2 == 0 else None,
               at=T(f"2025-01-0{i + 1} 10:00"))
    return d


def _lines(d):
    return (d / AUDIT_FILE).read_text().splitlines()


def _write(d, lines):
    (d / AUDIT_FILE).write_text("".join(line + "\n" for line in lines))


def test_entries_are_chained_and_have_the_fields(tmp_path):
    d = _trail(tmp_path)
    entries = read_entries(d)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == GENESIS
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    assert all(entry_hash(e) == e["hash"] for e in entries)
    assert {"at", "user", "action", "detail", "reason"} <= set(entries[0])
    assert entries[0]["at"] == "2025-01-01T10:00:00.000000Z"
    check = verify_trail(d)
    assert check.ok and check.entries == 5 and check.head == entries[-1]["hash"]


def test_filter_by_user_since_and_action(tmp_path):
    entries = read_entries(_trail(tmp_path))
    assert [e["seq"] for e in filter_entries(entries, user="U0@X")] == [1, 3, 5]
    assert [e["seq"] for e in filter_entries(entries, since=T("2025-01-04"))] == [4, 5]
    assert [e["seq"] for e in filter_entries(entries, action="view")] == [2, 4]


def test_an_altered_line_is_named(tmp_path):
    d = _trail(tmp_path)
    lines = _lines(d)
    lines[2] = lines[2].replace('"page":"map"', '"page":"hoppers"')
    _write(d, lines)
    check = verify_trail(d)
    assert not check.ok and check.seq == 3 and check.line == 3 and "altered" in check.problem


def test_a_rehashed_line_still_breaks_the_chain(tmp_path):
    d = _trail(tmp_path)
    lines = _lines(d)
    e = json.loads(lines[1])
    e["user"] = "someone-else@x"
    e["hash"] = entry_hash(e)
    lines[1] = json.dumps(e)
    _write(d, lines)
    check = verify_trail(d)
    assert not check.ok and check.seq == 2 and check.line == 3  # entry 3's prev no longer matches
    assert "entry 2" in check.problem


def test_a_removed_line_is_named(tmp_path):
    d = _trail(tmp_path)
    lines = _lines(d)
    del lines[1]
    _write(d, lines)
    check = verify_trail(d)
    assert not check.ok and check.seq == 2 and "removed" in check.problem


def test_reordered_lines_are_named(tmp_path):
    d = _trail(tmp_path)
    lines = _lines(d)
    lines[1], lines[2] = lines[2], lines[1]
    _write(d, lines)
    check = verify_trail(d)
    assert not check.ok and check.seq == 2 and "reordered" in check.problem


def test_cutting_the_end_is_caught_by_the_head(tmp_path):
    d = _trail(tmp_path)
    _write(d, _lines(d)[:3])
    check = verify_trail(d)
    assert not check.ok and check.seq == 4 and "removed" in check.problem


def test_unwritable_trail_refuses(tmp_path):
    blocker = tmp_path / "audit"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(AuditError):
        record(blocker, user="a@x", action="view")


def test_unknown_action_or_no_user_refused(tmp_path):
    with pytest.raises(AuditError):
        record(tmp_path, user="a@x", action="peek")
    with pytest.raises(AuditError):
        record(tmp_path, user=" ", action="view")


def test_a_torn_last_line_refuses_new_entries(tmp_path):
    d = _trail(tmp_path, 2)
    with open(d / AUDIT_FILE, "a") as fh:
        fh.write('{"seq": 3, "hal')
    with pytest.raises(AuditError, match="partial"):
        record(d, user="a@x", action="view")
    check = verify_trail(d)
    assert not check.ok and (check.seq, check.line) == (3, 3)
    assert check.problem.startswith("line 3 is an unfinished write") and "entries 1-2 are intact" in check.problem


def test_repair_sets_the_unfinished_write_aside_and_records_it(tmp_path):
    import hashlib

    d = _trail(tmp_path, 2)
    before = (d / AUDIT_FILE).read_bytes()
    with open(d / AUDIT_FILE, "ab") as fh:
        fh.write(b'{"seq": 3, "hal')
    out = repair_trail(d, user="admin@x")
    assert out["repaired"] and out["bytes"] == 15 and out["entry"] == 3
    aside = d / out["set_aside"].rsplit("/", 1)[-1]
    assert aside.read_bytes() == b'{"seq": 3, "hal'
    assert out["sha256"] == hashlib.sha256(b'{"seq": 3, "hal').hexdigest()
    assert (d / AUDIT_FILE).read_bytes().startswith(before)  # the whole entries untouched
    assert verify_trail(d).ok
    last = read_entries(d)[-1]
    assert (last["action"], last["user"], last["detail"]["bytes"]) == ("repair", "admin@x", 15)
    record(d, user="a@x", action="view")  # writing works again
    assert verify_trail(d).ok and repair_trail(d, user="admin@x")["repaired"] is False


def test_repair_changes_nothing_when_a_whole_entry_was_altered(tmp_path):
    d = _trail(tmp_path, 3)
    lines = _lines(d)
    lines[1] = lines[1].replace("u1@x", "u9@x")
    (d / AUDIT_FILE).write_text("\n".join(lines) + "\n" + '{"seq": 4')
    before = (d / AUDIT_FILE).read_bytes()
    out = repair_trail(d, user="admin@x")
    assert not out["repaired"] and out["problem"].startswith("entry 2 (line 2) was altered")
    assert (d / AUDIT_FILE).read_bytes() == before and not list(d.glob("partial-*"))


def test_concurrent_writers_keep_one_chain(tmp_path):
    d = tmp_path / "audit"

    def work(k):
        for i in range(20):
            record(d, user=f"t{k}@x", action="view", detail={"i": i})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check = verify_trail(d)
    assert check.ok and check.entries == 80

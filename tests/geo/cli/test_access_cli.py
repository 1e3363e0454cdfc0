"""``harewatch audit``, ``store purge``, ``users`` and the audit of CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from factories import read_rows

from geo.access import retention_cutoff
from geo.cli import main
from geo.io.audit import AUDIT_FILE, os_user, read_entries
from geo.io.store import read_sightings, write_sightings

REPO = Path(__file__).resolve().parents[3]


def _show(capsys, store, *extra) -> list[dict]:
    capsys.readouterr()
    assert main(["audit", "show", "--data-dir", str(store), "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_ingest_is_recorded_with_the_os_user_before_it_runs(tmp_path, capsys):
    src = tmp_path / "reads.csv"
    src.write_text("vrm,read_at,easting,northing,camera_id\nAB12CDE,2025-01-01T22:00:00Z,545000,258000,C1\n")
    store = tmp_path / "store"
    main(["ingest", "sightings", str(src), "--data-dir", str(store)])
    entries = _show(capsys, store, "--action", "ingest")
    assert len(entries) == 1
    e = entries[0]
    assert e["user"] == os_user() and e["detail"]["via"] == "cli"
    assert e["detail"]["command"] == "harewatch ingest" and e["detail"]["options"]["file"] == str(src)
    assert {"at", "user", "action", "detail"} <= set(e)


def test_show_filters_by_user_since_and_action(tmp_path, capsys):
    store = tmp_path / "store"
    main(["users", "set", "a@force.example", "analyst", "--data-dir", str(store)])
    assert [e["action"] for e in _show(capsys, store, "--user", os_user())] == ["role_change", "audit_read"]
    assert _show(capsys, store, "--user", "nobody") == []
    assert _show(capsys, store, "--since", "2999-01-01", "--action", "role_change") == []


def test_text_format_one_line_per_entry(tmp_path, capsys):
    store = tmp_path / "store"
    main(["users", "set", "a@force.example", "viewer", "--data-dir", str(store)])
    capsys.readouterr()
    assert main(["audit", "show", "--data-dir", str(store), "--format", "text"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "role_change" in out[0] and "audit_read" in out[1]


def test_verify_exit_codes_and_names_the_tampered_entry(tmp_path, capsys):
    store = tmp_path / "store"
    for role in ("viewer", "analyst", "admin"):
        main(["users", "set", "a@force.example", role, "--data-dir", str(store)])
    assert main(["audit", "verify", "--data-dir", str(store)]) == 0
    trail = store / "audit" / AUDIT_FILE
    lines = trail.read_text().splitlines()
    lines[1] = lines[1].replace('"to":"analyst"', '"to":"viewer"')
    trail.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["audit", "verify", "--data-dir", str(store)]) == 1
    assert "entry 2 (line 2) was altered" in capsys.readouterr().out


def test_repair_after_a_power_cut_mid_line_lets_commands_run_again(tmp_path, capsys):
    store = tmp_path / "store"
    main(["users", "set", "a@force.example", "analyst", "--data-dir", str(store)])
    with open(store / "audit" / AUDIT_FILE, "ab") as fh:
        fh.write(b'{"seq": 2, "at": "2026-')  # the write cut short
    assert main(["users", "set", "b@force.example", "viewer", "--data-dir", str(store)]) != 0
    capsys.readouterr()
    assert main(["audit", "verify", "--data-dir", str(store)]) == 1
    assert "line 2 is an unfinished write" in capsys.readouterr().out
    assert main(["audit", "repair", "--data-dir", str(store)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["repaired"] and out["bytes"] == 23 and out["entry"] == 2
    assert main(["users", "set", "b@force.example", "viewer", "--data-dir", str(store)]) == 0
    assert main(["audit", "verify", "--data-dir", str(store)]) == 0
    assert [e["action"] for e in read_entries(store / "audit")] == ["role_change", "repair", "role_change"]


def test_an_unwritable_audit_refuses_the_command(tmp_path, capsys):
    store = tmp_path / "store"
    store.mkdir()
    (store / "audit").write_text("not a folder")
    src = tmp_path / "reads.csv"
    src.write_text("vrm,read_at,easting,northing\nAB12CDE,2025-01-01T22:00:00Z,545000,258000\n")
    assert main(["ingest", "sightings", str(src), "--data-dir", str(store)]) == 2
    assert "audit" in capsys.readouterr().err
    assert not (store / "tables").exists()  # nothing stored


def test_purge_is_a_dry_run_first_then_applies_and_is_audited(tmp_path, capsys):
    store = tmp_path / "store"
    now = pd.Timestamp.now(tz="UTC")
    old = (retention_cutoff(now, 365) - pd.Timedelta(days=3)).isoformat()
    new = (now - pd.Timedelta(days=2)).isoformat()
    write_sightings(read_rows([("AB12CDE", old), ("AB12CDE", new)], ["vrm", "read_at"]), store)
    capsys.readouterr()
    assert main(["store", "purge", "--data-dir", str(store), "--format", "text"]) == 0
    assert "would remove 1 read(s)" in capsys.readouterr().out
    assert len(read_sightings(store)) == 2
    assert main(["store", "purge", "--apply", "--data-dir", str(store), "--format", "text"]) == 0
    assert "removed 1 read(s)" in capsys.readouterr().out
    assert len(read_sightings(store)) == 1
    done = [e for e in read_entries(store / "audit") if e["action"] == "purge"]
    assert [(e["detail"]["dry_run"], e["detail"]["stage"]) for e in done] == [
        (True, "start"), (True, "done"), (False, "start"), (False, "done")]
    assert done[-1]["detail"]["reads_removed"] == 1


def test_the_console_script_runs_audit_verify(tmp_path):
    store = tmp_path / "store"
    out = subprocess.run([sys.executable, "-m", "geo.cli", "audit", "verify", "--data-dir", str(store),
                          "--format", "text"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "intact: 0 entries" in out.stdout

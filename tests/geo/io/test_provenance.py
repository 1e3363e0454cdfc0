"""geo.io.provenance: demo files are recognised at ingest and the store stays marked as demo."""

from __future__ import annotations

import json

import pandas as pd

from geo.cli import main
from geo.datasets.demo import load_or_demo
from geo.io.provenance import (
    SYNTHETIC_SOURCE,
    is_synthetic,
    provenance_record,
    read_provenance,
    store_has_synthetic,
)


def test_is_synthetic_needs_the_marker_in_every_row():
    assert is_synthetic(pd.DataFrame({"Source": [SYNTHETIC_SOURCE, SYNTHETIC_SOURCE.upper()]}))
    assert not is_synthetic(pd.DataFrame({"source": [SYNTHETIC_SOURCE, "Essex ANPR"]}))
    assert not is_synthetic(pd.DataFrame({"other": [SYNTHETIC_SOURCE]}))
    assert not is_synthetic(pd.DataFrame({"source": []}))


def test_record_is_plain_json_in_utc():
    rec = provenance_record(file="a.csv", kind="incidents", rows=3, rows_added=2, synthetic=False)
    assert json.loads(json.dumps(rec)) == rec and rec["at"].endswith("+00:00")


def test_demo_ingested_into_a_store_stays_demo(tmp_path, boundaries_path, areas, capsys):
    out, store = tmp_path / "demo", tmp_path / "store"
    assert main(["demo", "--out", str(out), "--boundaries", str(boundaries_path)]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert main(["ingest", "incidents", paths["incidents"], "--data-dir", str(store),
                 "--boundaries", str(boundaries_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["synthetic"] is True and summary["rows_added"] == 2044 + 1415
    (rec,) = read_provenance(store)
    assert rec["synthetic"] is True and rec["file"].endswith("incidents.csv") and rec["rows_added"] == 3459
    assert store_has_synthetic(store)
    inc, _, demo = load_or_demo(store, areas)
    assert len(inc) == 3459 and demo is True  # stored rows, still the demo


def test_real_file_is_not_marked(tmp_path, boundaries_path, capsys):
    f = tmp_path / "inc.csv"
    f.write_text("id,datetime,easting,northing\nA1,2021-10-02T20:00:00Z,545000,258000\n", encoding="utf-8")
    store = tmp_path / "store"
    assert main(["ingest", "incidents", str(f), "--data-dir", str(store), "--boundaries",
                 str(boundaries_path)]) == 0
    assert json.loads(capsys.readouterr().out)["synthetic"] is False
    assert [r["synthetic"] for r in read_provenance(store)] == [False]
    assert not store_has_synthetic(store)

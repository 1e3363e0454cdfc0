"""The CLI contract other tools rely on: keys, exit codes, stderr counts."""

from __future__ import annotations

import json

import pytest
from pyproj import Transformer

from geo.cli import main
from geo.pipeline.ingest import guess_kind

TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _latlon(e, n):
    lon, lat = TO_WGS84.transform(e, n)
    return f"{lat:.6f}", f"{lon:.6f}"


@pytest.fixture()
def incidents_csv(tmp_path):
    """Seven incidents within 300 m near Cambridge (one hotspot), three far apart
    (noise), and two bad rows. Plate AB12CDE is linked to incidents in Norfolk,
    Suffolk and Cambridgeshire in season 2021-22 (stage 3, border hopper)."""
    rows = ["incident_id,occurred_at,lat,lon,vrm,notes"]
    for i in range(7):
        lat, lon = _latlon(545000 + 40 * i, 258000 + 30 * (i % 3))
        vrm = "ab12 cde" if i == 0 else ""
        rows.append(f"C{i},2021-10-0{i + 1}T20:00:00+01:00,{lat},{lon},{vrm},fen edge")
    for ref, (e, n), when in (("N1", (623000, 308000), "2021-11-05T06:30:00Z"),
                              ("S1", (616000, 244000), "2021-12-01T07:00:00Z"),
                              ("E1", (575000, 205000), "2022-01-10T16:00:00Z")):
        lat, lon = _latlon(e, n)
        vrm = "AB12CDE" if ref in ("N1", "S1") else "XY34ZZZ"
        rows.append(f"{ref},{when},{lat},{lon},{vrm},\"<img src=x onerror=alert(1)>\"")
    rows.append("BAD1,31/02/2021 20:00,52.2,0.12,,")
    rows.append("BAD2,2021-10-01T20:00:00Z,55.95,-3.19,,edinburgh")
    path = tmp_path / "incidents.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_guess_kind():
    assert guess_kind(["Incident Ref", "Date/Time Reported", "Grid Ref"]) == "incidents"
    assert guess_kind(["vrm", "read_at", "lat", "lon", "camera_id"]) == "sightings"


def test_validate_json_contract_and_exit_code(incidents_csv, boundaries_path, capsys):
    code = main(["validate", str(incidents_csv), "--format", "json", "--boundaries", str(boundaries_path)])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {"rows", "accepted", "rejected", "rejects", "by_force"} <= set(report)
    assert (report["rows"], report["accepted"], report["rejected"]) == (12, 10, 2)
    assert [r["row"] for r in report["rejects"]] == [11, 12]
    assert [r["id"] for r in report["rejects"]] == ["BAD1", "BAD2"]
    assert "outside" in report["rejects"][1]["reason"].lower()
    assert report["by_force"]["Cambridgeshire"] == 7
    assert report["by_force"]["Norfolk"] == 1


def test_validate_exit_0_when_clean_and_2_when_unreadable(tmp_path, boundaries_path, capsys):
    good = tmp_path / "good.csv"
    lat, lon = _latlon(545000, 258000)
    good.write_text(f"id,datetime,lat,lon\nA,2021-10-01 20:00,{lat},{lon}\n")
    assert main(["validate", str(good), "--format", "json", "--boundaries", str(boundaries_path)]) == 0
    capsys.readouterr()
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"this is not a spreadsheet")
    assert main(["validate", str(bad), "--format", "json", "--boundaries", str(boundaries_path)]) == 2
    err = capsys.readouterr().err
    assert "broken.xlsx" in err or "xlsx" in err.lower()
    assert main(["validate", str(tmp_path / "missing.csv"), "--boundaries", str(boundaries_path)]) == 2


def test_hotspots_json_contract(incidents_csv, boundaries_path, capsys):
    code = main(["hotspots", "--incidents", str(incidents_csv), "--season", "2021-22", "--eps-m", "500",
                 "--min-samples", "5", "--boundaries", str(boundaries_path), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1  # done, but 2 rows of the input were rejected
    out = json.loads(captured.out)
    assert "skipped 2 rejected" in captured.err
    assert out["noise"] == 3
    (h,) = out["hotspots"]
    assert sorted(h["incident_ids"]) == [f"C{i}" for i in range(7)]
    assert h["n"] == 7 and h["rank"] == 1 and h["forces"] == ["Cambridgeshire"]
    assert h["cross_border"] is False
    assert 52.1 < h["centroid"]["lat"] < 52.3 and 0.0 < h["centroid"]["lon"] < 0.3
    assert out["params"]["eps_m"] == 500


def test_offenders_json_contract(incidents_csv, boundaries_path, capsys):
    code = main(["offenders", "--incidents", str(incidents_csv), "--season", "2021-22",
                 "--boundaries", str(boundaries_path), "--format", "json"])
    assert code == 1  # 2 rejected rows skipped
    out = json.loads(capsys.readouterr().out)
    by_subject = {o["subject"]: o for o in out["offenders"]}
    ab = by_subject["AB12CDE"]
    assert ab["kind"] == "vehicle" and ab["season"] == "2021-22"
    assert ab["stage"] == 3 and ab["stage_label"] == "prosecution"
    assert ab["incidents"] == ["C0", "N1", "S1"]
    assert set(ab["forces"]) == {"Cambridgeshire", "Norfolk", "Suffolk"}
    assert ab["border_hopper"] is True
    xy = by_subject["XY34ZZZ"]
    assert (xy["stage"], xy["stage_label"], xy["border_hopper"]) == (1, "warning", False)


def test_unknown_force_is_a_clear_error(incidents_csv, boundaries_path, capsys):
    code = main(["hotspots", "--incidents", str(incidents_csv), "--force", "Atlantis",
                 "--boundaries", str(boundaries_path)])
    assert code == 2
    assert "Atlantis" in capsys.readouterr().err


def test_missing_boundaries_message(tmp_path, monkeypatch, capsys, incidents_csv):
    monkeypatch.delenv("HAREWATCH_BOUNDARIES", raising=False)
    code = main(["validate", str(incidents_csv), "--boundaries", str(tmp_path / "nope.geojson")])
    assert code == 2
    assert "nope.geojson" in capsys.readouterr().err


def test_ingest_twice_adds_nothing_the_second_time(incidents_csv, boundaries_path, tmp_path, capsys):
    store = tmp_path / "store"
    args = ["ingest", "incidents", str(incidents_csv), "--data-dir", str(store),
            "--boundaries", str(boundaries_path)]
    assert main(args) == 1  # stored, but 2 rows rejected
    first = json.loads(capsys.readouterr().out)
    assert (first["rows"], first["accepted"], first["rejected"]) == (12, 10, 2)
    assert (first["rows_added"], first["rows_already_stored"]) == (10, 0)
    assert main(args) == 1
    second = json.loads(capsys.readouterr().out)
    assert (second["rows_added"], second["rows_already_stored"]) == (0, 10)
    # the store now answers hotspots without --incidents (nothing rejected: exit 0)
    assert main(["hotspots", "--data-dir", str(store), "--season", "2021-22", "--eps-m", "500",
                 "--min-samples", "5", "--boundaries", str(boundaries_path)]) == 0
    assert json.loads(capsys.readouterr().out)["hotspots"][0]["n"] == 7


def test_demo_writes_files_that_validate_cleanly(tmp_path, boundaries_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--seed", "3", "--out", str(out), "--boundaries", str(boundaries_path)]) == 0
    paths = json.loads(capsys.readouterr().out)
    assert {"incidents", "sightings", "cameras"} <= set(paths)
    assert main(["validate", paths["incidents"], "--format", "json", "--boundaries", str(boundaries_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == report["accepted"] == 2044 + 1415
    assert main(["validate", paths["sightings"], "--format", "json", "--boundaries", str(boundaries_path)]) == 0
    assert json.loads(capsys.readouterr().out)["rejected"] == 0


def test_offenders_with_sightings_lists_crossings(tmp_path, boundaries_path, capsys):
    """AB12CDE is read in Norfolk at 19:00 and in Suffolk at 19:40 on the night of
    its Suffolk incident: one crossing Norfolk -> Suffolk, near that incident."""
    inc = tmp_path / "inc.csv"
    lat_s, lon_s = _latlon(616000, 244000)
    inc.write_text(f"id,datetime,lat,lon,vrm\nS1,2021-12-01T20:00:00Z,{lat_s},{lon_s},AB12CDE\n")
    reads = tmp_path / "reads.csv"
    lat_n, lon_n = _latlon(623000, 308000)
    reads.write_text("vrm,read_at,lat,lon,camera_id\n"
                     f"AB12CDE,2021-12-01T19:00:00Z,{lat_n},{lon_n},CAM-N\n"
                     f"AB12CDE,2021-12-01T19:40:00Z,{lat_s},{lon_s},CAM-S\n")
    assert main(["offenders", "--incidents", str(inc), "--sightings", str(reads),
                 "--boundaries", str(boundaries_path)]) == 0
    (o,) = json.loads(capsys.readouterr().out)["offenders"]
    crossings = o["crossings"]
    assert [(c["from"], c["to"], c["camera_id"]) for c in crossings] == [("Norfolk", "Suffolk", "CAM-S")]
    assert crossings[0]["at"].startswith("2021-12-01T19:40")
    assert crossings[0]["near_incident"] is True


def test_boundaries_show_names_the_seven_and_the_licence(boundaries_path, capsys):
    assert main(["boundaries", "show", "--boundaries", str(boundaries_path)]) == 0
    out = capsys.readouterr().out
    for name in ("Norfolk", "Suffolk", "Cambridgeshire", "Bedfordshire", "Hertfordshire", "Essex", "Kent"):
        assert name in out
    assert "Open Government Licence" in out


def test_ingest_exit_codes_follow_the_table(tmp_path, boundaries_path, capsys):
    """0 every row stored, 1 some rows rejected (the rest stored), 2 nothing usable."""
    store = tmp_path / "store"
    lat, lon = _latlon(545000, 258000)
    files = {
        "clean.csv": f"id,datetime,lat,lon\nA,2021-10-01 20:00,{lat},{lon}\n",
        "some_bad.csv": f"id,datetime,lat,lon\nB,2021-10-01 20:00,{lat},{lon}\nC,soon,{lat},{lon}\n",
        "all_bad.csv": f"id,datetime,lat,lon\nD,soon,{lat},{lon}\nE,,{lat},{lon}\n",
        "header.csv": "id,datetime,lat,lon\n",
        "broken.xlsx": "not a workbook",
    }
    codes = {}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        codes[name] = main(["ingest", "incidents", str(tmp_path / name), "--data-dir", str(store),
                            "--boundaries", str(boundaries_path)])
        codes[name + ":err"] = capsys.readouterr().err
    assert (codes["clean.csv"], codes["some_bad.csv"], codes["all_bad.csv"],
            codes["header.csv"], codes["broken.xlsx"]) == (0, 1, 2, 2, 2)
    assert "1 of 2 rows of" in codes["some_bad.csv:err"] and "rejects" in codes["some_bad.csv:err"]
    assert "all 2 rows rejected (row 1:" in codes["all_bad.csv:err"]
    assert "no data rows" in codes["header.csv:err"] and "broken.xlsx" in codes["broken.xlsx:err"]
    from geo.io.store.read import read_incidents

    assert sorted(read_incidents(store)["incident_id"]) == ["A", "B"]
    # validate follows the same table
    assert main(["validate", str(tmp_path / "all_bad.csv"), "--boundaries",
                 str(boundaries_path)]) == 2


def test_store_history_and_correction_via_cli(tmp_path, boundaries_path, capsys):
    store = tmp_path / "store"
    lat, lon = _latlon(545000, 258000)
    path = tmp_path / "inc.csv"
    path.write_text(f"id,datetime,lat,lon,notes\nA,2021-10-01 20:00,{lat},{lon},first\n")
    assert main(["ingest", "incidents", str(path), "--data-dir", str(store),
                 "--boundaries", str(boundaries_path)]) == 0
    capsys.readouterr()
    path.write_text(f"id,datetime,lat,lon,notes\nA,2021-10-01 21:00,{lat},{lon},first\n")
    assert main(["ingest", "incidents", str(path), "--data-dir", str(store),
                 "--boundaries", str(boundaries_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows_added"], out["rows_corrected"], out["rows_already_stored"]) == (0, 1, 0)
    assert main(["store", "history", "--data-dir", str(store), "--table", "incidents"]) == 0
    versions = json.loads(capsys.readouterr().out)["versions"]
    assert [(v["version"], v["operation"], v["rows_corrected"]) for v in versions] == [
        (2, "ingest", 1), (1, "ingest", 0), (0, "create", 0)]

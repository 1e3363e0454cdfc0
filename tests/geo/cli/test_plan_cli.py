"""``harewatch plan`` and the hotspots significance fields: the CLI contracts.

The hand-made scenario (:func:`night_scenario`) has known answers: a
Cambridgeshire place coursed on Friday nights (one of them at 01:30 on the
Saturday, which still belongs to Friday night), an Essex place on Saturday
nights and a Norfolk place on Tuesday mornings only (outside the window).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from factories import CENTRES, COURSING_SEASONS, coursing_seasons, incidents, incidents_csv

from geo.cli import main
from geo.significance import TREND_CLASSES

WINDOW = ["--days", "fri,sat", "--hours", "18-02"]
AREA_KEYS = {"rank", "lat", "lon", "easting", "northing", "radius_m", "forces", "expected_incidents", "why"}

# 2021-10-01 is a Friday.
CAMBS_NIGHTS = ["2020-10-02T20:00", "2020-10-09T21:00", "2020-10-16T22:00", "2020-10-23T19:30",
                "2021-10-01T20:00", "2021-10-08T21:00", "2021-10-15T22:00", "2021-10-22T23:00",
                "2021-10-29T19:00", "2021-11-05T20:30", "2021-11-12T21:30", "2021-11-20T01:30"]
ESSEX_NIGHTS = ["2021-10-02T20:00", "2021-10-09T21:00", "2021-10-16T22:00", "2021-10-23T23:30",
                "2021-10-30T19:00"]
NORFOLK_MORNINGS = ["2021-10-05T08:00", "2021-10-12T08:00", "2021-10-19T09:00", "2021-10-26T09:00",
                    "2021-11-02T08:30", "2021-11-09T08:30"]


def _local(texts):
    import pandas as pd

    return pd.to_datetime(texts).tz_localize("Europe/London").tz_convert("UTC")


def night_scenario():
    (ce, cn), (ee, en), (ne, nn) = CENTRES["Cambridgeshire"], CENTRES["Essex"], CENTRES["Norfolk"]
    n_c, n_e, n_n = len(CAMBS_NIGHTS), len(ESSEX_NIGHTS), len(NORFOLK_MORNINGS)
    return incidents(
        n_c + n_e + n_n,
        incident_id=[f"C{i}" for i in range(n_c)] + [f"E{i}" for i in range(n_e)] + [f"N{i}" for i in range(n_n)],
        occurred_at=list(_local(CAMBS_NIGHTS + ESSEX_NIGHTS + NORFOLK_MORNINGS)),
        easting=[ce + 100.0 * (i % 4) for i in range(n_c)] + [ee + 120.0 * i for i in range(n_e)] + [ne] * n_n,
        northing=[cn + 80.0 * (i % 3) for i in range(n_c)] + [en] * n_e + [nn + 50.0 * i for i in range(n_n)],
        force=["Cambridgeshire"] * n_c + ["Essex"] * n_e + ["Norfolk"] * n_n,
        crime_type=["Hare coursing"] * n_c + ["Poaching"] * n_e + ["Hare coursing"] * n_n,
    )


@pytest.fixture(scope="module")
def night_csv(tmp_path_factory):
    return incidents_csv(night_scenario(), tmp_path_factory.mktemp("plan") / "nights.csv")


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def plan_json(capsys, csv_path, boundaries_path, *extra):
    code, out, err = run(capsys, "plan", "--incidents", str(csv_path), "--boundaries", str(boundaries_path),
                         *extra)
    assert code == 0, err
    return json.loads(out), err


def test_plan_json_contract(night_csv, boundaries_path, capsys):
    doc, err = plan_json(capsys, night_csv, boundaries_path, "--crews", "2", "--radius-m", "3000", *WINDOW)
    assert set(doc) >= {"params", "areas", "backtest", "excluded"}
    p = doc["params"]
    assert (p["crews"], p["crews_placed"], p["radius_m"], p["days"], p["hours"]) == (2, 2, 3000.0, "fri,sat", "18-02")
    assert p["as_of"] == "2021-11-21T00:00:00+00:00"  # London midnight after the latest incident (01:30)
    assert p["forces"] == ["Cambridgeshire", "Norfolk", "Suffolk", "Bedfordshire", "Hertfordshire", "Essex",
                           "Kent"]  # default: the seven
    first, second = doc["areas"]
    assert set(first) >= AREA_KEYS
    assert (first["rank"], first["forces"], first["incidents"]) == (1, ["Cambridgeshire"], 12)  # 01:30 Sat counts
    assert (second["rank"], second["forces"], second["incidents"]) == (2, ["Essex"], 5)
    assert abs(first["easting"] - CENTRES["Cambridgeshire"][0]) < 3000
    assert 52.0 < first["lat"] < 52.5 and first["radius_m"] == 3000.0
    assert "Fri/Sat nights 18:00-02:00" in first["why"]
    assert doc["excluded"]["outside_window"] == len(NORFOLK_MORNINGS)  # Tuesday mornings
    bt = doc["backtest"]
    assert [r["method"] for r in bt["seasons"]] == ["plan", "hotspots", "kde"]
    assert {r["season"] for r in bt["seasons"]} == {"2021-22"}
    plan_row = bt["seasons"][0]
    assert (plan_row["hits"], plan_row["incidents"]) == (8, 13)  # last season's place, planned from 2020-21
    assert bt["sentence"].startswith("Last season (2021-22) this plan would have covered 62 %")
    assert "backtest: Last season (2021-22)" in err  # shown to people too


def test_plan_geojson_contract(night_csv, boundaries_path, capsys):
    code, out, _ = run(capsys, "plan", "--incidents", str(night_csv), "--boundaries", str(boundaries_path),
                       "--crews", "2", *WINDOW, "--format", "geojson")
    assert code == 0
    gj = json.loads(out)
    assert gj["type"] == "FeatureCollection"
    assert [f["id"] for f in gj["features"]] == ["P01", "P02"]
    props = gj["features"][0]["properties"]
    assert set(props) >= AREA_KEYS and props["forces"] == ["Cambridgeshire"]
    ring = gj["features"][0]["geometry"]["coordinates"][0]
    lons, lats = zip(*ring, strict=True)
    assert gj["features"][0]["geometry"]["type"] == "Polygon"
    assert 0.0 < min(lons) < max(lons) < 0.3 and 52.1 < min(lats) < max(lats) < 52.4  # WGS84 degrees
    assert gj["backtest"]["seasons"] and gj["params"]["crews"] == 2  # extra members kept


def test_plan_csv_contract(night_csv, boundaries_path, capsys):
    code, out, err = run(capsys, "plan", "--incidents", str(night_csv), "--boundaries", str(boundaries_path),
                         "--crews", "2", *WINDOW, "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert set(rows[0]) >= AREA_KEYS
    assert rows[0]["forces"] == "Cambridgeshire" and rows[1]["forces"] == "Essex"
    assert "backtest:" in err


def test_plan_as_of_and_season_use_only_what_was_known(night_csv, boundaries_path, capsys):
    doc, _ = plan_json(capsys, night_csv, boundaries_path, "--crews", "2", *WINDOW, "--as-of", "2021-10-06")
    assert doc["params"]["as_of"] == "2021-10-05T23:00:00+00:00"  # midnight, UK clock (BST)
    assert [a["incidents"] for a in doc["areas"]] == [5, 1]  # 4 + 1 Cambridgeshire nights, 1 Essex night
    assert doc["excluded"]["after_as_of"] == 23 - 7  # 7 incidents before 6 October
    plan_row = doc["backtest"]["seasons"][0]  # only the two window nights of 2021-22 known by then
    assert (plan_row["season"], plan_row["method"], plan_row["hits"], plan_row["incidents"]) == ("2021-22", "plan", 1, 2)
    doc, _ = plan_json(capsys, night_csv, boundaries_path, "--crews", "1", *WINDOW, "--season", "2021-22")
    assert doc["params"]["as_of"] == "2021-08-31T23:00:00+00:00"
    assert [a["incidents"] for a in doc["areas"]] == [4]


def test_plan_force_alias_and_crime_type(night_csv, boundaries_path, capsys):
    doc, _ = plan_json(capsys, night_csv, boundaries_path, "--crews", "2", *WINDOW, "--force", "Essex Police")
    assert doc["params"]["forces"] == ["Essex"]
    assert [a["forces"] for a in doc["areas"]] == [["Essex"]]  # crews only where they may go
    doc, _ = plan_json(capsys, night_csv, boundaries_path, "--crews", "2", *WINDOW, "--crime-type", "Poaching")
    assert [a["incidents"] for a in doc["areas"]] == [5]


@pytest.mark.parametrize("argv, says", [
    (["--days", "fry"], "unknown day 'fry'"),
    (["--hours", "18-18"], "same hour"),
    (["--hours", "25-02"], "must be 0..23"),
    (["--crews", "0"], "crews must be"),
    (["--radius-m", "-5"], "radius_m"),
    (["--season", "2021/22"], "2021/22"),
    (["--as-of", "not a date"], "not a date"),
    (["--force", "Atlantis"], "Atlantis"),
])
def test_plan_bad_input_exits_2_with_a_message(night_csv, boundaries_path, capsys, argv, says):
    code, out, err = run(capsys, "plan", "--incidents", str(night_csv), "--boundaries", str(boundaries_path), *argv)
    assert code == 2 and out == ""
    assert says in err


def test_plan_season_and_as_of_together_is_a_usage_error(night_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["plan", "--incidents", str(night_csv), "--season", "2021-22", "--as-of", "2021-10-01"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_plan_help_gives_every_default(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split()).split("options:", 1)[1]
    for option in ("--crews", "--radius-m", "--days", "--hours", "--force", "--season ", "--as-of",
                   "--season-start-month", "--incidents", "--crime-type", "--format"):
        chunk = text.split(option, 2)[-1].split(" --")[0]
        assert "default" in chunk or "else" in chunk, option


# ------------------------------------------------------------------ the DONE scenario
@pytest.fixture(scope="module")
def coursing_csv(tmp_path_factory):
    return incidents_csv(coursing_seasons(seed=0), tmp_path_factory.mktemp("coursing") / "three_seasons.csv")


def test_done_plan_from_two_seasons_beats_last_seasons_top_hotspots(coursing_csv, boundaries_path, capsys):
    """Issue 14's DONE: planned from two seasons, three crews cover clearly more of the third
    season's Friday/Saturday-night incidents than last season's top-3 window hotspots."""
    doc, _ = plan_json(capsys, coursing_csv, boundaries_path, "--crews", "3", "--radius-m", "3000", *WINDOW)
    third = {r["method"]: r for r in doc["backtest"]["seasons"] if r["season"] == COURSING_SEASONS[2]}
    plan, baseline = third["plan"], third["hotspots"]
    assert plan["incidents"] == baseline["incidents"] > 250  # same judged window incidents
    assert plan["circles"] == baseline["circles"] == 3
    assert plan["hit_rate"] >= baseline["hit_rate"] + 0.10  # ten points or more
    assert plan["hits"] >= 1.5 * baseline["hits"]
    assert plan["pai"] > baseline["pai"]  # same area covered, so also a better PAI
    # the plan for next season goes to the emerging fen place, not to the Tuesday-morning decoy
    assert doc["areas"][0]["forces"] == ["Cambridgeshire"] and "rising" in doc["areas"][0]["why"]
    assert all("Hertfordshire" not in a["forces"] for a in doc["areas"])


# ------------------------------------------------------------------ hotspots significance
def test_hotspots_json_has_significance_and_trend(coursing_csv, boundaries_path, capsys):
    code, out, _ = run(capsys, "hotspots", "--incidents", str(coursing_csv), "--boundaries", str(boundaries_path),
                       "--season", COURSING_SEASONS[2])
    assert code == 0
    hs = json.loads(out)["hotspots"]
    assert hs
    for h in hs:
        assert {"id", "rank", "n", "centroid", "previous_n", "change"} <= set(h)  # old keys kept
        assert isinstance(h["significant"], bool)
        assert h["trend"] in TREND_CLASSES
        assert 0.0 <= h["gi_p"] <= 1.0
        assert h["gi_z"] is None or isinstance(h["gi_z"], float)
    by_size = sorted(hs, key=lambda h: -h["n"])
    assert by_size[0]["significant"] is True and by_size[0]["gi_z"] > 3


def test_hotspots_csv_and_geojson_carry_the_same_fields(coursing_csv, boundaries_path, capsys):
    base = ["hotspots", "--incidents", str(coursing_csv), "--boundaries", str(boundaries_path),
            "--season", COURSING_SEASONS[2]]
    _, out, _ = run(capsys, *base, "--format", "json")
    by_id = {h["id"]: h for h in json.loads(out)["hotspots"]}
    _, out, _ = run(capsys, *base, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["hotspot_id"]: r["trend"] for r in rows} == {k: h["trend"] for k, h in by_id.items()}
    assert {r["hotspot_id"]: r["significant"] for r in rows} == {k: str(h["significant"]) for k, h in by_id.items()}
    _, out, _ = run(capsys, *base, "--format", "geojson")
    props = {f["id"]: f["properties"] for f in json.loads(out)["features"]}
    assert {k: (p["gi_p"], p["significant"], p["trend"]) for k, p in props.items()} == {
        k: (h["gi_p"], h["significant"], h["trend"]) for k, h in by_id.items()}


def test_hotspots_without_significance_are_the_same_clusters_without_its_fields(
        coursing_csv, boundaries_path, capsys):
    base = ["hotspots", "--incidents", str(coursing_csv), "--boundaries", str(boundaries_path),
            "--season", COURSING_SEASONS[2]]
    significance = ("gi_z", "gi_p", "significant", "trend")
    _, out, _ = run(capsys, *base)
    full = json.loads(out)["hotspots"]
    code, out, _ = run(capsys, *base, "--no-significance")
    bare = json.loads(out)["hotspots"]
    assert code == 0 and bare
    assert not any(k in h for h in bare for k in significance)
    assert bare == [{k: v for k, v in h.items() if k not in significance} for h in full]
    _, out, _ = run(capsys, *base, "--no-significance", "--format", "csv")
    header = next(csv.reader(io.StringIO(out)))
    assert "hotspot_id" in header and not set(significance) & set(header)

"""Tests for the synthetic demo scenario (geo.demo).

Locations, seasons and ladder stages are recomputed here from the raw text
independently of the generator (own grid-reference parser, pyproj for
lat/lon), so the tests check what a user's file would contain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from geo.areas import assign_force
from geo.datasets.demo import (
    DEMO_NOTICE,
    HOSTILE_NOTES,
    HOTSPOT_AREAS,
    INCIDENT_RAW_COLUMNS,
    SEASON_TOTALS,
    SIGHTING_RAW_COLUMNS,
    TOWN_CENTRES,
    make_bad_rows_example,
    make_demo,
    write_demo,
)

_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"


@pytest.fixture(scope="module")
def demo(areas):
    return make_demo(areas, seed=0)


def _parse_gridref(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """10-figure OS grid reference -> (easting, northing) metres."""
    parts = text.str.extract(r"^([A-Z])([A-Z]) (\d{5}) (\d{5})$")
    assert parts.notna().all().all(), "grid refs must look like 'TL 45123 67890'"
    l1 = parts[0].map(_LETTERS.index).to_numpy()
    l2 = parts[1].map(_LETTERS.index).to_numpy()
    e100 = ((l1 - 2) % 5) * 5 + l2 % 5
    n100 = (19 - (l1 // 5) * 5) - l2 // 5
    return (e100 * 100_000 + parts[2].astype(int).to_numpy(),
            n100 * 100_000 + parts[3].astype(int).to_numpy())


def _incident_points(raw: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """BNG metres of every incident from whichever location columns it uses."""
    has_ll = (raw["Latitude"] != "").to_numpy()
    has_en = (raw["Easting"] != "").to_numpy()
    has_gr = (raw["Grid Ref"] != "").to_numpy()
    assert (has_ll.astype(int) + has_en + has_gr == 1).all(), "exactly one location form per row"
    x = np.full(len(raw), np.nan)
    y = np.full(len(raw), np.nan)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x[has_ll], y[has_ll] = tr.transform(raw.loc[has_ll, "Longitude"].astype(float).to_numpy(),
                                        raw.loc[has_ll, "Latitude"].astype(float).to_numpy())
    x[has_en] = raw.loc[has_en, "Easting"].astype(float).to_numpy()
    y[has_en] = raw.loc[has_en, "Northing"].astype(float).to_numpy()
    x[has_gr], y[has_gr] = _parse_gridref(raw.loc[has_gr, "Grid Ref"])
    return x, y


def _local_times(raw: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(raw["Date/Time Reported"], format="%d/%m/%Y %H:%M")


def _season(local: pd.Series) -> pd.Series:
    y0 = local.dt.year - (local.dt.month < 9)
    return y0.astype(str) + "-" + ((y0 + 1) % 100).astype(str).str.zfill(2)


def _plate_incidents(raw: pd.DataFrame, areas) -> pd.DataFrame:
    """One row per (incident, normalised plate) with season, force and UTC time."""
    x, y = _incident_points(raw)
    local = _local_times(raw)
    base = pd.DataFrame({
        "row": np.arange(len(raw)),
        "season": _season(local),
        "force": areas.gdf["force"].to_numpy()[assign_force(areas, x, y)],
        "utc": local.dt.tz_localize("Europe/London").dt.tz_convert("UTC"),
        "vrm": raw["VRMs"].str.split(";"),
    }).explode("vrm")
    base["vrm"] = base["vrm"].fillna("").str.replace(" ", "").str.upper()
    return base[base["vrm"] != ""]


def test_notice_says_synthetic():
    assert "synthetic" in DEMO_NOTICE.lower()
    assert DEMO_NOTICE.count(".") == 1


def test_frames_are_text_with_expected_columns(demo):
    assert list(demo.incidents_raw.columns) == INCIDENT_RAW_COLUMNS
    assert list(demo.sightings_raw.columns) == SIGHTING_RAW_COLUMNS
    for frame in (demo.incidents_raw, demo.sightings_raw):
        assert frame.notna().all().all()
        assert frame.map(type).eq(str).all().all()
    assert demo.incidents_raw["Incident Ref"].is_unique
    assert 100 <= len(demo.cameras) <= 140
    assert demo.cameras["camera_id"].is_unique
    assert 40_000 <= len(demo.sightings_raw) <= 80_000


def test_same_seed_same_frames_other_seed_differs(areas, demo):
    again = make_demo(areas, seed=0)
    pd.testing.assert_frame_equal(demo.incidents_raw, again.incidents_raw)
    pd.testing.assert_frame_equal(demo.sightings_raw, again.sightings_raw)
    pd.testing.assert_frame_equal(demo.cameras, again.cameras)
    other = make_demo(areas, seed=1)
    assert not demo.incidents_raw.equals(other.incidents_raw)
    assert not demo.sightings_raw.equals(other.sightings_raw)


def test_does_not_mutate_areas(areas):
    before = areas.gdf.copy()
    make_demo(areas, seed=3)
    pd.testing.assert_frame_equal(areas.gdf.drop(columns="geometry"), before.drop(columns="geometry"))
    assert areas.gdf.geometry.geom_equals(before.geometry).all()


def test_exact_published_season_totals(demo):
    counts = _season(_local_times(demo.incidents_raw)).value_counts().to_dict()
    assert counts == SEASON_TOTALS == {"2020-21": 2044, "2021-22": 1415}


def test_mostly_september_to_march_peak_october_january(demo):
    local = _local_times(demo.incidents_raw)
    month = local.dt.month
    assert month.isin([9, 10, 11, 12, 1, 2, 3]).mean() >= 0.80
    assert month.isin([7, 8]).sum() > 0  # some from July / August
    per_month = month.value_counts()
    assert per_month[[10, 11, 12, 1]].min() > per_month[[4, 5, 6, 7]].max()
    weekend = local.dt.day_of_week >= 5
    assert weekend.mean() > 2 / 7 + 0.05
    hour = local.dt.hour
    assert hour.isin([5, 6, 7, 8, 16, 17, 18, 19]).mean() > 0.4  # dawn / dusk heavy


def test_points_inside_seven_forces_and_outside_town_centres(areas, demo):
    x, y = _incident_points(demo.incidents_raw)
    idx = assign_force(areas, x, y)
    assert (idx >= 0).all()
    assert areas.gdf["in_agreement"].to_numpy()[idx].all()
    for t in TOWN_CENTRES:
        d = np.hypot(x - t.easting_m, y - t.northing_m)
        assert d.min() >= t.radius_m, t.name
    # all seven forces have incidents
    assert set(areas.gdf["force"].to_numpy()[idx]) == set(areas.names)


def test_location_forms_are_mixed(demo):
    raw = demo.incidents_raw
    for col in ("Latitude", "Easting", "Grid Ref"):
        assert (raw[col] != "").mean() > 0.1, col


def test_hotspot_centres_in_intended_force_not_in_towns(areas):
    x = np.array([a.easting_m for a in HOTSPOT_AREAS])
    y = np.array([a.northing_m for a in HOTSPOT_AREAS])
    got = areas.gdf["force"].to_numpy()[assign_force(areas, x, y)]
    assert list(got) == [a.force for a in HOTSPOT_AREAS]
    for t in TOWN_CENTRES:
        assert (np.hypot(x - t.easting_m, y - t.northing_m) > t.radius_m).all(), t.name


def test_border_hotspots_straddle_their_border(areas, demo):
    """Points around each border hotspot fall in both forces of the pair."""
    x, y = _incident_points(demo.incidents_raw)
    force = areas.gdf["force"].to_numpy()[assign_force(areas, x, y)]
    for a in HOTSPOT_AREAS:
        if not a.partner:
            continue
        near = np.hypot(x - a.easting_m, y - a.northing_m) < 2 * a.spread_m
        seen = set(force[near])
        assert {a.force, a.partner} <= seen, a.name


def test_ladder_stages_and_border_hoppers_each_season(areas, demo):
    pi = _plate_incidents(demo.incidents_raw, areas)
    for season in SEASON_TOTALS:
        s = pi[pi["season"] == season]
        per_plate = s.groupby("vrm").agg(n=("row", "nunique"), forces=("force", "nunique"))
        stages = set(np.minimum(per_plate["n"], 3))
        assert stages == {1, 2, 3}, season
        assert (per_plate["forces"] >= 2).sum() >= 3, season
        assert (per_plate["n"] >= 3).sum() >= 5, season


def test_multi_value_fields_look_like_user_files(demo):
    raw = demo.incidents_raw
    n_plates = raw["VRMs"].str.count(";") + (raw["VRMs"] != "")
    n_noms = raw["Suspects"].str.count(";") + (raw["Suspects"] != "")
    assert n_plates.max() == 2 and n_noms.max() == 3
    assert (n_plates == 0).any() and (n_noms == 0).any()
    plates = raw["VRMs"].str.split("; ").explode()
    plates = plates[plates != ""]
    assert plates.str.fullmatch(r"[A-Za-z]{2}\d{2} ?[A-Za-z]{3}").all()
    assert plates.str.contains(" ").any() and (~plates.str.contains(" ")).any()
    assert plates.str.contains("[a-z]").any()
    noms = raw["Suspects"].str.split(";").explode()
    assert noms[noms != ""].str.fullmatch(r"N\d{7}").all()


def test_reporting_force_mismatches_are_few(areas, demo):
    x, y = _incident_points(demo.incidents_raw)
    force = areas.gdf["force"].to_numpy()[assign_force(areas, x, y)]
    mism = (demo.incidents_raw["Reporting Force"].to_numpy() != force).sum()
    assert 1 <= mism <= 20


def test_hostile_notes_present_verbatim(demo):
    notes = set(demo.incidents_raw["Notes"])
    for text in HOSTILE_NOTES:
        assert text in notes
    assert any("£" in n for n in notes) and any("é" in n for n in notes)


def test_offender_reads_around_incidents_in_several_forces(areas, demo):
    pi = _plate_incidents(demo.incidents_raw, areas)
    reads = demo.sightings_raw.copy()
    reads["at"] = pd.to_datetime(reads["read_at"], format="ISO8601", utc=True)
    cam_force = demo.cameras.set_index("camera_id")["force"]
    reads["force"] = reads["camera_id"].map(cam_force)
    assert reads["force"].notna().all()
    assert reads["force"].isin(areas.names).all()
    both = pi.merge(reads[["vrm", "at", "force"]], on="vrm", suffixes=("_inc", "_read"))
    near = both[(both["at"] - both["utc"]).abs() <= pd.Timedelta(hours=6)]
    # most repeat offenders' incidents have reads within 6 h, before and after
    repeat = pi.groupby("vrm")["row"].transform("nunique") >= 3
    covered = near["row"].isin(pi.loc[repeat, "row"]).sum() > 0
    assert covered
    share = pi.loc[repeat, "row"].isin(near["row"]).mean()
    assert share > 0.8
    assert (near["at"] < near["utc"]).any() and (near["at"] > near["utc"]).any()
    assert near["force_read"].nunique() >= 2
    # a read in another force than the incident's (the vehicle crossed a border)
    assert (near["force_read"] != near["force_inc"]).sum() > 100


def test_ordinary_traffic_crosses_borders(demo):
    reads = demo.sightings_raw
    cam_force = demo.cameras.set_index("camera_id")["force"]
    per_plate = reads.assign(force=reads["camera_id"].map(cam_force)).groupby("vrm")["force"].nunique()
    assert per_plate.size > 1_000  # many plates
    assert (per_plate >= 2).sum() > 200
    assert reads["read_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+]0[01]:00").all()


def test_write_demo_round_trips(tmp_path, areas, demo):
    paths = write_demo(tmp_path / "out", areas, seed=0)
    assert set(paths) == {"incidents", "sightings", "cameras"}
    inc = pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False, encoding="utf-8")
    # the written files carry the synthetic marker column (geo.io.provenance), nothing else changes
    assert (inc.pop("source") == "harewatch synthetic demo").all()
    pd.testing.assert_frame_equal(inc, demo.incidents_raw, check_dtype=False)
    cams = pd.read_csv(paths["cameras"])
    assert len(cams) == len(demo.cameras)
    sight = pd.read_csv(paths["sightings"], dtype=str, keep_default_na=False)
    assert len(sight) == len(demo.sightings_raw)




def test_demo_result_accepts_every_row(areas, demo):
    from geo.datasets.demo import demo_result

    inc, sight = demo_result(areas, seed=0)
    assert inc.n_rejected == 0, inc.rejects.head()
    assert inc.n_accepted == 3_459 == sum(SEASON_TOTALS.values())
    assert sight.n_rejected == 0, sight.rejects.head()
    assert sight.n_accepted == len(demo.sightings_raw)
    acc = inc.accepted
    assert acc["in_agreement"].all()
    assert 1 <= int(acc["force_mismatch"].sum()) <= 20
    assert set(HOSTILE_NOTES) <= set(acc["notes"])


def test_written_files_validate_via_reader(tmp_path, areas):
    from geo.pipeline.ingest import load_incidents, load_sightings

    paths = write_demo(tmp_path, areas, seed=0)
    inc = load_incidents(paths["incidents"], areas)
    assert (inc.n_accepted, inc.n_rejected) == (3_459, 0)
    sight = load_sightings(paths["sightings"], areas)
    assert sight.n_rejected == 0


def test_bad_rows_example_rejects_each_problem(areas):
    from geo.validate.incidents import validate_incidents

    raw = make_bad_rows_example()
    result = validate_incidents(raw, areas)
    assert result.rows == 9
    assert set(result.rejects["row"]) == {3, 4, 5, 6, 7, 8, 9}
    assert sorted(result.accepted["source_row"]) == [1, 2]

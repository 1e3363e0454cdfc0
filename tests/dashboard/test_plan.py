"""Issue 14 in the dashboard: plan inputs in the URL, the Plan page's view-model, the patrol
circles on the map, significance on the Hotspots page, and the plan in the briefing and pack."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pandas as pd
import pytest
from factories import CENTRES, incidents

from dashboard.briefing import briefing_pack, briefing_pdf
from dashboard.maps import MapLayers, build_map
from dashboard.state import Filters, PlanInputs
from dashboard.views import hotspots as hotspot_view
from dashboard.views import plan as view
from geo.areas import ATTRIBUTION, display_boundaries
from geo.planning import plan_with_backtest
from tests.dashboard._apptest import frame_with, metric, new_app, run_page
from tests.dashboard.test_maps import XSS, XSS_ESCAPED

PLAN_URL = {"crews": "2", "radius": "2500", "pdays": "fri,sat", "phours": "18-02", "asof": "2021-22",
            "pforces": "Norfolk,Suffolk"}


# ------------------------------------------------------------------ URL round trip
def test_plan_inputs_round_trip_through_the_url():
    f = Filters(plan=PlanInputs(crews=4, radius_m=2500.0, days="fri,sat", hours="18-02",
                                forces=("Norfolk", "Kent"), as_of="2022-01-05"))
    params = f.to_query_params()
    assert {k: params[k] for k in ("crews", "radius", "pdays", "phours", "pforces", "asof")} == {
        "crews": "4", "radius": "2500", "pdays": "fri,sat", "phours": "18-02", "pforces": "Norfolk,Kent",
        "asof": "2022-01-05"}
    assert Filters.from_query_params(params) == f
    assert Filters.from_query_params({}).plan == PlanInputs()  # crews 3, 3 km, all days and hours, latest


def test_plan_inputs_are_made_canonical():
    p = Filters.from_query_params({"pdays": "Saturday, fri", "phours": "18:00-02:00", "asof": " 2021-22 "}).plan
    assert (p.days, p.hours, p.as_of) == ("fri,sat", "18-02", "2021-22")


@pytest.mark.parametrize("junk", ["", "0", "-3", "99999", "abc", "nan", "inf", "fry", "25-02", "18-18",
                                  "2021-23", "2021/22", "31/02/2021", "x" * 5000, "\x00\n", "1e9"])
def test_junk_plan_values_fall_back_to_defaults(junk):
    keys = ["crews", "radius", "pdays", "phours", "pforces", "asof"]
    p = Filters.from_query_params({k: junk for k in keys}).plan
    d = PlanInputs()
    assert (p.crews, p.radius_m, p.days, p.hours, p.forces, p.as_of) == (d.crews, d.radius_m, "", "", (), "")
    assert Filters.from_query_params(Filters(plan=p).to_query_params()).plan == p


# ------------------------------------------------------------------ view-model
def night_incidents():
    """Cambridgeshire Friday nights in two seasons, Essex Saturday nights, Norfolk Tuesday mornings."""
    times = (["2020-10-02 20:00", "2020-10-09 21:00", "2020-10-16 22:00"]
             + ["2021-10-01 20:00", "2021-10-08 21:00", "2021-10-15 22:00", "2021-10-23 01:30"]
             + ["2021-10-02 20:00", "2021-10-09 21:00"] + ["2021-10-05 08:00", "2021-10-12 08:00"])
    forces = ["Cambridgeshire"] * 7 + ["Essex"] * 2 + ["Norfolk"] * 2
    local = pd.to_datetime(times).tz_localize("Europe/London").tz_convert("UTC")
    return incidents(len(times), occurred_at=list(local), force=forces,
                     easting=[CENTRES[f][0] for f in forces], northing=[CENTRES[f][1] for f in forces],
                     time_precision=["minute"] * 10 + ["month"])


@pytest.fixture(scope="module")
def night_plan(areas):
    return plan_with_backtest(night_incidents(), crews=2, radius_m=3000.0, days="fri,sat", hours="18-02",
                              areas=areas)


def test_plan_table_says_where_which_forces_how_many_and_why(night_plan):
    result, _ = night_plan
    table = view.plan_table(result.areas)
    assert list(table.columns) == view.PLAN_VIEW_COLUMNS
    assert table["rank"].tolist() == [1, 2]
    assert table["forces"].tolist() == ["Cambridgeshire", "Essex"]
    assert re.match(r"^TL \d{3} \d{3} \(52\.\d{4}, 0\.\d{4}\)$", table.loc[0, "where"])
    assert table.loc[0, "why"].startswith("Fri/Sat nights 18:00-02:00: 7 incidents within 3 km")
    assert view.plan_table(result.areas.iloc[:0]).columns.tolist() == view.PLAN_VIEW_COLUMNS


def test_backtest_view_and_sentence(night_plan):
    result, backtest = night_plan
    bt = view.backtest_view(backtest)
    assert list(bt.columns) == view.BACKTEST_VIEW_COLUMNS
    assert bt["method"].tolist() == ["this plan", "biggest hotspots last season", "density peaks last season"]
    assert bt.loc[0, "covered"] == 4 and bt.loc[0, "incidents"] == 6 and bt.loc[0, "hit rate"] == "67 %"
    assert view.plan_summary(result, backtest).startswith(
        "Last season (2021-22) this plan would have covered 67 % of the 6 incidents in the window")


def test_exclusions_are_said_plainly(night_plan):
    result, _ = night_plan
    text = view.exclusion_sentence(result.excluded, result.params["window"])
    assert "1 with only a month (no day or time)" in text
    assert "1 incidents fell outside the window" in text
    assert view.exclusion_sentence({}, "x").startswith("Every incident had a date and time")


def test_days_and_as_of_choices():
    assert view.days_choice("fri,sat") == ["Fri", "Sat"] and view.days_choice("") == []
    assert view.days_from_choice(["Sat", "Fri"]) == "fri,sat" and view.days_from_choice([]) == ""
    assert view.as_of_options(["2020-21", "2021-22"]) == ["latest", "2021-22", "2020-21", "date"]
    assert view.plan_when("2021-22") == {"season": "2021-22", "as_of": None}
    assert view.plan_when("2022-01-05") == {"season": None, "as_of": "2022-01-05"}
    assert view.plan_when("") == {"season": None, "as_of": None}


def test_significance_columns_and_notes():
    import geopandas as gpd
    import shapely

    hs = gpd.GeoDataFrame(
        {"hotspot_id": ["H001", "H002"], "rank": [1, 2], "n": [9, 6], "forces": [["Norfolk"], ["Kent"]],
         "centroid_lat": [52.6, 51.2], "centroid_lon": [1.2, 0.8], "busiest_month": ["Oct", "Nov"],
         "busiest_weekday": ["Fri", "Sat"], "busiest_hours": ["20:00-23:00", "19:00-22:00"],
         "previous_n": [3, 0], "change": [6, 6], "change_pct": [200.0, float("nan")],
         "centroid_e": [620000.0, 600000.0], "centroid_n": [300000.0, 150000.0],
         "first_at": pd.to_datetime(["2021-10-01 20:00", "2021-10-02 21:00"], utc=True),
         "last_at": pd.to_datetime(["2021-12-01 20:00", "2021-12-02 21:00"], utc=True)},
        geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs="EPSG:27700")
    sig = pd.DataFrame({"gi_z": [4.2, 0.3], "gi_p": [0.001, 0.6], "significant": [True, False],
                        "trend": ["persistent", "none"]})
    table = hotspot_view.hotspot_table(hs, significance=sig)
    assert table["significant"].tolist() == ["yes", "no"] and table["trend"].tolist() == ["persistent", "none"]
    assert table["vs last season"].tolist() == ["▲ +6 (+200 %)", "new this season"]
    assert hotspot_view.significance_notes(table) == ["H002: not significant (scattered incidents; could be chance)"]
    assert "significant" not in hotspot_view.hotspot_table(hs).columns  # without significance: as before


# ------------------------------------------------------------------ map and pack
def hostile_patrols(areas) -> pd.DataFrame:
    result, _ = plan_with_backtest(night_incidents(), crews=2, radius_m=3000.0, areas=areas)
    out = result.areas.copy()
    out["why"] = XSS
    out["forces"] = [[XSS], ["Essex"]]
    return out


def test_patrol_circles_on_the_map_with_escaped_popups(areas):
    html = build_map(MapLayers(boundaries=display_boundaries(areas), patrols=hostile_patrols(areas),
                               attribution=ATTRIBUTION)).get_root().render()
    assert "hw-patrol" in html and "L.circle(" in html
    assert "Patrol circles (2 crews" in html
    assert "<img src=x" not in html
    assert f"Forces: {XSS_ESCAPED}" in html and f"<br>{XSS_ESCAPED}</div>".replace("<", "\\u003c").replace(
        ">", "\\u003e") in html  # the escaped why, inside JSON with < and > escaped too
    assert '"radius":[3000.0,3000.0]' in html and '"label":["#1","#2"]' in html


def test_pack_has_the_plan_page_and_circles(areas, night_plan):
    result, _ = night_plan
    layers = MapLayers(boundaries=display_boundaries(areas), patrols=result.areas, attribution=ATTRIBUTION)
    when = dt.datetime(2024, 11, 5, 7, 30, tzinfo=dt.UTC)
    args = dict(layers=layers, figures={"Incidents": "11"}, top_hotspots=None, hoppers=None, title="t",
                generated_at=when)
    without = briefing_pdf(**args)
    with_plan = briefing_pdf(**args, plan=view.plan_table(result.areas), plan_title=view.tonight_title(result))
    pages = lambda pdf: len(re.findall(rb"/Type\s*/Page[^s]", pdf))  # noqa: E731
    assert pages(with_plan) == pages(without) + 1
    z = zipfile.ZipFile(io.BytesIO(briefing_pack(**args, plan=view.plan_table(result.areas))))
    html = z.read("briefing_map.html").decode("utf-8")
    assert "hw-patrol" in html
    assert view.tonight_title(result) == "Tonight: 2 crews (Fri/Sat nights 18:00-02:00)"


# ------------------------------------------------------------------ AppTest
@pytest.fixture(scope="module")
def app_env(boundaries_path, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HAREWATCH_BOUNDARIES", str(boundaries_path))
    mp.setenv("HAREWATCH_DATA_DIR", str(tmp_path_factory.mktemp("empty_store")))
    mp.setenv("HAREWATCH_NO_FETCH", "1")
    yield
    mp.undo()


def test_plan_page_renders_the_table_and_the_sentence(app_env):
    at = run_page(new_app(crews="2", pdays="fri,sat", phours="18-02"), "plan")
    assert [t.value for t in at.title] == ["Plan"]
    table = frame_with(at, *view.PLAN_VIEW_COLUMNS)
    assert table["rank"].tolist() == [1, 2]
    assert metric(at, "Crews placed") == "2 of 2"
    text = " ".join(m.value.replace("\\", "") for m in at.markdown)
    assert "this plan would have covered" in text and "the biggest-hotspot plan" in text
    frame_with(at, "season", "method", "covered", "hit rate")
    assert any("outside the window" in c.value.replace("\\", "") for c in at.caption)
    assert not at.error


def test_plan_page_inputs_come_from_and_go_to_the_url(app_env):
    at = run_page(new_app(**PLAN_URL), "plan")
    assert at.number_input(key="plan_crews").value == 2
    assert at.number_input(key="plan_radius").value == 2500.0
    assert at.multiselect(key="plan_days").value == ["Fri", "Sat"]
    assert at.text_input(key="plan_hours").value == "18-02"
    assert at.multiselect(key="plan_forces").value == ["Norfolk", "Suffolk"]
    assert at.selectbox(key="plan_as_of").value == "2021-22"
    assert {k: at.query_params[k] for k in PLAN_URL} == {k: [v] for k, v in PLAN_URL.items()} or all(
        at.query_params[k] in (v, [v]) for k, v in PLAN_URL.items())
    at.number_input(key="plan_crews").set_value(3).run()
    at.text_input(key="plan_hours").set_value("20-04").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["crews"] in ("3", ["3"]) and at.query_params["phours"] in ("20-04", ["20-04"])
    assert frame_with(at, *view.PLAN_VIEW_COLUMNS)["forces"].map(
        lambda s: set(s.split(", ")) & {"Norfolk", "Suffolk"} != set()).all()


def test_bad_plan_values_in_the_url_fall_back(app_env):
    at = run_page(new_app(crews="99", radius="abc", pdays="fry", phours="25-02", asof="yesterday",
                          pforces="Atlantis"), "plan")
    assert at.number_input(key="plan_crews").value == 3
    assert at.number_input(key="plan_radius").value == 3000.0
    assert at.multiselect(key="plan_days").value == []
    assert at.text_input(key="plan_hours").value == ""
    assert at.selectbox(key="plan_as_of").value == "latest"
    assert at.query_params["crews"] in ("3", ["3"]) and at.query_params["pdays"] in ("", [""])
    assert not at.error


def test_bad_hours_typed_on_the_page_warn_and_keep_the_plan(app_env):
    at = run_page(new_app(phours="18-02"), "plan")
    at.text_input(key="plan_hours").set_value("nonsense").run()
    assert not at.exception
    assert any("bad hours" in w.value for w in at.warning)
    assert at.query_params["phours"] in ("18-02", ["18-02"])


def test_hotspots_page_shows_significance_and_trend(app_env):
    at = run_page(new_app(), "hotspots")
    table = frame_with(at, "rank", "hotspot", "significant", "trend", "vs last season")
    assert set(table["significant"]) <= {"yes", "no"} and "yes" in set(table["significant"])
    weak = table[table["significant"] == "no"]["hotspot"].tolist()
    notes = " ".join(i.value.replace("\\", "") for i in at.info)
    if weak:
        assert f"{weak[0]}: not significant (scattered incidents; could be chance)" in notes


def test_briefing_page_has_tonights_crews(app_env):
    at = run_page(new_app(crews="2", pdays="fri,sat", phours="18-02"), "briefing")
    heads = [h.value.replace("\\", "") for h in at.subheader]
    assert "Tonight: 2 crews (Fri/Sat nights 18:00-02:00)" in heads
    assert frame_with(at, *view.PLAN_VIEW_COLUMNS)["rank"].tolist() == [1, 2]

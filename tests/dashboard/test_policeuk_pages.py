"""The dashboard on a store of data.police.uk files: crime types, weekdays and honest month-only dates."""

from __future__ import annotations

from pathlib import Path

import pytest
from _apptest import new_app, run_page
from factories import FIXTURES

from dashboard.state import Filters
from geo.hotspots import NOT_KNOWN_MONTH_ONLY
from geo.io.boundaries import read_boundaries
from geo.io.store.write import ingest
from geo.pipeline.ingest import check_file

ONS = Path(__file__).resolve().parents[2] / "data" / "boundaries" / \
    "Police_Force_Areas_December_2023_EW_BUC.geojson"


@pytest.fixture(scope="module")
def policeuk_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("policeuk_store")
    areas = read_boundaries(ONS)
    for name in ("2021-10-essex-street.csv", "2021-10-essex-stop-and-search.csv"):
        check = check_file(FIXTURES / "policeuk" / name, areas)
        ingest(check.result, store)
    mp = pytest.MonkeyPatch()
    mp.setenv("HAREWATCH_BOUNDARIES", str(ONS))
    mp.setenv("HAREWATCH_DATA_DIR", str(store))
    mp.setenv("HAREWATCH_NO_FETCH", "1")
    yield store
    mp.undo()


def test_url_round_trip_of_days_crime_types_and_police_force_names():
    f = Filters(days=(4, 5), crime_types=("Anti-social behaviour", "Other crime"))
    qp = f.to_query_params()
    assert qp["days"] == "fri,sat" and qp["crime"] == "Anti-social behaviour|Other crime"
    assert Filters.from_query_params(qp) == f
    got = Filters.from_query_params({"forces": "Essex Police,E23000032,Atlantis", "days": "Friday,xx,sun",
                                     "crime": "|".join(["x"] * 80)})
    assert got.forces == ("Essex", "Kent") and got.days == (4, 6) and got.crime_types == ("x",)


def test_crime_type_filter_is_offered_and_narrows_the_view(policeuk_store):
    at = new_app(season="2021-22", eps_m="500", min_samples="2")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    box = at.sidebar.multiselect(key="w_crime_types")
    assert "Anti-social behaviour" in box.options and "Stop and search" in box.options
    total = len(at.session_state["_harewatch_ctx"].incidents())
    box.set_value(["Anti-social behaviour"]).run()
    assert not at.exception
    asb = at.session_state["_harewatch_ctx"].incidents()
    assert 0 < len(asb) < total and set(asb["crime_type"]) == {"Anti-social behaviour"}
    assert at.query_params["crime"] in ("Anti-social behaviour", ["Anti-social behaviour"])


def test_month_only_dates_are_not_given_a_weekday_or_hour(policeuk_store):
    at = new_app(season="2021-22", eps_m="500", min_samples="2", crime="Anti-social behaviour")
    at = run_page(at, "hotspots")
    shown = " ".join(str(v) for df in at.dataframe for v in df.value.astype(str).to_numpy().ravel())
    assert NOT_KNOWN_MONTH_ONLY in shown


def test_hours_filter_says_how_many_month_only_incidents_it_left_out(policeuk_store):
    at = new_app(season="2021-22", hours="20-4", crime="Anti-social behaviour")
    at.run()
    assert not at.exception
    captions = " ".join(c.value for c in at.sidebar.caption)
    assert "4 incidents with month-only dates" in captions


@pytest.mark.parametrize("page", ["map", "hotspots", "hoppers", "trends", "data", "briefing", "alerts"])
def test_every_page_runs_on_police_data(policeuk_store, page):
    at = new_app(season="2021-22", hours="20-4", days="fri,sat")
    run_page(at, page)
    assert not at.exception

"""geo.places: nearest named place (offline GeoNames) and 6-figure grid references."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from geo.errors import InputError
from geo.places import describe_places, grid_ref_6, grid_refs_6, nearest_place, nearest_places

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


def _bng(lon: float, lat: float) -> tuple[float, float]:
    return _TO_BNG.transform(lon, lat)


@pytest.mark.parametrize(("name", "lon", "lat"), [
    ("Ely", 0.2627, 52.3995), ("Chelmsford", 0.4691, 51.7356), ("Thetford", 0.7469, 52.4139),
])
def test_a_town_centre_is_nearest_to_itself(name, lon, lat):
    place, km = nearest_place(*_bng(lon, lat))
    assert place == name and km < 1.0


def test_distance_and_direction_are_measured_in_metres():
    e, n = _bng(0.2627, 52.3995)  # Ely
    place, km0 = nearest_place(e, n)
    out = nearest_places([e + 2000.0], [n + 2000.0]).iloc[0]  # 2.8 km to the north-east
    if out["place"] == place:  # nothing nearer on the way
        assert out["distance_km"] == pytest.approx(np.hypot(2, 2), abs=km0 + 0.1)
        assert out["direction"] == "NE"
    assert describe_places([e], [n]).iloc[0] == "Ely"


def test_grid_ref_6_is_the_100m_square():
    # OS's own example: NN 166 712 is E 216600 N 771200
    assert grid_ref_6(216_650.0, 771_290.0) == "NN 166 712"
    assert grid_ref_6(554_000, 280_300) == "TL 540 803"
    assert list(grid_refs_6([554_000, np.nan], [280_300, 1.0])) == ["TL 540 803", ""]


def test_missing_points_give_empty_names_and_degrees_are_refused():
    out = nearest_places([np.nan], [np.nan])
    assert out["place"].tolist() == [""] and np.isnan(out["distance_km"].iloc[0])
    with pytest.raises(InputError, match="degrees"):
        nearest_place(0.26, 52.4)

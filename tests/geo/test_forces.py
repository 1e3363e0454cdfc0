"""The force alias table: every spelling police use names one force."""

from __future__ import annotations

import geopandas as gpd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InputError
from geo.forces import FORCES, force_key, lookup_force, resolve_force, resolve_forces
from geo.schema import SEVEN_FORCES

ONS_FILE = "Police_Force_Areas_December_2023_EW_BUC.geojson"


@pytest.mark.parametrize("name", ["Essex", "Essex Police", "ESSEX", "essex constabulary",
                                  "E23000028", "e23000028", " the Essex Police Force ", "essex"])
def test_essex_spellings(name):
    assert resolve_force(name).name == "Essex"
    assert resolve_force(name).code == "E23000028"


@pytest.mark.parametrize(("written", "ons"), [
    ("City of London Police", "London, City of"),
    ("city-of-london", "London, City of"),
    ("Metropolitan Police Service", "Metropolitan Police"),
    ("Devon & Cornwall Police", "Devon & Cornwall"),
    ("Devon and Cornwall", "Devon & Cornwall"),
    ("Avon & Somerset Constabulary", "Avon and Somerset"),
    ("Hampshire and Isle of Wight Constabulary", "Hampshire"),
    ("Dyfed-Powys Police", "Dyfed-Powys"),
    ("Cambridgeshire Constabulary", "Cambridgeshire"),
    ("British Transport Police", "British Transport Police"),
    ("Police Service of Northern Ireland", "Police Service of Northern Ireland"),
])
def test_police_names_map_to_ons(written, ons):
    assert resolve_force(written).name == ons


def test_every_ons_force_is_known(boundaries_path):
    ons = gpd.read_file(boundaries_path.parent / ONS_FILE)
    assert len(ons) == 43
    for code, name in zip(ons["PFA23CD"], ons["PFA23NM"], strict=True):
        assert resolve_force(code).name == name
        assert resolve_force(name).code == code
    assert sum(f.in_agreement for f in FORCES) == 7
    assert {f.code for f in FORCES if f.in_agreement} == set(SEVEN_FORCES)


def test_unknown_force_lists_close_matches():
    with pytest.raises(InputError, match="did you mean Essex"):
        resolve_force("Esex Police")
    with pytest.raises(InputError, match="unknown police force 'Atlantis'"):
        resolve_force("Atlantis")
    assert lookup_force("Atlantis") is None
    assert lookup_force("   ") is None


def test_resolve_forces_dedupes_in_order():
    assert resolve_forces(["Essex Police", "E23000028", "Kent"]) == ["Essex", "Kent"]
    assert resolve_forces(None) is None
    assert resolve_forces([]) is None


@given(st.sampled_from([f for f in FORCES if f.code]),
       st.sampled_from(["{}", "{} Police", "{} CONSTABULARY", "the {} police force", "  {}  "]))
def test_decorated_names_resolve(force, template):
    assert lookup_force(template.format(force.name)) == force


def test_keys_are_distinct_per_force():
    keys = {}
    for f in FORCES:
        for label in (f.code, f.name, *f.aliases):
            if label:
                k = force_key(label)
                assert keys.setdefault(k, f) == f, (label, keys[k])

"""OS grid references: published examples, conventions, round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.gridref import en_to_gridref, gridref_to_en, parse_gridref


@pytest.mark.parametrize(
    ("ref", "east", "north"),
    [
        ("TG 51409 13177", 651409, 313177),  # Ordnance Survey's example (1 m)
        ("TG5140913177", 651409, 313177),  # spaces optional
        ("NN 166 712", 216600, 771200),  # OS example, 100 m square (SW corner)
        ("NN166712", 216600, 771200),
        ("nn 166 712", 216600, 771200),  # case-insensitive
        ("SV 00000 00000", 0, 0),  # false origin of the grid
        ("TL4567", 545000, 267000),  # 1 km square
        ("TL 45 67", 545000, 267000),
        ("HP 40000 12000", 440000, 1212000),  # Shetland
        ("TQ 30000 80000", 530000, 180000),  # London
    ],
)
def test_published_sw_corner(ref, east, north):
    e, n = gridref_to_en([ref], centre=False)
    assert (e[0], n[0]) == (east, north)


def test_centre_is_default_and_half_a_square_in():
    e, n = gridref_to_en(["TL4567", "NN 166 712", "TG 51409 13177"])
    np.testing.assert_allclose(e, [545500, 216650, 651409.5])
    np.testing.assert_allclose(n, [267500, 771250, 313177.5])


@pytest.mark.parametrize(
    "ref", ["", "TL", "TL45", "TL456", "TL 451 6789", "ZZ 1234 5678", "IA 1234 5678",
            "AB 1234 5678", "TL 1234 5678 9", "TL45123678901", "T L4567", "12345678", "TLXX"]
)
def test_invalid(ref):
    out = parse_gridref([ref])
    assert not out["valid"].iloc[0]
    assert np.isnan(out["easting"].iloc[0])


def test_index_kept_and_precision():
    import pandas as pd

    out = parse_gridref(pd.Series(["TL4567", "TG 51409 13177"], index=[10, 20]))
    assert list(out.index) == [10, 20]
    assert list(out["precision_m"]) == [1000.0, 1.0]


def test_to_gridref_published():
    assert list(en_to_gridref([651409], [313177])) == ["TG 51409 13177"]
    assert list(en_to_gridref([216600], [771200], digits=6)) == ["NN 166 712"]
    assert list(en_to_gridref([545999], [267001], digits=4, sep="")) == ["TL4567"]


def test_to_gridref_rejects_off_grid_and_bad_digits():
    with pytest.raises(ValueError):
        en_to_gridref([-1], [0])
    with pytest.raises(ValueError):
        en_to_gridref([0], [1_300_000])
    with pytest.raises(ValueError):
        en_to_gridref([0], [0], digits=5)


@settings(deadline=None)
@given(
    e=st.integers(0, 699_999),
    n=st.integers(0, 1_299_999),
    digits=st.sampled_from([4, 6, 8, 10]),
    sep=st.sampled_from([" ", ""]),
)
def test_round_trip(e, n, digits, sep):
    ref = en_to_gridref([e], [n], digits=digits, sep=sep)[0]
    res = 10 ** (5 - digits // 2)
    e0, n0 = gridref_to_en([ref], centre=False)
    assert (e0[0], n0[0]) == (e // res * res, n // res * res)
    ec, nc = gridref_to_en([ref.lower()], centre=True)
    assert (ec[0], nc[0]) == (e // res * res + res / 2, n // res * res + res / 2)

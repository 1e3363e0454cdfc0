import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from geo.privacy import mask_id, mask_multi, mask_plate, mask_series


def test_mask_plate_current_uk_format():
    assert mask_plate("AB12CDE") == "AB12 C**"
    assert mask_plate("ab12 cde") == "AB12 C**"


def test_mask_plate_short_and_empty():
    assert mask_plate("A1") == "A*"
    assert mask_plate("") == ""
    assert mask_plate(None) == ""


def test_mask_id_hides_at_least_half():
    assert mask_id("N1234567") == "N12*****"
    assert mask_id("AB") == "A*"


def test_mask_multi_and_series():
    assert mask_multi("AB12CDE;XY34ZZZ") == "AB12 C**;XY34 Z**"
    assert mask_multi("N1234567", kind="id") == "N12*****"
    assert mask_multi("") == ""
    s = pd.Series(["AB12CDE", "", "AB12CDE;XY34ZZZ"])
    out = mask_series(s)
    assert list(out) == ["AB12 C**", "", "AB12 C**;XY34 Z**"]
    assert list(s) == ["AB12CDE", "", "AB12CDE;XY34ZZZ"]  # input untouched
    assert list(mask_series(pd.Series([["N1234567"]]), kind="id")) == [["N12*****"]]


@given(st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=5, max_size=8))
def test_mask_plate_hides_everything_after_the_fifth_character(plate):
    masked = mask_plate(plate)
    assert masked == f"{plate[:4]} {plate[4]}" + "*" * (len(plate) - 5)


@given(st.text(min_size=2, max_size=20))
def test_mask_id_length_preserved_and_half_hidden(value):
    masked = mask_id(value)
    assert len(masked) == len(value)
    assert masked.count("*") >= len(value) - len(value) // 2

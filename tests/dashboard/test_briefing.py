"""dashboard.briefing: the zip, its three files, masking, offline HTML."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from dashboard.briefing import PACK_FILES, briefing_pack, briefing_pdf, map_png, mask_table
from dashboard.maps import MapLayers
from geo.areas import ATTRIBUTION, display_boundaries
from geo.schema import BNG
from tests.dashboard.test_maps import XSS, XSS_ESCAPED, make_incidents

WHEN = dt.datetime(2024, 11, 5, 7, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def layers(areas) -> MapLayers:
    inc = make_incidents(areas, 60, seed=2, notes=XSS)
    hs = gpd.GeoDataFrame(
        {"rank": [1, 2], "n": [12, 7], "forces": [["Norfolk"], ["Suffolk", "Essex"]]},
        geometry=[
            shapely.Point(610000, 300000).buffer(3000),
            shapely.Point(590000, 240000).buffer(2500),
        ],
        crs=BNG,
    )
    return MapLayers(
        boundaries=display_boundaries(areas), incidents=inc, hotspots=hs, attribution=ATTRIBUTION
    )


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    top = pd.DataFrame(
        {
            "rank": [1, 2],
            "where": ["TF 61 00", "TL 90 40"],
            "forces": ["Norfolk", "Suffolk, Essex"],
            "incidents": [12, 7],
        }
    )
    hop = pd.DataFrame(
        {
            "subject": ["AB12CDE", "N1234567"],
            "kind": ["vrm", "nominal"],
            "stage": [3, 2],
            "forces": ["Norfolk, Suffolk", "Essex, Kent"],
            "vrms": ["AB12CDE;XY51ABC", ""],
            "notes": ["private", "private"],
        }
    )
    return top, hop


@pytest.fixture(scope="module")
def pack(layers, tables) -> bytes:
    top, hop = tables
    return briefing_pack(
        layers=layers,
        figures={"Incidents": "60", "Hotspots": 2, "Border-hoppers": "2"},
        top_hotspots=top,
        hoppers=hop,
        title="Hare coursing briefing 2024-25",
        redact=True,
        generated_at=WHEN,
    )


def test_pack_holds_pdf_png_and_html(pack):
    z = zipfile.ZipFile(io.BytesIO(pack))
    assert tuple(z.namelist()) == PACK_FILES
    assert z.read("briefing.pdf").startswith(b"%PDF")
    assert z.read("briefing_map.png").startswith(b"\x89PNG\r\n\x1a\n")
    html = z.read("briefing_map.html").decode("utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert z.getinfo("briefing.pdf").date_time[:3] == (2024, 11, 5)


def test_pdf_has_map_page_and_table_pages(pack):
    pdf = zipfile.ZipFile(io.BytesIO(pack)).read("briefing.pdf")
    # page 1 (figures + map), top hotspots, border-hoppers
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 3
    assert b"Hare coursing briefing 2024-25" in pdf  # metadata title


def test_html_map_is_self_contained_and_offline(pack):
    html = zipfile.ZipFile(io.BytesIO(pack)).read("briefing_map.html").decode("utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", html, re.I)
    assert not re.search(
        r"""(src|href)\s*=\s*["']?(https?:)?//""", html.split("<script>", 1)[0], re.I
    )
    assert "L.markerClusterGroup" in html and "hw-briefing" in html
    assert "<title>Hare coursing briefing 2024-25</title>" in html


def test_pack_masks_plates_and_ids_and_escapes_notes(pack):
    html = zipfile.ZipFile(io.BytesIO(pack)).read("briefing_map.html").decode("utf-8")
    for raw in ("AB12CDE", "XY51ABC", "N1234567"):
        assert raw not in html
    assert "AB12 C**" in html and "N12*****" in html
    assert "<img src=x" not in html
    assert XSS_ESCAPED not in html  # free-text notes are left out when masking


def test_unmasked_pack_escapes_notes(layers, tables):
    top, hop = tables
    pack = briefing_pack(
        layers=layers,
        figures={},
        top_hotspots=top,
        hoppers=hop,
        title="t",
        redact=False,
        generated_at=WHEN,
    )
    z = zipfile.ZipFile(io.BytesIO(pack))
    html = z.read("briefing_map.html").decode("utf-8")
    assert "<img src=x" not in html and XSS_ESCAPED in html
    assert "AB12CDE" in html  # not masked, as asked


def test_mask_table_masks_subjects_by_kind_and_drops_notes(tables):
    _, hop = tables
    before = hop.copy()
    out = mask_table(hop, redact=True)
    assert out["subject"].tolist() == ["AB12 C**", "N12*****"]
    assert out["vrms"].tolist() == ["AB12 C**, XY51 A**", ""]
    assert "notes" not in out.columns
    pd.testing.assert_frame_equal(hop, before)
    plain = mask_table(hop, redact=False)
    assert plain["subject"].tolist() == ["AB12CDE", "N1234567"] and "notes" not in plain.columns


def test_long_tables_paginate_and_dollar_names_are_not_mathtext(layers):
    hop = pd.DataFrame(
        {"subject": [f"AB{i:02d}CDE" for i in range(50)], "kind": "vrm", "forces": "$x^2$ and $"}
    )
    pdf = briefing_pdf(
        layers=layers,
        figures={},
        top_hotspots=None,
        hoppers=hop,
        title="t",
        redact=True,
        generated_at=WHEN,
    )
    # page 1 + one (empty) hotspots page + 3 pages of 22 rows for 50 hoppers
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 5


def test_map_png_with_hostile_force_name(layers):
    b = layers.boundaries.copy()
    b.loc[0, "force"] = XSS + " $\\frac{a}{b"  # broken mathtext must not raise
    png = map_png(MapLayers(boundaries=b, attribution=ATTRIBUTION), dpi=50)
    assert png.startswith(b"\x89PNG")


# ------------------------------------------------------------------ issue 13: a pack to hand out
def _pdf_pages_text(pdf: bytes) -> list[str]:
    import pypdf

    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_synthetic_pack_says_so_on_every_page_png_and_html(layers, tables):
    from dashboard.briefing import map_figure
    from geo.datasets.demo import SYNTHETIC_LABEL

    top, hop = tables
    long_hop = pd.concat([hop] * 30, ignore_index=True)  # several pages
    kw = dict(layers=layers, figures={"Incidents": "1,415"}, top_hotspots=top, hoppers=long_hop, title="t",
              generated_at=WHEN, filters_text="2021-22 · Cambridgeshire · Fri, Sat · 20:00 to 04:59")
    z = zipfile.ZipFile(io.BytesIO(briefing_pack(**kw, synthetic=True)))
    pages = _pdf_pages_text(z.read("briefing.pdf"))
    assert len(pages) >= 4
    for i, text in enumerate(pages, start=1):
        assert SYNTHETIC_LABEL in text, i
        assert f"page {i} of {len(pages)}" in text
        assert "Fri, Sat · 20:00 to 04:59" in text and "05 Nov 2024 07:30 +00:00" in text
    assert SYNTHETIC_LABEL in z.read("briefing_map.html").decode("utf-8")
    assert any(t.get_text() == SYNTHETIC_LABEL for t in map_figure(layers, banner=SYNTHETIC_LABEL).texts)
    real = zipfile.ZipFile(io.BytesIO(briefing_pack(**kw, synthetic=False)))
    assert not any("SYNTHETIC" in t for t in _pdf_pages_text(real.read("briefing.pdf")))
    assert "SYNTHETIC" not in real.read("briefing_map.html").decode("utf-8")


def test_pdf_tables_keep_masked_plates_whole_and_fit_the_page(tables):
    from dashboard.briefing import column_widths

    _, hop = tables
    shown = mask_table(hop, redact=True)
    avail = 770.0
    widths = column_widths(shown, avail)
    assert sum(widths) == pytest.approx(avail)
    plate_w = widths[list(shown.columns).index("subject")]
    assert plate_w >= len("AB12 C**") * 5.0  # the whole masked plate on one line
    wide = pd.DataFrame({f"c{i}": ["x" * 60] for i in range(20)})  # far too wide: still fits
    assert sum(column_widths(wide, avail)) == pytest.approx(avail)


def test_map_labels_never_overlap(layers):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from dashboard.briefing import place_labels

    fig = Figure(figsize=(4, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    labels = [{"x": 5.0, "y": 5.0, "text": f"#{i}", "fontsize": 11} for i in range(1, 6)]
    boxes = place_labels(ax, fig.canvas.get_renderer(), labels, [])
    assert len(boxes) == len(ax.texts) >= 3  # crowded labels moved, none drawn over another
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)

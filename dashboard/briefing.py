"""The briefing pack: a zip made on the server for the morning briefing.

Contents (all work offline):

- ``briefing.pdf``: A4 landscape (reportlab platypus); page 1 the title, key
  figures and the map (force boundaries, hotspots by rank, incidents); then
  the top hotspots and the border-hoppers tables, cells wrapped in sized
  columns (several pages when long, header row repeated). Every page has a
  footer with the filters, the generation time (London) and "page i of n",
  and, for synthetic data, a "SYNTHETIC DEMO DATA" band.
- ``briefing_map.png``: the same map as an image (for slides).
- ``briefing_map.html``: the interactive map with every script and stylesheet
  inlined (opens from disk with no server and no internet).

The map is drawn once (matplotlib, Agg) and used for both the PNG and the
PDF; labels are placed so they never overlap (:func:`place_labels`).

Plates and nominal ids are masked by ``geo.privacy.mask_frame`` (the one
masking policy) when ``redact`` is true, the default; free-text notes never
go into the pack. matplotlib is used via
its object-oriented API (no pyplot state), so packs can be made concurrently
by several Streamlit sessions.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from dashboard.maps import MapLayers, build_map, escape_html, standalone_html
from dashboard.palette import GREY, OKABE_ITO, hotspot_colours
from geo.privacy import FREE_TEXT_COLUMNS, is_id_column, is_plate_column, mask_frame
from geo.schema import BNG, LONDON

__all__ = [
    "PACK_FILES",
    "briefing_pack",
    "briefing_pdf",
    "map_figure",
    "map_png",
    "column_widths",
    "mask_table",
    "place_labels",
]

#: Names of the files inside the zip.
PACK_FILES = ("briefing.pdf", "briefing_map.png", "briefing_map.html")

_A4_LANDSCAPE_IN = (11.69, 8.27)
_ROWS_PER_PAGE = 22
_CELL_CHARS = 48
#: Label offsets tried in turn (points from the anchor), for labels that must not overlap.
_OFFSETS_PT = ((7, 7), (7, -16), (-26, 7), (-26, -16), (10, -4), (-32, -4), (-9, 12), (-9, -22))
#: Never in the pack, masked or not: free text and geometry.
_DROP_COLS = FREE_TEXT_COLUMNS | {"geometry"}
_GREEN = OKABE_ITO["green"]
_BLUE, _VERMILLION, _GREY = OKABE_ITO["blue"], OKABE_ITO["vermillion"], GREY


# --------------------------------------------------------------------------- #
# tables
# --------------------------------------------------------------------------- #
def _cell_text(v) -> str:
    if isinstance(v, list | tuple | np.ndarray):
        return ", ".join(str(x) for x in v)
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return ""
    if isinstance(v, pd.Timestamp):
        t = v.tz_convert(LONDON) if v.tzinfo else v
        return t.strftime("%Y-%m-%d %H:%M")
    return str(v)


def mask_table(df: pd.DataFrame | None, redact: bool) -> pd.DataFrame:
    """Display copy of a table: text cells, notes dropped, plates/ids masked.

    Masking is ``geo.privacy.mask_frame`` (plate columns, id columns, and a
    ``subject`` column as a plate or an id by its ``kind``). Lists of plates
    or ids are shown as ``"A, B"``. ``df`` is not modified.
    """
    if df is None:
        return pd.DataFrame()
    out = pd.DataFrame(df).drop(columns=[c for c in df.columns if str(c).lower() in _DROP_COLS])
    out = mask_frame(out, redact)
    out = out.apply(lambda s: s.map(_cell_text)) if len(out.columns) else out.copy()
    for c in out.columns:
        if is_plate_column(c) or is_id_column(c):
            out[c] = out[c].str.replace(";", ", ", regex=False)
    return out


def _no_math(text_obj) -> None:
    """Data strings are never parsed as mathtext (``$`` in a name stays text)."""
    text_obj.set_parse_math(False)


def _footer(fig: Figure, text: str) -> None:
    fig.text(0.04, 0.025, text, fontsize=7, color="#333333", wrap=True, parse_math=False)


# --------------------------------------------------------------------------- #
# map figure
# --------------------------------------------------------------------------- #
def _bng(gdf: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if gdf is None or not len(gdf):
        return None
    if gdf.crs is None or gdf.crs == BNG:
        return gdf.set_crs(BNG, allow_override=True) if gdf.crs is None else gdf
    return gdf.to_crs(BNG)


def _xy(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "easting" in df.columns:
        return df["easting"].to_numpy(float), df["northing"].to_numpy(float)
    g = _bng(df).geometry
    return g.x.to_numpy(), g.y.to_numpy()


def _ranks(hs: gpd.GeoDataFrame) -> pd.Series:
    if "rank" not in hs:
        return pd.Series(1, index=hs.index)
    return pd.to_numeric(hs["rank"], errors="coerce").fillna(99).astype(int)


def place_labels(ax, renderer, labels: list[dict], taken: list) -> list:
    """Add text labels to ``ax`` so that none overlaps another or anything in ``taken``.

    Parameters
    ----------
    ax : matplotlib Axes
    renderer
        The figure canvas' renderer (to measure text).
    labels : list of dict
        ``{"x", "y" (data units), "text", "offsets" (points, tried in turn;
        ``[(0, 0)]`` for a centred label), **text keyword arguments}``, most
        important first.
    taken : list of matplotlib Bbox
        Display-space boxes already used (e.g. the legend); not modified.

    Returns
    -------
    list of Bbox
        ``taken`` plus the boxes of the labels placed. A label with no free
        position is left out rather than drawn over another.
    """
    boxes = list(taken)
    for lab in labels:
        kw = {k: v for k, v in lab.items() if k not in ("x", "y", "text", "offsets")}
        for dx, dy in lab.get("offsets", _OFFSETS_PT):
            t = ax.annotate(lab["text"], (lab["x"], lab["y"]), xytext=(dx, dy), textcoords="offset points",
                            annotation_clip=False, **kw)
            _no_math(t)
            box = t.get_window_extent(renderer).expanded(1.06, 1.12)
            if not any(box.overlaps(b) for b in boxes):
                boxes.append(box)
                break
            t.remove()
    return boxes


def _draw_map(ax, layers: MapLayers, *, big: bool = True) -> None:
    b = _bng(layers.boundaries)
    agree = b["in_agreement"].astype(bool).to_numpy() if "in_agreement" in b.columns else np.ones(len(b), bool)
    seven, nbrs = b[agree], b[~agree]
    if len(nbrs):
        nbrs.boundary.plot(ax=ax, color=_GREY, linewidth=0.8, linestyle="--")
    seven.plot(ax=ax, facecolor="#f2f5f8", edgecolor="#000000", linewidth=1.6)
    hs = _bng(layers.hotspots)
    labels: list[dict] = []
    size = 11 if big else 8
    if hs is not None:
        ranks = _ranks(hs)
        order = np.argsort(-ranks.to_numpy(), kind="stable")  # rank 1 drawn last
        hs_sorted = hs.iloc[order]
        hs_sorted.plot(ax=ax, color=hotspot_colours(ranks.iloc[order], briefing=True), edgecolor="#000000",
                       linewidth=0.8, alpha=0.85, zorder=4)
        first = np.argsort(ranks.to_numpy(), kind="stable")[:5]
        for pt, r in zip(hs.geometry.iloc[first].representative_point(), ranks.iloc[first], strict=True):
            labels.append({"x": pt.x, "y": pt.y, "text": f"#{int(r)}", "fontsize": size,
                           "fontweight": "bold", "color": "#000000", "zorder": 7,
                           "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "black", "lw": 0.6},
                           "arrowprops": {"arrowstyle": "-", "lw": 0.6, "color": "#000000"}})
    labels += _draw_patrols(ax, layers.patrols, size=size)
    inc = layers.incidents
    if inc is not None and len(inc):
        x, y = _xy(inc)
        ax.scatter(x, y, s=4 if len(x) > 2000 else 9, c=_BLUE, alpha=0.55 if len(x) > 2000 else 0.8,
                   linewidths=0, zorder=3, rasterized=True)
    for pt, name in zip(seven.geometry.representative_point(), seven["force"].astype(str), strict=True):
        labels.append({"x": pt.x, "y": pt.y, "text": name, "offsets": [(0, 0), (0, 16), (0, -16)],
                       "fontsize": size, "fontweight": "bold", "ha": "center", "va": "center", "zorder": 6,
                       "bbox": {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8}})
    focus = seven
    if layers.focus_forces:
        chosen = seven[seven["force"].astype(str).isin(list(layers.focus_forces)).to_numpy()]
        focus = chosen if len(chosen) else seven
    xmin, ymin, xmax, ymax = focus.total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for s in ax.spines.values():
        s.set_color("#999999")
    bar_m = 50_000 if xmax - xmin > 120_000 else 10_000
    x0, y0 = xmin, ymin - pad * 0.4
    ax.plot([x0, x0 + bar_m], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=5)
    ax.text(x0 + bar_m / 2, y0 + pad * 0.25, f"{bar_m // 1000} km", ha="center", va="bottom", fontsize=8, zorder=5)
    handles = _legend_handles(inc, hs)
    if layers.patrols is not None and len(layers.patrols):
        handles.append(Patch(facecolor="none", edgecolor=_GREEN, linewidth=2, label="Patrol circle"))
    legend = ax.legend(handles=handles, loc="lower right", fontsize=9 if big else 7,
                       framealpha=0.95)
    legend.set_zorder(8)
    renderer = ax.figure.canvas.get_renderer()
    place_labels(ax, renderer, labels, [legend.get_window_extent(renderer)])


def _draw_patrols(ax, patrols: pd.DataFrame | None, *, size: int) -> list[dict]:
    """One circle of ``radius_m`` per crew (EPSG:27700); their "Crew N" labels, to be placed."""
    if patrols is None or not len(patrols):
        return []
    from matplotlib.patches import Circle

    labels = []
    for e, n, r, rank in zip(patrols["easting"].to_numpy(float), patrols["northing"].to_numpy(float),
                             patrols["radius_m"].to_numpy(float), patrols["rank"].astype(int), strict=True):
        ax.add_patch(Circle((e, n), r, facecolor=_GREEN, alpha=0.25, edgecolor=_GREEN, linewidth=2, zorder=4))
        labels.append({"x": e, "y": n, "text": f"Crew {rank}", "fontsize": size, "fontweight": "bold",
                       "ha": "center", "va": "center", "zorder": 7,
                       "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": _GREEN, "lw": 0.8}})
    return labels


def _legend_handles(inc, hs) -> list:
    handles = [
        Patch(facecolor="#f2f5f8", edgecolor="black", label="Seven forces"),
        Line2D([], [], color=_GREY, linestyle="--", label="Neighbouring force"),
    ]
    if inc is not None and len(inc):
        handles.append(Line2D([], [], marker="o", linestyle="", color=_BLUE, label=f"Incident ({len(inc):,})"))
    if hs is not None:
        for r, label in ((1, "Hotspot #1"), (5, "Hotspot #5+")):
            handles.append(Patch(facecolor=hotspot_colours([r], briefing=True)[0], edgecolor="black", label=label))
    return handles


def map_figure(layers: MapLayers, *, title: str | None = None, size_in=(10.0, 8.0),
               banner: str = "") -> Figure:
    """A static map (EPSG:27700): boundaries, hotspots by rank (labelled), incidents.

    ``banner`` (e.g. the synthetic-data label) is printed in a coloured band at the top.
    """
    fig = Figure(figsize=size_in, dpi=100)
    FigureCanvasAgg(fig)
    top = 0.86 if title else 0.91
    top -= 0.05 if banner else 0.0
    ax = fig.add_axes((0.02, 0.07, 0.96, top))
    if banner:
        fig.text(0.5, 0.985, banner, fontsize=13, fontweight="bold", color="white", ha="center", va="top",
                 parse_math=False, bbox={"boxstyle": "square,pad=0.35", "fc": _VERMILLION, "ec": "none"})
    if title:
        fig.text(0.02, 0.93 if banner else 0.96, title, fontsize=16, fontweight="bold", va="top",
                 parse_math=False, wrap=True)
    _draw_map(ax, layers)
    _footer(fig, layers.attribution)
    return fig


def map_png(layers: MapLayers, *, title: str | None = None, dpi: int = 150, banner: str = "") -> bytes:
    """:func:`map_figure` as PNG bytes."""
    buf = io.BytesIO()
    map_figure(layers, title=title, banner=banner).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------- #
# PDF (reportlab platypus) and pack
# --------------------------------------------------------------------------- #
def _generated(now: dt.datetime | None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    t = pd.Timestamp(now).tz_convert(LONDON)
    off = t.strftime("%z")
    return t.strftime("%d %b %Y %H:%M ") + off[:3] + ":" + off[3:]


_PAGE = landscape(A4)
_MARGIN = 12 * mm
_FOOT = 16 * mm
_BAND = 9 * mm


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """DejaVu Sans (shipped with matplotlib: every glyph the data may hold) registered for reportlab."""
    import matplotlib
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("HW-Sans", str(ttf / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("HW-Sans-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    except OSError:  # pragma: no cover - matplotlib without its fonts
        return "Helvetica", "Helvetica-Bold"
    return "HW-Sans", "HW-Sans-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("title", fontName=bold, fontSize=18, leading=22, spaceAfter=2),
        "note": ParagraphStyle("note", fontName=regular, fontSize=9.5, leading=12, textColor="#333333"),
        "warn": ParagraphStyle("warn", fontName=bold, fontSize=9.5, leading=12, textColor=_VERMILLION),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=15, leading=19, spaceAfter=6),
        "label": ParagraphStyle("label", fontName=regular, fontSize=9.5, leading=11.5, textColor="#333333"),
        "figure": ParagraphStyle("figure", fontName=bold, fontSize=18, leading=21),
        "cell": ParagraphStyle("cell", fontName=regular, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", fontName=bold, fontSize=8.5, leading=10.5, textColor="white"),
        "foot": ParagraphStyle("foot", fontName=regular, fontSize=7, leading=8.5, textColor="#333333"),
    }


def _p(text: object, style: ParagraphStyle) -> Paragraph:
    """A paragraph of data text: escaped (reportlab reads its own mini-markup)."""
    return Paragraph(xml_escape(str(text)), style)


def column_widths(df: pd.DataFrame, avail_pt: float, *, pt_per_char: float = 5.0,
                  pad_pt: float = 8.0) -> list[float]:
    """Column widths (points) that fill ``avail_pt``: wide enough for each column's longest
    word (a masked plate never wraps), shared out by content length, capped at 40 characters."""
    text = df.astype(str)
    longest = np.array([max([len(c), *text[c].str.len().tolist()]) if len(text) else len(c)
                        for c in df.columns], dtype=float)
    words = np.array([max([len(w) for v in [c, *text[c].tolist()] for w in str(v).split(" ")] or [1])
                      for c in df.columns], dtype=float)
    floor = np.minimum(words, 18) * pt_per_char + pad_pt
    want = np.maximum(np.minimum(longest, 40) * pt_per_char + pad_pt, floor)
    if want.sum() <= avail_pt:
        return list(want * avail_pt / want.sum())
    spare = avail_pt - floor.sum()
    if spare <= 0:
        return list(floor * avail_pt / floor.sum())
    return list(floor + (want - floor) * spare / (want - floor).sum())


def _unbreakable(df: pd.DataFrame) -> pd.DataFrame:
    """Plates and ids joined by no-break spaces: a masked plate ("AB12 C**") is never split."""
    out = df.copy()
    for c in out.columns:
        if is_plate_column(c) or is_id_column(c) or str(c).lower() == "subject":
            out[c] = out[c].astype(str).str.replace(" ", "\u00a0", regex=False).str.replace(
                ",\u00a0", ", ", regex=False)
    return out


def _table(df: pd.DataFrame, st: dict[str, ParagraphStyle], avail_pt: float) -> Table:
    df = _unbreakable(df)
    widths = column_widths(df, avail_pt)
    rows = [[_p(c, st["head"]) for c in df.columns]]
    rows += [[_p(v, st["cell"]) for v in row] for row in df.to_numpy()]
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1a1a1a")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f0f0f0")]),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def _first_page(*, title: str, masked_note: str, redact: bool, figures: Mapping[str, str | int],
                map_bytes: bytes, st: dict, avail_w: float, avail_h: float) -> list:
    story = [_p(title, st["title"]), _p(masked_note, st["note"] if redact else st["warn"]), Spacer(1, 4 * mm)]
    fig_rows = [[[_p(label, st["label"]), _p(_cell_text(value), st["figure"])]]
                for label, value in list(figures.items())[:12]] or [[_p("", st["label"])]]
    left_w = 78 * mm
    figs = Table(fig_rows, colWidths=[left_w - 4 * mm])
    figs.setStyle(TableStyle([("BOTTOMPADDING", (0, 0), (-1, -1), 6), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    img_h = avail_h - 24 * mm
    img_w = min(avail_w - left_w, img_h / 0.8)  # map_figure is 10 x 8 in
    img = Image(io.BytesIO(map_bytes), width=img_w, height=img_w * 0.8)
    body = Table([[figs, img]], colWidths=[left_w, avail_w - left_w])
    body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [*story, body]


def _section(name: str, df: pd.DataFrame, st: dict, avail_w: float) -> list:
    out: list = [PageBreak(), _p(name, st["h2"])]
    if not len(df) or not len(df.columns):
        return [*out, _p("None.", st["cell"])]
    chunks = [df.iloc[i : i + _ROWS_PER_PAGE] for i in range(0, len(df), _ROWS_PER_PAGE)]
    for i, part in enumerate(chunks):
        if i:
            out += [PageBreak(), _p(f"{name} (continued, rows {i * _ROWS_PER_PAGE + 1}\u2013"
                                    f"{i * _ROWS_PER_PAGE + len(part)} of {len(df)})", st["h2"])]
        out.append(_table(part, st, avail_w))
    return out


def _page_decor(canvas, doc, *, footer: str, attribution: str, banner: str, total: list[int]) -> None:
    """Footer (filters, time, page i of n, licence) and the synthetic band on every page."""
    regular, bold = _fonts()
    w, h = _PAGE
    canvas.saveState()
    if banner:
        canvas.setFillColor(colors.HexColor(_VERMILLION))
        canvas.rect(0, h - _BAND, w, _BAND, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(bold, 12)
        canvas.drawCentredString(w / 2, h - _BAND + 3 * mm, banner)
    st = _styles()
    page = f"page {doc.page} of {total[0] or doc.page}"
    text = Paragraph(xml_escape(footer), st["foot"])
    tw, th = text.wrap(w - 2 * _MARGIN - 30 * mm, _FOOT)
    text.drawOn(canvas, _MARGIN, _FOOT - 5 * mm - th + 8.5)
    lic = Paragraph(xml_escape(attribution), st["foot"])
    lw, lh = lic.wrap(w - 2 * _MARGIN, _FOOT)
    lic.drawOn(canvas, _MARGIN, 3 * mm)
    canvas.setFont(bold, 8)
    canvas.setFillColor(colors.black)
    canvas.drawRightString(w - _MARGIN, _FOOT - 5 * mm, page)
    canvas.restoreState()


def briefing_pdf(
    *,
    layers: MapLayers,
    figures: Mapping[str, str | int],
    top_hotspots: pd.DataFrame | None,
    hoppers: pd.DataFrame | None,
    title: str,
    redact: bool = True,
    generated_at: dt.datetime | None = None,
    filters_text: str = "",
    synthetic: bool = False,
    map_bytes: bytes | None = None,
    plan: pd.DataFrame | None = None,
    plan_title: str = "",
) -> bytes:
    """The briefing PDF (A4 landscape) as bytes; see the module docstring.

    ``filters_text`` goes into every page's footer; ``synthetic`` puts the
    :data:`geo.datasets.demo.SYNTHETIC_LABEL` band on every page; ``map_bytes``
    is the PNG of :func:`map_png` when already made (else it is drawn here).
    """
    from geo.datasets.demo import SYNTHETIC_LABEL

    banner = SYNTHETIC_LABEL if synthetic else ""
    masked_note = "Plates and ids masked." if redact else "NOT MASKED: contains plates and ids."
    parts = ["Harewatch", *([banner] if banner else []), *([filters_text] if filters_text else []),
             f"generated {_generated(generated_at)} (London time)", masked_note]
    footer = " \u00b7 ".join(parts)
    if map_bytes is None:
        map_bytes = map_png(layers, banner=banner)
    st = _styles()
    w, h = _PAGE
    top = _MARGIN + (_BAND if banner else 0)
    avail_w, avail_h = w - 2 * _MARGIN, h - top - _FOOT

    def story() -> list:
        return [*_first_page(title=title, masked_note=masked_note, redact=redact, figures=figures,
                             map_bytes=map_bytes, st=st, avail_w=avail_w, avail_h=avail_h),
                *(_section(plan_title or "Tonight", mask_table(plan, redact), st, avail_w)
                  if plan is not None else []),
                *_section("Top hotspots", mask_table(top_hotspots, redact), st, avail_w),
                *_section("Border-hoppers", mask_table(hoppers, redact), st, avail_w)]

    total = [0]
    decor = functools.partial(_page_decor, footer=footer, attribution=layers.attribution, banner=banner,
                              total=total)
    for _ in range(2):  # the first pass counts the pages for "page i of n"
        buf = io.BytesIO()
        doc = SimpleDocTemplate(buf, pagesize=_PAGE, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=top,
                                bottomMargin=_FOOT, title=title, author="Harewatch", creator="Harewatch")
        doc.build(story(), onFirstPage=decor, onLaterPages=decor)
        total[0] = doc.page
    return buf.getvalue()


def briefing_pack(
    *,
    layers: MapLayers,
    figures: Mapping[str, str | int],
    top_hotspots: pd.DataFrame | None,
    hoppers: pd.DataFrame | None,
    title: str,
    redact: bool = True,
    generated_at: dt.datetime | None = None,
    filters_text: str = "",
    synthetic: bool = False,
    plan: pd.DataFrame | None = None,
    plan_title: str = "",
) -> bytes:
    """The briefing pack as zip bytes: PDF, PNG map and a self-contained HTML map.

    Parameters
    ----------
    layers : MapLayers
        What to draw (boundaries, incidents, hotspots; trails etc. are used by
        the HTML map only).
    figures : mapping of label -> value
        Key figures for page 1, in order (e.g. ``{"Incidents": "2,044"}``).
    top_hotspots, hoppers : DataFrame or None
        Tables as shown on the Briefing page; masked here when ``redact``.
    title : str
        Title of the PDF, the PNG and the HTML page.
    redact : bool
        Mask plates and nominal ids everywhere in the pack (default True).
    generated_at : datetime, optional
        Timestamp printed in the footer (default: now).
    filters_text : str
        The filters in words, printed in every PDF page's footer.
    synthetic : bool
        Made from the synthetic demo: every PDF page, the PNG and the HTML map
        say so (:data:`geo.datasets.demo.SYNTHETIC_LABEL`).
    plan, plan_title : DataFrame and str, optional
        Tonight's crews as shown on the Briefing page and its heading ("Tonight:
        3 crews ..."): a PDF section; the circles come from ``layers.patrols``
        (all three maps).
    """
    from dataclasses import replace

    from geo.datasets.demo import SYNTHETIC_LABEL

    banner = SYNTHETIC_LABEL if synthetic else ""
    png = map_png(layers, title=title, banner=banner)
    pdf = briefing_pdf(layers=layers, figures=figures, top_hotspots=top_hotspots, hoppers=hoppers, title=title,
                       redact=redact, generated_at=generated_at, filters_text=filters_text,
                       synthetic=synthetic, map_bytes=png, plan=plan, plan_title=plan_title)
    m = build_map(replace(layers, banner=banner or layers.banner), redact=redact, briefing=True, tiles=False)
    m.get_root().title = escape_html(title)
    html = standalone_html(m)
    stamp = pd.Timestamp(generated_at or dt.datetime.now(dt.UTC)).tz_convert(LONDON)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in zip(PACK_FILES, (pdf, png, html.encode("utf-8")), strict=True):
            info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out.getvalue()

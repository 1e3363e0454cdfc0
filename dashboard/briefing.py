"""The briefing pack: a zip made on the server for the morning briefing.

Contents (all work offline):

- ``briefing.pdf``: A4 landscape; page 1 the title, key figures and a map
  (force boundaries, hotspots by rank, incidents, tonight's patrol circles);
  then tonight's crews (when a plan is given), the top hotspots and the
  border-hoppers tables (several pages when long).
- ``briefing_map.png``: the same map as an image (for slides).
- ``briefing_map.html``: the interactive map with every script and stylesheet
  inlined (opens from disk with no server and no internet).

Plates and nominal ids are masked by ``geo.privacy.mask_frame`` (the one
masking policy) when ``redact`` is true, the default; free-text notes never
go into the pack. matplotlib is used via
its object-oriented API (no pyplot state), so packs can be made concurrently
by several Streamlit sessions.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
    "mask_table",
]

#: Names of the files inside the zip.
PACK_FILES = ("briefing.pdf", "briefing_map.png", "briefing_map.html")

_A4_LANDSCAPE_IN = (11.69, 8.27)
_ROWS_PER_PAGE = 22
_CELL_CHARS = 48
#: Never in the pack, masked or not: free text and geometry.
_DROP_COLS = FREE_TEXT_COLUMNS | {"geometry"}
_BLUE, _VERMILLION, _GREY = OKABE_ITO["blue"], OKABE_ITO["vermillion"], GREY
_GREEN = OKABE_ITO["green"]


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


def _table_pages(df: pd.DataFrame) -> list[pd.DataFrame]:
    if not len(df):
        return [df]
    return [df.iloc[i : i + _ROWS_PER_PAGE] for i in range(0, len(df), _ROWS_PER_PAGE)]


def _draw_table(
    fig: Figure, df: pd.DataFrame, *, title: str, footer: str, page_note: str = ""
) -> None:
    fig.text(0.04, 0.94, title, fontsize=18, fontweight="bold", parse_math=False)
    if page_note:
        fig.text(0.96, 0.94, page_note, fontsize=10, ha="right", parse_math=False)
    _footer(fig, footer)
    ax = fig.add_axes((0.04, 0.08, 0.92, 0.82))
    ax.axis("off")
    if not len(df) or not len(df.columns):
        ax.text(0.0, 0.95, "None.", fontsize=13, va="top", parse_math=False)
        return
    cells = [
        [(s if len(s) <= _CELL_CHARS else s[: _CELL_CHARS - 1] + "\u2026") for s in row]
        for row in df.to_numpy()
    ]
    header = [str(c) for c in df.columns]
    widths = np.array(
        [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)], dtype=float
    )
    widths = np.clip(widths, 4, _CELL_CHARS)
    table = ax.table(
        cellText=cells,
        colLabels=header,
        colWidths=list(widths / widths.sum()),
        loc="upper left",
        cellLoc="left",
        colLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9.5)
    table.scale(1.0, 1.45)
    for (r, _c), cell in table.get_celld().items():
        _no_math(cell.get_text())
        cell.set_edgecolor("#999999")
        if r == 0:
            cell.set_facecolor("#1a1a1a")
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
        elif r % 2 == 0:
            cell.set_facecolor("#f0f0f0")


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


def _draw_map(ax, layers: MapLayers, *, big: bool = True) -> None:
    b = _bng(layers.boundaries)
    agree = (
        b["in_agreement"].astype(bool).to_numpy()
        if "in_agreement" in b.columns
        else np.ones(len(b), bool)
    )
    seven, nbrs = b[agree], b[~agree]
    if len(nbrs):
        nbrs.boundary.plot(ax=ax, color=_GREY, linewidth=0.8, linestyle="--")
    seven.plot(ax=ax, facecolor="#f2f5f8", edgecolor="#000000", linewidth=1.6)
    hs = _bng(layers.hotspots)
    if hs is not None:
        ranks = (
            pd.to_numeric(hs["rank"], errors="coerce").fillna(99).astype(int)
            if "rank" in hs
            else pd.Series(1, index=hs.index)
        )
        order = np.argsort(-ranks.to_numpy(), kind="stable")  # rank 1 drawn last
        hs_sorted = hs.iloc[order]
        hs_sorted.plot(
            ax=ax,
            color=hotspot_colours(ranks.iloc[order], briefing=True),
            edgecolor="#000000",
            linewidth=0.8,
            alpha=0.85,
        )
        top = hs_sorted[ranks.iloc[order].to_numpy() <= 5]
        for pt, r in zip(
            top.geometry.representative_point(),
            ranks.iloc[order][ranks.iloc[order] <= 5],
            strict=True,
        ):
            ax.annotate(
                f"#{int(r)}", (pt.x, pt.y), xytext=(6, 6), textcoords="offset points",
                fontsize=11 if big else 8, fontweight="bold", color="#000000",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "black", "lw": 0.6},
            )  # fmt: skip
    _draw_patrols(ax, layers.patrols, big=big)
    inc = layers.incidents
    if inc is not None and len(inc):
        if "easting" in inc.columns:
            x, y = inc["easting"].to_numpy(float), inc["northing"].to_numpy(float)
        else:
            g = _bng(inc).geometry
            x, y = g.x.to_numpy(), g.y.to_numpy()
        ax.scatter(
            x,
            y,
            s=4 if len(x) > 2000 else 9,
            c=_BLUE,
            alpha=0.55 if len(x) > 2000 else 0.8,
            linewidths=0,
            zorder=3,
        )
    # force names
    reps = seven.geometry.representative_point()
    for pt, name in zip(reps, seven["force"].astype(str), strict=True):
        ax.text(pt.x, pt.y, name, fontsize=11 if big else 8, fontweight="bold", ha="center", va="center",
                parse_math=False, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75})  # fmt: skip
    xmin, ymin, xmax, ymax = seven.total_bounds
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
    # 50 km scale bar
    x0, y0 = xmin, ymin - pad * 0.4
    ax.plot(
        [x0, x0 + 50_000], [y0, y0], color="black", linewidth=3, solid_capstyle="butt", zorder=5
    )
    ax.text(x0 + 25_000, y0 + pad * 0.25, "50 km", ha="center", va="bottom", fontsize=8, zorder=5)
    handles = [
        Patch(facecolor="#f2f5f8", edgecolor="black", label="Seven forces"),
        Line2D([], [], color=_GREY, linestyle="--", label="Neighbouring force"),
    ]
    if inc is not None and len(inc):
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=_BLUE, label=f"Incident ({len(inc):,})")
        )
    if layers.patrols is not None and len(layers.patrols):
        handles.append(Patch(facecolor="none", edgecolor=_GREEN, linewidth=2, label="Patrol circle"))
    if hs is not None:
        handles.append(
            Patch(
                facecolor=hotspot_colours([1], briefing=True)[0],
                edgecolor="black",
                label="Hotspot #1",
            )
        )
        handles.append(
            Patch(
                facecolor=hotspot_colours([5], briefing=True)[0],
                edgecolor="black",
                label="Hotspot #5+",
            )
        )
    ax.legend(handles=handles, loc="lower right", fontsize=9 if big else 7, framealpha=0.95)


def _draw_patrols(ax, patrols: pd.DataFrame | None, *, big: bool) -> None:
    """One circle of ``radius_m`` per crew (EPSG:27700), labelled with its rank."""
    if patrols is None or not len(patrols):
        return
    from matplotlib.patches import Circle

    for e, n, r, rank in zip(patrols["easting"].to_numpy(float), patrols["northing"].to_numpy(float),
                             patrols["radius_m"].to_numpy(float), patrols["rank"].astype(int), strict=True):
        ax.add_patch(Circle((e, n), r, facecolor=_GREEN, alpha=0.25, edgecolor=_GREEN, linewidth=2, zorder=4))
        ax.annotate(f"Crew {rank}", (e, n), xytext=(0, 0), textcoords="offset points", ha="center",
                    va="center", fontsize=10 if big else 7, fontweight="bold", zorder=6,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": _GREEN, "lw": 0.8})


def map_figure(layers: MapLayers, *, title: str | None = None, size_in=(10.0, 8.0)) -> Figure:
    """A static map (EPSG:27700): boundaries, hotspots by rank, incidents."""
    fig = Figure(figsize=size_in, dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.07, 0.96, 0.86 if title else 0.91))
    _draw_map(ax, layers)
    if title:
        fig.text(0.02, 0.96, title, fontsize=16, fontweight="bold", va="top", parse_math=False)
    _footer(fig, layers.attribution)
    return fig


def map_png(layers: MapLayers, *, title: str | None = None, dpi: int = 150) -> bytes:
    """:func:`map_figure` as PNG bytes."""
    buf = io.BytesIO()
    map_figure(layers, title=title).savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# --------------------------------------------------------------------------- #
# PDF and pack
# --------------------------------------------------------------------------- #
def _generated(now: dt.datetime | None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return pd.Timestamp(now).tz_convert(LONDON).strftime("%d %b %Y %H:%M")


def _pages(
    *,
    layers: MapLayers,
    figures: Mapping[str, str | int],
    top_hotspots: pd.DataFrame | None,
    hoppers: pd.DataFrame | None,
    title: str,
    redact: bool,
    generated_at: dt.datetime | None,
    plan: pd.DataFrame | None = None,
    plan_title: str = "",
) -> Iterator[Figure]:
    """The PDF pages as matplotlib Figures (A4 landscape)."""
    masked_note = "Plates and ids masked." if redact else "NOT MASKED: contains plates and ids."
    footer = f"Harewatch \u00b7 generated {_generated(generated_at)} \u00b7 {masked_note} \u00b7 {layers.attribution}"
    fig = Figure(figsize=_A4_LANDSCAPE_IN)
    FigureCanvasAgg(fig)
    fig.text(0.04, 0.94, title, fontsize=20, fontweight="bold", parse_math=False)
    fig.text(
        0.04,
        0.905,
        masked_note,
        fontsize=10,
        color="#333333" if redact else _VERMILLION,
        parse_math=False,
    )
    y = 0.85
    for label, value in list(figures.items())[:12]:
        fig.text(0.04, y, str(label), fontsize=11, color="#333333", parse_math=False)
        fig.text(
            0.04, y - 0.035, _cell_text(value), fontsize=20, fontweight="bold", parse_math=False
        )
        y -= 0.068
    ax = fig.add_axes((0.30, 0.06, 0.68, 0.86))
    _draw_map(ax, layers)
    _footer(fig, footer)
    yield fig
    tables = [("Top hotspots", mask_table(top_hotspots, redact)), ("Border-hoppers", mask_table(hoppers, redact))]
    if plan is not None:
        tables.insert(0, (plan_title or "Tonight", mask_table(plan, redact)))
    for name, df in tables:
        pages = _table_pages(df)
        for i, part in enumerate(pages):
            fig = Figure(figsize=_A4_LANDSCAPE_IN)
            FigureCanvasAgg(fig)
            note = f"page {i + 1} of {len(pages)}" if len(pages) > 1 else ""
            _draw_table(fig, part, title=name, footer=footer, page_note=note)
            yield fig


def briefing_pdf(
    *,
    layers: MapLayers,
    figures: Mapping[str, str | int],
    top_hotspots: pd.DataFrame | None,
    hoppers: pd.DataFrame | None,
    title: str,
    redact: bool = True,
    generated_at: dt.datetime | None = None,
    plan: pd.DataFrame | None = None,
    plan_title: str = "",
) -> bytes:
    """The briefing PDF (A4 landscape) as bytes; see the module docstring."""
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": title, "Creator": "Harewatch"}) as pdf:
        for fig in _pages(
            layers=layers,
            figures=figures,
            top_hotspots=top_hotspots,
            hoppers=hoppers,
            title=title,
            redact=redact,
            generated_at=generated_at,
            plan=plan,
            plan_title=plan_title,
        ):
            pdf.savefig(fig)
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
    plan, plan_title : DataFrame and str, optional
        Tonight's crews as shown on the Briefing page and its heading ("Tonight:
        3 crews ..."): a PDF page; the circles themselves come from
        ``layers.patrols`` (all three maps).
    """
    pdf = briefing_pdf(
        layers=layers,
        figures=figures,
        top_hotspots=top_hotspots,
        hoppers=hoppers,
        title=title,
        redact=redact,
        generated_at=generated_at,
        plan=plan,
        plan_title=plan_title,
    )
    png = map_png(layers, title=title)
    m = build_map(layers, redact=redact, briefing=True, tiles=False)
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

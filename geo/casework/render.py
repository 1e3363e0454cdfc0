"""The case file (:func:`geo.casework.casefile.case_file`) as HTML or PDF, for a prosecutor.

Both renderers lay out the same sections (:data:`SECTION_TITLES`), built once
by :func:`sections` from the case dict: a reader needs no Harewatch to follow
them. Every data string is escaped (``html.escape``) before it goes into the
HTML or into a reportlab paragraph, so a note such as ``<script>`` is shown
as text and never run or parsed as markup. Plates and ids are shown as the
case dict holds them: masked unless the case file was made with ``mask=False``.

PDF: A4 portrait via reportlab platypus, tables with wrapping cells and a
repeated header row, on every page a footer with the subject, the
generated-at time, the marking and "Page N of M" (written when the document is saved: the
layout is done once). The ANPR trail map is drawn on the server with matplotlib (Agg, no
pyplot state) and inserted as a PNG; the HTML embeds the same PNG.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.casework.interactions import INTERACTION_TYPES
from geo.schema import LONDON

__all__ = [
    "SECTION_TITLES",
    "DEFAULT_MARKING",
    "PDF_CELL_CHARS",
    "Table",
    "Note",
    "MapBlock",
    "Section",
    "sections",
    "trail_map_png",
    "render_html",
    "render_pdf",
]

#: Section headings, in order (numbered from 1 in the HTML's ``<h2>`` and the PDF).
SECTION_TITLES = [
    "How to read this file",
    "Summary",
    "Escalation ladder and next action",
    "Incidents",
    "ANPR trail",
    "Border crossings",
    "Interactions on record",
    "Associates",
    "Data sources and how each fact was derived",
]
#: Default protective marking printed on every page.
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
#: Longest text of one PDF table cell (a row must fit on a page); the HTML and JSON keep all.
PDF_CELL_CHARS = 1500


@dataclass(frozen=True)
class Table:
    """A table: header, rows of text, relative column widths, caption."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    caption: str = ""


@dataclass(frozen=True)
class Note:
    """A small-print remark (e.g. how many rows a table leaves out)."""

    text: str


@dataclass(frozen=True)
class MapBlock:
    """Where the trail map goes."""


#: A block of a section: a paragraph (plain text), a table, a note or the map.
Block = str | Table | Note | MapBlock


@dataclass(frozen=True)
class Section:
    """A titled section: its blocks in reading order."""

    title: str
    blocks: tuple[Block, ...] = ()


# --------------------------------------------------------------------------- text


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return pd.Timestamp(iso).tz_convert(LONDON).strftime("%d %b %Y %H:%M %Z")


def _rows(records: list[dict], cells, limit: int) -> tuple[tuple[tuple[str, ...], ...], list]:
    """Table rows of the first ``limit`` records, and a Note when some were left out."""
    shown = records[:limit]
    note = ([Note(f"The first {limit:,} of {len(records):,} are shown; the JSON case file has "
                  "all.")] if len(records) > limit else [])
    return tuple(tuple(str(c) for c in cells(r)) for r in shown), note


def _how_to_read(case: dict) -> tuple[str, ...]:
    masked = case["subject"]["masked"]
    start = pd.Timestamp(2000, int(case["summary"].get("season_start_month", 9)), 1)
    end = start - pd.Timedelta(days=1)
    return (
        "This file gathers what the seven police forces of the hare coursing agreement "
        "(Bedfordshire, Cambridgeshire, Essex, Hertfordshire, Kent, Norfolk and Suffolk) hold "
        "on one subject: a vehicle (by its registration) or a person (by an id). Under the "
        "agreement an incident in any of the seven forces counts in all of them: in a coursing "
        f"season (1 {start:%B} to {end.day} {end:%B}) the first incident calls for a warning, the "
        "second for proactive anti-social behaviour measures (such as a Community Protection Warning or "
        "Notice), the third for a prosecution with the Crown Prosecution Service.",
        "Times are UK local time (GMT or BST, as shown). Places are Ordnance Survey grid "
        "references. Incidents in neighbouring forces are listed but not counted on the ladder. "
        "'Next lawful action' is the step the agreement allows now, with the rule and the "
        "records it rests on; 'gaps' are steps the records suggest were missed or not shared.",
        ("Registrations and ids are masked (only their first characters are shown) and "
         "free-text notes are withheld in this copy." if masked else
         "Registrations, ids and notes are shown in full, exactly as recorded: handle this copy "
         "accordingly."),
        "Every fact comes from a record listed under 'Data sources'; check important facts "
        "against the forces' own systems before relying on them.",
    )


# --------------------------------------------------------------------------- sections


def _summary(case: dict) -> Section:
    s = case["summary"]
    rows = (("Subject", f"{case['subject']['id']} ({case['subject']['kind']})"),
            ("Incidents", f"{s['n_incidents']} ({s['n_counted_incidents']} in the seven forces)"),
            ("Forces", ", ".join(s["forces"]) or "none"),
            ("First / last incident", f"{_local(s['first_incident_at'])} / "
                                      f"{_local(s['last_incident_at'])}"),
            ("Highest step reached", str(s["highest_stage"])),
            ("Next lawful action", f"{s['next_action'] or 'none'} (season "
                                   f"{s['latest_season'] or '-'})"),
            ("ANPR reads / crossings", f"{s['n_reads']} / {s['n_crossings']} "
                                       f"({s['n_crossings_near_incident']} near an incident)"),
            ("Interactions / associates", f"{s['n_interactions']} / {s['n_associates']}"))
    return Section("Summary", (Table(("Item", "Value"), rows, (1, 3)),))


def _season_blocks(r: dict, limit: int) -> list[Block]:
    """One ladder season: stage, next action and rule, gaps, evidence chain, actions."""
    blocks: list[Block] = [
        f"Season {r['season']}: step {r['stage']} ({r['stage_label']}) reached by "
        f"{r['n_incidents']} incident(s) in {', '.join(r['forces'])}. Next lawful action: "
        f"{r['next_action']}. Rule: {r['next_action_rule']}."]
    blocks += [f"Gap: {g}." for g in r["gaps"]]
    ev = tuple((str(e["stage"]), e["stage_label"], e["incident_id"], e["force"],
                _local(e["occurred_at"])) for e in r["evidence"])
    blocks.append(Table(("Step", "Action due", "Incident", "Force", "Time"), ev,
                        (0.6, 1.6, 1.4, 1.4, 1.8), f"Evidence chain, season {r['season']}"))
    acts, note = _rows(r["actions"], lambda a: (INTERACTION_TYPES.get(a["type"], a["type"]),
                                                a["force"], _local(a["at"]), a["reference"],
                                                a["incident_id"]), limit)
    blocks.append(Table(("Action", "Force", "Time", "Reference", "Incident"), acts,
                        (2.0, 1.4, 1.8, 1.2, 1.2), f"Actions on record, season {r['season']}"))
    return blocks + note


def _ladder(case: dict, limit: int) -> Section:
    blocks = [b for r in case["ladder"] for b in _season_blocks(r, limit)]
    if not case["ladder"]:
        blocks = ["The subject has no incident in the seven forces: it is not on the ladder."]
    return Section("Escalation ladder and next action", tuple(blocks))


def _table_section(title: str, records: list[dict], table: tuple, cells, limit: int,
                   empty: str, lead: tuple[Block, ...] = ()) -> Section:
    """A section that is one table of ``records`` (``table`` = header, widths)."""
    rows, note = _rows(records, cells, limit)
    if not rows:
        return Section(title, (*lead, empty))
    return Section(title, (*lead, Table(table[0], rows, table[1]), *note))


def _incidents(case: dict, limit: int) -> Section:
    return _table_section(
        "Incidents", case["incidents"],
        (("Time", "Incident", "Force", "Grid ref", "Plates", "Persons", "Dogs", "Outcome",
          "Notes"), (1.3, 0.8, 1.35, 1.2, 1.1, 0.9, 0.5, 0.9, 1.9)),
        lambda i: (i["local_time"], i["incident_id"],
                   i["force"] + ("" if i["counted"] else " (not counted)"), i["grid_ref"],
                   "; ".join(i["vrms"]), "; ".join(i["nominals"]), i["dogs"], i["outcome"],
                   i["notes"]),
        limit, "No incident is on record.")


def _trail(case: dict, limit: int) -> Section:
    return _table_section(
        "ANPR trail", case["reads"], (("Time", "Camera", "Force", "Grid ref"), (1.6, 1.2, 1.4, 1.6)),
        lambda r: (r["local_time"], r["camera_id"], r["force"], r["grid_ref"]), limit,
        "No ANPR read of the subject is on record.", (MapBlock(),))


def _crossings(case: dict, limit: int) -> Section:
    return _table_section(
        "Border crossings", case["crossings"],
        (("Time", "From", "To", "Camera", "Grid ref", "Near incident"),
         (1.5, 1.2, 1.2, 1.0, 1.3, 1.3)),
        lambda c: (c["local_time"], c["from_force"], c["to_force"], c["camera_id"], c["grid_ref"],
                   ", ".join(c["near_incident_ids"]) if c["near_incident"] else "no"),
        limit, "No border crossing is on record.")


def _interactions(case: dict, limit: int) -> Section:
    return _table_section(
        "Interactions on record", case["interactions"],
        (("Time", "Action", "Force", "Reference", "Incident", "Note"),
         (1.4, 1.6, 1.1, 1.0, 1.0, 2.4)),
        lambda a: (a["local_time"], a["type_label"] or a["type"], a["force"], a["reference"],
                   a["incident_id"], a["note"]),
        limit, "No action is on record in any of the seven forces.")


def _associate_cells(a: dict) -> tuple:
    ev = "; ".join(f"{e['camera_id']} {_local(e['subject_at'])} / {_local(e['associate_at'])}"
                   for e in a["evidence"][:6])
    more = f" (+{len(a['evidence']) - 6} more)" if len(a["evidence"]) > 6 else ""
    return (a["plate"], a["n_co_reads"], ", ".join(a["cameras"]), a["n_occasions"], a["stage"],
            ev + more)


def _associates(case: dict, limit: int) -> Section:
    lead: tuple[Block, ...] = (
        "Plates read by the same camera within minutes of the subject, at several cameras or on "
        "several occasions.",)
    if any(a["worth_watching"] for a in case["associates"]):
        lead += ("The subject has reached step 2 or 3: its associates are worth watching.",)
    return _table_section(
        "Associates", case["associates"],
        (("Plate", "Co-reads", "Cameras", "Occasions", "Step",
          "Evidence (camera, subject / associate read)"), (1.0, 0.7, 1.3, 0.8, 0.5, 3.2)),
        _associate_cells, limit, "No associate found.", lead)


def sections(case: dict, *, max_rows: int = 1000) -> list[Section]:
    """The sections of a case file (titles :data:`SECTION_TITLES`), ready to lay out.

    ``max_rows`` caps each table (a note says how many were left out).
    """
    src = tuple((s["section"], s["source"], s["derivation"]) for s in case["sources"])
    return [
        Section("How to read this file", _how_to_read(case)),
        _summary(case),
        _ladder(case, max_rows),
        _incidents(case, max_rows),
        _trail(case, max_rows),
        _crossings(case, max_rows),
        _interactions(case, max_rows),
        _associates(case, max_rows),
        Section("Data sources and how each fact was derived",
                (Table(("Section", "Source", "Derivation"), src, (1.2, 2.0, 3.4)),)),
    ]


# --------------------------------------------------------------------------- map


def _boundaries(areas):
    if areas is None:
        return None
    return getattr(areas, "gdf", areas)


def trail_map_png(case: dict, *, areas=None, dpi: int = 150) -> bytes:
    """The subject's ANPR trail, incidents and crossings on a map (EPSG:27700), as PNG bytes.

    ``areas``: a :class:`geo.boundaries.ForceAreas` (or its GeoDataFrame) to
    draw force boundaries; None draws none.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = [r["easting"] for r in case["reads"]] + [i["easting"] for i in case["incidents"]]
    ys = [r["northing"] for r in case["reads"]] + [i["northing"] for i in case["incidents"]]
    if not xs:
        fig = Figure(figsize=(7.0, 2.0), dpi=100)
        FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, "No located sightings or incidents", ha="center", va="center",
                 parse_math=False)
        return _png(fig, dpi)
    pad = max(max(xs) - min(xs), max(ys) - min(ys), 4000.0) * 0.12
    box = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    ratio = (box[3] - box[1]) / (box[2] - box[0])
    fig = Figure(figsize=(7.0, min(max(7.0 * ratio * 0.96 / 0.9, 3.0), 9.0)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.04, 0.96, 0.9))
    _draw_boundaries(ax, _boundaries(areas), box)
    _draw_trail(ax, case)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_bar(ax, box)
    ax.legend(loc="upper right", fontsize=7, framealpha=0.9)
    attribution = getattr(areas, "attribution", "") if areas is not None else ""
    fig.text(0.02, 0.965, "ANPR trail, incidents and border crossings (British National Grid)",
             fontsize=9, fontweight="bold", parse_math=False)
    if attribution:
        fig.text(0.02, 0.01, attribution, fontsize=5, color="#444444", parse_math=False)
    return _png(fig, dpi)


def _png(fig, dpi: int) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _draw_boundaries(ax, gdf, box: tuple[float, float, float, float]) -> None:
    if gdf is None or not len(gdf):
        return
    from shapely.geometry import box as make_box

    clip = gdf.clip(make_box(*box))
    if clip.empty:
        return
    clip.boundary.plot(ax=ax, color="#777777", linewidth=0.8, zorder=1)
    for pt, name in zip(clip.geometry.representative_point(), clip["force"].astype(str),
                        strict=True):
        ax.text(pt.x, pt.y, name, fontsize=7, color="#555555", ha="center", parse_math=False,
                zorder=2)


def _draw_trail(ax, case: dict) -> None:
    reads = case["reads"]
    if reads:
        ax.plot([r["easting"] for r in reads], [r["northing"] for r in reads], color="#0072B2",
                linewidth=0.8, alpha=0.7, zorder=3)
        ax.scatter([r["easting"] for r in reads], [r["northing"] for r in reads], s=8,
                   color="#0072B2", zorder=4, label=f"ANPR read ({len(reads)})")
    inc = case["incidents"]
    if inc:
        ax.scatter([i["easting"] for i in inc], [i["northing"] for i in inc], s=40, marker="X",
                   color="#D55E00", edgecolors="black", linewidths=0.5, zorder=5,
                   label=f"Incident ({len(inc)})")
        for i in inc:
            ax.annotate(i["incident_id"], (i["easting"], i["northing"]), xytext=(4, 4),
                        textcoords="offset points", fontsize=6, zorder=6).set_parse_math(False)
    cross = case["crossings"]
    if cross:
        ax.scatter([c["easting"] for c in cross], [c["northing"] for c in cross], s=30,
                   marker="^", color="#009E73", edgecolors="black", linewidths=0.5, zorder=5,
                   label=f"Border crossing ({len(cross)})")


def _scale_bar(ax, box: tuple[float, float, float, float]) -> None:
    width = box[2] - box[0]
    length = next((k for k in (50_000, 20_000, 10_000, 5_000, 2_000, 1_000) if k <= width / 4),
                  500)
    x0, y0 = box[0] + width * 0.04, box[1] + (box[3] - box[1]) * 0.05
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=3, solid_capstyle="butt",
            zorder=7)
    ax.text(x0 + length / 2, y0, f"{length / 1000:g} km", ha="center", va="bottom", fontsize=7,
            zorder=7, parse_math=False)


# --------------------------------------------------------------------------- HTML

_E = html.escape

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 60em;
       color: #111; line-height: 1.4; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.25em; border-bottom: 2px solid #333; margin-top: 1.8em; }}
table {{ border-collapse: collapse; width: 100%; margin: 0.6em 0 1.2em; font-size: 0.9em; }}
th, td {{ border: 1px solid #999; padding: 0.25em 0.45em; text-align: left;
          vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #222; color: #fff; }}
tr:nth-child(even) td {{ background: #f2f2f2; }}
caption {{ text-align: left; font-weight: bold; padding: 0.3em 0; }}
.marking, .synthetic {{ font-weight: bold; text-align: center; letter-spacing: 0.05em; }}
.synthetic {{ background: #ffe9a8; padding: 0.3em; }}
.generated, footer, .note {{ color: #444; font-size: 0.85em; }}
img {{ max-width: 100%; border: 1px solid #999; }}
</style>
</head>
<body>
{banner}
<h1>{title}</h1>
<p class="generated">{generated}</p>
{body}
<footer><p>{footer}</p></footer>
{banner}
</body>
</html>
"""


def _html_table(t: Table) -> str:
    head = "".join(f"<th>{_E(h)}</th>" for h in t.header)
    body = "".join("<tr>" + "".join(f"<td>{_E(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    cap = f"<caption>{_E(t.caption)}</caption>" if t.caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_section(k: int, s: Section, map_png: bytes | None) -> str:
    parts = [f"<h2>{k}. {_E(s.title)}</h2>"]
    for block in s.blocks:
        if isinstance(block, Table):
            parts.append(_html_table(block))
        elif isinstance(block, Note):
            parts.append(f'<p class="note">{_E(block.text)}</p>')
        elif isinstance(block, MapBlock):
            if map_png:
                data = base64.b64encode(map_png).decode("ascii")
                parts.append('<p><img alt="Map of the ANPR trail, incidents and border '
                             f'crossings" src="data:image/png;base64,{data}"></p>')
        else:
            parts.append(f"<p>{_E(block)}</p>")
    return "\n".join(parts)


def _titles(case: dict, marking: str | None) -> tuple[str, str, str, str]:
    """(title, generated-at line, footer, banner text) as plain text."""
    subj = case["subject"]
    title = f"Case file: {subj['id']} ({subj['kind']})"
    gen = pd.Timestamp(case["generated_at"])
    generated = (f"Generated by Harewatch on {gen.tz_convert(LONDON):%d %b %Y %H:%M %Z} "
                 f"({gen.tz_convert('UTC'):%Y-%m-%d %H:%M} UTC).")
    banner = " · ".join(x for x in (marking or "", "SYNTHETIC DEMO DATA - NOT REAL RECORDS"
                                    if case.get("synthetic") else "") if x)
    footer = " · ".join(x for x in (f"Harewatch case file {subj['id']}", generated, marking or "")
                        if x)
    return title, generated, footer, banner


def render_html(case: dict, *, areas=None, include_map: bool = True, max_rows: int = 1000,
                marking: str | None = DEFAULT_MARKING) -> str:
    """The case file as one self-contained HTML page (the map embedded as a PNG).

    Parameters
    ----------
    case : dict
        :func:`geo.casework.casefile.case_file` output.
    areas : ForceAreas or GeoDataFrame, optional
        Force boundaries for the map.
    include_map : bool, default True
        Draw and embed the trail map.
    max_rows : int, default 1000
        Rows shown per table.
    marking : str or None, default "OFFICIAL-SENSITIVE"
        Protective marking shown at the top and bottom; None for none.

    Returns
    -------
    str
        HTML; every data string escaped with :func:`html.escape`.
    """
    title, generated, footer, banner = _titles(case, marking)
    png = trail_map_png(case, areas=areas) if include_map else None
    body = "\n".join(_html_section(k, s, png)
                     for k, s in enumerate(sections(case, max_rows=max_rows), start=1))
    banner_html = (f'<p class="{"synthetic" if case.get("synthetic") else "marking"}">'
                   f"{_E(banner)}</p>") if banner else ""
    return _HTML_PAGE.format(title=_E(title), generated=_E(generated), body=body,
                             footer=_E(footer), banner=banner_html)


# --------------------------------------------------------------------------- PDF


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans (from matplotlib, full Unicode) if available."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    try:
        import matplotlib

        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
        pdfmetrics.registerFont(TTFont("HW-Sans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("HW-Sans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
        return "HW-Sans", "HW-Sans-Bold"
    except Exception:  # font files missing or unreadable: Latin-1 built-ins still work
        return "Helvetica", "Helvetica-Bold"


def _styles() -> dict:
    from reportlab.lib.styles import ParagraphStyle

    regular, bold = _fonts()
    return {
        "title": ParagraphStyle("t", fontName=bold, fontSize=16, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=bold, fontSize=12.5, leading=16, spaceBefore=10,
                             spaceAfter=4),
        "body": ParagraphStyle("b", fontName=regular, fontSize=9, leading=12, spaceAfter=4),
        "cell": ParagraphStyle("c", fontName=regular, fontSize=7.5, leading=9),
        "head": ParagraphStyle("hd", fontName=bold, fontSize=7.5, leading=9,
                               textColor="#FFFFFF"),
        "caption": ParagraphStyle("cap", fontName=bold, fontSize=8.5, leading=11,
                                  spaceBefore=4, spaceAfter=2),
        "note": ParagraphStyle("n", fontName=regular, fontSize=7.5, leading=9,
                               textColor="#444444"),
    }


def _pdf_text(text: str) -> str:
    """Cell text as reportlab markup: capped, escaped, line breaks kept."""
    if len(text) > PDF_CELL_CHARS:
        text = text[:PDF_CELL_CHARS] + " [...] (cut here; the HTML and JSON case files have all)"
    return _E(text).replace("\r\n", "\n").replace("\n", "<br/>")


def _pdf_table(t: Table, st: dict, width_pt: float):
    from reportlab.platypus import Paragraph
    from reportlab.platypus import Table as RLTable

    total = sum(t.widths)
    widths = [width_pt * w / total for w in t.widths]
    data = [[Paragraph(_E(h), st["head"]) for h in t.header]]
    data += [[Paragraph(_pdf_text(c), st["cell"]) for c in row] for row in t.rows]
    table = RLTable(data, colWidths=widths, repeatRows=1)
    table.setStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, "#999999"),
        ("BACKGROUND", (0, 0), (-1, 0), "#222222"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), ["#FFFFFF", "#F0F0F0"]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])
    return table


def _pdf_block(block: Block, st: dict, width_pt: float, png: bytes) -> list:
    from reportlab.lib.units import cm
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image, Paragraph, Spacer

    if isinstance(block, Table):
        caption = [Paragraph(_E(block.caption), st["caption"])] if block.caption else []
        body = (_pdf_table(block, st, width_pt) if block.rows
                else Paragraph("None on record.", st["note"]))
        return [*caption, body]
    if isinstance(block, Note):
        return [Paragraph(_E(block.text), st["note"])]
    if isinstance(block, MapBlock):
        w_px, h_px = ImageReader(io.BytesIO(png)).getSize()
        scale = min(width_pt / w_px, 17 * cm / h_px)  # fits the page width and height
        return [Image(io.BytesIO(png), width=w_px * scale, height=h_px * scale),
                Spacer(1, 0.2 * cm)]
    return [Paragraph(_E(block), st["body"])]


def _pdf_story(case: dict, st: dict, width_pt: float, png: bytes, max_rows: int,
               marking: str | None) -> list:
    from reportlab.platypus import Paragraph

    title, generated, _, _ = _titles(case, marking)  # the banner is on every page already
    story = [Paragraph(_E(title), st["title"]), Paragraph(_E(generated), st["body"])]
    for k, s in enumerate(sections(case, max_rows=max_rows), start=1):
        story.append(Paragraph(f"{k}. {_E(s.title)}", st["h2"]))
        for block in s.blocks:
            story += _pdf_block(block, st, width_pt, png)
    return story


def _page_decorator(footer: str, banner: str, fonts: tuple[str, str]):
    """onPage callback: footer and banner ("Page N of M" is added by :func:`_numbered_canvas`)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm

    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(fonts[0], 7)
        canvas.setFillColor("#333333")
        canvas.drawString(1.8 * cm, 1.0 * cm, footer[:160])
        if banner:
            canvas.setFont(fonts[1], 8)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 1.0 * cm, banner)
        canvas.restoreState()

    return draw


def _numbered_canvas(font: str):
    """A reportlab canvas class that writes "Page N of M" on every page when the document is
    saved, so the layout is done once (the page count is known only at the end)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict] = []

        def showPage(self) -> None:  # keep the page; draw it once the total is known
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self.saveState()
                self.setFont(font, 7)
                self.setFillColor("#333333")
                self.drawRightString(A4[0] - 1.8 * cm, 1.0 * cm,
                                     f"Page {self._pageNumber} of {total}")
                self.restoreState()
                Canvas.showPage(self)
            Canvas.save(self)

    return NumberedCanvas


def render_pdf(case: dict, *, areas=None, max_rows: int = 1000,
               marking: str | None = DEFAULT_MARKING) -> bytes:
    """The case file as a PDF (A4 portrait; parameters as :func:`render_html`).

    Every page has the protective marking (and "SYNTHETIC DEMO DATA" for a
    demo) at the top, and at the bottom the subject, the generated-at time
    and "Page N of M".

    Returns
    -------
    bytes
        The PDF document.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import cm
    from reportlab.platypus import SimpleDocTemplate

    st = _styles()
    title, _, footer, banner = _titles(case, marking)
    width_pt = A4[0] - 3.6 * cm
    png = trail_map_png(case, areas=areas)
    fonts = _fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=1.8 * cm, rightMargin=1.8 * cm,
                            topMargin=1.6 * cm, bottomMargin=1.8 * cm, title=title,
                            author="Harewatch", subject="Case file")
    draw = _page_decorator(footer, banner, fonts)
    doc.build(_pdf_story(case, st, width_pt, png, max_rows, marking), onFirstPage=draw,
              onLaterPages=draw, canvasmaker=_numbered_canvas(fonts[0]))
    return buf.getvalue()

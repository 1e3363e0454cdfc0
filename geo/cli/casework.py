"""``harewatch interactions import``, ``harewatch case`` and ``harewatch plates`` (issue 16).

Masking: a case file and plate candidates are shown in full by default (the
CLI is an officer's tool on their own machine); ``--mask`` masks plates and
ids and withholds free-text notes, for a copy that leaves the force.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from geo.cli._common import EXIT_OK, EXIT_REJECTS, EXIT_UNREADABLE, err, settings_from
from geo.errors import BoundariesNotFound, InputError

__all__ = ["cmd_interactions_import", "cmd_case", "cmd_plates", "interactions_exit_code"]


def interactions_exit_code(result) -> int:
    """The exit-code table of ``harewatch ingest`` for an interactions file.

    0 every row accepted, 1 some rows rejected, 2 nothing usable (a problem
    with the file's columns, or no row accepted).
    """
    if result.file_problems or result.n_accepted == 0:
        return EXIT_UNREADABLE
    return EXIT_REJECTS if result.n_rejected else EXIT_OK


def _say_why_unusable(path: str, result) -> None:
    from collections import Counter

    if result.file_problems:
        err(f"harewatch: {path}: " + "; ".join(result.file_problems))
        return
    firsts = Counter(str(r).split("; ")[0] for r in result.rejects["reason"]).most_common(3)
    reasons = "; ".join(f"{reason} ({n})" for reason, n in firsts)
    err(f"harewatch: {path}: no row accepted" + (f"; commonest reasons: {reasons}" if reasons
                                                 else " (no data rows)"))


def cmd_interactions_import(args) -> int:
    from geo.io.interactions import import_interactions

    settings = settings_from(args)
    result, report = import_interactions(args.file, settings.data_dir,
                                         start_month=args.season_start_month)
    print(json.dumps({**result.to_report(), **report.to_dict()}, ensure_ascii=False))
    code = interactions_exit_code(result)
    if code == EXIT_UNREADABLE:
        _say_why_unusable(args.file, result)
    elif result.n_rejected:
        err(f"{args.file}: {result.n_rejected} row(s) rejected (reasons in the 'rejects' list)")
    return code


# --------------------------------------------------------------------------- case


def _areas_or_none(args):
    """Force boundaries for the case file's map; None (map without outlines) when missing."""
    from geo.io.boundaries import load_boundaries

    try:
        return load_boundaries(getattr(args, "boundaries", None), log=err)
    except BoundariesNotFound as exc:
        err(f"case: no force boundaries ({exc}); the map is drawn without them")
        return None


def _store_incidents(data_dir: Path):
    from geo.io.store import read_incidents

    gdf = read_incidents(data_dir)
    if gdf is None or gdf.empty:
        raise InputError(f"no incidents in the store {data_dir}: ingest an incidents file first "
                         "(harewatch ingest incidents FILE)")
    return gdf


def _case_inputs(args, data_dir: Path) -> dict:
    """Incidents, the reads the subject's file needs, and its interactions, from the store."""
    from geo.engines.casework import subject_reads_store
    from geo.io.interactions import read_interactions

    plate = "".join(str(args.subject).split()).upper()
    reads = subject_reads_store(data_dir, plate, within_min=args.within_min)
    regs = read_interactions(data_dir, subjects=sorted({plate, str(args.subject).strip()}))
    return {"incidents": _store_incidents(data_dir), "reads": reads if len(reads) else None,
            "interactions": regs}


def _write_out(args, payload: str | bytes) -> None:
    """To ``--out`` (said on stderr) or stdout; a PDF is never written to a terminal."""
    if args.out:
        path = Path(args.out)
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        else:
            path.write_text(payload, encoding="utf-8")
        err(f"case: wrote {path}")
        return
    if isinstance(payload, bytes):
        if sys.stdout.isatty():
            raise InputError("a PDF cannot be shown on a terminal: pass --out FILE.pdf "
                             "(or redirect stdout to a file)")
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    sys.stdout.write(payload if payload.endswith("\n") else payload + "\n")


def cmd_case(args) -> int:
    from geo.casework.casefile import case_file
    from geo.casework.render import render_html, render_pdf

    settings = settings_from(args)
    inputs = _case_inputs(args, Path(settings.data_dir))
    case = case_file(args.subject, **inputs, kind=args.kind, mask=bool(args.mask),
                     within_min=args.within_min, start_month=args.season_start_month)
    if args.format == "json":
        _write_out(args, json.dumps(case, ensure_ascii=False, indent=1))
    elif args.format == "text":
        _write_out(args, _case_text(case))
    elif args.format == "html":
        _write_out(args, render_html(case, areas=_areas_or_none(args)))
    else:
        _write_out(args, render_pdf(case, areas=_areas_or_none(args)))
    return EXIT_OK


def _case_text(case: dict) -> str:
    """A case file in a few lines for people: who, how many, the ladder's next action."""
    ladder = case.get("ladder") or {}
    rows = ladder.get("rows", ladder) if isinstance(ladder, dict) else ladder
    lines = [f"case file: {case.get('subject')}",
             f"incidents: {len(case.get('incidents') or [])}, ANPR reads: {len(case.get('reads') or [])}, "
             f"interactions: {len(case.get('interactions') or [])}, associates: "
             f"{len(case.get('associates') or [])}"]
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("next_action"):
            lines.append(f"{row.get('season', '')}: next action: {row['next_action']}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plates


def _latlon(text: str) -> tuple[float, float]:
    parts = [p.strip() for p in str(text).split(",")]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError as exc:
        raise InputError(f"--near must be LAT,LON in degrees (e.g. 52.2,0.12), got {text!r}") from exc
    return lat, lon


def _plate_origin(args, data_dir: Path, incidents):
    from geo.casework.plates import origin_from_latlon, origin_of_incident

    if args.incident:
        if incidents is None:
            raise InputError(f"--incident {args.incident}: no incidents in the store {data_dir}")
        return origin_of_incident(incidents, args.incident)
    if not args.at:
        raise InputError("--near needs --at ISO_TIME (the time the vehicle was seen)")
    lat, lon = _latlon(args.near)
    return origin_from_latlon(lat, lon, args.at)


def _candidates_text(doc: dict) -> str:
    rows = doc["candidates"]
    if not rows:
        return "no plate matching the pattern was read in the window"
    lines = [f"{'plate':<10} {'reads':>5} {'km':>6} {'min':>6} {'score':>6}  ladder  misread"]
    lines += [f"{r['plate']:<10} {r['reads']:>5} {r['nearest_km']:>6.1f} "
              f"{r['nearest_minutes']:>6.0f} {r['score']:>6.3f}  "
              f"{('stage ' + str(r['stage'])) if r['on_ladder'] else '-':<6}  "
              f"{'yes' if r['misread'] else ''}" for r in rows]
    return "\n".join(lines)


def cmd_plates(args) -> int:
    from geo.casework.plates import candidates_to_json, parse_pattern
    from geo.engines.plates import search_plates_store
    from geo.io.store import read_incidents
    from geo.offenders import ladder

    pattern = parse_pattern(args.pattern)  # a bad pattern is said before anything is read
    data_dir = Path(settings_from(args).data_dir)
    incidents = read_incidents(data_dir)
    origin = _plate_origin(args, data_dir, incidents)
    lad = ladder(incidents) if incidents is not None and len(incidents) else None
    found = search_plates_store(data_dir, pattern, easting_m=origin.easting_m,
                                northing_m=origin.northing_m, at_utc=origin.at_utc,
                                km=args.km, hours=args.hours, ladder=lad)
    doc = {**candidates_to_json(found, mask=bool(args.mask)),
           "search": {"pattern": pattern.text, "easting": round(origin.easting_m, 1),
                      "northing": round(origin.northing_m, 1), "at": origin.at_utc.isoformat(),
                      "km": float(args.km), "hours": float(args.hours)}}
    if args.format == "json":
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(_candidates_text(doc))
    return EXIT_OK

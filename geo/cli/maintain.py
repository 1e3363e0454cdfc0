"""``harewatch demo``, ``boundaries fetch|show`` and ``store upgrade|compact``.
"""

from __future__ import annotations

import json
from pathlib import Path

from geo.cli._common import EXIT_OK, areas_for, emit, err, progress
from geo.errors import InputError


def cmd_demo(args) -> int:
    from geo.datasets.demo import DEMO_NOTICE, write_demo

    areas = areas_for(args)
    with progress("demo", ["generating the scenario"]) as step:
        paths = write_demo(Path(args.out), areas, seed=args.seed)
        step()
    err(DEMO_NOTICE)
    err(f"Ingest with: harewatch ingest incidents {paths.get('incidents', '')} (stays marked as demo data)")
    emit(args, {k: str(v) for k, v in paths.items()},
         lambda p: "\n".join(f"{name}: {path}" for name, path in p.items()))
    return EXIT_OK


def cmd_boundaries_fetch(args) -> int:
    from geo.io.boundaries import DEFAULT_BOUNDARIES_DIR, DEFAULT_URL, fetch_boundaries

    dest = Path(args.dest) if args.dest else DEFAULT_BOUNDARIES_DIR
    path = fetch_boundaries(dest, url=args.url or DEFAULT_URL, timeout_s=args.timeout_s)
    err(f"saved ONS police force areas to {path}")
    emit(args, {"path": str(path)}, lambda p: p["path"])
    return EXIT_OK


def cmd_boundaries_show(args) -> int:
    areas = areas_for(args)
    rows = areas.gdf.assign(area_km2=(areas.gdf.geometry.area / 1e6).round(1)).drop(columns="geometry")
    payload = {"source": str(areas.source), "forces": json.loads(rows.to_json(orient="records")),
               "attribution": areas.attribution}
    emit(args, payload, lambda p: f"source: {p['source']}\n{rows.to_string(index=False)}\n{p['attribution']}")
    return EXIT_OK


def cmd_store_upgrade(args) -> int:
    from geo.io.store.layout import default_data_dir, sightings_layout
    from geo.io.store.maintain import upgrade_sightings_store

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not data_dir.is_dir():
        raise InputError(f"no store at {data_dir}")
    with progress("store upgrade", ["moving ANPR reads into the partitioned layout"]) as step:
        moved = upgrade_sightings_store(data_dir)
        step()
    emit(args, {"data_dir": str(data_dir), "rows_moved": moved, "layout": sightings_layout(data_dir).to_dict()},
         lambda p: f"moved {p['rows_moved']} ANPR read(s) into the partitioned layout of "
                   f"{data_dir / 'sightings'}")
    return EXIT_OK


def cmd_store_compact(args) -> int:
    import pandas as pd

    from geo.io.store.layout import default_data_dir
    from geo.io.store.maintain import compact_sightings
    from geo.schema import LONDON

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    if not data_dir.is_dir():
        raise InputError(f"no store at {data_dir}")
    before = None
    if args.before:
        try:
            before = pd.Timestamp(args.before).tz_localize(LONDON)  # London midnight
        except (ValueError, TypeError) as exc:
            raise InputError(f"--before must be a date YYYY-MM-DD, got {args.before!r}") from exc
    with progress("store compact", ["rewriting small ANPR read files"]) as step:
        report = compact_sightings(data_dir, min_files=args.min_files, before=before)
        step()
    if report.legacy_files:
        err(f"{report.legacy_files} flat 0.1.0 file(s) left alone: run "
             f"`harewatch store upgrade --data-dir {data_dir}` first, then compact again")
    emit(args, {"data_dir": str(data_dir), **report.to_dict()},
         lambda p: f"compacted {p['folders']} folder(s): {p['files_before']} file(s) -> "
                   f"{p['files_after']}, {p['rows']} read(s) in {data_dir / 'sightings'}")
    return EXIT_OK

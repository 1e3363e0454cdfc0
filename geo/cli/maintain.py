"""``harewatch demo``, ``boundaries fetch|show`` and ``store upgrade|compact``.
"""

from __future__ import annotations

import json
from pathlib import Path

from geo.cli._common import EXIT_OK, EXIT_REJECTS, areas_for, emit, err, progress, settings_from
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


def _store_dir(args) -> Path:
    data_dir = settings_from(args).data_dir
    if not data_dir.is_dir():
        raise InputError(f"no store at {data_dir}")
    return data_dir


def cmd_store_upgrade(args) -> int:
    from geo.io.store.maintain import upgrade_store

    data_dir = _store_dir(args)
    report = upgrade_store(data_dir)
    err(f"moved {report.incidents_moved} incident(s) and {report.sightings_moved} ANPR read(s) "
        f"from {report.legacy_files} old file(s) into the tables of {data_dir}")
    print(json.dumps({"data_dir": str(data_dir), **report.to_dict(),
                      "rows_moved": report.incidents_moved + report.sightings_moved},
                     ensure_ascii=False))
    return EXIT_OK


def cmd_store_compact(args) -> int:
    import pandas as pd

    from geo.io.store.maintain import compact_incidents, compact_sightings
    from geo.schema import LONDON

    data_dir = _store_dir(args)
    before = None
    if args.before:
        try:
            before = pd.Timestamp(args.before).tz_localize(LONDON)  # London midnight
        except (ValueError, TypeError) as exc:
            raise InputError(f"--before must be a date YYYY-MM-DD, got {args.before!r}") from exc
    report = compact_sightings(data_dir, min_files=args.min_files, before=before)
    incidents = compact_incidents(data_dir, min_files=args.min_files)
    err(f"compacted {report.folders} partition(s): {report.files_before} file(s) -> "
        f"{report.files_after}, {report.rows} read(s); incidents {incidents['files_before']} "
        f"file(s) -> {incidents['files_after']} in {data_dir}")
    print(json.dumps({"data_dir": str(data_dir), **report.to_dict(), "incidents": incidents},
                     ensure_ascii=False))
    return EXIT_OK


def cmd_store_verify(args) -> int:
    """Exit 0 when every stored file matches its recorded hash, 1 naming each damaged or
    missing one, 2 when there is no store (or it was never upgraded)."""
    from geo.io.store.read import require_upgraded
    from geo.io.store.verify import verify_store

    data_dir = _store_dir(args)
    require_upgraded(data_dir)
    report = verify_store(data_dir)
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    checked = sum(t["files"] for t in report.tables.values())
    for p in report.problems:
        err(f"DAMAGED {p['table']}: {p['path']}: {p['problem']}")
    if report.ok:
        err(f"store {data_dir} intact: {checked} file(s) match their SHA-256")
        return EXIT_OK
    err(f"store {data_dir}: {len(report.problems)} damaged or missing file(s) of {checked}")
    return EXIT_REJECTS


def cmd_store_stats(args) -> int:
    from geo.io.store.read import require_upgraded
    from geo.io.store.verify import store_stats

    data_dir = _store_dir(args)
    require_upgraded(data_dir)
    stats = store_stats(data_dir)
    if args.format == "json":
        print(json.dumps(stats, ensure_ascii=False))
    else:
        for kind in ("incidents", "sightings"):
            print(f"{kind}: {stats[kind]} rows in {stats['files'][kind]} file(s), "
                  f"{stats['bytes'][kind]} bytes, version {stats['versions'][kind]}")
        print(f"alerts: {stats['alerts']}")
    return EXIT_OK


def cmd_store_history(args) -> int:
    from geo.io.store.read import store_history

    data_dir = _store_dir(args)
    table = store_history(data_dir, args.table, limit=args.limit)
    rows = table.assign(at=table["at"].map(lambda t: t.isoformat())).to_dict("records")
    print(json.dumps({"data_dir": str(data_dir), "table": args.table, "versions": rows},
                     ensure_ascii=False))
    return EXIT_OK


def cmd_store_vacuum(args) -> int:
    from geo.io.store.maintain import vacuum_store

    data_dir = _store_dir(args)
    done = vacuum_store(data_dir, retention_h=args.retention_h, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    err(f"{verb} {sum(len(v) for v in done.values())} unused file(s) in {data_dir}")
    print(json.dumps({"data_dir": str(data_dir), "dry_run": args.dry_run, "files": done},
                     ensure_ascii=False))
    return EXIT_OK

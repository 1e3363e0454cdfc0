"""``harewatch hotspots`` and ``harewatch offenders``.
"""

from __future__ import annotations

import json
import sys

from geo.cli._common import (
    EXIT_OK,
    EXIT_REJECTS,
    EXIT_UNREADABLE,
    areas_for,
    check_forces,
    err,
    incidents_source,
    load_accepted,
    settings_from,
)


def cmd_hotspots(args) -> int:
    from geo.hotspots import hotspots_with_trend
    from geo.io.formats import hotspots_to_frame, hotspots_to_geojson, hotspots_to_json

    areas = areas_for(args)
    incidents, skipped = incidents_source(args, areas)
    forces = check_forces(args.force, areas)
    result = hotspots_with_trend(incidents, season=args.season or None, forces=forces,
                                 eps_m=args.eps_m, min_samples=args.min_samples, areas=areas,
                                 start_month=args.season_start_month, significance=True,
                                 seed=args.seed)
    if args.format == "json":
        print(json.dumps(hotspots_to_json(result), ensure_ascii=False))
    elif args.format == "geojson":
        print(json.dumps(hotspots_to_geojson(result), ensure_ascii=False))
    else:
        from geo.io.export import to_safe_csv

        sys.stdout.write(to_safe_csv(hotspots_to_frame(result)).decode("utf-8-sig"))
    return EXIT_REJECTS if skipped else EXIT_OK


def cmd_offenders(args) -> int:
    from geo.io.formats import offenders_to_frame, offenders_to_json
    from geo.movements import border_crossings, crossings_near_incidents, trips, vehicle_points
    from geo.offenders import ladder
    from geo.seasons import filter_incidents

    if args.scheduler and args.engine != "dask":
        err("harewatch: --scheduler needs --engine dask")
        return EXIT_UNREADABLE
    if args.workers < 1:
        err(f"harewatch: --workers must be at least 1, got {args.workers}")
        return EXIT_UNREADABLE
    if args.sightings and args.engine == "dask":
        err("harewatch: --engine dask scans the sightings store; it cannot be combined with "
             "--sightings FILE (ingest the file, or drop --engine)")
        return EXIT_UNREADABLE
    areas = areas_for(args)
    incidents, skipped = incidents_source(args, areas)
    table = sightings = None
    if args.sightings:
        sightings, skipped_reads = load_accepted(args.sightings, "sightings", areas, "sightings")
        skipped += skipped_reads
        points = trips(vehicle_points(incidents, sightings), max_gap_h=args.max_gap_h)
        crossings = crossings_near_incidents(border_crossings(points, max_gap_h=args.max_gap_h), incidents,
                                             window_h=args.window_h)
    else:
        crossings = None
        table = _offenders_from_store(args, incidents)
    if table is None:
        if args.season:
            incidents = filter_incidents(incidents, season=args.season, start_month=args.season_start_month)
        table = ladder(incidents, start_month=args.season_start_month, crossings=crossings)
    if args.season:
        table = table[table["season"] == args.season]
    if args.format == "json":
        table = _with_actions(args, table, incidents, sightings if args.sightings else None)
        print(json.dumps(offenders_to_json(table), ensure_ascii=False, default=str))
    else:
        from geo.io.export import to_safe_csv

        sys.stdout.write(to_safe_csv(offenders_to_frame(table)).decode("utf-8-sig"))
    return EXIT_REJECTS if skipped else EXIT_OK


def _offenders_from_store(args, incidents):
    """The ladder with crossings scanned from the store's sightings by the chosen engine;
    None when the store holds no sightings (then the ladder has no crossings)."""
    from geo.io.store.read import stored_rows

    data_dir = settings_from(args).data_dir
    if not stored_rows(data_dir, "sightings"):
        if args.engine == "dask":
            err(f"offenders: no sightings stored in {data_dir}; ladder without crossings")
        return None
    opts = dict(season=args.season, start_month=args.season_start_month, max_gap_h=args.max_gap_h,
                window_h=args.window_h, all_plates=args.all_plates)
    if args.engine == "dask":
        from geo.engines.dask import dask_client, offenders_dask

        where = args.scheduler or f"a local cluster of {args.workers} worker(s)"
        err(f"offenders: scanning crossings in {data_dir} with dask on {where}")
        with dask_client(args.scheduler, n_workers=args.workers) as client:
            return offenders_dask(incidents, data_dir, client=client, **opts)
    from geo.engines.duckdb import offenders_from_store

    return offenders_from_store(incidents, data_dir=data_dir, **opts)


def _with_actions(args, table, incidents, sightings):
    """The ladder with the actions on record, the next lawful action and the gaps
    (:func:`geo.casework.actions.ladder_with_actions`); "now in" from the latest ANPR read
    (``--sightings`` FILE, else the store) or incident."""
    from geo.casework.actions import ladder_with_actions, latest_positions
    from geo.engines.casework import latest_reads_store
    from geo.io.interactions import read_interactions

    data_dir = settings_from(args).data_dir
    if sightings is None:
        plates = table.loc[table["kind"] == "vehicle", "subject"].astype(str)
        sightings = latest_reads_store(data_dir, plates)
    now_in = latest_positions(incidents, sightings)
    return ladder_with_actions(table, read_interactions(data_dir), incidents=incidents,
                               now_in=now_in, start_month=args.season_start_month)

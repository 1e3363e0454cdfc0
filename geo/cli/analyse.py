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
    emit,
    err,
    gc_paused,
    incidents_source,
    load_accepted,
    prefetch,
    progress,
    settings_from,
)


def _hotspots_text(payload: dict) -> str:
    p = payload["params"]
    head = (f"{len(payload['hotspots'])} hotspot(s) from {p.get('n_incidents', '?')} incident(s) "
            f"(DBSCAN {p.get('eps_m')} m, at least {p.get('min_samples')}); {payload['noise']} in no hotspot")
    lines = [head]
    for h in payload["hotspots"]:
        near = h["place"] if (h["place_distance_km"] or 0) < 0.5 else f"{h['place_distance_km']:.1f} km from {h['place']}"
        when = dict.fromkeys([h["busiest_weekday"], h["busiest_hours"]])  # "not known" said once
        lines.append(f"#{h['rank']:<3} {h['n']:>4} incidents  {h['grid_ref']}  {near}  "
                     f"({', '.join(h['forces'])}; busiest {' '.join(when)})")
    return "\n".join(lines)


def cmd_hotspots(args) -> int:
    from geo.hotspots import hotspots_with_trend
    from geo.io.formats import hotspots_to_frame, hotspots_to_geojson, hotspots_to_json

    # loaded while the incidents are read: scipy.spatial (DBSCAN's border points), and for
    # the significance test scipy.stats, esda and libpysal
    prefetch("scipy.spatial", *(("scipy.stats", "esda", "libpysal.graph") if args.significance else ()))
    with progress("hotspots", ["reading incidents", "clustering", "placing"]) as step:
        areas = areas_for(args)
        incidents, skipped = incidents_source(args, areas)
        forces = check_forces(args.force, areas)
        step()
        result = hotspots_with_trend(incidents, season=args.season or None, forces=forces,
                                     days=args.days, hours=args.hours,
                                     eps_m=args.eps_m, min_samples=args.min_samples, areas=areas,
                                     start_month=args.season_start_month,
                                     significance=args.significance,
                                     seed=args.seed)
        step()
        payload = hotspots_to_json(result) if args.format in ("json", "text") else None
        step()
    if args.format == "geojson":
        print(json.dumps(hotspots_to_geojson(result), ensure_ascii=False))
    elif args.format == "csv":
        from geo.io.export import to_safe_csv

        sys.stdout.write(to_safe_csv(hotspots_to_frame(result)).decode("utf-8-sig"))
    else:
        emit(args, payload, _hotspots_text)
    return EXIT_REJECTS if skipped else EXIT_OK


def _offenders_text(payload: dict) -> str:
    rows = payload["offenders"]
    lines = [f"{len(rows)} subject-season(s) on the ladder"]
    for o in rows:
        lines.append(f"{o['subject']:<10} {o['kind']:<8} {o['season']}  stage {o['stage']} "
                     f"({o['stage_label']})  {o['n_incidents']} incident(s) in {', '.join(o['forces'])}"
                     + ("  border-hopper" if o["border_hopper"] else "")
                     + (f"  {len(o['crossings'])} crossing(s)" if o["crossings"] else ""))
    return "\n".join(lines)


def _mask_offenders(table, mask: bool):
    """The ladder with subjects masked by kind (plates as plates, nominal ids as ids)."""
    if not mask or not len(table):
        return table
    from geo.privacy import mask_subject

    subjects = [mask_subject(s, k) for s, k in zip(table["subject"], table["kind"], strict=True)]
    return table.assign(subject=subjects)


def cmd_offenders(args) -> int:
    with gc_paused():  # the ladder's many small dicts and lists: no garbage to find
        return _offenders(args)


def _offenders(args) -> int:
    from geo.io.formats import offenders_to_frame, offenders_to_json
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
    # boundaries are read only for files given on the command line (validation needs them)
    areas = areas_for(args) if args.incidents or args.sightings else None
    incidents, skipped = incidents_source(args, areas, geometry=False)
    if args.days:
        incidents = filter_incidents(incidents, days=args.days, start_month=args.season_start_month)
    table = sightings = latest = None
    if args.sightings:
        from geo.movements import border_crossings, crossings_near_incidents, trips, vehicle_points

        sightings, skipped_reads = load_accepted(args.sightings, "sightings", areas, "sightings")
        skipped += skipped_reads
        points = trips(vehicle_points(incidents, sightings), max_gap_h=args.max_gap_h)
        crossings = crossings_near_incidents(border_crossings(points, max_gap_h=args.max_gap_h), incidents,
                                             window_h=args.window_h)
    else:
        crossings = None
        with progress("offenders", ["scanning stored ANPR reads for border crossings"]) as step:
            table, latest = _offenders_from_store(args, incidents)
            step()
    if table is None:
        if args.season:
            incidents = filter_incidents(incidents, season=args.season, start_month=args.season_start_month)
        table = ladder(incidents, start_month=args.season_start_month, crossings=crossings)
    if args.season:
        table = table[table["season"] == args.season]
    if args.format != "csv":
        table = _with_actions(args, table, incidents, sightings, latest)
    table = _mask_offenders(table, args.mask)
    if args.format == "csv":
        from geo.io.export import to_safe_csv

        sys.stdout.write(to_safe_csv(offenders_to_frame(table)).decode("utf-8-sig"))
    else:
        emit(args, offenders_to_json(table), _offenders_text)
    return EXIT_REJECTS if skipped else EXIT_OK


def _offenders_from_store(args, incidents):
    """(ladder, latest reads): the ladder with crossings scanned from the store's sightings by
    the chosen engine, and the latest read of each scanned plate when the scan gave them
    (embedded engine, no season; else None). (None, None) when the store holds no
    sightings (then the ladder has no crossings)."""
    from geo.io.store.read import stored_rows

    data_dir = settings_from(args).data_dir
    if not stored_rows(data_dir, "sightings"):
        if args.engine == "dask":
            err(f"offenders: no sightings stored in {data_dir}; ladder without crossings")
        return None, None
    opts = dict(season=args.season, start_month=args.season_start_month, max_gap_h=args.max_gap_h,
                window_h=args.window_h, all_plates=args.all_plates)
    if args.engine == "dask":
        from geo.engines.dask import dask_client, offenders_dask

        where = args.scheduler or f"a local cluster of {args.workers} worker(s)"
        err(f"offenders: scanning crossings in {data_dir} with dask on {where}")
        with dask_client(args.scheduler, n_workers=args.workers) as client:
            return offenders_dask(incidents, data_dir, client=client, **opts), None
    from geo.engines.duckdb import offenders_and_latest_reads

    return offenders_and_latest_reads(incidents, data_dir=data_dir, **opts)


def _with_actions(args, table, incidents, sightings, scanned=None):
    """The ladder with the actions on record, the next lawful action and the gaps
    (:func:`geo.casework.actions.ladder_with_actions`); "now in" from the latest ANPR read
    (``sightings``: the ``--sightings`` FILE's reads; else the store's, taken from
    ``scanned`` where the store scan gave them) or incident."""
    from geo.casework.actions import ladder_with_actions, latest_positions
    from geo.io.interactions import read_interactions

    data_dir = settings_from(args).data_dir
    reads = sightings
    if reads is None:
        plates = table.loc[table["kind"] == "vehicle", "subject"].astype(str)
        reads = _latest_reads(data_dir, plates, scanned)
    now_in = latest_positions(incidents, reads)
    return ladder_with_actions(table, read_interactions(data_dir), incidents=incidents,
                               now_in=now_in, start_month=args.season_start_month)


def _latest_reads(data_dir, plates, scanned):
    """Latest stored read of each of ``plates``: from ``scanned`` (the store scan's
    :class:`geo.engines.duckdb.LatestReads`, if any) and, for plates it did not cover, from the
    store."""
    import pandas as pd

    from geo.engines.casework import latest_reads_store

    if scanned is None:
        return latest_reads_store(data_dir, plates)
    wanted = pd.Index(plates.unique())
    have = scanned.reads[scanned.reads["vrm"].isin(wanted)]
    if scanned.plates is None:
        return have.reset_index(drop=True)
    missing = wanted.difference(pd.Index(sorted(scanned.plates)))
    if missing.empty:
        return have.reset_index(drop=True)
    return pd.concat([have, latest_reads_store(data_dir, missing)], ignore_index=True)

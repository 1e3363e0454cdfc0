"""``harewatch validate``, ``harewatch ingest`` and ``harewatch cameras``."""

from __future__ import annotations

import json

from geo.cli._common import areas_for, err, settings_from


def _check(args, areas, kind: str | None, layout_refines: bool = False,
           geometry: bool = True):
    """Read and validate ``args.file`` (with the store's camera register for ANPR reads)."""
    from geo.io.cameras import read_cameras
    from geo.pipeline.ingest import check_file

    settings = settings_from(args)
    cameras = read_cameras(settings.data_dir)
    check = check_file(args.file, areas, kind=kind, cameras=cameras, settings=settings,
                       layout_refines=layout_refines, geometry=geometry)
    if check.read_as:
        err(f"{args.file}: read as {check.read_as}")
    return check


def _print_text(path: str, kind: str, report: dict) -> None:
    print(f"{path} ({kind}): {report['rows']} rows, {report['accepted']} accepted, "
          f"{report['rejected']} rejected, {report.get('duplicates_collapsed', 0)} exact repeats "
          "collapsed")
    for r in report["rejects"]:
        print(f"  row {r['row']}" + (f" [{r['id']}]" if r["id"] else "") + f": {r['reason']}")
    for force, n in report["by_force"].items():
        print(f"  {force}: {n}")
    if report.get("force_mismatches"):
        print(f"  {report['force_mismatches']} row(s) reported by another force than the one "
              "their location lies in")
    if report.get("nearest_force"):
        print(f"  {report['nearest_force']} row(s) just off the coast given the nearest force")
    precision = report.get("time_precision") or {}
    if precision.get("month"):
        print(f"  {precision['month']} row(s) give a month only (no day or hour)")
    for note in report.get("notes", []):
        print(f"  note: {note}")


def _say_nothing_usable(path: str, result) -> None:
    from geo.pipeline.ingest import top_reasons

    if result.rows == 0:
        err(f"harewatch: {path}: no data rows (only a header); nothing usable")
        return
    first = result.rejects.iloc[0]
    reasons = "; ".join(f"{reason} ({n})" for reason, n in top_reasons(result))
    err(f"harewatch: {path}: no row accepted: all {result.rows} rows rejected (row "
        f"{int(first['row'])}: {first['reason']}); commonest reasons: {reasons}")


def cmd_validate(args) -> int:
    from geo.pipeline.ingest import EXIT_UNUSABLE, exit_code

    check = _check(args, areas_for(args), args.kind)
    if not check.ok:
        err(f"harewatch: {check.error}")
        return EXIT_UNUSABLE
    report = check.result.to_report()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        _print_text(args.file, check.kind, report)
    code = exit_code(check.result)
    if code == EXIT_UNUSABLE:
        _say_nothing_usable(args.file, check.result)
    return code


def cmd_ingest(args) -> int:
    from geo.pipeline.ingest import EXIT_UNUSABLE, exit_code, ingest_check

    kind = None if args.kind_arg == "auto" else args.kind_arg
    check = _check(args, areas_for(args), kind, layout_refines=True,
                   geometry=False)  # the store keeps easting/northing, not the geometry
    if not check.ok:
        err(f"harewatch: {check.error}")
        return EXIT_UNUSABLE
    code = exit_code(check.result)
    if code == EXIT_UNUSABLE:
        _say_nothing_usable(args.file, check.result)
        return code
    summary = ingest_check(check, settings_from(args).data_dir)
    print(json.dumps(summary, default=str, ensure_ascii=False))
    if check.result.n_rejected:
        err(f"harewatch: {check.result.n_rejected} of {check.result.rows} rows of {args.file} "
            f"rejected: reasons in the rejects file {summary.get('rejects_path')} (or run "
            f"'harewatch validate {args.file}')")
    return code


def cmd_cameras_import(args) -> int:
    from geo.io.cameras import import_cameras
    from geo.io.readers import read_table
    from geo.pipeline.ingest import EXIT_UNUSABLE, exit_code
    from geo.validate.cameras import validate_cameras

    settings = settings_from(args)
    result = validate_cameras(read_table(args.file, limits=settings), areas_for(args),
                              settings=settings)
    code = exit_code(result)
    if code == EXIT_UNUSABLE:
        _say_nothing_usable(args.file, result)
        return code
    report = import_cameras(result, settings.data_dir)
    print(json.dumps({"rows": result.rows, "accepted": result.n_accepted,
                      "rejected": result.n_rejected, "rejects": result.to_report()["rejects"],
                      **report.to_dict()}, ensure_ascii=False))
    return code


def cmd_cameras_show(args) -> int:
    from geo.io.cameras import read_cameras

    cameras = read_cameras(settings_from(args).data_dir)
    if cameras is None:
        err("no camera register in the store: import one with 'harewatch cameras import FILE'")
        return 0
    cols = ["camera_id", "camera_name", "easting", "northing", "force"]
    if args.format == "json":
        print(cameras[cols].to_json(orient="records", force_ascii=False))
    else:
        print(cameras[cols].to_string(index=False))
    return 0

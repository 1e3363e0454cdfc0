"""``harewatch validate``, ``harewatch ingest`` and ``harewatch cameras``."""

from __future__ import annotations

import json

from geo.cli._common import areas_for, emit, err, progress, settings_from


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


def _report_text(path: str, kind: str, report: dict) -> str:
    lines = [f"{path} ({kind}): {report['rows']} rows, {report['accepted']} accepted, "
             f"{report['rejected']} rejected, {report.get('duplicates_collapsed', 0)} exact repeats "
             "collapsed"]
    lines += [f"  row {r['row']}" + (f" [{r['id']}]" if r["id"] else "") + f": {r['reason']}"
              for r in report["rejects"]]
    lines += [f"  {force}: {n}" for force, n in report["by_force"].items()]
    if report.get("force_mismatches"):
        lines.append(f"  {report['force_mismatches']} row(s) reported by another force than the one "
                     "their location lies in")
    if report.get("nearest_force"):
        lines.append(f"  {report['nearest_force']} row(s) just off the coast given the nearest force")
    precision = report.get("time_precision") or {}
    if precision.get("month"):
        lines.append(f"  {precision['month']} row(s) give a month only (no day or hour)")
    lines += [f"  note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


def _ingest_text(path: str, summary: dict) -> str:
    return (f"{path} ({summary['kind']}, read as {summary['read_as']}): {summary['rows_added']} row(s) "
            f"added to the store, {summary['rows_already_stored']} already there, "
            f"{summary['rejected']} rejected" + (" · synthetic demo data" if summary.get("synthetic") else ""))


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

    with progress("validate", ["reading and checking every row"]) as step:
        check = _check(args, areas_for(args), args.kind)
        step()
    if not check.ok:
        err(f"harewatch: {check.error}")
        return EXIT_UNUSABLE
    emit(args, check.result.to_report(), lambda r: _report_text(args.file, check.kind, r))
    code = exit_code(check.result)
    if code == EXIT_UNUSABLE:
        _say_nothing_usable(args.file, check.result)
    return code


def cmd_ingest(args) -> int:
    from geo.pipeline.ingest import EXIT_UNUSABLE, exit_code, ingest_check

    kind = None if args.kind_arg == "auto" else args.kind_arg
    with progress("ingest", ["reading and checking every row", "writing to the store"]) as step:
        check = _check(args, areas_for(args), kind, layout_refines=True,
                       geometry=False)  # the store keeps easting/northing, not the geometry
        step()
        if not check.ok:
            err(f"harewatch: {check.error}")
            return EXIT_UNUSABLE
        code = exit_code(check.result)
        if code == EXIT_UNUSABLE:
            _say_nothing_usable(args.file, check.result)
            return code
        summary = ingest_check(check, settings_from(args).data_dir)
        step()
    emit(args, summary, lambda s: _ingest_text(args.file, s))
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
    payload = {"rows": result.rows, "accepted": result.n_accepted, "rejected": result.n_rejected,
               "rejects": result.to_report()["rejects"], **report.to_dict()}
    emit(args, payload, lambda p: f"{args.file}: {p['rows']} camera row(s), {p['accepted']} accepted, "
                                  f"{p['rejected']} rejected; register updated in the store")
    return code


def cmd_cameras_show(args) -> int:
    from geo.io.cameras import read_cameras

    cameras = read_cameras(settings_from(args).data_dir)
    if cameras is None:
        err("no camera register in the store: import one with 'harewatch cameras import FILE'")
        return 0
    cols = ["camera_id", "camera_name", "easting", "northing", "force"]
    emit(args, json.loads(cameras[cols].to_json(orient="records", force_ascii=False)),
         lambda _: cameras[cols].to_string(index=False))
    return 0

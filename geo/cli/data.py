"""``harewatch validate`` and ``harewatch ingest``.
"""

from __future__ import annotations

import json

from geo.cli._common import (
    EXIT_UNREADABLE,
    areas_for,
    err,
    exit_for,
    nothing_usable,
    settings_from,
    validate_path,
)


def cmd_validate(args) -> int:
    areas = areas_for(args)
    kind, result = validate_path(args.file, args.kind, areas)
    report = result.to_report()
    if args.format == "json":
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{args.file} ({kind}): {report['rows']} rows, {report['accepted']} accepted, "
              f"{report['rejected']} rejected")
        for r in report["rejects"]:
            print(f"  row {r['row']}" + (f" [{r['id']}]" if r["id"] else "") + f": {r['reason']}")
        for force, n in report["by_force"].items():
            print(f"  {force}: {n}")
    code = exit_for(result)
    if code == EXIT_UNREADABLE:
        err(nothing_usable(args.file, result))
    return code


def cmd_ingest(args) -> int:
    """Validate a file and store its accepted rows in one commit.

    Exit 0 when every row was stored (or already was), 1 when some rows were
    rejected (the rest stored; reasons in the rejects CSV named in the
    output), 2 when no row was usable or the store could not be written
    (the message names the file or the store).
    """
    from geo.io.store.write import ingest

    areas = areas_for(args)
    _, result = validate_path(args.file, args.kind, areas)
    report = ingest(result, settings_from(args).data_dir)
    print(json.dumps({"rows": result.rows, "accepted": result.n_accepted,
                      "rejected": result.n_rejected, **report.to_dict()},
                     default=str, ensure_ascii=False))
    code = exit_for(result)
    if code == EXIT_UNREADABLE:
        err(nothing_usable(args.file, result))
    elif result.n_rejected:
        err(f"harewatch: {result.n_rejected} of {result.rows} rows of {args.file} rejected, "
            f"the rest stored; rows and reasons in {report.rejects_path}")
    return code

"""``harewatch validate`` and ``harewatch ingest``.
"""

from __future__ import annotations

import json
from pathlib import Path

from geo.cli._common import (
    EXIT_OK,
    EXIT_REJECTS,
    areas_for,
    as_dict,
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
    return EXIT_REJECTS if result.n_rejected else EXIT_OK


def cmd_ingest(args) -> int:
    from geo.io.store.layout import default_data_dir
    from geo.io.store.write import ingest

    areas = areas_for(args)
    _, result = validate_path(args.file, args.kind, areas)
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    report = ingest(result, data_dir)
    print(json.dumps({"rows": result.rows, "accepted": result.n_accepted, "rejected": result.n_rejected,
                      **as_dict(report)}, default=str, ensure_ascii=False))
    return EXIT_OK

"""``harewatch plan``: where to put patrol crews for a days/hours window, with its backtest.
"""

from __future__ import annotations

import argparse
import json
import sys

from geo.cli._common import (
    EXIT_OK,
    EXIT_REJECTS,
    areas_for,
    boundaries_opt,
    check_forces,
    data_dir_opt,
    err,
    incidents_source,
)

__all__ = ["add_plan_parser", "cmd_plan"]


def add_plan_parser(sub, start_month_default: int) -> argparse.ArgumentParser:
    """The ``plan`` sub-command's options (every one says its default)."""
    p = sub.add_parser(
        "plan",
        help="where to put N patrol crews for a days/hours window (maximal covering), with a backtest",
        description="Place --crews circles of --radius-m metres where the recency-weighted window "
                    "incidents are, and score the same method on past seasons against last season's "
                    "biggest hotspots and density peaks. Method: geo/planning.py.",
    )
    p.add_argument("--crews", type=int, default=3, metavar="N",
                   help="number of crews (circles) to place, 1-1000 (default: 3)")
    p.add_argument("--radius-m", type=float, default=3000.0, metavar="R",
                   help="patrol circle radius in metres (default: 3000)")
    p.add_argument("--days", metavar="DAYS",
                   help="days of the week, e.g. 'fri,sat' or 'fri-sun'; a night that starts on Friday "
                        "evening belongs to Friday (default: every day)")
    p.add_argument("--hours", metavar="HH-HH",
                   help="UK clock hours, start included, end excluded, e.g. '18-02' across midnight "
                        "(default: all day)")
    p.add_argument("--force", nargs="+", metavar="NAME",
                   help="forces crews may be placed in, as police write them (Essex, Essex Police, "
                        "E23000028); demand still comes from every force (default: the seven)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--season", metavar="SEASON",
                      help="plan for this season (e.g. 2024-25) with what was known at its start "
                           "(default: plan as of the day after the latest incident)")
    when.add_argument("--as-of", metavar="DATE",
                      help="plan with only incidents before this date or time, UK clock, e.g. "
                           "2023-11-01 (default: the day after the latest incident)")
    p.add_argument("--season-start-month", type=int, default=start_month_default,
                   choices=range(1, 13), metavar="1-12",
                   help=f"month a coursing season starts in (default: {start_month_default})")
    p.add_argument("--incidents", metavar="FILE",
                   help="incidents file (default: the store)")
    p.add_argument("--crime-type", action="append", metavar="TYPE",
                   help="use only this crime type (repeatable), e.g. 'Anti-social behaviour' "
                        "(default: every crime type)")
    data_dir_opt(p)
    boundaries_opt(p)
    p.add_argument("--format", choices=["json", "text", "geojson", "csv"], default="json",
                   help="json: params, areas and backtest; geojson: the circles (with params and "
                        "backtest as extra members); csv: the areas table (default: json)")
    p.set_defaults(func=cmd_plan)
    return p


def cmd_plan(args) -> int:
    from geo.planning import parse_window, plan_as_of, plan_to_json, plan_with_backtest

    parse_window(args.days, args.hours)  # bad input fails before any data is read
    as_of = plan_as_of(season=args.season, as_of=args.as_of, start_month=args.season_start_month)
    areas = areas_for(args)
    forces = check_forces(args.force, areas) or list(areas.names)
    incidents, skipped = incidents_source(args, areas)
    result, table = plan_with_backtest(
        incidents, as_of=as_of, crews=args.crews, radius_m=args.radius_m, days=args.days,
        hours=args.hours, forces=forces, areas=areas, start_month=args.season_start_month,
    )
    doc = plan_to_json(result, table)
    _say(doc)
    sys.stdout.write(_render(args.format, result, doc))
    return EXIT_REJECTS if skipped else EXIT_OK


def _render(fmt: str, result, doc: dict) -> str:
    from geo.planning import plan_to_frame, plan_to_geojson

    if fmt == "json":
        return json.dumps(doc, ensure_ascii=False) + "\n"
    if fmt == "text":
        lines = [f"#{a['rank']} {a['lat']:.4f}, {a['lon']:.4f} (E {a['easting']:.0f} N "
                 f"{a['northing']:.0f}), {a['radius_m']:.0f} m, {', '.join(a['forces'])}: "
                 f"{a['expected_incidents']:.1f} expected; {a['why']}" for a in doc["areas"]]
        return "\n".join([f"{len(lines)} crew area(s)", *lines, doc["backtest"]["sentence"]]) + "\n"
    if fmt == "geojson":
        extra = {k: doc[k] for k in ("params", "excluded", "backtest")}
        return json.dumps({**plan_to_geojson(result), **extra}, ensure_ascii=False) + "\n"
    from geo.io.export import to_safe_csv

    return to_safe_csv(plan_to_frame(result)).decode("utf-8-sig")


def _say(doc: dict) -> None:
    """The plan in a few lines for people (stderr)."""
    p, ex = doc["params"], doc["excluded"]
    err(f"plan: {p['crews_placed']} of {p['crews']} crews placed, {p['window']}, "
        f"{p['n_used']:,} incidents used, as of {p['as_of']}")
    left_out = [f"{ex[k]:,} {label}" for k, label in
                (("month_only", "with a month-only date"), ("day_only", "with a date but no time"),
                 ("missing_time", "with no time")) if ex.get(k)]
    if left_out:
        err("plan: left out " + ", ".join(left_out) + " (can't be placed in the window)")
    err(f"backtest: {doc['backtest']['sentence']}")

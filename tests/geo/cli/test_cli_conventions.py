"""Issue 13: one output convention, help with defaults, --days/--hours, --mask, progress off when piped."""

from __future__ import annotations

import argparse
import json

import pytest

from geo.cli import build_parser, main
from tests.geo.cli.test_cli import incidents_csv  # noqa: F401  (fixture)


def _parsers(p: argparse.ArgumentParser, path: str = "harewatch"):
    yield path, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sp in action.choices.items():
                yield from _parsers(sp, f"{path} {name}")


def test_every_option_has_help_and_every_command_the_same_format_default():
    leaf = 0
    for path, p in _parsers(build_parser()):
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction | argparse._HelpAction | argparse._VersionAction):
                continue
            assert a.help, f"{path} {a.option_strings or a.dest}: no help"
        fmt = [a for a in p._actions if "--format" in a.option_strings]
        if fmt:
            leaf += 1
            assert fmt[0].default == "json" and {"json", "text"} <= set(fmt[0].choices), path
        if "(default: 9)" not in p.format_help() and any("--season-start-month" in a.option_strings
                                                         for a in p._actions):
            pytest.fail(f"{path}: the default is not shown in --help")
    assert leaf >= 10


def test_hotspots_days_and_hours_and_text_output(incidents_csv, boundaries_path, capsys):  # noqa: F811
    base = ["hotspots", "--incidents", str(incidents_csv), "--eps-m", "500", "--boundaries", str(boundaries_path)]
    # C0..C6 are 1-7 Oct 2021 at 20:00 London (1 Oct 2021 was a Friday); N1 is Fri 5 Nov, 06:30
    # exit 1 throughout: the file's two bad rows are skipped (README, "Exit codes")
    assert main([*base, "--min-samples", "2", "--days", "fri,sat"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["params"]["n_incidents"] == 3 and [h["n"] for h in out["hotspots"]] == [2]
    assert main([*base, "--min-samples", "2", "--days", "fri", "--hours", "21-4"]) == 1
    assert json.loads(capsys.readouterr().out)["params"]["n_incidents"] == 0  # 20:00 is outside 21-04
    assert main([*base, "--min-samples", "5", "--format", "text"]) == 1
    text = capsys.readouterr().out
    assert text.startswith("1 hotspot(s)") and "#1" in text and " TL " in text
    with pytest.raises(SystemExit):
        main([*base, "--days", "funday"])


def test_offenders_mask_and_text(incidents_csv, boundaries_path, capsys):  # noqa: F811
    base = ["offenders", "--incidents", str(incidents_csv), "--season", "2021-22",
            "--boundaries", str(boundaries_path)]
    assert main([*base, "--mask"]) == 1  # the file's two bad rows are skipped
    out = capsys.readouterr().out
    assert "AB12CDE" not in out and "AB12 C**" in json.loads(out)["offenders"][0]["subject"]
    assert main([*base, "--mask", "--format", "csv"]) == 1
    assert "AB12CDE" not in capsys.readouterr().out
    assert main([*base, "--format", "text"]) == 1
    assert "AB12CDE" in capsys.readouterr().out  # not masked unless asked


def test_validate_ingest_demo_speak_json_by_default_and_text_on_request(incidents_csv, boundaries_path,  # noqa: F811
                                                                        tmp_path, capsys):
    b = ["--boundaries", str(boundaries_path)]
    assert main(["validate", str(incidents_csv), *b]) == 1
    assert json.loads(capsys.readouterr().out)["rejected"] == 2  # JSON by default, as README says
    assert main(["validate", str(incidents_csv), "--format", "text", *b]) == 1
    assert capsys.readouterr().out.startswith(f"{incidents_csv} (incidents): 12 rows")
    store = tmp_path / "s"
    assert main(["ingest", "incidents", str(incidents_csv), "--data-dir", str(store), "--format", "text", *b]) == 1
    cap = capsys.readouterr()
    assert "10 row(s) added to the store" in cap.out
    assert "\r" not in cap.err  # no progress bar when stderr is not a terminal
    assert main(["demo", "--out", str(tmp_path / "d"), "--format", "text", *b]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("incidents: ")


def test_text_hotspots_of_month_only_rows_say_not_known_once(tmp_path, boundaries_path, capsys):
    """A data.police.uk street file has months only: no busiest weekday or hour to give."""
    street = tmp_path / "street.csv"
    street.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
        "Crime type,Last outcome category,Context\n"
        ",2024-10,Essex Police,Essex Police,0.7023,51.7355,On or near Maldon Road,,,Anti-social behaviour,,\n"
        ",2024-10,Essex Police,Essex Police,0.7040,51.7360,On or near Mill Road,,,Anti-social behaviour,,\n",
        encoding="utf-8")
    assert main(["hotspots", "--incidents", str(street), "--boundaries", str(boundaries_path),
                 "--min-samples", "2", "--no-significance", "--format", "text"]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert line.endswith("(Essex; busiest not known (month-only dates))")

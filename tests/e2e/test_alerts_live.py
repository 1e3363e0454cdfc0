"""Live alerts end to end: a read file lands, the watcher raises an alert, the open page shows it.

A dashboard server runs on a temporary store holding two hand-made incidents
(HR21ABC warned in Norfolk this season). The Live alerts page is opened with
masking on; then ``harewatch watch`` is started as a subprocess and a small
reads CSV is dropped into its incoming folder (written elsewhere, then
renamed in). The alert row must appear on the page by itself: no reload, no
click. Timings are printed, not asserted (see benchmarks/bench_alert_latency.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    ARTIFACTS,
    REPO,
    Server,
    _boundaries_path,
    screenshot,
    start_streamlit,
    stop,
)

pytestmark = pytest.mark.browser

WAIT_MS = 60_000  # generous: watcher start-up (imports, boundaries) + first scan on a busy machine
PLATE = "HR21ABC"
MASKED = "HR21 A**"
XSS = "<img src=x onerror=alert(1)>"


def harewatch_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("harewatch")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "geo.cli"]


def season_now() -> tuple[pd.Timestamp, pd.Timestamp]:
    """(an incident time early in the current season, a read time a few minutes ago), UTC."""
    from geo.seasons import season_bounds, season_of

    now = pd.Timestamp.now(tz="UTC").floor("s")
    start, _ = season_bounds(season_of(pd.Series([now]), 9).iloc[0], 9)
    warned = start + (now - start) / 3
    return warned.floor("min"), now - pd.Timedelta(minutes=3)


def make_store(store: Path) -> pd.Timestamp:
    """Two incidents this season: HR21ABC in Norfolk (warned), another plate in Suffolk."""
    from geo.io.boundaries import read_boundaries
    from geo.io.store.write import ingest
    from geo.validate.incidents import validate_incidents

    warned, read_at = season_now()
    raw = pd.DataFrame({
        "incident_id": ["E2E-N1", "E2E-S1"],
        "occurred_at": [warned.isoformat(), (warned + pd.Timedelta(days=1)).isoformat()],
        "lat": ["52.63", "52.24"],  # west of Norwich (Norfolk); near Stowmarket (Suffolk)
        "lon": ["1.10", "0.99"],
        "vrms": [PLATE, "QQ70XYZ"],
    })
    res = validate_incidents(raw, read_boundaries(_boundaries_path()))
    assert res.n_accepted == 2, res.rejects
    ingest(res, store)
    return read_at


def reads_csv(read_at: pd.Timestamp) -> str:
    """HR21ABC read in Cambridge (another force: one alert) among innocent reads."""
    rows = [
        ("ZZ11AAA", read_at - pd.Timedelta(minutes=5), 52.2053, 0.1218, "CAM-C1"),
        (PLATE, read_at, 52.2053, 0.1218, XSS),  # hostile camera id: shown as text
        ("ZZ22BBB", read_at, 51.7356, 0.4685, "CAM-E7"),
    ]
    lines = ["vrm,read_at,lat,lon,camera_id"]
    lines += [f"{v},{t.isoformat()},{la},{lo},\"{c}\"" for v, t, la, lo, c in rows]
    return "\n".join(lines) + "\n"


def drop(text: str, incoming: Path, name: str) -> float:
    """Write ``text`` next to ``incoming`` then rename it in (atomic); the rename's perf_counter."""
    staging = incoming.parent / "staging"
    staging.mkdir(exist_ok=True)
    tmp = staging / name
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, incoming / name)
    return time.perf_counter()


@pytest.fixture
def alerts_server(tmp_path) -> Iterator[Server]:
    store = tmp_path / "store"
    read_at = make_store(store)
    srv = start_streamlit(
        REPO / "dashboard" / "app.py", "alerts",
        {"HAREWATCH_BOUNDARIES": str(_boundaries_path()), "HAREWATCH_DATA_DIR": str(store)},
    )
    srv.extra.update(store=store, read_at=read_at, incoming=tmp_path / "incoming")
    (tmp_path / "incoming").mkdir()
    yield srv
    stop(srv.proc)


@pytest.fixture
def watcher(alerts_server) -> Iterator[dict]:
    """Starts ``harewatch watch`` on demand (``start()``); stopped at teardown."""
    state: dict = {"proc": None, "log": ARTIFACTS / "watch-e2e.log"}

    def start() -> subprocess.Popen:
        cmd = [*harewatch_cmd(), "watch", "--incoming", str(alerts_server.extra["incoming"]),
               "--data-dir", str(alerts_server.extra["store"]), "--boundaries", str(_boundaries_path()),
               "--poll-s", "0.5"]
        env = {**os.environ, "HAREWATCH_NO_FETCH": "1", "PYTHONUNBUFFERED": "1"}
        with open(state["log"], "w") as fh:
            state["proc"] = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=fh, stderr=subprocess.STDOUT)
        return state["proc"]

    state["start"] = start
    yield state
    if state["proc"] is not None:
        stop(state["proc"])


def _cells(page, text: str):
    return page.get_by_test_id("stDataFrame").locator("td[role=gridcell]", has_text=text)


def _metric_value(page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def test_alert_appears_on_the_open_page_without_reload(page, alerts_server, watcher, watch):
    page.goto(alerts_server.url + "/alerts?redact=1")
    expect(page.get_by_role("heading", level=1).first).to_have_text("Live alerts", timeout=WAIT_MS)
    expect(page.get_by_test_id("stAlert").filter(has_text="No alerts yet")).to_be_visible(timeout=WAIT_MS)
    page.evaluate("() => { window.__hwSamePage = true; }")  # gone if the page reloads

    proc = watcher["start"]()
    t_drop = drop(reads_csv(alerts_server.extra["read_at"]), alerts_server.extra["incoming"],
                  "reads-0001.csv")
    try:
        expect(_cells(page, MASKED)).to_have_count(1, timeout=WAIT_MS)
    except AssertionError:
        log = watcher["log"].read_text()[-3000:] if watcher["log"].exists() else ""
        screenshot(page, "alerts_live_failed")
        raise AssertionError(f"no alert row; watcher rc={proc.poll()}; log tail:\n{log}") from None
    seen_s = time.perf_counter() - t_drop
    assert page.evaluate("() => window.__hwSamePage === true"), "the page reloaded"

    expect(_metric_value(page, "Shown")).to_have_text("1")
    expect(_cells(page, "Cambridgeshire")).to_have_count(1)  # now in
    expect(_cells(page, "Norfolk")).to_have_count(1)  # warned in
    expect(_cells(page, XSS)).to_have_count(1)  # the hostile camera id, as text
    assert PLATE not in page.content()  # masked everywhere, the grid's text included
    print(f"\n[alerts] file renamed in -> alert row on the page in {seen_s:.2f} s "
          "(watcher start-up included)")
    page.wait_for_timeout(300)
    screenshot(page, "alerts_live")
    assert watch.dialogs == []
    assert watch.hosts <= {"127.0.0.1"}, sorted(watch.hosts)
    assert not watch.errors, watch.errors
    expect(page.get_by_test_id("stException")).to_have_count(0)

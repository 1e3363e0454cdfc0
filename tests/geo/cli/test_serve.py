"""``harewatch dashboard`` stops cleanly: the signal reaches the server, nothing is left behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.network
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=["SIGTERM", "SIGINT", "SIGKILL-of-the-cli"])
def test_dashboard_stops_with_its_server(tmp_path, boundaries_path, signum):
    port = _free_port()
    server: list[psutil.Process] = []
    cli = subprocess.Popen(
        [sys.executable, "-m", "geo.cli", "dashboard", "--headless", "--port", str(port),
         "--data-dir", str(tmp_path / "store"), "--boundaries", str(boundaries_path)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not _listening(port):
            assert cli.poll() is None, "the dashboard command stopped before serving"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        server += psutil.Process(cli.pid).children(recursive=True)
        assert server, "the server runs as a child process"
        cli.send_signal(signum)
        code = cli.wait(timeout=60)
        gone, alive = psutil.wait_procs(server, timeout=30)
        assert alive == [], f"left running: {alive}"
        assert code == (-signal.SIGKILL if signum == signal.SIGKILL else 0)
        assert not _listening(port)
    finally:  # whatever happened, end the processes this test started
        if cli.poll() is None:
            cli.kill()
        for p in server:
            if p.is_running():
                p.kill()

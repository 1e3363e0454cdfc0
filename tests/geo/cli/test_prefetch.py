"""``prefetch``: modules imported on a background thread, failures left to the caller."""

from __future__ import annotations

import sys

from geo.cli._common import prefetch


def test_prefetch_imports_the_modules(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    prefetch("colorsys").join(timeout=30)
    assert "colorsys" in sys.modules


def test_a_module_that_cannot_be_imported_is_left_for_the_command(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    thread = prefetch("harewatch_no_such_module", "colorsys")
    thread.join(timeout=30)
    assert not thread.is_alive()  # no exception escaped, and it stopped at the failure
    assert "harewatch_no_such_module" not in sys.modules and "colorsys" not in sys.modules

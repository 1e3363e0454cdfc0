"""Helpers shared by the AppTest tests (``streamlit.testing.v1``, no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TIMEOUT_S = 180


def new_app(**query: str) -> AppTest:
    """The dashboard (``dashboard/app.py``) with these query parameters, not yet run."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    for k, v in query.items():
        at.query_params[k] = v
    return at


def run_page(at: AppTest, page: str) -> AppTest:
    """Switch to ``app_pages/<page>.py`` and run it; fails on any exception."""
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled ``label``."""
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return values[0]


def as_int(text: str) -> int:
    return int(text.replace(",", ""))


def frame_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table shown (dataframe or static table) that has these columns."""
    for df in at.dataframe:
        if all(c in df.value.columns for c in columns):
            return df.value
    for table in at.table:  # st.table text is Markdown-escaped: compare unescaped
        value = table.value.rename(columns=lambda c: str(c).replace("\\", ""))
        if all(c in value.columns for c in columns):
            return value.map(lambda v: v.replace("\\", "") if isinstance(v, str) else v)
    raise AssertionError(f"no dataframe with columns {columns}")


def rendered_bytes(at: AppTest) -> bytes:
    """Every element's protobuf (text, tables as Arrow bytes), main area and sidebar."""

    def walk(node) -> Iterator[bytes]:
        proto = getattr(node, "proto", None)
        if proto is not None:
            yield proto.SerializeToString()
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    return b"\n".join([*walk(at.main), *walk(at.sidebar)])

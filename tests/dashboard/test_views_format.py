"""dashboard.views.format: Markdown escaping of data text and tables."""

from __future__ import annotations

import re

import pandas as pd


def test_md_escape_neutralises_markdown_and_html():
    from dashboard.views.format import md_escape

    out = md_escape("**bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)> $x$")
    assert not re.search(r"(?<!\\)[*\[\]()<>$]", out), out  # every special character escaped
    assert md_escape("line1\nline2") == "line1 line2"


def test_static_tables_escape_markdown_in_cells_and_headers():
    from dashboard.views.format import md_safe_frame

    df = pd.DataFrame({"[h](http://x)": ["[click](javascript:alert(1))", None], "n": [1, 2]})
    out = md_safe_frame(df)
    assert list(out.columns) == [r"\[h\]\(http\://x\)", "n"]
    assert out.iloc[0, 0].startswith("\\[click\\]")
    assert out["n"].tolist() == [1, 2]
    assert pd.isna(out.iloc[1, 0])

"""Escaping for the map: data strings into HTML, values into JavaScript.

Every string that comes from data (ids, plates, notes, force names, camera
ids) goes through :func:`escape_html` / :func:`escape_series` before it
reaches a popup, tooltip, label or the legend; every value embedded in
JavaScript goes through :func:`js_json` (``<`` and ``>`` escaped), so a note
such as ``<img src=x onerror=alert(1)>`` shows as text and can never close a
``<script>``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["escape_html", "escape_series", "js_json"]

_ESCAPES = [
    ("&", "&amp;"),
    ("<", "&lt;"),
    (">", "&gt;"),
    ('"', "&quot;"),
    ("'", "&#x27;"),
    # folium's Popup/Tooltip put their HTML inside JS template literals:
    ("`", "&#96;"),
    ("$", "&#36;"),
    ("\\", "&#92;"),
]
_SPECIAL = "[" + re.escape("".join(a for a, _ in _ESCAPES)) + "]"

# --------------------------------------------------------------------------- #
# escaping
# --------------------------------------------------------------------------- #
def escape_html(value: Any) -> str:
    """HTML-escape one value for any HTML context (text or quoted attribute).

    Also escapes the backtick, ``$`` and backslash so the result is inert even
    inside a JavaScript template literal (folium's ``Popup``/``Tooltip``).
    ``None``/NaN give ``""``.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    s = str(value)
    for a, b in _ESCAPES:
        s = s.replace(a, b)
    return s


def escape_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`escape_html` of a Series (missing values -> ``""``)."""
    s = values.astype(object).where(values.notna(), "").astype(str)
    dirty = s.str.contains(_SPECIAL, regex=True).to_numpy(dtype=bool)
    if not dirty.any():
        return s
    part = s[dirty]
    for a, b in _ESCAPES:
        part = part.str.replace(a, b, regex=False)
    s = s.copy()
    s[dirty] = part
    return s


def js_json(obj: Any) -> str:
    """JSON for embedding in a <script>: ``<``/``>`` and line separators escaped."""
    return (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


"""Pure view helpers: frames in, display frames and plain text out.

One module per page (``map``, ``hotspots``, ``hoppers``, ``alerts``,
``trends``, ``data``, ``briefing``) plus :mod:`~dashboard.views.format` for
the text formatting they share. Nothing here imports Streamlit or
``dashboard.cache``: every helper is unit-tested with plain frames
(``tests/dashboard/test_views_*.py``). Drawing lives in
:mod:`dashboard.widgets`, data loading in :mod:`dashboard.context`.
Masking is ``geo.privacy``'s one policy (:func:`geo.privacy.mask_frame`).
"""

"""Casework across the seven forces (issue 16): who was done what, by whom, and what next.

Modules (import them directly; this package imports nothing heavy):

- :mod:`geo.casework.interactions`: the interactions register (warnings,
  Community Protection Warnings and Notices, dispersals, seizures, arrests,
  charges, convictions): validation of imported rows.
- :mod:`geo.io.interactions` (I/O layer): the register in the store
  (``<data_dir>/interactions/season=<label>/part-*.parquet``).
- :mod:`geo.casework.actions`: the escalation ladder with the actions on
  record, the next lawful action and the gaps.
- :mod:`geo.casework.plates`: partial-plate search around a place and time
  (in memory; the store engine is :mod:`geo.engines.plates`).
- :mod:`geo.casework.convoys`: plates read with a subject (associates) and
  all convoy pairs.
- :mod:`geo.casework.casefile`: the case file of one subject (JSON-able dict).
- :mod:`geo.casework.render`: the case file as HTML or PDF.
"""

from __future__ import annotations

from geo.errors import InputError

__all__ = ["CaseworkInputError"]


class CaseworkInputError(InputError):
    """Casework input that cannot be used as given; the message says why and what to do.

    An :class:`geo.errors.InputError` (so also a ``ValueError``).
    """

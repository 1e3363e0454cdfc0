"""One error hierarchy for Harewatch.

Every error the library raises on purpose derives from :class:`HarewatchError`
(pyogrio's ``errors.py`` is the model). The CLI turns these into exit code 2
with their message; anything else (``TypeError``, ``KeyError``, ...) is a bug
and is left to show its traceback.

- :class:`InputError` (also a ``ValueError``): a value, file or argument the
  user gave is wrong; the message names it and says why.
- :class:`UnreadableFile`: a file cannot be read at all.
- :class:`BoundariesNotFound` (also a ``FileNotFoundError``): no boundary
  file was configured or found; the message says how to get one.
- :class:`BoundaryFetchError`: downloading the boundary file failed.
- :class:`StoreError`: the store cannot be used as asked
  (:class:`LegacyLayoutError`, :class:`StoreLockTimeout`,
  :class:`StoreCorrupt`: a stored file is damaged or missing, named;
  :class:`StoreWriteFailed`: a write failed, e.g. the disk is full, and
  nothing of it was stored).
- :class:`AccessDenied` (also a ``PermissionError``): the user's role does
  not allow the action; the message says which role would.
- :class:`AuditError`: the audit trail cannot be written or read; the action
  that needed it is refused (:class:`AuditTampered`: the trail was altered,
  an entry removed or reordered; names the first such entry).
"""

from __future__ import annotations

__all__ = [
    "HarewatchError",
    "InputError",
    "UnreadableFile",
    "BoundariesNotFound",
    "BoundaryFetchError",
    "StoreError",
    "LegacyLayoutError",
    "StoreLockTimeout",
    "StoreCorrupt",
    "StoreWriteFailed",
    "AccessDenied",
    "AuditError",
    "AuditTampered",
]


class HarewatchError(Exception):
    """Base of every error Harewatch raises on purpose."""


class InputError(HarewatchError, ValueError):
    """A value, file or argument given by the user is wrong; the message says which and why."""


class UnreadableFile(InputError):
    """The file cannot be read at all; the message says why."""


class BoundariesNotFound(InputError, FileNotFoundError):
    """No boundary file was configured or found; the message says how to get one."""


class BoundaryFetchError(HarewatchError, RuntimeError):
    """Downloading the boundary file failed; the message says why (nothing was written)."""


class StoreError(HarewatchError):
    """The store cannot be used as asked."""


class LegacyLayoutError(StoreError, ValueError):
    """The sightings store still has flat 0.1.0 files; run ``harewatch store upgrade``."""


class StoreLockTimeout(StoreError, TimeoutError):
    """Another process held the store's writer lock longer than the write would wait."""


class StoreCorrupt(StoreError):
    """A stored file is damaged or missing; the message names every such file.

    Attributes
    ----------
    paths : tuple of str
        The damaged or missing files (or the table log) found.
    """

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = tuple(str(p) for p in paths)

    def __reduce__(self):  # picklable with its paths (raised on dask workers)
        return (type(self), (str(self), self.paths))


class StoreWriteFailed(StoreError, OSError):
    """A write to the store failed (disk full, permissions...); nothing of it became visible.

    The message names the store and the cause; the store is still at its
    previous version.
    """


class AccessDenied(HarewatchError, PermissionError):
    """The user's role does not allow this action; the message says which role would."""


class AuditError(HarewatchError, OSError):
    """The audit trail cannot be written (or read): the action that needed it is refused."""


class AuditTampered(AuditError):
    """The audit trail was altered, or an entry removed or reordered.

    Attributes
    ----------
    seq : int
        Sequence number of the first entry found altered, missing or out of order.
    line : int
        Line of the trail (1 = first) where it was found.
    """

    def __init__(self, message: str, seq: int = 0, line: int = 0) -> None:
        super().__init__(message)
        self.seq = int(seq)
        self.line = int(line)

    def __reduce__(self):
        return (type(self), (str(self), self.seq, self.line))

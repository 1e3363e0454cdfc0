"""Police forces by name and code: the one alias table of Harewatch.

Every force of England and Wales (the 43 police force areas of the ONS
"Police Force Areas (December 2023)" file) plus the two other forces that
publish on data.police.uk (British Transport Police and the Police Service of
Northern Ireland), each with the ways police write its name:

- the ONS name (``Essex``, ``London, City of``) and code (``E23000028``);
- the name police use (``Essex Police``, ``Cambridgeshire Constabulary``,
  ``Metropolitan Police Service``, ``City of London Police``);
- data.police.uk's force id (``essex``, ``city-of-london``, ``btp``);
- any spelling that differs only in case, spacing, punctuation, ``&`` /
  ``and``, a leading "the" or a trailing "Police", "Constabulary",
  "Police Service", "Police Force" or "PFA".

:func:`resolve_force` is used by every ``--force`` option, the dashboard's
URL and the reporting-force column of input files; an unknown name gets an
:class:`~geo.errors.InputError` that lists the closest known names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.schema import SEVEN_FORCES

__all__ = ["Force", "FORCES", "force_key", "lookup_force", "resolve_force", "resolve_forces",
           "force_codes"]


@dataclass(frozen=True)
class Force:
    """A police force.

    Attributes
    ----------
    code : str
        ONS police force area code (``E23000028``); ``""`` for a force without
        an area (British Transport Police, PSNI).
    name : str
        ONS name (``Essex``); the name shown everywhere in Harewatch.
    in_agreement : bool
        One of the seven forces of the hare coursing agreement.
    aliases : tuple of str
        Other names police and data.police.uk use for it.
    """

    code: str
    name: str
    in_agreement: bool
    aliases: tuple[str, ...] = ()


def _f(code: str, name: str, *aliases: str) -> Force:
    return Force(code, name, code in SEVEN_FORCES, aliases)


#: Every force Harewatch knows, ONS order; the seven of the agreement among them.
FORCES: tuple[Force, ...] = (
    _f("E23000001", "Metropolitan Police", "Metropolitan Police Service", "Met", "MPS", "metropolitan"),
    _f("E23000002", "Cumbria", "Cumbria Constabulary"),
    _f("E23000003", "Lancashire", "Lancashire Constabulary"),
    _f("E23000004", "Merseyside", "Merseyside Police"),
    _f("E23000005", "Greater Manchester", "Greater Manchester Police", "GMP"),
    _f("E23000006", "Cheshire", "Cheshire Constabulary"),
    _f("E23000007", "Northumbria", "Northumbria Police"),
    _f("E23000008", "Durham", "Durham Constabulary"),
    _f("E23000009", "North Yorkshire", "North Yorkshire Police"),
    _f("E23000010", "West Yorkshire", "West Yorkshire Police"),
    _f("E23000011", "South Yorkshire", "South Yorkshire Police"),
    _f("E23000012", "Humberside", "Humberside Police"),
    _f("E23000013", "Cleveland", "Cleveland Police"),
    _f("E23000014", "West Midlands", "West Midlands Police"),
    _f("E23000015", "Staffordshire", "Staffordshire Police"),
    _f("E23000016", "West Mercia", "West Mercia Police"),
    _f("E23000017", "Warwickshire", "Warwickshire Police"),
    _f("E23000018", "Derbyshire", "Derbyshire Constabulary"),
    _f("E23000019", "Nottinghamshire", "Nottinghamshire Police"),
    _f("E23000020", "Lincolnshire", "Lincolnshire Police"),
    _f("E23000021", "Leicestershire", "Leicestershire Police"),
    _f("E23000022", "Northamptonshire", "Northamptonshire Police"),
    _f("E23000023", "Cambridgeshire", "Cambridgeshire Constabulary", "Cambs"),
    _f("E23000024", "Norfolk", "Norfolk Constabulary"),
    _f("E23000025", "Suffolk", "Suffolk Constabulary"),
    _f("E23000026", "Bedfordshire", "Bedfordshire Police", "Beds"),
    _f("E23000027", "Hertfordshire", "Hertfordshire Constabulary", "Herts"),
    _f("E23000028", "Essex", "Essex Police"),
    _f("E23000029", "Thames Valley", "Thames Valley Police"),
    _f("E23000030", "Hampshire", "Hampshire Constabulary", "Hampshire and Isle of Wight",
       "Hampshire and Isle of Wight Constabulary"),
    _f("E23000031", "Surrey", "Surrey Police"),
    _f("E23000032", "Kent", "Kent Police"),
    _f("E23000033", "Sussex", "Sussex Police"),
    _f("E23000034", "London, City of", "City of London", "City of London Police", "city-of-london"),
    _f("E23000035", "Devon & Cornwall", "Devon and Cornwall Police", "devon-and-cornwall"),
    _f("E23000036", "Avon and Somerset", "Avon and Somerset Constabulary", "avon-and-somerset"),
    _f("E23000037", "Gloucestershire", "Gloucestershire Constabulary"),
    _f("E23000038", "Wiltshire", "Wiltshire Police"),
    _f("E23000039", "Dorset", "Dorset Police"),
    _f("W15000001", "North Wales", "North Wales Police", "Heddlu Gogledd Cymru"),
    _f("W15000002", "Gwent", "Gwent Police", "Heddlu Gwent"),
    _f("W15000003", "South Wales", "South Wales Police", "Heddlu De Cymru"),
    _f("W15000004", "Dyfed-Powys", "Dyfed-Powys Police", "Heddlu Dyfed-Powys"),
    Force("", "British Transport Police", False, ("BTP",)),
    Force("", "Police Service of Northern Ireland", False, ("PSNI", "Northern Ireland",
                                                              "northern-ireland")),
)

_SUFFIXES = re.compile(
    r"\b(police\s+service|police\s+force|county\s+police|constabulary|police|force|pfa)\s*$")


@lru_cache(maxsize=4096)
def force_key(name: object) -> str:
    """Comparable form of a force name: ``"Essex Police"``, ``"ESSEX"``, ``"essex"`` -> ``"essex"``.

    Lower case, ``&`` read as "and", a leading "the" and a trailing "Police",
    "Constabulary", "Police Service", "Police Force" or "PFA" removed, then
    everything but letters and digits dropped. ONS codes are upper-cased.
    """
    text = re.sub(r"[\s_-]+", " ", str(name).strip().lower().replace("&", " and ")).strip()
    if re.fullmatch(r"[ewsn]\d{8}", text):
        return text.upper()
    text = re.sub(r"^the\s+", "", text)
    prev = None
    while prev != text:
        prev = text
        text = _SUFFIXES.sub("", text).strip()
    return re.sub(r"[^0-9a-z]+", "", text)


@lru_cache(maxsize=1)
def _index() -> dict[str, Force]:
    index: dict[str, Force] = {}
    for f in FORCES:
        for label in (f.code, f.name, *f.aliases):
            if label:
                index.setdefault(force_key(label), f)
    return index


def lookup_force(name: object) -> Force | None:
    """The :class:`Force` a name, alias or ONS code denotes; None when unknown or blank."""
    key = force_key(name)
    return _index().get(key) if key else None


def resolve_force(name: object) -> Force:
    """The :class:`Force` a name, alias or ONS code denotes.

    Raises
    ------
    InputError
        Unknown name; the message lists the closest known force names.
    """
    force = lookup_force(name)
    if force is not None:
        return force
    by_key = {force_key(f.name): f.name for f in FORCES}
    close = difflib.get_close_matches(force_key(name), list(by_key), n=3, cutoff=0.6)
    close_names = [by_key[k] for k in close]
    hint = f"; did you mean {', '.join(close_names)}?" if close_names else (
        f"; known forces include {', '.join(SEVEN_FORCES.values())}")
    raise InputError(f"unknown police force {str(name)!r}{hint}")


def resolve_forces(names: object) -> list[str] | None:
    """ONS names of the forces given (``--force`` values), deduplicated in order; None for none."""
    if names is None:
        return None
    items = [names] if isinstance(names, str) else list(names)
    out = list(dict.fromkeys(resolve_force(n).name for n in items if str(n).strip()))
    return out or None


def force_codes(values: pd.Series) -> np.ndarray:
    """ONS code (or ``""``) per value of a column of force names, each distinct value looked up once."""
    codes, uniques = pd.factorize(values.astype("str").fillna(""))
    looked = [lookup_force(u) for u in uniques]
    table = np.array([(f.code or f.name) if f else "" for f in looked] + [""], dtype=object)
    return table[codes]

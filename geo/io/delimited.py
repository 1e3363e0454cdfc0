"""CSV and TSV files read row by row: one bad line never sinks a file.

A delimited file is decoded, its first line judged (a header, a known
published layout without a header, or data without a header), then parsed by
pyarrow's CSV reader in one pass, all cells as text. What cannot be read
becomes a *row problem*, kept at the row's place so that row numbers stay
true, and the rest of the file is kept:

- a row with more or fewer fields than the header ("11 fields where the
  header has 12");
- an unclosed quote (the row where it opened; the lines it swallowed are read
  again as rows of their own);
- a field longer than ``max_field_chars`` (default 32,767 characters, Excel's
  own limit for a cell);
- a line whose bytes are not text in the file's encoding.

Encodings: UTF-8 (BOM optional), UTF-16 with a BOM, and Windows-1252 for files
that hold no UTF-8 at all. A UTF-8 file with a few undecodable lines keeps
its other lines.

A file is unreadable (:class:`~geo.errors.UnreadableFile`) only as a whole:
empty, no header line, or no row at all could be read. The first line decides
about the header once (no second pass over the data):

- column names Harewatch knows (or any of a published layout's) make it a
  header;
- a line shaped like a row of a published layout (data.police.uk street,
  outcomes, stop and search) is that layout without a header: the published
  names are used and the line is the first data row;
- a line that looks like data (numbers, dates) with no known name is refused:
  "no header: the first row looks like data".
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo._config import DEFAULTS
from geo._frames import STR_DTYPE
from geo.errors import UnreadableFile
from geo.validate.columns import is_known_column
from geo.validate.layouts import Layout, layout_of_header, layout_of_row, looks_like_data

__all__ = ["DelimitedText", "read_delimited"]

_SENTINEL = "\x01HAREWATCH-BAD-LINE-{}\x01"
_SENTINEL_RE = re.compile("\x01HAREWATCH-BAD-LINE-(\\d+)\x01")
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
_BLOCK_BYTES = 1 << 24  # pyarrow block: rows up to 16 MB parse in the fast path


@dataclass
class DelimitedText:
    """A delimited file read as text.

    Attributes
    ----------
    frame : DataFrame
        One row per data row (bad rows included, their cells empty), all ``str``.
    problems : dict
        0-based row position -> why the row could not be read.
    layout : Layout or None
        The published layout recognised (by header or, without one, by shape).
    header : bool
        False when the file had no header line.
    encoding : str
        How the bytes were decoded.
    """

    frame: pd.DataFrame
    problems: dict[int, str] = field(default_factory=dict)
    layout: Layout | None = None
    header: bool = True
    encoding: str = "utf-8"


# --------------------------------------------------------------------------- decoding


def _decode(data: bytes, label: str) -> tuple[bytes, dict[int, str], str]:
    """UTF-8 bytes of the file, bad physical lines (0-based -> reason) and the encoding read.

    Valid UTF-8 (the common case) is returned as it is: no copy of the file is made.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16").encode("utf-8"), {}, "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{label}: UTF-16 text with bytes that are not text "
                                 f"(byte {exc.start}); save it as CSV UTF-8") from exc
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    if data.isascii():  # plain ASCII is UTF-8: no need to decode to find out
        return data, _nul_lines(data), "utf-8"
    try:
        data.decode("utf-8")  # validation only
        return data, _nul_lines(data), "utf-8"
    except UnicodeDecodeError:
        pass
    # Some UTF-8 text present: a UTF-8 file with bad lines. None: Windows-1252.
    utf8 = _UTF8_MULTIBYTE.search(data) is not None
    encoding = "utf-8" if utf8 else "cp1252"
    lines = data.split(b"\n")
    bad: dict[int, str] = {}
    out: list[str] = []
    for i, raw in enumerate(lines):
        try:
            out.append(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            what = "not valid UTF-8" if utf8 else "neither UTF-8 nor Windows-1252"
            bad[i] = (f"bytes that are not text (byte 0x{raw[exc.start]:02x} at position "
                      f"{exc.start + 1} is {what})")
            out.append("")
    text = "\n".join(out).encode("utf-8")
    bad.update(_nul_lines(text))
    if bad and len(bad) >= sum(1 for line in lines[1:] if line.strip()) and not utf8:
        first = min(bad)
        raise UnreadableFile(f"{label}: text is neither UTF-8 nor Windows-1252 (line {first + 1}: "
                             f"{bad[first]}); save it as CSV UTF-8")
    return text, bad, encoding


def _nul_lines(data: bytes) -> dict[int, str]:
    if b"\x00" not in data:
        return {}
    return {i: "bytes that are not text (a NUL byte)" for i, line in enumerate(data.split(b"\n"))
            if b"\x00" in line}


# --------------------------------------------------------------------------- header


def _first_line(data: bytes, delimiter: str, label: str) -> list[str]:
    head = data[: 1 << 16].decode("utf-8", errors="replace")
    try:
        return next(csv.reader(io.StringIO(head), delimiter=delimiter))
    except (StopIteration, csv.Error) as exc:
        raise UnreadableFile(f"{label}: cannot read the header line ({exc})") from exc


def _judge_header(cells: list[str], label: str) -> tuple[list[str], bool, Layout | None]:
    """(column names, header present, layout) from the first line's cells."""
    names = [c.strip() for c in cells]
    if not any(names):
        raise UnreadableFile(f"{label}: the first line (column names) is empty")
    layout = layout_of_header(names)
    if layout is not None or any(is_known_column(n) for n in names):
        return names, True, layout
    layout = layout_of_row(names)
    if layout is not None:
        return list(layout.columns), False, layout
    if looks_like_data(names):
        raise UnreadableFile(
            f"{label}: no header: the first row looks like data ({', '.join(names[:4])}"
            f"{', ...' if len(names) > 4 else ''}); add a line of column names")
    return names, True, None


# --------------------------------------------------------------------------- parsing


@dataclass
class _Bad:
    record: int  # 1-based record number as pyarrow counts them (header = 1 when present)
    text: str
    fields: int


def _parse_arrow(data: bytes, delimiter: str, names: list[str], header: bool):
    """All cells as text with pyarrow; invalid rows skipped and collected.

    A clean file is parsed once, on all cores. Only when some row is invalid
    is it parsed again on one thread, where pyarrow numbers the rows it skips
    (so each keeps its place and row number).
    """
    keys = [f"c{i}" for i in range(len(names))]
    table, bad = _read_csv(data, delimiter, keys, header, threads=True)
    if bad:
        table, bad = _read_csv(data, delimiter, keys, header, threads=False)
    return table, keys, bad


def _read_csv(data: bytes, delimiter: str, keys: list[str], header: bool, threads: bool):
    bad: list[_Bad] = []

    def on_invalid(row) -> str:
        bad.append(_Bad(int(row.number or 0), row.text, int(row.actual_columns)))
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=keys, skip_rows=1 if header else 0,
                                       use_threads=threads, block_size=_BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=b'"' in data,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(keys, pa.large_string()), strings_can_be_null=False,
            quoted_strings_can_be_null=False, check_utf8=False),
    )
    return table, bad


def _row_reason(bad: _Bad, ncols: int, bad_lines: dict[int, str]) -> str:
    m = _SENTINEL_RE.search(bad.text)
    if m:
        return bad_lines.get(int(m.group(1)), "bytes that are not text")
    if "\n" in bad.text and bad.text.count('"') % 2 == 1:
        return "unclosed quote (a field opens a quote that never closes)"
    return f"{bad.fields} field{'s' if bad.fields != 1 else ''} where the header has {ncols}"


def _reparse_lines(lines: list[str], delimiter: str, ncols: int) -> list[tuple[list[str] | None, str]]:
    """Lines an unclosed quote swallowed, read again one by one: (cells or None, reason)."""
    out: list[tuple[list[str] | None, str]] = []
    for line in lines:
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error as exc:
            out.append((None, f"unreadable line ({exc})"))
            continue
        if len(cells) == ncols:
            out.append((cells, ""))
        else:
            out.append((None, f"{len(cells)} field{'s' if len(cells) != 1 else ''} where the "
                              f"header has {ncols}"))
    return out


def _assemble(table: pa.Table, keys: list[str], names: list[str], bad: list[_Bad], header: bool,
              delimiter: str, bad_lines: dict[int, str]) -> tuple[pd.DataFrame, dict[int, str]]:
    """The frame with every record in its place; bad rows empty, with their reasons."""
    ncols = len(names)
    first_record = 2 if header else 1
    # rows to put back: (position among good rows, [(cells or None, reason), ...])
    inserts: list[tuple[int, list[tuple[list[str] | None, str]]]] = []
    for k, b in enumerate(sorted(bad, key=lambda b: b.record)):
        good_before = b.record - first_record - k
        rows = [(None, _row_reason(b, ncols, bad_lines))]
        if rows[0][1].startswith("unclosed quote"):
            first, *rest = b.text.split("\n")
            rows += _reparse_lines([r for r in rest if r.strip()], delimiter, ncols)
        inserts.append((good_before, rows))
    columns = dict(zip(keys, _text_arrays(table, keys), strict=True))
    if not inserts:
        return _frame(columns, keys, names), {}
    pieces, problems, start, pos = [], {}, 0, 0
    for good_before, rows in inserts:
        piece = {k: v[start:good_before] for k, v in columns.items()}
        pieces.append(pd.DataFrame(piece))
        pos += good_before - start
        extra = {k: [] for k in keys}
        for cells, reason in rows:
            for i, k in enumerate(keys):
                extra[k].append(cells[i] if cells is not None else "")
            if cells is None:
                problems[pos] = reason
            pos += 1
        pieces.append(pd.DataFrame(extra, dtype=STR_DTYPE))
        start = good_before
    pieces.append(pd.DataFrame({k: v[start:] for k, v in columns.items()}))
    whole = pd.concat(pieces, ignore_index=True)
    return _frame({k: whole[k].astype(STR_DTYPE).array for k in keys}, keys, names), problems


def _text_arrays(table: pa.Table, keys: list[str]) -> list:
    """Each column as one contiguous pandas string array (no copy when already one chunk).

    Joining the parser's blocks is a copy that releases the GIL: columns are
    joined in parallel.
    """
    def one(key: str):
        column = table.column(key)
        whole = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        return pd.array(whole, dtype=STR_DTYPE)

    if table.column(keys[0]).num_chunks <= 1 or len(keys) == 1:
        return [one(k) for k in keys]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, keys))


def _frame(columns: dict, keys: list[str], names: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({i: pd.Series(columns[k]) for i, k in enumerate(keys)})
    frame.columns = names
    return frame


def _long_fields(frame: pd.DataFrame, max_chars: int) -> dict[int, str]:
    """Rows holding a field longer than ``max_chars`` (the first such field named)."""
    out: dict[int, str] = {}
    for j, name in enumerate(frame.columns):
        column = frame.iloc[:, j]
        if _max_bytes(column) <= max_chars:  # no more characters than bytes: none too long
            continue
        lengths = column.str.len().to_numpy(dtype="int64", na_value=0)
        for p in np.flatnonzero(lengths > max_chars):
            out.setdefault(int(p), f"field {j + 1} ({name}) has {lengths[p]:,} characters; "
                                   f"the limit is {max_chars:,}")
    return out


def _max_bytes(column: pd.Series) -> int:
    """The longest value's length in UTF-8 bytes (0 for none)."""
    arr = pa.array(column.array, from_pandas=True)
    longest = pc.max(pc.binary_length(arr)).as_py() if len(arr) else None
    return int(longest or 0)


def _mark_bad_lines(data: bytes, bad_lines: dict[int, str]) -> bytes:
    if not bad_lines:
        return data
    lines = data.split(b"\n")
    for i in bad_lines:
        lines[i] = _SENTINEL.format(i).encode("utf-8")
    return b"\n".join(lines)


def read_delimited(data: bytes, label: str, delimiter: str = ",", *,
                   max_field_chars: int = DEFAULTS.max_field_chars) -> DelimitedText:
    """Read a CSV/TSV file row by row (see the module docstring).

    Raises
    ------
    UnreadableFile
        Empty, no header line, undecodable as a whole, or no row could be read.
    """
    if not data or data.isspace():
        raise UnreadableFile(f"{label}: the file is empty")
    text, bad_lines, encoding = _decode(data, label)
    if bad_lines.get(0):
        raise UnreadableFile(f"{label}: the header line holds {bad_lines[0]}")
    names, header, layout = _judge_header(_first_line(text, delimiter, label), label)
    try:
        table, keys, bad = _parse_arrow(_mark_bad_lines(text, bad_lines), delimiter, names, header)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise UnreadableFile(f"{label}: not a readable CSV table ({exc})") from exc
    frame, problems = _assemble(table, keys, names, bad, header, delimiter, bad_lines)
    if len(names) == 1 and bad_lines:  # a one-column file reads a marked line as a value
        marked = frame.iloc[:, 0].str.fullmatch(_SENTINEL_RE.pattern).to_numpy(dtype=bool)
        for p in np.flatnonzero(marked):
            problems[int(p)] = bad_lines[int(_SENTINEL_RE.search(frame.iat[p, 0]).group(1))]
            frame.iat[p, 0] = ""
    for p, reason in _long_fields(frame, max_field_chars).items():
        problems.setdefault(p, reason)
    if len(frame) and len(problems) == len(frame):
        first = min(problems)
        raise UnreadableFile(f"{label}: not a readable CSV table: no row could be read "
                             f"(row {first + 1}: {problems[first]})")
    return DelimitedText(frame, problems, layout, header, encoding)

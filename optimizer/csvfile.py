"""CSV files as spreadsheets export them, read one way for every table the toolkit reads.

Plan files, subsidy files, service catalogues, travel-time files and best-known
values all come through `read_table`: the encoding (UTF-8 with or without BOM,
UTF-16 with BOM, cp1252) and the delimiter (comma, semicolon, tab) are detected,
blank rows (and, where a format has them, `#` comment lines) are skipped, and every
error names the file and the line. Numbers in cells are read by `cell_number`, which
also takes a decimal comma where the delimiter is not a comma.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .errors import InputError
from .reading import read_bytes

ENCODINGS = ("utf-8", "cp1252")
"""Tried in order after a byte-order mark: what Finnish spreadsheets export."""
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class Table:
    """A CSV table: its header (stripped) and its non-blank rows with their line numbers."""

    source: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    encoding: str = "UTF-8"
    delimiter: str = ","
    error: type[InputError] = field(default=InputError, compare=False)
    comments: tuple[str, ...] = ()
    """The text of the comment lines (without the marker), in order."""
    header_line: int = 1

    @property
    def note(self) -> str | None:
        """How the file was read, when not as plain UTF-8 with commas."""
        if (self.encoding, self.delimiter) == ("UTF-8", ","):
            return None
        return f"read as {self.encoding}, {DELIMITERS[self.delimiter]}-separated"

    def renamed(self, names: dict[int, str]) -> Table:
        """The same table with some columns (by position) under another name."""
        header = tuple(names.get(k, h) for k, h in enumerate(self.header))
        return replace(self, header=header)

    def column(self, name: str) -> int | None:
        """Position of a column (names compared without case), None if absent."""
        folded = [h.lower() for h in self.header]
        return folded.index(name.lower()) if name.lower() in folded else None

    def require(self, names: tuple[str, ...]) -> dict[str, int]:
        """Positions of the columns every row needs; a missing one is an error naming it."""
        out = {}
        for name in names:
            k = self.column(name)
            if k is None:
                raise self.error(f"{self.source}:{self.header_line}: missing column '{name}' "
                                 f"(the header needs {','.join(names)})")
            out[name] = k
        return out

    def records(self, columns: dict[str, int]
                ) -> Iterator[tuple[int, dict[str, str], tuple[str, ...]]]:
        """(line, {column: stripped cell}, all cells) for every row; a row too short for a
        needed column is an error naming the line."""
        need = max(columns.values(), default=-1)
        for line, cells in self.rows:
            if len(cells) <= need:
                raise self.error(f"{self.source}:{line}: expected {len(self.header)} columns, "
                                 f"got {len(cells)}")
            yield line, {name: cells[k].strip() for name, k in columns.items()}, cells


class Once:
    """Refuses a key seen on an earlier line ('X listed twice (first on line N)')."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.first: dict = {}

    def __call__(self, key, line: int, label: str) -> None:
        first = self.first.setdefault(key, line)
        if first != line:
            raise self.table.error(f"{self.table.source}:{line}: {label} listed twice (first "
                                   f"on line {first})")


def decode(data: bytes, source: str, error: type[InputError] = InputError) -> tuple[str, str]:
    """The text and the name of its encoding: a BOM (UTF-8/16) wins, else UTF-8, else cp1252."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name.upper().replace("-SIG", " with BOM")
            except UnicodeDecodeError as exc:
                raise error(f"{source}: not valid {name} despite its byte-order mark: "
                            f"{exc.reason} at byte {exc.start}") from None
    for name in ENCODINGS:
        try:
            return data.decode(name), name.upper()
        except UnicodeDecodeError:
            continue
    raise error(f"{source}: neither UTF-8 nor cp1252 text; save it as CSV UTF-8")


def _delimiter(first_line: str, keys: tuple[str, ...]) -> str:
    """The delimiter that splits the header into the most columns, one of them among `keys`
    (else simply into the most columns)."""
    scored = []
    for d in DELIMITERS:
        try:
            cells = [c.strip().lower() for c in next(csv.reader([first_line], delimiter=d), [])]
        except csv.Error:  # e.g. a NUL: the full read below names the file
            continue
        scored.append((any(k.lower() in cells for k in keys), len(cells), d == ",", d))
    return max(scored)[3] if scored else ","


def parse_table(text: str, source: str, error: type[InputError] = InputError, *,
                key: str | tuple[str, ...] = "code", encoding: str = "UTF-8",
                what: str = "CSV file", comment: str | None = None) -> Table:
    """A table from CSV text; `key` names the column (or the columns, one of which) the
    header is expected to have: it decides the delimiter. Lines starting with `comment`
    (if given) are comments; the header is the first line neither blank nor a comment. A
    file of comments alone (or nothing) is an empty table (no header) where comments are
    allowed, an error otherwise."""
    if "\x00" in text:
        raise error(f"{source}: contains NUL characters; not a text CSV file")
    keys = (key,) if isinstance(key, str) else tuple(key)
    lines = text.splitlines(keepends=True)
    comments = []
    if comment is not None:
        for k, line in enumerate(lines):
            if line.startswith(comment):
                comments.append(line[len(comment):].strip())
                lines[k] = "\n"  # keeps the line numbers of the rows after it
    first = next((ln for ln in lines if ln.strip()), "")
    delimiter = _delimiter(first.rstrip("\r\n"), keys)
    try:
        rows = list(csv.reader(io.StringIO("".join(lines), newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise error(f"{source}: not a readable CSV file: {exc}") from None
    start = next((k for k, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if start is None:
        if comment is None:
            raise error(f"{source}: empty {what}")
        return Table(source, (), (), encoding, delimiter, error, tuple(comments), 0)
    body = tuple((line, tuple(row)) for line, row in enumerate(rows[start + 1:], start=start + 2)
                 if any(cell.strip() for cell in row))
    return Table(source, tuple(h.strip() for h in rows[start]), body, encoding, delimiter, error,
                 tuple(comments), start + 1)


def read_table(path: str | Path, what: str, error: type[InputError] = InputError, *,
               key: str | tuple[str, ...] = "code", comment: str | None = None) -> Table:
    """A CSV file as a table, its encoding and delimiter detected (see `Table.note`)."""
    text, encoding = decode(read_bytes(path, what, error), str(path), error)
    return parse_table(text, str(path), error, key=key, encoding=encoding, what=what,
                       comment=comment)


def cell_decimal(text: str, delimiter: str = ",") -> Decimal | None:
    """A number in a cell, exactly as written (`1234.5`; `1234,5` or `1 234,5` where the
    delimiter is not a comma, as Finnish spreadsheets write); None when it is not one.
    Not checked for range: the caller does that."""
    t = text.strip().replace("\u00a0", "").replace("\u202f", "")
    if delimiter != "," and "," in t and "." not in t:
        t = t.replace(" ", "").replace(",", ".")
    if len(t) > 100:
        return None
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


def cell_number(text: str, delimiter: str = ",") -> float | None:
    """`cell_decimal` as a float (±inf beyond the float range, NaN for nan)."""
    d = cell_decimal(text, delimiter)
    return None if d is None else float(d)

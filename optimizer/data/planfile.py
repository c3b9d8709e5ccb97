"""Plan files: the assignment format (`code,name,lead_code,lead_name`, extra columns
ignored) and the two-column exchange format (`code,area`), as spreadsheets export them.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import PlanError
from ..reading import read_bytes
from ..values import shown
from .instance import Instance
from .plan import OUTSIDE, UNASSIGNED, Plan


def _norm(code: str, instance: Instance) -> str:
    """Accept codes that lost their leading zeros in a spreadsheet ('9' → '009')."""
    code = code.strip()
    if code in instance.index or not code.isdigit():
        return code
    width = max((len(c) for c in instance.codes if c.isdigit()), default=0)
    padded = code.zfill(width)
    return padded if padded in instance.index else code


normalise_code = _norm
"""Public name of the code normalisation, for other files keyed by municipality code."""


ENCODINGS = ("utf-8", "cp1252")
"""Tried in order after a byte-order mark: what Finnish spreadsheets export."""


DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """The text and the name of its encoding: a BOM (UTF-8/16) wins, else UTF-8, else cp1252."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(name), name.upper().replace("-SIG", " with BOM")
            except UnicodeDecodeError as exc:
                raise PlanError(f"{path}: not valid {name} despite its byte-order mark: "
                                f"{exc.reason} at byte {exc.start}") from None
    for name in ENCODINGS:
        try:
            return data.decode(name), name.upper()
        except UnicodeDecodeError:
            continue
    raise PlanError(f"{path}: neither UTF-8 nor cp1252 text; save it as CSV UTF-8")


def _delimiter(first_line: str) -> str:
    """The delimiter that splits the header into the most columns, one being 'code'."""
    best, width = ",", 0
    for d in DELIMITERS:
        try:
            cells = [c.strip().lower() for c in next(csv.reader([first_line], delimiter=d), [])]
        except csv.Error:  # e.g. a NUL: the full read below names the file
            continue
        if "code" in cells and len(cells) > width:
            best, width = d, len(cells)
    return best


def read_plan(path: str | Path, instance: Instance) -> Plan:
    """Read a plan file for `instance`; rows for municipalities outside it are ignored.

    The encoding (UTF-8 with or without BOM, UTF-16 with BOM, cp1252) and the
    delimiter (comma, semicolon, tab) are detected; anything but plain UTF-8 with
    commas is said in the plan's notes.
    """
    path = Path(path)
    data = read_bytes(path, "plan file", PlanError)
    text, encoding = _decode(data, path)
    if "\x00" in text:
        raise PlanError(f"{path}: contains NUL characters; not a text CSV file")
    delimiter = _delimiter((text.splitlines() or [""])[0])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise PlanError(f"{path}: not a readable CSV file: {exc}") from None
    if not rows:
        raise PlanError(f"{path}: empty plan file")
    header = [h.strip().lower() for h in rows[0]]
    if "code" not in header:
        raise PlanError(f"{path}: header must have a 'code' column (got {shown(rows[0], 80)})")
    if "lead_code" in header:
        plan = _read_assignment(path, header, rows[1:], instance)
    elif "area" in header:
        plan = _read_areas(path, header, rows[1:], instance)
    else:
        raise PlanError(f"{path}: header needs 'lead_code' (assignment format) or 'area' "
                        "(code,area)")
    if "exempt" in header:
        plan = plan.with_exempt(_exempt_areas(path, header, rows[1:], plan))
    if (encoding, delimiter) == ("UTF-8", ","):
        return plan
    how = f"read as {encoding}, {DELIMITERS[delimiter]}-separated"
    return replace(plan, notes=(how, *plan.notes))


EXEMPT_WORDS = {"yes": True, "true": True, "1": True, "x": True,
                "": False, "no": False, "false": False, "0": False}
"""Cells of the optional `exempt` column: the row's area has an exemption."""


def _exempt_areas(path: Path, header: list[str], rows: list[list[str]], plan: Plan) -> set:
    """Areas whose rows say `exempt`; every row of an area must say the same."""
    c_code, c_ex = header.index("code"), header.index("exempt")
    said: dict[int | str, bool] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        i = plan.instance.index.get(_norm(row[c_code], plan.instance))
        if i is None:
            continue
        cell = row[c_ex].strip().lower() if c_ex < len(row) else ""
        if cell not in EXEMPT_WORDS:
            raise PlanError(f"{path}:{line}: 'exempt' must be yes or empty, got {row[c_ex]!r}")
        key = plan.lead_key(i)
        if said.setdefault(key, EXEMPT_WORDS[cell]) != EXEMPT_WORDS[cell]:
            code, name = plan.lead_label(key)
            raise PlanError(f"{path}:{line}: the area led by {name} ({code}) is marked exempt "
                            "on some rows only")
    return {k for k, v in said.items() if v}


def _records(path: Path, header: list[str], rows: list[list[str]], instance: Instance, col: str):
    """(position, value of `col`) for rows in the instance; counts rows outside it."""
    c_code, c_val = header.index("code"), header.index(col)
    seen: dict[int, int] = {}
    out, ignored = [], 0
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(c_code, c_val):
            raise PlanError(f"{path}:{line}: expected {len(header)} columns, got {len(row)}")
        code = _norm(row[c_code], instance)
        value = row[c_val].strip()
        if not value:
            raise PlanError(f"{path}:{line}: empty '{col}' for municipality {code!r}")
        i = instance.index.get(code)
        if i is None:
            ignored += 1
            continue
        if i in seen:
            raise PlanError(
                f"{path}:{line}: {instance.label(i)} assigned twice (first on line {seen[i]})"
            )
        seen[i] = line
        out.append((i, value, row))
    notes = (f"{ignored} rows for municipalities outside instance {instance.name!r} ignored",)
    return out, notes if ignored else ()


def _read_assignment(path, header, rows, instance: Instance) -> Plan:
    recs, notes = _records(path, header, rows, instance, "lead_code")
    c_ln = header.index("lead_name") if "lead_name" in header else None
    lead = np.full(instance.n, UNASSIGNED, dtype=np.int64)
    outside = {}
    for i, value, row in recs:
        code = _norm(value, instance)
        if code in instance.index:
            lead[i] = instance.index[code]
        else:
            name = row[c_ln].strip() if c_ln is not None and c_ln < len(row) else code
            lead[i] = OUTSIDE
            outside[i] = (code, name or code)
    return Plan(instance, lead, outside, notes)


def _read_areas(path, header, rows, instance: Instance) -> Plan:
    """`code,area`: the lead is the member whose code or name is the area label, else the
    most populous member."""
    recs, notes = _records(path, header, rows, instance, "area")
    members: dict[str, list[int]] = {}
    for i, value, _ in recs:
        members.setdefault(value, []).append(i)
    size = instance.attributes.get("population", np.zeros(instance.n))
    lead = np.full(instance.n, UNASSIGNED, dtype=np.int64)
    inferred = []
    folded = Counter(nm.casefold() for nm in instance.names)
    by_name = {nm.casefold(): i for i, nm in enumerate(instance.names)
               if folded[nm.casefold()] == 1}
    for label, idx in members.items():
        code = _norm(label, instance)
        j = instance.index.get(code, by_name.get(label.casefold()))
        if j is None or j not in idx:
            j = max(idx, key=lambda i: (size[i], -i))
            inferred.append(f"{label}→{instance.names[j]}")
        lead[idx] = j
    if inferred:
        notes += ("leads taken as the most populous member: " + ", ".join(inferred),)
    return Plan(instance, lead, {}, notes)

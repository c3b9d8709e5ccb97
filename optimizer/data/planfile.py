"""Plan files: the assignment format (`code,name,lead_code,lead_name`, extra columns
ignored) and the two-column exchange format (`code,area`), as spreadsheets export them.

The encoding and delimiter are detected (`csvfile.py`); anything but plain UTF-8
with commas is said in the plan's notes. Rows for municipalities outside the
instance are ignored and counted in a note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..csvfile import Once, Table, read_table
from ..errors import PlanError
from ..values import shown
from .instance import Instance
from .plan import OUTSIDE, UNASSIGNED, Plan


def normalise_code(code: str, instance: Instance) -> str:
    """Accept codes that lost their leading zeros in a spreadsheet ('9' → '009')."""
    code = code.strip()
    if code in instance.index or not code.isdigit():
        return code
    width = max((len(c) for c in instance.codes if c.isdigit()), default=0)
    padded = code.zfill(width)
    return padded if padded in instance.index else code


def position(cell: str, instance: Instance) -> int | None:
    """The municipality a plan file's cell names: its code (leading zeros may be lost), else
    its name (case-insensitive, when no other municipality has it); None if neither."""
    i = instance.index.get(normalise_code(cell, instance))
    if i is not None:
        return i
    folded = cell.strip().casefold()
    hits = [k for k, name in enumerate(instance.names) if name.casefold() == folded]
    return hits[0] if len(hits) == 1 else None


EXEMPT_WORDS = {"yes": True, "true": True, "1": True, "x": True,
                "": False, "no": False, "false": False, "0": False}
"""Cells of the optional `exempt` column: the row's area has an exemption."""


FINNISH = {"koodi": "code", "kuntakoodi": "code", "kuntanumero": "code", "kunta_koodi": "code",
           "alue": "area", "työllisyysalue": "area", "tyollisyysalue": "area",
           "nimi": "name", "kunnan nimi": "name", "vapautus": "exempt"}
"""Finnish column names a spreadsheet export may use, and the column each stands for;
`kunta` is the code when its cells are numbers and no other column is, else the name."""


def _finnish_columns(table: Table) -> Table:
    """The table with Finnish column names read as their English ones."""
    names = {k: FINNISH[h.strip().lower()] for k, h in enumerate(table.header)
             if h.strip().lower() in FINNISH and table.column(FINNISH[h.strip().lower()]) is None}
    kunta = table.column("kunta")
    if kunta is not None and table.column("name") is None:
        digits = all(cells[kunta].strip().isdigit() for _, cells in table.rows
                     if kunta < len(cells))
        code_taken = table.column("code") is not None or "code" in names.values()
        names[kunta] = "code" if digits and not code_taken else "name"
    return table.renamed(names) if names else table


def read_plan(path: str | Path, instance: Instance) -> Plan:
    """Read a plan file for `instance`; rows for municipalities outside it are ignored.
    Finnish column names (`koodi`/`kuntakoodi`, `kunta`, `alue`) are read too."""
    path = Path(path)
    table = _finnish_columns(read_table(path, "plan file", PlanError,
                                        key=("code", *FINNISH, "kunta")))
    if table.column("code") is None:
        how = f" ({table.note})" if table.note else ""
        raise PlanError(f"{path}: header must have a 'code' column (or 'koodi', "
                        f"'kuntakoodi'); its columns{how} are {shown(list(table.header), 80)}")
    if table.column("lead_code") is not None:
        plan = _read_assignment(table, instance)
    elif table.column("area") is not None:
        plan = _read_areas(table, instance)
    else:
        raise PlanError(f"{path}: header needs 'lead_code' (assignment format) or 'area' "
                        "(code,area)")
    if table.column("exempt") is not None:
        plan = plan.with_exempt(_exempt_areas(table, plan))
    return plan if table.note is None else replace(plan, notes=(table.note, *plan.notes))


def _exempt_areas(table: Table, plan: Plan) -> set:
    """Areas whose rows say `exempt`; every row of an area must say the same."""
    said: dict[int | str, bool] = {}
    c_ex = table.column("exempt")
    for line, cells in table.rows:
        i = position(cells[table.column("code")], plan.instance)
        if i is None:
            continue
        raw = cells[c_ex] if c_ex < len(cells) else ""
        if raw.strip().lower() not in EXEMPT_WORDS:
            raise PlanError(f"{table.source}:{line}: 'exempt' must be yes or empty, got {raw!r}")
        value = EXEMPT_WORDS[raw.strip().lower()]
        key = plan.lead_key(i)
        if said.setdefault(key, value) != value:
            code, name = plan.lead_label(key)
            raise PlanError(f"{table.source}:{line}: the area led by {name} ({code}) is marked "
                            "exempt on some rows only")
    return {k for k, v in said.items() if v}


def _records(table: Table, instance: Instance, col: str):
    """(position, value of `col`, the row's cells) for rows in the instance, and a note
    counting the rows outside it."""
    once = Once(table)
    out, ignored = [], 0
    columns = {"code": table.column("code"), col: table.column(col)}
    for line, cell, cells in table.records(columns):
        code = normalise_code(cell["code"], instance)
        if not cell[col]:
            raise PlanError(f"{table.source}:{line}: empty '{col}' for municipality {code!r}")
        i = position(cell["code"], instance)
        if i is None:
            ignored += 1
            continue
        once(i, line, f"{instance.label(i)} assigned")
        out.append((i, cell[col], cells))
    if ignored and not out:
        raise PlanError(f"{table.source}: no row names a municipality of instance "
                        f"{instance.name!r} in its 'code' column (a code such as "
                        f"{instance.codes[0]!r} or a name such as {instance.names[0]!r})")
    notes = (f"{ignored} rows for municipalities outside instance {instance.name!r} ignored",)
    return out, notes if ignored else ()


def _read_assignment(table: Table, instance: Instance) -> Plan:
    recs, notes = _records(table, instance, "lead_code")
    c_ln = table.column("lead_name")
    lead = np.full(instance.n, UNASSIGNED, dtype=np.int64)
    outside = {}
    for i, value, row in recs:
        code = normalise_code(value, instance)
        j = position(value, instance)
        if j is not None:
            lead[i] = j
        else:
            name = row[c_ln].strip() if c_ln is not None and c_ln < len(row) else code
            lead[i] = OUTSIDE
            outside[i] = (code, name or code)
    return Plan(instance, lead, outside, notes)


def _read_areas(table: Table, instance: Instance) -> Plan:
    """`code,area`: the lead is the member whose code or name is the area label, else the
    most populous member."""
    recs, notes = _records(table, instance, "area")
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
        code = normalise_code(label, instance)
        j = instance.index.get(code, by_name.get(label.casefold()))
        if j is None or j not in idx:
            j = max(idx, key=lambda i: (size[i], -i))
            inferred.append(f"{label}→{instance.names[j]}")
        lead[idx] = j
    if inferred:
        notes += ("leads taken as the most populous member: " + ", ".join(inferred),)
    return Plan(instance, lead, {}, notes)

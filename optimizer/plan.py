"""A plan: which lead municipality serves each municipality of an instance.

Plan files come in two conventions: the assignment format
(`code,name,lead_code,lead_name`, extra columns ignored) and the two-column
convention (`code,area`). A lead may lie outside the instance (the 2025 areas
cross region borders); such municipalities are kept and flagged by the
verifier rather than refused.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .errors import PlanError
from .instance import Instance
from .values import shown

OUTSIDE = -1
"""`Plan.lead` value: the lead municipality is not in the instance."""
UNASSIGNED = -2
"""`Plan.lead` value: the plan does not assign this municipality."""


@dataclass(frozen=True, eq=False)
class Plan:
    """Lead position per municipality of `instance` (or OUTSIDE / UNASSIGNED)."""

    instance: Instance
    lead: np.ndarray
    outside: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    exempt: frozenset[int | str] = frozenset()
    """Area keys (lead positions, or codes of outside leads) declared to have an exemption
    from the floors the model lets an exempted area miss."""

    def __post_init__(self) -> None:
        lead = np.asarray(self.lead, dtype=np.int64)
        if lead.shape != (self.instance.n,):
            raise PlanError("plan length does not match the instance")
        n = self.instance.n
        bad = (lead >= n) | (lead < UNASSIGNED)
        bad |= np.array([lead[i] == OUTSIDE and i not in self.outside for i in range(n)])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise PlanError(f"plan gives {self.instance.label(i)} an invalid lead {lead[i]}")
        lead = lead.copy()
        lead.setflags(write=False)
        object.__setattr__(self, "lead", lead)
        object.__setattr__(self, "exempt", frozenset(self.exempt))

    def with_exempt(self, keys) -> Plan:
        """The same plan declaring exemptions for the areas `keys`."""
        return replace(self, exempt=frozenset(keys))

    @classmethod
    def from_leads(cls, instance: Instance, lead: np.ndarray) -> Plan:
        return cls(instance, np.asarray(lead, dtype=np.int64))

    def lead_key(self, i: int) -> int | str:
        """Area key of municipality i: the lead's position, or its code when outside."""
        j = int(self.lead[i])
        return self.outside[i][0] if j == OUTSIDE else j

    def lead_code(self, i: int) -> str:
        return self.lead_label(self.lead_key(i))[0]

    def areas(self) -> dict[int | str, list[int]]:
        """Members of each area keyed by lead (position, or code for outside leads)."""
        out: dict[int | str, list[int]] = {}
        for i in range(self.instance.n):
            if self.lead[i] != UNASSIGNED:
                out.setdefault(self.lead_key(i), []).append(i)
        return dict(sorted(out.items(), key=lambda kv: self.lead_label(kv[0])[0]))

    def lead_label(self, key: int | str) -> tuple[str, str]:
        """(code, name) of a lead given its area key."""
        if isinstance(key, str):
            name = next(nm for c, nm in self.outside.values() if c == key)
            return key, name
        return self.instance.codes[key], self.instance.names[key]

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["code", "name", "lead_code", "lead_name"] + (["exempt"] if self.exempt else []))
        inst = self.instance
        for i in range(inst.n):
            if self.lead[i] == UNASSIGNED:
                continue
            lc, ln = self.lead_label(self.lead_key(i))
            w.writerow([inst.codes[i], inst.names[i], lc, ln]
                       + ([self._exempt_cell(i)] if self.exempt else []))
        return buf.getvalue()

    def _exempt_cell(self, i: int) -> str:
        return "yes" if self.lead_key(i) in self.exempt else ""

    def to_area_csv(self) -> str:
        """The two-column exchange format `code,area`, the area named by its lead's code."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["code", "area"] + (["exempt"] if self.exempt else []))
        for i in range(self.instance.n):
            if self.lead[i] != UNASSIGNED:
                w.writerow([self.instance.codes[i], self.lead_code(i)]
                           + ([self._exempt_cell(i)] if self.exempt else []))
        return buf.getvalue()


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
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"plan file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"cannot read plan file {path}: {exc}") from None
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


def area_matching(plan: Plan, reference: Plan) -> dict[str, str]:
    """Plan area lead code → the reference area lead code it corresponds to.

    Areas are matched one to one so that as many municipalities as possible keep their
    area (ties: the most population kept), an assignment problem; a municipality moves
    when its reference area is not the one matched with its area.
    """
    from scipy.optimize import linear_sum_assignment

    inst = plan.instance
    pop = inst.attributes.get("population", np.zeros(inst.n))
    both = [i for i in range(inst.n)
            if plan.lead[i] != UNASSIGNED and reference.lead[i] != UNASSIGNED]
    mine = sorted({plan.lead_code(i) for i in both})
    theirs = sorted({reference.lead_code(i) for i in both})
    row = {c: k for k, c in enumerate(mine)}
    col = {c: k for k, c in enumerate(theirs)}
    shared = np.zeros((len(mine), len(theirs)))
    tie = 1.0 / (float(np.abs(pop).sum()) + 1.0)
    for i in both:
        shared[row[plan.lead_code(i)], col[reference.lead_code(i)]] += 1.0 + tie * abs(pop[i])
    r, c = linear_sum_assignment(shared, maximize=True)
    return {mine[a]: theirs[b] for a, b in zip(r, c, strict=True) if shared[a, b] > 0}


def moved(plan: Plan, reference: Plan) -> np.ndarray:
    """Boolean per municipality: assigned by both plans and not in the area matched with its
    reference area (see `area_matching`)."""
    match = area_matching(plan, reference)
    return np.array([plan.lead[i] != UNASSIGNED and reference.lead[i] != UNASSIGNED
                     and match.get(plan.lead_code(i)) != reference.lead_code(i)
                     for i in range(plan.instance.n)], dtype=bool)


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

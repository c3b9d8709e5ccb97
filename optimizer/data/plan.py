"""A plan: which lead municipality serves each municipality of an instance.

A lead may lie outside the instance (the 2025 areas cross region borders);
such municipalities are kept and flagged by the verifier rather than refused.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import PlanError
from .instance import Instance

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

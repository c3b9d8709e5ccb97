"""The independent verifier: checks any plan against a problem, without a solver.

It re-derives every rule from the instance and the model (not from the
formulation), so a formulation bug cannot hide behind itself. Each violation
names the municipalities involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .model import Problem
from .plan import UNASSIGNED, Plan
from .terms import LABELS, term_values

TOL = 1e-6


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    municipalities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.ok:
            return "plan verified: every rule holds"
        lines = [f"plan breaks {len(self.violations)} rule(s):"]
        lines += [f"  - [{v.rule}] {v.message}" for v in self.violations]
        return "\n".join(lines)


def verify(problem: Problem, plan: Plan) -> Verification:
    """Every violated rule of `problem` in `plan`, municipality by municipality."""
    inst = problem.instance
    model = problem.model
    out: list[Violation] = []

    def names(idx) -> str:
        return ", ".join(inst.names[i] for i in idx)

    def add(rule: str, message: str, idx=()) -> None:
        out.append(Violation(rule, message, tuple(inst.codes[i] for i in idx)))

    lead = plan.lead
    unassigned = np.flatnonzero(lead == UNASSIGNED)
    if len(unassigned):
        add("assignment", f"not assigned to any area: {names(unassigned)}", unassigned)

    areas = plan.areas()
    for key, members in areas.items():
        if isinstance(key, str):
            code, name = plan.lead_label(key)
            add("lead", f"{names(members)}: lead {name} ({code}) is outside instance "
                f"{inst.name!r}", members)
        elif lead[key] != key:
            add("lead", f"{inst.label(key)} leads an area but is itself assigned elsewhere",
                [key])

    inside_leads = [k for k in areas if isinstance(k, int)]
    n_areas = len(areas)
    if not problem.k_min <= n_areas <= problem.k_max:
        rng = (f"{problem.k_min}" if problem.k_min == problem.k_max
               else f"{problem.k_min}–{problem.k_max}")
        add("area count", f"{n_areas} areas, the model asks for {rng}")
    for j in inside_leads:
        if not problem.candidates[j]:
            add("candidate", f"{inst.label(j)} leads an area but is not a candidate lead", [j])
    for j in problem.fixed:
        if lead[j] != j:
            add("fixed lead", f"{inst.label(j)} must lead an area but does not", [j])
    for i, j in problem.locks.items():
        if lead[i] != j:
            add("lock", f"{inst.label(i)} is locked to {inst.label(j)}", [i])
    if model.max_distance_km is not None:
        d = inst.distance
        far = [i for i in range(inst.n) if lead[i] >= 0
               and d[i, lead[i]] > model.max_distance_km + TOL]
        for i in far:
            add("max distance", f"{inst.label(i)} is {d[i, lead[i]]:.1f} km from its lead "
                f"{inst.label(int(lead[i]))}, limit {model.max_distance_km:g} km", [i])

    if problem.contiguity:
        g = inst.graph()
        for key, members in areas.items():
            parts = list(nx.connected_components(g.subgraph(members)))
            if len(parts) > 1:
                lc, ln = plan.lead_label(key)
                lead_part = next((p for p in parts if key in p), None)
                if lead_part is None:  # the lead is elsewhere: list the pieces
                    pieces = " | ".join(names(sorted(p)) for p in parts)
                    add("contiguity", f"area led by {ln} ({lc}) is not contiguous: its "
                        f"pieces are {pieces}", sorted(members))
                    continue
                stray = sorted(set().union(*(p for p in parts if p is not lead_part)))
                add("contiguity", f"area led by {ln} ({lc}) is not contiguous: {names(stray)} "
                    f"cut off from {names(sorted(lead_part))}", stray)

    exempt = set(plan.exempt)
    unknown = exempt - set(areas)
    if unknown:
        add("exemption", "exemption declared for an area the plan does not have: "
            + ", ".join(str(k) for k in sorted(map(str, unknown))))
    if exempt and problem.exemptions is None:
        add("exemption", f"{len(exempt)} area(s) declared exempt, but the model allows no "
            "exemption ([exemptions] is not enabled)",
            sorted(i for k in exempt & set(areas) for i in areas[k]))
    for bounds, is_floor in ((problem.floors, True), (problem.caps, False)):
        for b in bounds:
            for key, members in areas.items():
                if is_floor and b.exemptable and key in exempt and problem.exemptions:
                    continue
                total = float(b.values[members].sum())
                bad = total < b.limit - TOL if is_floor else total > b.limit + TOL
                if bad:
                    lc, ln = plan.lead_label(key)
                    part = " (its part inside this instance)" if isinstance(key, str) else ""
                    sign = "<" if is_floor else ">"
                    add("floor" if is_floor else "cap",
                        f"area led by {ln} ({lc}){part}: {b.attribute} {total:,.2f} {sign} "
                        f"{b.limit:,.2f} ({b.label})", members)
    _check_limits(problem, plan, add)
    return Verification(tuple(out))


def _check_limits(problem: Problem, plan: Plan, add) -> None:
    """Each bounded objective term (`[limits]`, the most exemptions, the most moves)."""
    if not problem.limits:
        return
    values = term_values(problem, plan)
    for term, limit in problem.limits.items():
        value = values.get(term)
        if value is None:
            add("limit", f"{LABELS.get(term, term)} cannot be computed for this plan (limit "
                f"{limit:,.2f})")
        elif value > limit + TOL * max(1.0, abs(limit)):
            add("limit", f"{LABELS.get(term, term)} {value:,.2f} > limit {limit:,.2f}")

"""The independent verifier: checks any plan against a problem, without a solver.

It re-derives every rule from the instance and the model (not from the
formulation), so a formulation bug cannot hide behind itself. Each violation
names the municipalities involved.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..data.plan import UNASSIGNED, Plan
from .groups import model_groups
from .objective import LABELS, term_values
from .problem import Problem

TOL = 1e-6
"""Slack on sums of attributes, distances and limits (a rule is broken only beyond it)."""
MONEY_TOL = 0.01
"""A cent: money rows are compared to the cent."""


@dataclass(frozen=True)
class Violation:
    """A broken rule: its family (`floor`, `contiguity`, ...), what is wrong in words, and
    the municipalities involved (by code)."""

    rule: str
    message: str
    municipalities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    """The verifier's verdict on a plan: every violation, none when the plan is valid."""

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


class _Found:
    """The violations found so far; `add` names the municipalities by code."""

    def __init__(self, problem: Problem) -> None:
        self.inst = problem.instance
        self.violations: list[Violation] = []

    def names(self, idx) -> str:
        return ", ".join(self.inst.names[i] for i in idx)

    def __call__(self, rule: str, message: str, idx=()) -> None:
        self.violations.append(Violation(rule, message, tuple(self.inst.codes[i] for i in idx)))


def verify(problem: Problem, plan: Plan) -> Verification:
    """Every violated rule of `problem` in `plan`, municipality by municipality."""
    add = _Found(problem)
    areas = plan.areas()
    for check in (_assignment, _count_and_leads, _distance, _contiguity, _declared_exemptions,
                  _floors_and_caps, _two_tiers, _groups, _money):
        check(problem, plan, areas, add)
    _check_limits(problem, plan, add)
    return Verification(tuple(add.violations))


def _assignment(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """Every municipality in an area, every area led by a municipality of its own."""
    inst = problem.instance
    lead = plan.lead
    unassigned = np.flatnonzero(lead == UNASSIGNED)
    if len(unassigned):
        add("assignment", f"not assigned to any area: {add.names(unassigned)}", unassigned)
    for key, members in areas.items():
        if isinstance(key, str):
            code, name = plan.lead_label(key)
            add("lead", f"{add.names(members)}: lead {name} ({code}) is outside instance "
                f"{inst.name!r}", members)
        elif lead[key] != key:
            add("lead", f"{inst.label(key)} leads an area but is itself assigned elsewhere",
                [key])


def _count_and_leads(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """The number of areas, candidate and fixed leads, locks."""
    inst = problem.instance
    n_areas = len(areas)
    if not problem.k_min <= n_areas <= problem.k_max:
        if problem.organiser is not None:  # count the regional leads, as the model does
            lo, hi = problem.k_min - 1, problem.k_max - 1
            have = sum(1 for k in areas if k != problem.organiser)
            rng = f"{lo}" if lo == hi else f"{lo}–{hi}"
            add("area count", f"{have} regional leads besides the organiser's own area, the "
                f"model asks for {rng}")
        else:
            rng = (f"{problem.k_min}" if problem.k_min == problem.k_max
                   else f"{problem.k_min}–{problem.k_max}")
            add("area count", f"{n_areas} areas, the model asks for {rng}")
    for j in (k for k in areas if isinstance(k, int)):
        if not problem.candidates[j]:
            add("candidate", f"{inst.label(j)} leads an area but is not a candidate lead", [j])
    for j in problem.fixed:
        if plan.lead[j] != j:
            add("fixed lead", f"{inst.label(j)} must lead an area but does not", [j])
    for i, j in problem.locks.items():
        if plan.lead[i] != j:
            add("lock", f"{inst.label(i)} is locked to {inst.label(j)}", [i])


def _distance(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """No municipality further from its lead than the maximum distance (km) or travel time
    (minutes), and, with a travel-time file, none without a route to its lead."""
    inst, lead = problem.instance, plan.lead
    for limit, d, unit, rule in ((problem.model.max_distance_km, inst.km, "km",
                                  "max distance"),
                                 (problem.model.max_minutes, inst.minutes, "minutes",
                                  "max minutes")):
        if limit is None:
            continue
        for i in range(inst.n):
            if lead[i] >= 0 and d[i, lead[i]] > limit + TOL:
                add(rule, f"{inst.label(i)} is {d[i, lead[i]]:.1f} {unit} from its lead "
                    f"{inst.label(int(lead[i]))}, limit {limit:g} {unit}", [i])
    if inst.metric == "file":
        for i in range(inst.n):
            if lead[i] >= 0 and not np.isfinite(inst.distance[i, lead[i]]):
                add("no route", f"{inst.label(i)} has no route to its lead "
                    f"{inst.label(int(lead[i]))} in {inst.travel.path.name}", [i])


def _contiguity(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """Every area connected in the adjacency graph (links included)."""
    if not problem.contiguity:
        return
    g = problem.instance.graph()
    for key, members in areas.items():
        parts = list(nx.connected_components(g.subgraph(members)))
        if len(parts) < 2:
            continue
        lc, ln = plan.lead_label(key)
        lead_part = next((p for p in parts if key in p), None)
        if lead_part is None:  # the lead is elsewhere: list the pieces
            pieces = " | ".join(add.names(sorted(p)) for p in parts)
            add("contiguity", f"area led by {ln} ({lc}) is not contiguous: its "
                f"pieces are {pieces}", sorted(members))
            continue
        stray = sorted(set().union(*(p for p in parts if p is not lead_part)))
        add("contiguity", f"area led by {ln} ({lc}) is not contiguous: {add.names(stray)} "
            f"cut off from {add.names(sorted(lead_part))}", stray)


def _declared_exemptions(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """Exemptions declared only for areas the plan has, and only when the model allows."""
    exempt = set(plan.exempt)
    unknown = exempt - set(areas)
    if unknown:
        add("exemption", "exemption declared for an area the plan does not have: "
            + ", ".join(str(k) for k in sorted(map(str, unknown))))
    if exempt and problem.exemptions is None:
        add("exemption", f"{len(exempt)} area(s) declared exempt, but the model allows no "
            "exemption ([exemptions] is not enabled)",
            sorted(i for k in exempt & set(areas) for i in areas[k]))


def _floors_and_caps(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """Each floor and cap on each area (an exempted area may miss the exemptable floors)."""
    exempt = set(plan.exempt)
    for bounds, is_floor in ((problem.floors, True), (problem.caps, False)):
        for b in bounds:
            for key, members in areas.items():
                if is_floor and b.exemptable and key in exempt and problem.exemptions:
                    continue
                total = float(b.values[members].sum()) + b.offset
                if total < b.limit - TOL if is_floor else total > b.limit + TOL:
                    lc, ln = plan.lead_label(key)
                    part = " (its part inside this instance)" if isinstance(key, str) else ""
                    sign = "<" if is_floor else ">"
                    add("floor" if is_floor else "cap",
                        f"area led by {ln} ({lc}){part}: {b.attribute} {total:,.2f} {sign} "
                        f"{b.limit:,.2f} ({b.label})", members)


def _two_tiers(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """Self-only leads, separate pairs and the organiser's area, each from its definition."""
    inst = problem.instance
    lead = plan.lead
    for j in problem.self_only:
        if lead[j] != j:
            continue
        others = [i for i in np.flatnonzero(lead == j) if i != j]
        if others:
            who = ("is the organiser and produces for its own area alone"
                   if j == problem.organiser else "may serve only itself")
            add("self-only", f"{inst.label(j)} {who}, but serves "
                f"{', '.join(inst.names[i] for i in others)}", others)
    for a, b in problem.separate:
        assigned = lead[a] != UNASSIGNED and lead[b] != UNASSIGNED
        if assigned and plan.lead_key(a) == plan.lead_key(b):
            add("separate", f"{inst.label(a)} and {inst.label(b)} may not be in one area, "
                f"but both are in the area led by {plan.lead_label(plan.lead_key(a))[1]}",
                [a, b])
    org = problem.organiser
    if org is None:
        return
    inside = problem.in_organiser_area
    members = np.flatnonzero(inside)
    org_name = f"the organiser {inst.label(org)}'s area"
    for b in problem.organiser_floors:
        total = float(b.values[members].sum())
        if total < b.limit - TOL:
            add("organiser area", f"{org_name}: {b.attribute} {total:,.2f} < {b.limit:,.2f} "
                f"(the law's floor)", members)
    if problem.model.organiser.contiguous and problem.contiguity:
        parts = list(nx.connected_components(inst.graph().subgraph(members.tolist())))
        if len(parts) > 1:
            stray = sorted(set().union(*(p for p in parts if org not in p)))
            add("organiser area", f"{org_name} is not contiguous: "
                f"{', '.join(inst.names[i] for i in stray)} cut off from "
                f"{inst.names[org]}", stray)
    for key, m in areas.items():
        sides = {bool(inside[i]) for i in m}
        if len(sides) > 1:
            cross = [i for i in m if inside[i] != (isinstance(key, int) and inside[key])]
            add("organiser area", f"the area led by {plan.lead_label(key)[1]} crosses the "
                f"border of {org_name}: {', '.join(inst.names[i] for i in cross)}", cross)


def _groups(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """No group of `areas.keep_whole` split across areas, each group derived again from
    the instance and the model (`model/groups.py`)."""
    for g in model_groups(problem):
        if not g.hard or not g.split(plan):
            continue
        parts = []
        for key, members in g.areas(plan).items():
            where = "in no area" if key is None else f"led by {plan.lead_label(key)[1]}"
            parts.append(f"{add.names(members)} ({where})")
        add("keep whole", f"{g.attribute} {g.name} must stay in one area, but the plan splits "
            f"it: {'; '.join(parts)}", list(g.members))


def _money(problem: Problem, plan: Plan, areas: dict, add: _Found) -> None:
    """The variant's deficit bound, from the areas' production cost and subsidies."""
    bound = problem.deficit_bound
    if bound is None:
        return
    for key, m in areas.items():
        m = np.asarray(m)
        cost = problem.production_cost(m, key if isinstance(key, int) else None,
                                       key in plan.exempt)
        deficit = cost - float(bound.available[m].sum())
        allowed = bound.limit * float(bound.key[m].sum())
        if deficit > allowed + MONEY_TOL:
            add("deficit bound", f"area led by {plan.lead_label(key)[1]}: deficit "
                f"{deficit:,.2f} € > {bound.limit:g} € × {bound.key_name} "
                f"{float(bound.key[m].sum()):,.2f} = {allowed:,.2f} €", m.tolist())


def _check_limits(problem: Problem, plan: Plan, add: _Found) -> None:
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

"""Figures of a plan per area (sizes, travel, staff, cost), computed from the plan alone.

With an organiser, the plan's objective is the areas' costs plus the organiser's
common cost; an area's cost is its production cost (the money) plus travel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data.plan import Plan
from .objective import objective_value, term_values
from .problem import Problem

STANDARD_ATTRIBUTES = ("population", "labour_force", "jobseekers")


@dataclass(frozen=True)
class AreaFigures:
    lead_code: str
    lead_name: str
    members: tuple[str, ...]
    member_names: tuple[str, ...]
    totals: Mapping[str, float]
    travel: float | None
    fte: float | None
    """Staff: whole FTEs (an int), or person-years when staffing.whole_fte is false."""
    cost: float | None
    production_cost: float | None = None
    role: str = ""
    """'organiser' for the organiser's own area, 'outside' for a lead outside the instance."""
    exempt: bool = False
    """The plan declares an exemption for this area (it may miss the exemptable floors)."""

    def as_dict(self) -> dict:
        return {
            "lead_code": self.lead_code, "lead_name": self.lead_name,
            "municipalities": len(self.members), "members": list(self.members),
            "member_names": list(self.member_names), **self.totals,
            "weighted_travel_km": self.travel, "fte": self.fte, "cost": self.cost,
            "production_cost": self.production_cost, "role": self.role,
            **({"exempt": True} if self.exempt else {}),
        }


@dataclass(frozen=True)
class PlanFigures:
    areas: tuple[AreaFigures, ...]
    attributes: tuple[str, ...]
    travel_weight: str
    objective: float | None
    common_cost: float | None = None
    """The organiser's yearly common cost (None without an organiser)."""
    terms: Mapping[str, float | None] = field(default_factory=dict)
    """Every objective term of the plan (`model/objective.py`), weighted or not."""
    distance_unit: str = "km"
    """What travel counts: `km`, or `minutes` from a travel-time file."""
    distance_source: str = ""
    """Where the distances come from, in words (`Instance.distance_source`)."""

    @property
    def travel(self) -> float | None:
        t = [a.travel for a in self.areas]
        return None if any(x is None for x in t) else float(sum(t))


def shown_attributes(problem: Problem) -> tuple[str, ...]:
    inst = problem.instance
    names = [a for a in STANDARD_ATTRIBUTES if a in inst.attributes]
    names += [b.attribute for b in (*problem.floors, *problem.caps)
              if b.attribute in inst.attributes]
    w = problem.model.objective.travel_weight
    if w:
        names.append(w)
    return tuple(dict.fromkeys(names))


def evaluate(problem: Problem, plan: Plan) -> PlanFigures:
    """Per-area figures and the plan's objective value under `problem`'s objective."""
    inst = problem.instance
    obj = problem.model.objective
    weight = inst.attribute(obj.travel_weight) if obj.travel_weight else np.ones(inst.n)
    attrs = shown_attributes(problem)
    areas = []
    plan_areas = plan.areas()
    for key, members in plan_areas.items():
        m = np.asarray(members)
        code, name = plan.lead_label(key)
        totals = {a: float(inst.attribute(a)[m].sum()) for a in attrs}
        inside = isinstance(key, int)
        travel = float(weight[m] @ inst.distance[m, key]) if inside else None
        if travel is not None and not np.isfinite(travel):  # a member without a route
            travel = None
        exempt = key in plan.exempt
        fte = problem.fte_of(m, exempt)
        production = problem.production_cost(m, key if inside else None, exempt)
        cost = production + float(problem.cost[m, key].sum()) if travel is not None else None
        role = "outside" if not inside else "organiser" if key == problem.organiser else ""
        areas.append(AreaFigures(code, name, tuple(inst.codes[i] for i in m),
                                 tuple(inst.names[i] for i in m), totals, travel, fte, cost,
                                 production, role, exempt))
    common = problem.common_cost(plan_areas, plan.exempt)
    terms = term_values(problem, plan)
    objective = objective_value(problem, terms) if areas else None
    return PlanFigures(tuple(areas), attrs, obj.travel_weight or "unweighted", objective,
                       common, terms, inst.distance_unit, inst.distance_source)

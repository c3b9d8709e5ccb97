"""The objective's terms, computed from a plan alone: what a plan costs, and in which parts.

The objective of a problem is Σ weight_t · term_t over these terms. The model's
own objective weighs fixed cost, travel and staff by 1 and each moved
municipality by `reference.cost_per_move`; the decisions (the fewest
exemptions, the largest area count, Pareto fronts) weigh them otherwise, and
`[limits]` bounds any of them. The formulation builds the same terms as
coefficient vectors; the verifier and `evaluate.evaluate` use these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..data.matching import moved
from ..data.plan import Plan
from .problem import Problem


@dataclass(frozen=True)
class Term:
    """One objective term: what it measures, its unit, and where a planner may use it.

    A derived term (`parts`) is a weighted sum of basic terms; the formulation
    builds a coefficient vector for every basic term (`mip/formulation.py`,
    `term_vectors`), and `term_values` computes every term from a plan.
    """

    name: str
    label: str
    unit: str
    meaning: str
    parts: Mapping[str, float] | None = None
    limit: bool = False
    """`[limits]` may bound it (exemptions and moves have keys of their own)."""
    compared: bool = False
    """A row of `optimizer compare` and of the report's comparison."""


TERMS: tuple[Term, ...] = (
    Term("fixed", "fixed cost", "€/yr", "the areas' own and service costs and the "
         "organiser's common cost", limit=True, compared=True),
    Term("travel", "travel cost", "€/yr", "the priced weighted km (or minutes) to the leads",
         limit=True, compared=True),
    Term("staffing", "staff cost", "€/yr", "the areas' staff at their price per FTE",
         limit=True, compared=True),
    Term("cost", "fixed and staff cost", "€/yr", "fixed + staff cost: what running the "
         "areas costs", parts={"fixed": 1.0, "staffing": 1.0}, limit=True, compared=True),
    Term("total", "total cost", "€/yr", "fixed + travel + staff: the model's objective "
         "without the price of moves", parts={"fixed": 1.0, "travel": 1.0, "staffing": 1.0},
         limit=True, compared=True),
    Term("areas", "areas", "areas", "the number of areas", compared=True),
    Term("exemptions", "exempted areas", "areas", "the number of areas with an exemption",
         compared=True),
    Term("moves", "moved municipalities", "municipalities", "municipalities whose lead "
         "changes from the reference plan"),
    Term("deficit", "largest net deficit of an area", "€/yr", "an area's production cost "
         "less its members' subsidies after the organiser's share, the largest (0 if none "
         "has a deficit; needs [finance])"),
    Term("splits", "price of split groups", "€/yr", "the price (areas.split_cost) of every "
         "group of municipalities, such as an official sub-region, that the areas split"),
)
"""Every objective term, in the order tables show them. The lists below derive from it."""
BY_NAME: Mapping[str, Term] = {t.name: t for t in TERMS}
BASIC = tuple(t.name for t in TERMS if t.parts is None)
"""Terms the formulation builds and `term_values` computes directly."""
DERIVED = {t.name: dict(t.parts) for t in TERMS if t.parts is not None}
UNITS = {t.name: t.unit for t in TERMS}
LABELS = {t.name: t.label for t in TERMS}
LIMIT_TERMS = tuple(t.name for t in TERMS if t.limit)
"""Terms a `[limits]` table may bound."""
COMPARED = tuple(t.name for t in TERMS if t.compared)
"""Rows of a comparison of two plans."""


def describe_terms(names: tuple[str, ...] = tuple(BY_NAME)) -> str:
    """`name (meaning)` for each term, for help texts."""
    return "; ".join(f"{n} ({BY_NAME[n].meaning})" for n in names)


def expand(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights on basic terms only (derived terms spread over their parts)."""
    out: dict[str, float] = {}
    for term, w in weights.items():
        for part, share in DERIVED.get(term, {term: 1.0}).items():
            if part not in BASIC:
                raise ValueError(f"unknown objective term {part!r}")
            out[part] = out.get(part, 0.0) + w * share
    return out


def term_values(problem: Problem, plan: Plan) -> dict[str, float | None]:
    """Every term (basic and derived) of `plan`; None where undefined (a lead outside the
    instance leaves travel unknown; moves need a reference).

    `staffing` is the areas' staff at their price per FTE (pay, per-FTE services, the
    organiser's per-FTE cost inside its area); `fixed` is the rest of the money: the
    areas' own and service costs and the organiser's common cost."""
    areas = plan.areas()
    price = problem.fte_price
    production = staff = 0.0
    travel: float | None = 0.0
    deficit = 0.0 if problem.available is not None else None
    for key, members in areas.items():
        m = np.asarray(members, dtype=np.int64)
        inside = isinstance(key, int)
        exempt = key in plan.exempt
        cost = problem.production_cost(m, key if inside else None, exempt)
        production += cost
        if deficit is not None:
            deficit = max(deficit, cost - float(problem.available[m].sum()))
        fte = problem.fte_of(m, exempt) or 0.0
        staff += fte * (float(price[key]) if inside else problem.production_fte_price)
        if inside and travel is not None:
            travel += float(problem.cost[m, key].sum())
        else:
            travel = None
    common = problem.common_cost(areas, plan.exempt) or 0.0
    values: dict[str, float | None] = {
        "fixed": production + common - staff,
        "travel": travel,
        "staffing": staff,
        "exemptions": float(len(plan.exempt)),
        "moves": (float(moved(plan, problem.reference.plan).sum())
                  if problem.reference is not None else None),
        "areas": float(len(areas)),
        "deficit": deficit,
        "splits": float(sum(g.price for g in problem.priced_groups if g.split(plan))),
    }
    for name, parts in DERIVED.items():
        vals = [values[p] for p in parts]
        values[name] = None if any(v is None for v in vals) else float(sum(vals))
    return values


def objective_value(problem: Problem, values: Mapping[str, float | None]) -> float | None:
    """Σ weight · term under the problem's weights; None when a weighted term is unknown."""
    total = 0.0
    for term, w in expand(problem.objective_weights).items():
        if w == 0:
            continue
        v = values.get(term)
        if v is None:
            return None
        total += w * v
    return total

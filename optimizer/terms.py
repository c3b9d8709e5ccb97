"""The objective's terms, computed from a plan alone: what a plan costs, and in which parts.

The objective of a problem is Σ weight_t · term_t over these terms. The model's
own objective weighs fixed cost, travel and staff by 1 and each moved
municipality by `reference.cost_per_move`; the decisions (the fewest
exemptions, the largest area count, Pareto fronts) weigh them otherwise, and
`[limits]` bounds any of them. The formulation builds the same terms as
coefficient vectors; the verifier and `figures.evaluate` use these values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .model import Problem
from .plan import UNASSIGNED, Plan, moved

TERMS = ("fixed", "travel", "staffing", "exemptions", "moves", "areas")
"""Basic terms: fixed cost (€/yr), travel (€/yr, the priced weighted km), staff cost (€/yr),
the number of exempted areas, of municipalities moved from the reference, of areas."""
DERIVED = {"cost": {"fixed": 1.0, "staffing": 1.0},
           "total": {"fixed": 1.0, "travel": 1.0, "staffing": 1.0}}
"""Sums of basic terms: `cost` is what running the areas costs (fixed and staff), `total`
the model's objective without the price of moves."""
UNITS = {"fixed": "€/yr", "travel": "€/yr", "staffing": "€/yr", "cost": "€/yr",
         "total": "€/yr", "exemptions": "areas", "moves": "municipalities", "areas": "areas"}
LABELS = {"fixed": "fixed cost", "travel": "travel cost", "staffing": "staff cost",
          "cost": "fixed and staff cost", "total": "total cost", "exemptions": "exempted areas",
          "moves": "moved municipalities", "areas": "areas"}


def expand(weights: Mapping[str, float]) -> dict[str, float]:
    """Weights on basic terms only (derived terms spread over their parts)."""
    out: dict[str, float] = {}
    for term, w in weights.items():
        for part, share in DERIVED.get(term, {term: 1.0}).items():
            if part not in TERMS:
                raise ValueError(f"unknown objective term {part!r}")
            out[part] = out.get(part, 0.0) + w * share
    return out


def term_values(problem: Problem, plan: Plan) -> dict[str, float | None]:
    """Every term (basic and derived) of `plan`; None where undefined (a lead outside the
    instance leaves travel unknown; moves need a reference)."""
    inst = problem.instance
    areas = plan.areas()
    inside = [k for k in areas if isinstance(k, int)]
    outside = len(areas) - len(inside)
    st = problem.staffing
    staff = 0.0
    if st is not None and st.cost_per_fte > 0:
        s = inst.attribute(st.attribute)
        staff = st.cost_per_fte * sum(problem.fte_needed(float(s[m].sum()))
                                      for m in areas.values())
    travel = None
    if not outside:
        assigned = np.flatnonzero(plan.lead != UNASSIGNED)
        travel = float(problem.cost[assigned, plan.lead[assigned]].sum())
    values: dict[str, float | None] = {
        "fixed": problem.fixed_cost * len(areas),
        "travel": travel,
        "staffing": staff,
        "exemptions": float(len(plan.exempt)),
        "moves": (float(moved(plan, problem.reference.plan).sum())
                  if problem.reference is not None else None),
        "areas": float(len(areas)),
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

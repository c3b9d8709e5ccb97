"""A plan beside a reference plan: which municipalities move, and both plans' figures.

Area labels differ between plans (a lead may change while the area stays), so
areas are first matched one to one by the population they share (an
assignment problem); a municipality moves when its reference area is not the
one matched to its area in the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..figures import PlanFigures, evaluate
from ..model import Problem
from ..plan import UNASSIGNED, Plan
from ..verify import Verification, verify


@dataclass(frozen=True)
class Move:
    """Municipality `index` is in the reference's area `before` and the plan's area `after`
    (areas named `Lead (code)`)."""

    index: int
    code: str
    name: str
    before: str
    after: str


@dataclass(frozen=True, eq=False)
class Comparison:
    name: str
    reference: Plan
    figures: PlanFigures
    verification: Verification
    matched: dict[str, str]
    """Plan area lead code → the reference area lead code it corresponds to."""
    moves: tuple[Move, ...]


def _area(plan: Plan, i: int) -> str:
    code, name = plan.lead_label(plan.lead_key(i))
    return f"{name} ({code})"


def compare(problem: Problem, plan: Plan, reference: Plan, name: str) -> Comparison:
    """Match the plans' areas by shared population (else count) and list the moves."""
    from scipy.optimize import linear_sum_assignment

    inst = problem.instance
    weight = inst.attributes.get("population", np.ones(inst.n))
    both = [i for i in range(inst.n)
            if plan.lead[i] != UNASSIGNED and reference.lead[i] != UNASSIGNED]
    mine = sorted({plan.lead_code(i) for i in both})
    theirs = sorted({reference.lead_code(i) for i in both})
    shared = np.zeros((len(mine), len(theirs)))
    row, col = {c: k for k, c in enumerate(mine)}, {c: k for k, c in enumerate(theirs)}
    for i in both:
        shared[row[plan.lead_code(i)], col[reference.lead_code(i)]] += weight[i] + 1e-9
    r, c = linear_sum_assignment(shared, maximize=True)
    matched = {mine[a]: theirs[b] for a, b in zip(r, c, strict=True) if shared[a, b] > 0}
    moves = tuple(Move(i, inst.codes[i], inst.names[i], _area(reference, i), _area(plan, i))
                  for i in both if matched.get(plan.lead_code(i)) != reference.lead_code(i))
    return Comparison(name, reference, evaluate(problem, reference), verify(problem, reference),
                      matched, tuple(sorted(moves, key=lambda m: m.name)))

"""A plan beside a reference plan: which municipalities move, and both plans' figures.

Area labels differ between plans (a lead may change while the area stays), so
areas are first matched one to one so that the fewest municipalities move
(ties: the most population kept; `plan.area_matching`); a municipality moves
when its reference area is not the one matched to its area in the plan. The
same count bounds `solve --reference PLAN --max-moves N`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.matching import area_matching, moved
from ..data.plan import Plan
from ..model.evaluate import PlanFigures, evaluate
from ..model.problem import Problem
from ..model.verify import Verification, verify


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
    """Match the plans' areas so that the fewest municipalities move, and list the moves."""
    inst = problem.instance
    matched = area_matching(plan, reference)
    moves = tuple(Move(int(i), inst.codes[i], inst.names[i], _area(reference, i),
                       _area(plan, i)) for i in np.flatnonzero(moved(plan, reference)))
    return Comparison(name, reference, evaluate(problem, reference), verify(problem, reference),
                      matched, tuple(sorted(moves, key=lambda m: m.name)))

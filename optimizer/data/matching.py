"""Two plans of one instance side by side: who moved, and which areas continue which.

A municipality **moves** when its lead changes (it is assigned in both plans and its
lead municipality is not the same): the one definition the report, `compare`,
`--max-moves` and the moves term share. Areas are matched one to one by the
population they share (then by having the same lead) only to name continuing
areas ("Tyrnävä's area, was Oulu's"), never to decide who moved.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from .plan import UNASSIGNED, Plan


def moved(plan: Plan, reference: Plan) -> np.ndarray:
    """Boolean per municipality: assigned by both plans and led by another municipality
    in `plan` than in `reference` (leads compared by code, so a lead outside the instance
    counts too)."""
    inst = plan.instance
    return np.array([plan.lead[i] != UNASSIGNED and reference.lead[i] != UNASSIGNED
                     and plan.lead_code(i) != reference.lead_code(i)
                     for i in range(inst.n)], dtype=bool)


def area_matching(plan: Plan, reference: Plan) -> dict[str, str]:
    """Plan area lead code → the reference area lead code it continues.

    Areas are matched one to one (an assignment problem) so that the matched areas share
    as much population as possible; between equal shares, an area led by the same
    municipality wins. Without a population attribute each municipality counts 1."""
    inst = plan.instance
    pop = np.abs(inst.attributes.get("population", np.ones(inst.n)))
    both = [i for i in range(inst.n)
            if plan.lead[i] != UNASSIGNED and reference.lead[i] != UNASSIGNED]
    mine = sorted({plan.lead_code(i) for i in both})
    theirs = sorted({reference.lead_code(i) for i in both})
    row = {c: k for k, c in enumerate(mine)}
    col = {c: k for k, c in enumerate(theirs)}
    shared = np.zeros((len(mine), len(theirs)))
    for i in both:
        shared[row[plan.lead_code(i)], col[reference.lead_code(i)]] += pop[i]
    score = shared * (len(mine) + 1)  # the same-lead bonuses together stay below one person
    for code in set(mine) & set(theirs):
        if shared[row[code], col[code]] > 0:
            score[row[code], col[code]] += 1.0
    r, c = linear_sum_assignment(score, maximize=True)
    return {mine[a]: theirs[b] for a, b in zip(r, c, strict=True) if shared[a, b] > 0}

"""Two plans of one instance side by side: their areas matched one to one, and who moved.
"""

from __future__ import annotations

import numpy as np

from .plan import UNASSIGNED, Plan


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

"""Groups kept whole (`areas.keep_whole`) or priced when split (`areas.split_cost`) in the
formulation: rows (G) and (GS) of `mip/formulation.py`, and the pairs they rule out.

(G)  x_ij − x_rj = 0     for every member i of a hard group with representative r (its
                         first member) and every lead j: the group goes to one area whole.
                         A lead some member may not join is one none may join (the pairs
                         are filtered so, together with contiguity's reachability).
(GS) x_ij − x_rj ≤ s_g,  x_rj − x_ij ≤ s_g   for a priced group g, s_g ∈ {0,1}: s_g = 1
                         when the group is split; the `splits` term is Σ_g price_g · s_g.
"""

from __future__ import annotations

import numpy as np


def keep_groups_whole(ok: np.ndarray, groups) -> None:
    """Rule out, in place, every pair (i, j) of a hard group's member i with a lead j that
    another member may not join, and every lead that may then not serve itself."""
    for g in groups:
        if g.hard:
            m = list(g.members)
            ok[m, :] &= ok[m, :].all(axis=0)[None, :]
    ok &= np.diag(ok).copy()[None, :]


def group_rows(rows, groups, col_of: np.ndarray, leads: np.ndarray,
               split_col: np.ndarray) -> None:
    """(G) for the hard groups; (GS) for the priced ones, whose split columns are
    `split_col` in the order of the priced groups."""
    soft = 0
    for g in groups:
        r = g.members[0]
        for j in leads:
            if g.hard:
                if col_of[r, j] < 0:
                    continue
                for i in g.members[1:]:
                    rows.add([col_of[i, j], col_of[r, j]], [1.0, -1.0], 0.0, 0.0)
                continue
            s = int(split_col[soft])
            for i in g.members[1:]:
                a, b = int(col_of[i, j]), int(col_of[r, j])
                for plus, minus in ((a, b), (b, a)):
                    if plus < 0:
                        continue  # −x ≤ s always holds
                    cols, vals = [plus, s], [1.0, -1.0]
                    if minus >= 0:
                        cols.append(minus)
                        vals.append(-1.0)
                    rows.add(cols, vals, -np.inf, 0.0)
        soft += not g.hard


def split_start(groups, plan) -> list[float]:
    """s_g of a plan: 1 for each priced group it splits."""
    return [float(g.split(plan)) for g in groups if not g.hard]

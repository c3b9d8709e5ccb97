"""Separator cuts for the cut-generation strategy of contiguity (formulation (6)).

If area j of a plan has a piece K that does not contain j, every path from
K to j leaves K through municipalities outside area j. Their set S (trimmed
to those adjacent to j's side) separates K from j, so x_ij ≤ Σ_{s∈S} x_sj for
every i in K is valid for all contiguous plans and cuts this plan off.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import breadth_first_order, connected_components

from .formulation import Formulation
from .milp import RowBlock
from .plan import Plan


def pieces(adjacency, members: np.ndarray) -> list[np.ndarray]:
    """Connected pieces of the subgraph induced by `members` (positions)."""
    sub = adjacency[members][:, members]
    k, comp = connected_components(sub, directed=False)
    return [members[comp == c] for c in range(k)]


def separator_cuts(form: Formulation, plan: Plan) -> RowBlock:
    """Cuts violated by `plan`: one per municipality cut off from its lead."""
    inst = form.problem.instance
    adj = inst.adjacency
    col_of = form.col_of
    rows = RowBlock()
    for j in np.unique(plan.lead[plan.lead >= 0]):
        members = np.flatnonzero(plan.lead == j)
        if len(members) == 1:
            continue
        able = np.flatnonzero(col_of[:, j] >= 0)  # municipalities that may ever join j
        for piece in pieces(adj, members):
            if j in piece:
                continue
            in_piece = np.zeros(inst.n, dtype=bool)
            in_piece[piece] = True
            boundary = np.zeros(inst.n, dtype=bool)
            boundary[adj[piece].indices] = True
            boundary &= ~in_piece
            # Keep only boundary vertices reachable from j without crossing the piece.
            allowed_nodes = np.zeros(inst.n, dtype=bool)
            allowed_nodes[able] = True
            allowed_nodes &= ~in_piece & ~boundary
            allowed_nodes[j] = True
            keep = np.flatnonzero(allowed_nodes)
            sub = adj[keep][:, keep]
            order = breadth_first_order(sub, int(np.searchsorted(keep, j)), directed=False,
                                        return_predecessors=False)
            side = np.zeros(inst.n, dtype=bool)
            side[keep[order]] = True
            touch = np.zeros(inst.n, dtype=bool)
            touch[adj[np.flatnonzero(side)].indices] = True
            sep = np.flatnonzero(boundary & touch)
            sep_cols = col_of[sep, j]
            sep_cols = sep_cols[sep_cols >= 0]
            for i in piece:
                rows.add(np.concatenate([[col_of[i, j]], sep_cols]),
                         np.concatenate([[1.0], -np.ones(len(sep_cols))]), -np.inf, 0.0)
    return rows

"""The assignment model of design.md §2, written once, solver-neutral.

Variables: x_ij ∈ {0,1} for every pair the problem allows (i served by lead
j; x_jj = 1 opens j), FTE_j ∈ ℤ+ when staff cost money, and, for the flow
strategy, 0 ≤ f^j_uv ≤ |V_j| − 1 on the arcs of the graph (continuous,
marked implied integer).

    minimise   Σ_j f x_jj + Σ_ij c_ij x_ij + p Σ_j FTE_j
    (1) Σ_j x_ij = 1                            every municipality in one area
    (2) x_ij ≤ x_jj                             only open leads serve
    (3) k_min ≤ Σ_j x_jj ≤ k_max                number of areas
    (4) Σ_i a_i x_ij ≥ m x_jj                   each floor
    (5) Σ_i a_i x_ij ≤ M x_jj                   each cap
    (6) contiguity, exact, by either strategy:
        cuts: x_ij ≤ Σ_{s ∈ S} x_sj for vertex sets S separating i from j,
              the neighbourhoods N(i) up front, more as violated (contiguity.py)
        flow: each lead j sends one unit to each member along arcs inside its
              area: in_i − out_i = x_ij, in_i ≤ (|V_j| − 1) x_ij (Shirabe)
    (7) x_jj = 1 for fixed leads; pairs ruled out by candidates, locks, the
        maximum distance, reachability or caps are not created at all
    (S) caseload · FTE_j ≥ Σ_i s_i x_ij         staff needed, when p > 0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from .errors import InfeasibleModelError
from .milp import MILP, RowBlock
from .model import Problem
from .plan import Plan

STRATEGIES = ("flow", "cuts")


@dataclass(frozen=True, eq=False)
class Formulation:
    """The MILP of a problem plus the map between its columns and the plan."""

    problem: Problem
    milp: MILP
    strategy: str
    pair_i: np.ndarray
    pair_j: np.ndarray
    col_of: np.ndarray
    lead_col: np.ndarray
    fte_col: np.ndarray
    arc_u: np.ndarray
    arc_v: np.ndarray
    arc_j: np.ndarray

    @property
    def num_pairs(self) -> int:
        return len(self.pair_i)

    def plan(self, values: np.ndarray) -> Plan:
        """The plan encoded by a solution vector (each i goes to its largest x_ij)."""
        x = np.asarray(values[: self.num_pairs])
        n = self.problem.n
        best = np.full(n, -1.0)
        lead = np.full(n, -2, dtype=np.int64)
        for k in np.flatnonzero(x > 0.5):
            i = self.pair_i[k]
            if x[k] > best[i]:
                best[i], lead[i] = x[k], self.pair_j[k]
        return Plan.from_leads(self.problem.instance, lead)

    def start(self, plan: Plan) -> np.ndarray | None:
        """A full solution vector for `plan` (x, FTE and flows), or None if it has no columns."""
        v = np.zeros(self.milp.num_cols)
        lead = plan.lead
        if np.any(lead < 0):
            return None
        cols = self.col_of[np.arange(self.problem.n), lead]
        if np.any(cols < 0):
            return None
        v[cols] = 1.0
        st = self.problem.staffing
        for j in np.unique(lead):
            if self.fte_col[j] >= 0:
                total = st_total(self.problem, lead == j)
                v[self.fte_col[j]] = np.ceil(total / st.caseload - 1e-9)
        if len(self.arc_u):
            v[self.milp.num_cols - len(self.arc_u):] = _tree_flows(self, lead)
        return v


def st_total(problem: Problem, members: np.ndarray) -> float:
    st = problem.staffing
    return float(problem.instance.attribute(st.attribute)[members].sum())


def _tree_flows(form: Formulation, lead: np.ndarray) -> np.ndarray:
    """Flows of a BFS tree inside each area: each arc carries its child's subtree size."""
    arc_of = {(int(u), int(v), int(j)): k for k, (u, v, j)
              in enumerate(zip(form.arc_u, form.arc_v, form.arc_j, strict=True))}
    flows = np.zeros(len(form.arc_u))
    adj = form.problem.instance.adjacency
    for j in np.unique(lead):
        members = set(np.flatnonzero(lead == j).tolist())
        parent = {int(j): -1}
        order = [int(j)]
        for u in order:
            for v in adj.indices[adj.indptr[u]: adj.indptr[u + 1]]:
                v = int(v)
                if v in members and v not in parent:
                    parent[v] = u
                    order.append(v)
        size = dict.fromkeys(order, 1)
        for v in reversed(order[1:]):
            size[parent[v]] += size[v]
            k = arc_of.get((parent[v], v, int(j)))
            if k is not None:
                flows[k] = size[v]
    return flows


# -- building ----------------------------------------------------------------


def candidate_pairs(problem: Problem) -> np.ndarray:
    """Boolean n×n matrix of the x_ij that can be 1 in some feasible plan."""
    inst = problem.instance
    ok = problem.allowed.copy()
    can_lead = np.diag(ok).copy()
    ok &= can_lead[None, :]
    adj = inst.adjacency
    for cap in problem.caps:
        a = cap.values
        if np.any(a < 0):
            continue
        if problem.contiguity:
            # Node-weighted shortest path: the lightest connected set holding i and j.
            w = sp.csr_matrix((a[adj.indices], adj.indices, adj.indptr), shape=adj.shape)
            w.data = np.maximum(w.data, 1e-12)  # keep zero-weight edges as edges
            lightest = dijkstra(w, directed=True) + a[:, None]
            ok &= cap.limit + 1e-9 >= lightest.T
        else:
            ok &= (a[:, None] + np.where(np.eye(problem.n, dtype=bool), 0, a[None, :])
                   <= cap.limit + 1e-9)
    if problem.contiguity:
        # i can join j only if it reaches j through municipalities that may also join j.
        for j in np.flatnonzero(can_lead):
            if not ok[j, j]:
                ok[:, j] = False
                continue
            nodes = np.flatnonzero(ok[:, j])
            sub = adj[nodes][:, nodes]
            _, comp = connected_components(sub, directed=False)
            ok[nodes[comp != comp[np.searchsorted(nodes, j)]], j] = False
    return ok


def build(problem: Problem, strategy: str = "cuts") -> Formulation:
    """The MILP of `problem` with contiguity by `strategy` ('flow' or 'cuts')."""
    inst = problem.instance
    n = inst.n
    ok = candidate_pairs(problem)
    lonely = np.flatnonzero(~ok.any(axis=1))
    if len(lonely):
        raise InfeasibleModelError(
            "no lead can serve " + ", ".join(inst.label(i) for i in lonely)
            + " (candidates, locks, maximum distance, reachability and caps rule them all out)"
        )
    pair_i, pair_j = np.nonzero(ok)
    P = len(pair_i)
    lead_col = np.full(n, -1, dtype=np.int64)
    diag = pair_i == pair_j
    lead_col[pair_j[diag]] = np.flatnonzero(diag)
    leads = np.flatnonzero(lead_col >= 0)

    st = problem.staffing
    fte_col = np.full(n, -1, dtype=np.int64)
    n_cols = P
    if st is not None and st.cost_per_fte > 0:
        fte_col[leads] = P + np.arange(len(leads))
        n_cols += len(leads)

    rows = RowBlock()
    # (1) every municipality in one area
    rows.add_many(pair_i, np.arange(P), 1.0, np.ones(n), np.ones(n))
    # (2) x_ij ≤ x_jj
    off = np.flatnonzero(~diag)
    r = np.arange(len(off))
    rows.add_many(np.concatenate([r, r]), np.concatenate([off, lead_col[pair_j[off]]]),
                  np.concatenate([np.ones(len(off)), -np.ones(len(off))]),
                  np.full(len(off), -np.inf), 0.0)
    # (3) number of areas
    rows.add(lead_col[leads], 1.0, problem.k_min, problem.k_max)
    # (4), (5) floors and caps: Σ a_i x_ij − limit·x_jj ≥ 0 (≤ 0)
    for bounds, lo, hi in ((problem.floors, 0.0, np.inf), (problem.caps, -np.inf, 0.0)):
        for b in bounds:
            _attribute_rows(rows, b.values, b.limit, pair_i, pair_j, lead_col, leads, lo, hi)
    # (S) staffing
    if fte_col.max() >= 0:
        s = inst.attribute(st.attribute)
        rk = np.searchsorted(leads, pair_j)
        rows.add_many(np.concatenate([rk, np.arange(len(leads))]),
                      np.concatenate([np.arange(P), fte_col[leads]]),
                      np.concatenate([-s[pair_i], np.full(len(leads), st.caseload)]),
                      np.zeros(len(leads)), np.inf)

    col_of = np.full((n, n), -1, dtype=np.int64)
    col_of[pair_i, pair_j] = np.arange(P)
    arc_u = arc_v = arc_j = np.zeros(0, dtype=np.int64)
    if problem.contiguity:
        _neighbourhood_cuts(rows, inst, col_of, pair_i, pair_j, off)
        if strategy == "flow":
            arc_u, arc_v, arc_j = _flow_arcs(inst, ok, leads)
            _flow_rows(rows, col_of, arc_u, arc_v, arc_j, n_cols, ok)
            n_cols += len(arc_u)
    elif strategy not in STRATEGIES:
        raise ValueError(strategy)

    c = np.zeros(n_cols)
    c[:P] = problem.cost[pair_i, pair_j]
    c[lead_col[leads]] += problem.fixed_cost
    if fte_col.max() >= 0:
        c[fte_col[leads]] = st.cost_per_fte
    col_lo = np.zeros(n_cols)
    col_hi = np.full(n_cols, np.inf)
    col_hi[:P] = 1.0
    for j in problem.fixed:
        if lead_col[j] < 0:
            raise InfeasibleModelError(f"fixed lead {inst.label(j)} cannot lead an area")
        col_lo[lead_col[j]] = 1.0
    integer = np.zeros(n_cols, dtype=bool)
    integer[:P] = True
    integer[fte_col[leads][fte_col[leads] >= 0]] = True
    implied = np.zeros(n_cols, dtype=bool)
    if len(arc_u):
        # An arc of lead j carries at most the |V_j| − 1 units j sends; with x
        # integral, integral flows exist (integral supplies and capacities).
        flows = slice(n_cols - len(arc_u), n_cols)
        col_hi[flows] = ok.sum(axis=0)[arc_j] - 1.0
        implied[flows] = True
    milp = MILP(c=c, A=rows.matrix(n_cols), row_lo=rows.lo, row_hi=rows.hi,
                col_lo=col_lo, col_hi=col_hi, integer=integer, implied_integer=implied)
    return Formulation(problem, milp, strategy if problem.contiguity else "none",
                       pair_i, pair_j, col_of, lead_col, fte_col, arc_u, arc_v, arc_j)


def _attribute_rows(rows, a, limit, pair_i, pair_j, lead_col, leads, lo, hi):
    rk = np.searchsorted(leads, pair_j)
    rows.add_many(np.concatenate([rk, np.arange(len(leads))]),
                  np.concatenate([np.arange(len(pair_i)), lead_col[leads]]),
                  np.concatenate([a[pair_i], np.full(len(leads), -limit)]),
                  np.full(len(leads), lo), hi)


def _neighbourhood_cuts(rows, inst, col_of, pair_i, pair_j, off) -> None:
    """x_ij ≤ Σ_{u ∈ N(i)} x_uj for i not adjacent to j: N(i) separates i from j."""
    if not len(off):  # nobody may be served by another lead (e.g. a tiny maximum distance)
        return
    adj = inst.adjacency
    i, j = pair_i[off], pair_j[off]
    far = ~np.asarray(adj[i, j]).ravel().astype(bool)
    off, i, j = off[far], i[far], j[far]
    deg = np.diff(adj.indptr)[i]
    r = np.repeat(np.arange(len(off)), deg)
    starts = np.repeat(adj.indptr[i], deg)
    within = np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg)
    u = adj.indices[starts + within]
    cols = col_of[u, np.repeat(j, deg)]
    keep = cols >= 0
    rows.add_many(np.concatenate([np.arange(len(off)), r[keep]]),
                  np.concatenate([off, cols[keep]]),
                  np.concatenate([np.ones(len(off)), -np.ones(keep.sum())]),
                  np.full(len(off), -np.inf), 0.0)


def _flow_arcs(inst, ok, leads):
    """Arcs (u, v, j) with both ends able to join j and v ≠ j."""
    e = inst.edges
    empty = np.zeros(0, dtype=np.int64)
    us, vs, js = [empty], [empty], [empty]
    for j in leads:
        both = ok[e[:, 0], j] & ok[e[:, 1], j]
        u = np.concatenate([e[both, 0], e[both, 1]])
        v = np.concatenate([e[both, 1], e[both, 0]])
        keep = v != j
        us.append(u[keep])
        vs.append(v[keep])
        js.append(np.full(keep.sum(), j, dtype=np.int64))
    return np.concatenate(us), np.concatenate(vs), np.concatenate(js)


def _flow_rows(rows, col_of, arc_u, arc_v, arc_j, first_col, ok) -> None:
    """Balance in_i − out_i = x_ij and capacity in_i ≤ (|V_j| − 1)·x_ij per pair (i, j), i ≠ j."""
    n = len(col_of)
    size = ok.sum(axis=0)
    fcol = first_col + np.arange(len(arc_u))
    heads = np.unique(arc_v * n + arc_j)
    hv, hj = heads // n, heads % n
    h = len(heads)
    row_of = np.full((n, n), -1, dtype=np.int64)
    row_of[hv, hj] = np.arange(h)
    in_row = row_of[arc_v, arc_j]
    out_row = row_of[arc_u, arc_j]  # -1 when the tail is the lead itself
    hx = col_of[hv, hj]
    has_out = out_row >= 0
    rows.add_many(np.concatenate([in_row, out_row[has_out], np.arange(h)]),
                  np.concatenate([fcol, fcol[has_out], hx]),
                  np.concatenate([np.ones(len(fcol)), -np.ones(has_out.sum()), -np.ones(h)]),
                  np.zeros(h), 0.0)
    rows.add_many(np.concatenate([in_row, np.arange(h)]),
                  np.concatenate([fcol, hx]),
                  np.concatenate([np.ones(len(fcol)), -(size[hj] - 1.0)]),
                  np.full(h, -np.inf), 0.0)

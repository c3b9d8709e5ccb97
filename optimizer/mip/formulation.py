"""The assignment model of docs/design.md §2, written once, solver-neutral.

Variables: x_ij ∈ {0,1} for every pair the problem allows (i served by lead
j; x_jj = 1 opens j), FTE_j ∈ ℤ+ when staff cost money, FTE_o ∈ ℤ+ for the
organiser's staff when it grows with the number of areas, e_j ∈ {0,1} when an
area may have an exemption, and, for the flow strategy, 0 ≤ f^j_uv ≤ |V_j| − 1
on the arcs of the graph (continuous, marked implied integer).

    minimise   Σ_t w_t T_t over the terms (model/objective.py); the model's own objective
               (weights 1, μ per move) is
               Σ_j f_j x_jj + Σ_ij (c_ij + v_i) x_ij + Σ_j p_j FTE_j + p FTE_o + C_0 + μ T_moves
        f_j: j's own fixed cost (lead_costs, else the fixed cost per area), the catalogue's
             regional per-area services and, inside the organiser's area, its cost per area;
        c_ij: travel; v_i: the regional services of i (per jobseeker, resident, labour force);
        p_j: staff pay and the per-FTE services; C_0: the organiser's plan-independent cost
        T_travel = Σ_ij c_ij x_ij,  T_staffing = Σ_j p_j FTE_j,  T_fixed = the rest
        (Σ_j f_j x_jj + Σ_ij v_i x_ij + p FTE_o + C_0),  T_exemptions = Σ_j e_j,
        T_moves = Σ_i (1 − x_{i,L(i)}),  T_areas = Σ_j x_jj,  T_deficit = D
        L(i): i's lead in the reference plan; a municipality moves when its lead changes
        (no column x_{i,L(i)}: L(i) outside the instance or unable to serve i, it moves)
    (1) Σ_j x_ij = 1                            every municipality in one area
    (2) x_ij ≤ x_jj                             only open leads serve
    (3) k_min ≤ Σ_j x_jj ≤ k_max                number of areas
    (4) Σ_i a_i x_ij ≥ m x_jj                   each floor; an exemptable floor
        Σ_i a_i x_ij ≥ m (x_jj − e_j)           (the hard floor is a floor of its own)
    (5) Σ_i a_i x_ij ≤ M x_jj                   each cap
    (6) contiguity, exact, by either strategy:
        cuts: x_ij ≤ Σ_{s ∈ S} x_sj for vertex sets S separating i from j,
              the neighbourhoods N(i) up front, the rest as the MILP's lazy rows
              (contiguity.py): separated inside the search or by re-solving
        flow: each lead j sends one unit to each member along arcs inside its
              area: in_i − out_i = x_ij, in_i ≤ (|V_j| − 1) x_ij (Shirabe)
    (7) x_jj = 1 for fixed leads (the organiser among them); pairs ruled out by
        candidates, locks, the maximum distance, reachability or caps are not created
        at all, nor are
        (7a) x_ij, i ≠ j, for a lead j that may serve only itself (the organiser
             producing alone for its own area),
        (7b) x_ij for i and j of a separate pair (i may not join its partner's area),
        (7c) x_ij across the border of the organiser's area
    (8) x_ij + x_kj ≤ x_jj                      i and k of a separate pair never share
                                                an area (each lead j both may join)
    (9) Σ_i (v_i − t_i − b κ_i) x_ij + f'_j x_jj + p' FTE_j ≤ 0
                                                the variant bounding deficits: area j's
        production cost (f'_j: own and per-area services; p': staff pay and per-FTE
        services) less its members' subsidies after the organiser's share t_i is at
        most b per unit of the equalisation key κ
    (S) caseload · FTE_j ≥ Σ_i (s_i + caseload · r_i) x_ij + caseload · r_0 x_jj
                                                staff needed, when p_j > 0 (s: the
        staffing attribute; r_i, r_0: the catalogue services' staff per member and area)
    (S') Σ_j FTE_j ≥ ⌈(Σ_i (s_i + caseload · r_i) + caseload · r_0 k_min) / caseload⌉
                                                (S) summed over the areas (each member in
        one, at least k_min areas), rounded up since FTE are whole: the LP bound then
        prices the rounding the staff of the whole region cannot avoid
    (O) FTE_o ≥ r_c + r_a Σ_{j in the organiser's area} x_jj
                                                the organiser's staff, when it depends on
        the number of areas (r_a > 0) and staff cost money
    With fractional FTE (staffing.whole_fte = false) there are no FTE columns: FTE_j is
    its need Σ_i (s_i / caseload + r_i) x_ij + r_0 x_jj, priced in c_ij and f_j, and the
    organiser's staff r_c + r_a · (areas) in C_0 and f_j.
    (E) e_j ≤ x_jj                              only an open area has an exemption;
        (4) for an exemptable floor: Σ_i a_i x_ij ≥ m (x_jj − e_j)
    (D) Σ_i (v_i − t_i) x_ij + f'_j x_jj + p' FTE_j − D ≤ 0
                                                the largest net deficit D ≥ 0 of an area
        (as (9) without an allowance), when the term is weighed or limited
    (D') Σ_j (f'_j x_jj + p' FTE_j) − k_max D ≤ −Σ_i (v_i − t_i)
                                                (D) summed over the leads (by (1) the
        members' part is a constant): the largest deficit is at least the average, so the
        LP bound of D is not 0 when the areas' deficits add up to more than 0
    (L) T_t ≤ L_t                               each limited term (limits, the most
                                                exemptions, the most moves)
    (G) x_ij − x_rj = 0                         a group kept whole (areas.keep_whole): every
        member i goes where its representative r goes (mip/groups.py); pairs a member may
        not take are ruled out for all members
    (GS) x_ij − x_rj ≤ s_g, x_rj − x_ij ≤ s_g   a priced group (areas.split_cost): s_g ∈
        {0,1} is 1 when it is split, T_splits = Σ_g price_g s_g
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from ..data.plan import Plan
from ..errors import InfeasibleModelError
from ..model.objective import BASIC, expand, term_values
from ..model.problem import Problem
from .contiguity import ContiguityRows
from .groups import group_rows, keep_groups_whole, split_start
from .milp import MILP, RowBlock

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
    org_col: int = -1
    exempt_col: np.ndarray | None = None
    """Column of e_j per lead position (−1: none)."""
    deficit_col: int = -1
    """Column of the largest deficit D (−1: none)."""
    split_col: np.ndarray | None = None
    """Column of s_g per priced group, in the problem's order of priced groups."""

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
        plan = Plan.from_leads(self.problem.instance, lead)
        if self.exempt_col is None:
            return plan
        opened = set(lead.tolist())
        return plan.with_exempt(int(j) for j in np.flatnonzero(self.exempt_col >= 0)
                                if values[self.exempt_col[j]] > 0.5 and j in opened)

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
        if plan.exempt:
            if self.exempt_col is None or any(not isinstance(k, int) or self.exempt_col[k] < 0
                                               for k in plan.exempt):
                return None
            v[self.exempt_col[sorted(plan.exempt)]] = 1.0
        p = self.problem
        for j in np.unique(lead):
            if self.fte_col[j] >= 0:
                need = p.staff_need(np.flatnonzero(lead == j))
                v[self.fte_col[j]] = np.ceil(need - 1e-9)
        if self.org_col >= 0:
            inside = [j for j in np.unique(lead) if p.in_organiser_area[j]]
            v[self.org_col] = p.rates.common_fte(len(inside))  # org_col: whole FTE only
        if len(self.arc_u):
            v[self.milp.num_cols - len(self.arc_u):] = _tree_flows(self, lead)
        if self.deficit_col >= 0:
            v[self.deficit_col] = term_values(p, plan)["deficit"]
        if self.split_col is not None and len(self.split_col):
            v[self.split_col] = split_start(p.groups, plan)
        return v



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
    for j in problem.self_only:  # (7a)
        ok[:, j] = False
        ok[j, j] = problem.allowed[j, j]
    for a, b in problem.separate:  # (7b)
        ok[a, b] = ok[b, a] = False
    if problem.organiser is not None:  # (7c)
        inside = problem.in_organiser_area
        ok &= inside[:, None] == inside[None, :]
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
    while True:  # once, or until groups kept whole and reachability agree
        before = int(ok.sum())
        if problem.hard_groups:
            keep_groups_whole(ok, problem.hard_groups)
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
        if not problem.hard_groups or int(ok.sum()) == before:
            return ok


def build(problem: Problem, strategy: str = "cuts") -> Formulation:
    """The MILP of `problem` with contiguity by `strategy` ('flow' or 'cuts').

    (long: the rows in the order of the module docstring's numbers, so that the two read side by
    side)
    """
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
    rates = problem.rates
    fte_price = problem.fte_price
    fte_col = np.full(n, -1, dtype=np.int64)
    n_cols = P
    whole = problem.whole_fte
    if st is not None and whole and np.any(fte_price[leads] > 0):
        fte_col[leads] = P + np.arange(len(leads))
        n_cols += len(leads)
    org_col = -1
    inside_leads = leads[problem.in_organiser_area[leads]]
    if (problem.organiser is not None and rates.common_staff_per_area > 0 and st is not None
            and st.cost_per_fte > 0 and whole):
        org_col = n_cols
        n_cols += 1
    exempt_col = None
    if problem.exemptions is not None and any(b.exemptable for b in problem.floors):
        exempt_col = np.full(n, -1, dtype=np.int64)
        exempt_col[leads] = n_cols + np.arange(len(leads))
        n_cols += len(leads)
    deficit_col = -1
    if problem.available is not None and ("deficit" in problem.limits or expand(
            problem.objective_weights).get("deficit")):
        deficit_col = n_cols
        n_cols += 1
    split_col = n_cols + np.arange(len(problem.priced_groups))
    n_cols += len(split_col)

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
            soft = exempt_col[leads] if b.exemptable and exempt_col is not None else None
            _attribute_rows(rows, b.values * b.scale, b.member_limit * b.scale, pair_i,
                            pair_j, lead_col, leads, lo, hi, soft)
    # (8) separate pairs never share an area
    col_of = col_of_pairs(n, pair_i, pair_j)
    _separate_rows(rows, problem.separate, col_of, lead_col, leads)
    # (G), (GS) groups kept whole or priced when split
    group_rows(rows, problem.groups, col_of, leads, split_col)
    # (S) staffing
    if fte_col.max() >= 0:
        s = inst.attribute(st.attribute) + st.caseload * rates.area_staff
        r0 = st.caseload * rates.area_staff_fixed
        rk = np.searchsorted(leads, pair_j)
        if r0:
            rows.add_many(np.concatenate([rk, np.arange(len(leads)), np.arange(len(leads))]),
                          np.concatenate([np.arange(P), fte_col[leads], lead_col[leads]]),
                          np.concatenate([-s[pair_i], np.full(len(leads), st.caseload),
                                          np.full(len(leads), -r0)]),
                          np.zeros(len(leads)), np.inf)
        else:
            rows.add_many(np.concatenate([rk, np.arange(len(leads))]),
                          np.concatenate([np.arange(P), fte_col[leads]]),
                          np.concatenate([-s[pair_i], np.full(len(leads), st.caseload)]),
                          np.zeros(len(leads)), np.inf)
        # (S') the staff of all areas: (S) summed, then rounded up (the FTE are whole)
        need = (float(s.sum()) + r0 * problem.k_min) / st.caseload
        rows.add(fte_col[leads], 1.0, float(np.ceil(need - 1e-7 * max(1.0, need))), np.inf)
    # (O) the organiser's staff
    if org_col >= 0:
        rows.add(np.concatenate([[org_col], lead_col[inside_leads]]),
                 np.concatenate([[1.0], np.full(len(inside_leads),
                                                -rates.common_staff_per_area)]),
                 rates.common_staff_fixed, np.inf)
    # (9) the deficit bound
    if problem.deficit_bound is not None:
        b = problem.deficit_bound
        _deficit_rows(rows, problem, pair_i, pair_j, lead_col, leads, fte_col, b.available,
                      b.limit * b.key)

    # (E) e_j ≤ x_jj
    if exempt_col is not None:
        r = np.arange(len(leads))
        rows.add_many(np.concatenate([r, r]),
                      np.concatenate([exempt_col[leads], lead_col[leads]]),
                      np.concatenate([np.ones(len(leads)), -np.ones(len(leads))]),
                      np.full(len(leads), -np.inf), 0.0)
    # (D) the largest deficit
    if deficit_col >= 0:
        _deficit_rows(rows, problem, pair_i, pair_j, lead_col, leads, fte_col,
                      problem.available, np.zeros(n), deficit_col)
    arc_u = arc_v = arc_j = np.zeros(0, dtype=np.int64)
    if problem.contiguity:
        _neighbourhood_cuts(rows, inst, col_of, pair_i, pair_j, off)
        if strategy == "flow":
            arc_u, arc_v, arc_j = _flow_arcs(inst, ok, leads)
            _flow_rows(rows, col_of, arc_u, arc_v, arc_j, n_cols, ok)
            n_cols += len(arc_u)
    elif strategy not in STRATEGIES:
        raise ValueError(strategy)

    terms = _term_vectors(problem, n_cols, P, pair_i, pair_j, lead_col, leads, fte_col,
                          org_col, exempt_col, col_of, deficit_col, split_col)
    weights = expand(problem.objective_weights)
    c = np.zeros(n_cols)
    offset = 0.0
    for term, w in weights.items():
        if w:
            c += w * terms[term][0]
            offset += w * terms[term][1]
    # (L) limited terms
    for term, limit in problem.limits.items():
        vec = np.zeros(n_cols)
        const = 0.0
        for part, share in expand({term: 1.0}).items():
            vec += share * terms[part][0]
            const += share * terms[part][1]
        nz = np.flatnonzero(vec)
        rows.add(nz, vec[nz], -np.inf, limit - const)
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
    if org_col >= 0:
        integer[org_col] = True
    implied = np.zeros(n_cols, dtype=bool)
    if exempt_col is not None:
        col_hi[exempt_col[leads]] = 1.0
        integer[exempt_col[leads]] = True
    col_hi[split_col] = 1.0
    integer[split_col] = True
    if len(arc_u):
        # An arc of lead j carries at most the |V_j| − 1 units j sends; with x
        # integral, integral flows exist (integral supplies and capacities).
        flows = slice(n_cols - len(arc_u), n_cols)
        col_hi[flows] = ok.sum(axis=0)[arc_j] - 1.0
        implied[flows] = True
    lazy = (ContiguityRows(inst.adjacency, pair_i, pair_j)
            if problem.contiguity and strategy == "cuts" else None)
    milp = MILP(c=c, A=rows.matrix(n_cols), row_lo=rows.lo, row_hi=rows.hi,
                col_lo=col_lo, col_hi=col_hi, integer=integer, implied_integer=implied,
                offset=offset, lazy=lazy)
    return Formulation(problem, milp, strategy if problem.contiguity else "none",
                       pair_i, pair_j, col_of, lead_col, fte_col, arc_u, arc_v, arc_j, org_col,
                       exempt_col, deficit_col=deficit_col, split_col=split_col)


def col_of_pairs(n: int, pair_i: np.ndarray, pair_j: np.ndarray) -> np.ndarray:
    col_of = np.full((n, n), -1, dtype=np.int64)
    col_of[pair_i, pair_j] = np.arange(len(pair_i))
    return col_of


def _separate_rows(rows, separate, col_of, lead_col, leads) -> None:
    """(8) x_ij + x_kj − x_jj ≤ 0 for each separate pair {i, k} and each lead j both may
    join (j itself is neither: (7b) removed those columns)."""
    for i, k in separate:
        for j in leads:
            a, b = col_of[i, j], col_of[k, j]
            if a >= 0 and b >= 0:
                rows.add([a, b, lead_col[j]], [1.0, 1.0, -1.0], -np.inf, 0.0)


def staff_need_rates(problem: Problem) -> tuple[np.ndarray, float]:
    """Staff need (FTE) per member and per area: attribute / caseload + the services' staff."""
    st = problem.staffing
    r = problem.rates
    return problem.instance.attribute(st.attribute) / st.caseload + r.area_staff, \
        r.area_staff_fixed


def _deficit_rows(rows, problem: Problem, pair_i, pair_j, lead_col, leads, fte_col,
                  available, allowance, deficit_col: int = -1) -> None:
    """(9) per lead j: production cost − available subsidy − b·Σ key ≤ 0; (D) the same
    with no allowance, less the largest deficit D. With fractional FTE the staff cost is
    priced per member, and the row is multiplied by the caseload so that its coefficients
    stay integral when scaled (for CP-SAT)."""
    r = problem.rates
    st = problem.staffing
    coef = r.area_variable - available - allowance
    fixed = problem.lead_base[leads] + r.area_fixed
    price = problem.production_fte_price
    scale = 1.0
    if price and st is not None and not problem.whole_fte:
        scale = st.caseload
        coef = scale * coef + price * (problem.instance.attribute(st.attribute)
                                       + scale * r.area_staff)
        fixed = scale * fixed + price * scale * r.area_staff_fixed
    rk = np.searchsorted(leads, pair_j)
    rr = [rk, np.arange(len(leads))]
    cc = [np.arange(len(pair_i)), lead_col[leads]]
    vv = [coef[pair_i], fixed]
    if price and fte_col.max() >= 0:
        rr.append(np.arange(len(leads)))
        cc.append(fte_col[leads])
        vv.append(np.full(len(leads), price))
    if deficit_col >= 0:
        rr.append(np.arange(len(leads)))
        cc.append(np.full(len(leads), deficit_col))
        vv.append(np.full(len(leads), -scale))
    rows.add_many(np.concatenate(rr), np.concatenate(cc), np.concatenate(vv),
                  np.full(len(leads), -np.inf), 0.0)
    if deficit_col >= 0:
        # (D') the rows summed over the areas: every member is in one area (1), at most
        # k_max areas are open and D ≥ 0, so Σ_j deficit_j ≤ k_max·D
        cols = [lead_col[leads], [deficit_col]]
        vals = [fixed, [-scale * problem.k_max]]
        if price and fte_col.max() >= 0:
            cols.append(fte_col[leads])
            vals.append(np.full(len(leads), price))
        rows.add(np.concatenate(cols), np.concatenate(vals), -np.inf,
                 -float(coef.sum()))


def _attribute_rows(rows, a, limit, pair_i, pair_j, lead_col, leads, lo, hi, soft=None):
    """Σ_i a_i x_ij − limit·x_jj (+ limit·e_j for an exemptable floor) within [lo, hi]."""
    rk = np.searchsorted(leads, pair_j)
    r = np.arange(len(leads))
    extra = ([r], [soft], [np.full(len(leads), limit)]) if soft is not None else ([], [], [])
    rows.add_many(np.concatenate([rk, r, *extra[0]]),
                  np.concatenate([np.arange(len(pair_i)), lead_col[leads], *extra[1]]),
                  np.concatenate([a[pair_i], np.full(len(leads), -limit), *extra[2]]),
                  np.full(len(leads), lo), hi)






def _term_vectors(problem, n_cols, P, pair_i, pair_j, lead_col, leads, fte_col, org_col,
                  exempt_col, col_of, deficit_col, split_col
                  ) -> dict[str, tuple[np.ndarray, float]]:
    """Each basic term of `model/objective.py` as (coefficients, constant): travel, the areas'
    staff (p_j FTE_j), and the rest of the model's money as fixed cost. A basic term of the
    registry without a vector here fails every build (KeyError), never silently."""
    def vec():
        return np.zeros(n_cols)

    fixed, travel, staff, exempt, moves, areas, deficit, splits = (vec() for _ in range(8))
    if deficit_col >= 0:
        deficit[deficit_col] = 1.0
    splits[split_col] = [g.price for g in problem.priced_groups]
    st, rates, whole = problem.staffing, problem.rates, problem.whole_fte
    fte_price = problem.fte_price
    travel[:P] = problem.cost[pair_i, pair_j]
    if fte_col.max() >= 0:
        staff[fte_col[leads]] = fte_price[leads]
    elif st is not None and not whole and np.any(fte_price[leads] > 0):
        # fractional FTE: staff cost is linear, priced on each member's staff need
        need, r0 = staff_need_rates(problem)
        staff[:P] += fte_price[pair_j] * need[pair_i]
        staff[lead_col[leads]] += fte_price[leads] * r0
    if np.any(rates.area_variable):
        fixed[:P] += rates.area_variable[pair_i]
    fixed[lead_col[leads]] += problem.lead_fixed[leads]
    offset = rates.common_fixed if problem.organiser is not None else 0.0
    if org_col >= 0:
        fixed[org_col] = st.cost_per_fte
    elif problem.organiser is not None and st is not None and st.cost_per_fte > 0:
        offset += st.cost_per_fte * rates.common_fte(0, whole)
        if not whole:
            inside = leads[problem.in_organiser_area[leads]]
            fixed[lead_col[inside]] += st.cost_per_fte * rates.common_staff_per_area
    if exempt_col is not None:
        exempt[exempt_col[leads]] = 1.0
    moved_offset = 0.0
    if problem.reference is not None:  # Σ_i (1 − x_{i,L(i)}), L(i) the reference lead
        lead_ref = problem.reference.lead
        has = lead_ref >= 0
        cols = np.full(problem.n, -1, dtype=np.int64)
        cols[has] = col_of[np.flatnonzero(has), lead_ref[has]]
        moves[cols[cols >= 0]] = -1.0
        moved_offset = float(problem.n)
    areas[lead_col[leads]] = 1.0
    vectors = {"fixed": (fixed, offset), "travel": (travel, 0.0), "staffing": (staff, 0.0),
               "exemptions": (exempt, 0.0), "moves": (moves, moved_offset), "areas": (areas, 0.0),
               "deficit": (deficit, 0.0), "splits": (splits, 0.0)}
    return {name: vectors[name] for name in BASIC}


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

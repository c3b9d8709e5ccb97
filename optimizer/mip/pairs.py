"""The assignment pairs on their own: which x_ij the rules allow and what each costs.

The Lagrangian bound and the sparse model (search/lagrange.py, search/scale.py) work
with the pairs alone, without the full MILP: `structural_pairs` is the part of
`formulation.candidate_pairs` that needs no graph search (a superset of the pairs the
formulation creates, so a bound over it stays valid), and `pair_costs` the objective
coefficient of each pair, from the same term vectors as the formulation's objective.
`pairs_only` says when a problem's objective and rows are those of the pairs alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.objective import expand
from ..model.problem import Problem
from .formulation import staff_need_rates


def structural_pairs(problem: Problem, rows: np.ndarray | None = None) -> np.ndarray:
    """Boolean matrix (the given rows × n) of the pairs allowed by candidates, locks, the
    maximum distance, self-only leads (7a), separate pairs (7b) and the organiser's
    border (7c): every pair `candidate_pairs` keeps is here."""
    rows = np.arange(problem.n) if rows is None else np.asarray(rows)
    ok = problem.allowed[rows].copy()
    diag = np.diag(problem.allowed).copy()
    for j in problem.self_only:
        ok[:, j] = False
        ok[rows == j, j] = diag[j]
    for a, b in problem.separate:
        for x, y in ((a, b), (b, a)):
            ok[rows == x, y] = False
    if problem.organiser is not None:
        inside = problem.in_organiser_area
        ok &= inside[rows][:, None] == inside[None, :]
    return ok & diag[None, :]


def pairs_only(problem: Problem) -> str | None:
    """Why the problem is more than pairs with a per-pair cost (None if it is not): whole
    FTE priced, exemptions, a reference plan, a count or deficit objective."""
    st = problem.staffing
    if st is not None and problem.whole_fte and np.any(problem.fte_price > 0):
        return "whole FTE priced in the objective"
    if problem.exemptions is not None:
        return "exemptions"
    if problem.reference is not None:
        return "a reference plan"
    weights = expand(problem.objective_weights)
    for term in ("exemptions", "moves", "areas", "deficit"):
        if weights.get(term):
            return f"the {term} term in the objective"
    return None


def _parts(problem: Problem):
    """(weights, per-member constant, fractional staff need, staff price) of the objective."""
    w = expand(problem.objective_weights)
    rates = problem.rates
    member = w.get("fixed", 0.0) * np.asarray(rates.area_variable, dtype=float)
    st = problem.staffing
    price = problem.fte_price
    need = r0 = None
    if st is not None and not problem.whole_fte and np.any(price > 0):
        need, r0 = staff_need_rates(problem)
    return w, member, need, r0, price


def lead_costs(problem: Problem) -> np.ndarray:
    """Per municipality j, the objective's cost of opening j as a lead beyond its pair
    (j, j): the lead's fixed costs and the per-area staff."""
    w, _member, need, r0, price = _parts(problem)
    out = w.get("fixed", 0.0) * problem.lead_fixed
    if need is not None:
        out = out + w.get("staffing", 0.0) * price * r0
    st = problem.staffing
    if problem.organiser is not None and st is not None and st.cost_per_fte > 0 \
            and not problem.whole_fte:
        inside = problem.in_organiser_area
        out = out + w.get("fixed", 0.0) * st.cost_per_fte * \
            problem.rates.common_staff_per_area * inside
    return out


def cost_rows(problem: Problem, rows: np.ndarray) -> np.ndarray:
    """The objective coefficient of x_ij for the given rows i and every j (dense), the
    lead's own cost on the diagonal included; inf where no pair exists structurally."""
    rows = np.asarray(rows)
    w, member, need, _r0, price = _parts(problem)
    c = w.get("travel", 0.0) * problem.cost[rows] + member[rows][:, None]
    if need is not None:
        c = c + w.get("staffing", 0.0) * need[rows][:, None] * price[None, :]
    lead = lead_costs(problem)
    hit = np.flatnonzero(rows < problem.n)
    c[hit, rows[hit]] += lead[rows[hit]]
    c[~structural_pairs(problem, rows)] = np.inf
    return c


def pair_costs(problem: Problem, pair_i: np.ndarray, pair_j: np.ndarray) -> np.ndarray:
    """The objective coefficient of each pair (i, j) (the lead's own costs on (j, j))."""
    w, member, need, _r0, price = _parts(problem)
    c = w.get("travel", 0.0) * problem.cost[pair_i, pair_j] + member[pair_i]
    if need is not None:
        c = c + w.get("staffing", 0.0) * need[pair_i] * price[pair_j]
    diag = pair_i == pair_j
    c[diag] += lead_costs(problem)[pair_j[diag]]
    return c


def objective_offset(problem: Problem) -> float:
    """The objective's constant (the organiser's plan-independent cost)."""
    if problem.organiser is None:
        return 0.0
    w = expand(problem.objective_weights).get("fixed", 0.0)
    st = problem.staffing
    offset = problem.rates.common_fixed
    if st is not None and st.cost_per_fte > 0:
        offset += st.cost_per_fte * problem.rates.common_fte(0, problem.whole_fte)
    return w * offset


BYTES_PER_NONZERO = 400
"""Memory per nonzero of the constraint matrix over a whole solve: the MILP's arrays and
the copies a back end makes (HiGHS held 1.8 GB in presolve for the 7.0 million nonzeros
of 800 random municipalities; SCIP's rows as Python objects cost more)."""
BYTES_BASE = 400 * 2**20
"""The interpreter, the libraries and the instance's dense matrices besides the model."""


@dataclass(frozen=True)
class ModelSize:
    """The full model's size, estimated before it is built."""

    pairs: int
    nonzeros: int
    dense: int
    """Bytes of the problem's n × n matrices (distance, cost, allowed)."""

    @property
    def bytes(self) -> int:
        return BYTES_BASE + self.dense + BYTES_PER_NONZERO * self.nonzeros


def estimate(problem: Problem, strategy: str = "cuts") -> ModelSize:
    """The model's pairs and nonzeros, counted from the pairs the rules allow (an upper
    bound: reachability and caps remove more when the model is built)."""
    n = problem.n
    pairs = 0
    nbrs = 0
    deg = np.diff(problem.instance.adjacency.indptr)
    step = max(1, 2_000_000 // max(n, 1))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        ok = structural_pairs(problem, rows)
        count = ok.sum(axis=1)
        pairs += int(count.sum())
        nbrs += int((count * deg[rows]).sum())
    per_pair = 4 + len(problem.floors) + len(problem.caps)
    if problem.staffing is not None:
        per_pair += 1
    if problem.reference is not None:
        per_pair += 3
    if problem.available is not None:
        per_pair += 2
    nonzeros = per_pair * pairs + (nbrs if problem.contiguity else 0)
    if problem.contiguity and strategy == "flow":
        leads = int(np.diag(problem.allowed).sum())
        nonzeros += 6 * 2 * len(problem.instance.edges) * leads
    return ModelSize(pairs, nonzeros, 17 * n * n)

"""Property-based tests on random planar instances, on every back end and contiguity strategy.

Each instance is 5–9 distinct points of a 20×20 integer grid scaled into the
unit square (all-collinear draws are rejected), joined by their Delaunay
triangulation (planar and connected), with distances = Euclidean × 10, an
integer attribute `lf` in 1..10 and an integer travel weight `w` in 1..5.
The model asks for k ∈ 1..3 areas with a floor on `lf` in 0..(total // k).

The properties are checked against three independent references: the
verifier and `evaluate` (plan-level), the LP relaxation solved by SciPy, and
`conftest.brute_force`, which enumerates every plan (n ≤ 7 only).

Runs are reproducible (`derandomize=True`, no example database). A failure
report prints the `Case`; paste it into `@example(case=Case(...))` to pin it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import BACKENDS, STRATEGIES, bind, brute_force, model_for
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.spatial import Delaunay

from optimizer.backends import Status
from optimizer.data.instance import Instance
from optimizer.errors import InfeasibleModelError
from optimizer.mip.formulation import build
from optimizer.model.evaluate import evaluate
from optimizer.model.problem import Problem
from optimizer.model.verify import verify
from optimizer.solve import solve

GRID = 20
REL = 1e-6
BRUTE_MAX_N = 7
DONE = (Status.OPTIMAL, Status.INFEASIBLE)
"""With no time limit and no gap, these are the only statuses a solve may end in."""


def settings_for(examples: int):
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float) -> bool:
    return abs(a - b) <= REL * max(1.0, abs(a), abs(b))


# -- instances -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One generated instance plus k and the floor; its repr is enough to rebuild it."""

    points: tuple[tuple[int, int], ...]
    lf: tuple[int, ...]
    w: tuple[int, ...]
    k: int
    floor: int

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def total(self) -> int:
        return sum(self.lf)

    @cached_property
    def instance(self) -> Instance:
        pts = np.asarray(self.points, dtype=float) / (GRID - 1)
        edges = set()
        for simplex in Delaunay(pts).simplices:
            for a, b in ((0, 1), (0, 2), (1, 2)):
                u, v = sorted((int(simplex[a]), int(simplex[b])))
                edges.add((u, v))
        matrix = 10.0 * np.linalg.norm(pts[:, None, :] - pts[None, :, :], axis=2)
        n = self.n
        return Instance(name="random-planar", codes=tuple(f"{i:03d}" for i in range(n)),
                        names=tuple(f"m{i}" for i in range(n)),
                        attributes={"lf": np.array(self.lf), "w": np.array(self.w)},
                        edges=np.array(sorted(edges)), matrix=matrix)

    def problem(self, *, floor: int | None = None, contiguity: bool = True,
                caps: dict[str, float] | None = None) -> Problem:
        floor = self.floor if floor is None else floor
        model = model_for(self.k, floors={"lf": floor}, caps=caps, contiguity=contiguity)
        return bind(model, self.instance)


def _collinear(points) -> bool:
    p = np.asarray(points, dtype=float)
    return np.linalg.matrix_rank(p[1:] - p[0]) < 2


@st.composite
def cases(draw, max_n: int = 9) -> Case:
    n = draw(st.integers(5, max_n))
    cell = st.tuples(st.integers(0, GRID - 1), st.integers(0, GRID - 1))
    points = draw(st.lists(cell, min_size=n, max_size=n, unique=True))
    assume(not _collinear(points))
    lf = draw(st.lists(st.integers(1, 10), min_size=n, max_size=n))
    w = draw(st.lists(st.integers(1, 5), min_size=n, max_size=n))
    k = draw(st.integers(1, 3))
    top = sum(lf) // k
    # Most draws near the top of 0..top: only tight floors make infeasible models.
    floor = draw(st.integers(0, top) | st.integers(top * 3 // 4, top) | st.just(top))
    case = Case(tuple(points), tuple(lf), tuple(w), k, floor)
    # Every point must be a vertex of the triangulation, so the graph is connected.
    edges = case.instance.edges
    assume(len(np.unique(edges)) == n)
    return case


def test_generator_gives_connected_planar_graphs():
    """The instance builder itself: a Delaunay graph of n points has ≤ 3n − 6 edges."""
    case = Case(((0, 0), (19, 0), (0, 19), (19, 19), (9, 10)), (1,) * 5, (1,) * 5, 2, 0)
    inst = case.instance
    assert len(inst.edges) == 8  # the square's 4 sides and the centre's 4 spokes
    assert 4 <= len(inst.edges) <= 3 * 5 - 6
    assert inst.distance[0, 1] == pytest.approx(10.0)


# -- solving -------------------------------------------------------------------


def run(problem: Problem, backend: str, strategy: str) -> tuple[Status, float | None]:
    """Status and optimum of one solve; the plan (if any) must verify and be priced right."""
    try:
        sol = solve(problem, backend=backend, strategy=strategy)
    except InfeasibleModelError:  # the precheck or the builder proved it impossible
        return Status.INFEASIBLE, None
    where = f"{backend}/{strategy}"
    assert sol.status in DONE, f"{where}: {sol.status}: {sol.message}"
    if sol.status is Status.INFEASIBLE:
        assert sol.plan is None and sol.objective is None, where
        return Status.INFEASIBLE, None
    assert sol.plan is not None, where
    check = verify(problem, sol.plan)
    assert check.ok, f"{where}: {check.summary()}"
    value = evaluate(problem, sol.plan).objective
    assert value is not None and close(value, sol.objective), (where, value, sol.objective)
    assert sol.bound is not None and sol.bound <= sol.objective + REL * max(1, sol.objective)
    return Status.OPTIMAL, sol.objective


def every_run(problem: Problem, strategies=STRATEGIES) -> dict[tuple[str, str], tuple]:
    return {(b, s): run(problem, b, s) for b in BACKENDS for s in strategies}


def agreed(outcomes: dict) -> tuple[Status, float | None]:
    """The one outcome all runs share (asserting that they do)."""
    (first_key, first), *rest = outcomes.items()
    for key, other in rest:
        assert other[0] is first[0], f"{key}: {other} but {first_key}: {first}"
        if first[0] is Status.OPTIMAL:
            assert close(other[1], first[1]), f"{key}: {other} but {first_key}: {first}"
    return first


def lp_relaxation(problem: Problem, strategy: str) -> float | None:
    """Optimum of the formulation's LP relaxation by scipy's linprog, None if infeasible."""
    milp = build(problem, strategy).milp
    A = milp.A.tocsr()
    upper = np.isfinite(milp.row_hi)
    lower = np.isfinite(milp.row_lo)
    A_ub = sp.vstack([A[upper], -A[lower]], format="csr")
    b_ub = np.concatenate([milp.row_hi[upper], -milp.row_lo[lower]])
    bounds = np.column_stack([milp.col_lo, milp.col_hi])
    res = linprog(milp.c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    assert res.status in (0, 2), res.message  # solved or infeasible, never unbounded
    return None if res.status == 2 else float(res.fun) + milp.offset


# -- properties ----------------------------------------------------------------


@settings_for(20)
@given(case=cases())
def test_plans_verify_and_infeasibility_is_real(case):
    """(1) Every optimal plan passes the verifier and `evaluate` prices it at sol.objective;
    an infeasible verdict is confirmed by enumerating every plan (n ≤ 7)."""
    problem = case.problem()
    infeasible = [key for key, (status, _) in every_run(problem).items()
                  if status is Status.INFEASIBLE]
    if infeasible and case.n <= BRUTE_MAX_N:
        assert brute_force(problem) is None, f"{infeasible} say infeasible, brute force disagrees"


@settings_for(50)
@given(case=cases())
def test_optimum_is_never_below_the_lp_relaxation(case):
    """(2) The LP relaxation of either formulation bounds the optimum from below."""
    problem = case.problem()
    status, optimum = run(problem, BACKENDS[0], "cuts")
    for strategy in STRATEGIES:
        try:
            lp = lp_relaxation(problem, strategy)
        except InfeasibleModelError:
            lp = None
        if status is Status.OPTIMAL:
            assert lp is not None, f"{strategy}: LP infeasible but the MIP has optimum {optimum}"
            assert lp <= optimum + REL * max(1.0, abs(optimum)), (strategy, lp, optimum)


@settings_for(20)
@given(case=cases())
def test_dropping_contiguity_never_hurts(case):
    """(3) The relaxed optimum is ≤ the contiguous one; relaxed infeasible ⇒ contiguous too."""
    strict = every_run(case.problem())
    loose = {b: run(case.problem(contiguity=False), b, "cuts") for b in BACKENDS}
    for key, (status, value) in strict.items():
        loose_status, loose_value = loose[key[0]]
        if loose_status is Status.INFEASIBLE:
            assert status is Status.INFEASIBLE, f"{key}: contiguous {value}, relaxed infeasible"
        elif status is Status.OPTIMAL:
            assert loose_value <= value + REL * max(1.0, abs(value)), (key, loose_value, value)


@settings_for(20)
@given(case=cases())
def test_strategies_and_backends_agree(case):
    """(4) 'cuts' and 'flow' on every back end reach the same status and optimum."""
    agreed(every_run(case.problem()))
    # Without contiguity both strategies build the same model: one run per back end.
    agreed({b: run(case.problem(contiguity=False), b, "cuts") for b in BACKENDS})


@settings_for(20)
@given(case=cases(max_n=BRUTE_MAX_N))
def test_optimum_matches_brute_force(case):
    """(5) The MIP optimum equals the optimum found by enumerating every plan."""
    problem = case.problem()
    expected = brute_force(problem)
    for key, (status, value) in every_run(problem).items():
        if expected is None:
            assert status is Status.INFEASIBLE, f"{key}: {value}, brute force finds no plan"
        else:
            assert status is Status.OPTIMAL, f"{key}: infeasible, brute force finds {expected}"
            assert close(value, expected), (key, value, expected)


@settings_for(12)
@given(case=cases(), data=st.data())
def test_tighter_floor_never_helps_and_a_slack_cap_changes_nothing(case, data):
    """(6) Raising the floor never lowers the optimum (infeasible stays infeasible),
    and a cap equal to the total `lf` leaves status and optimum unchanged."""
    top = case.total // case.k
    higher = data.draw(st.integers(case.floor, top) | st.just(top), label="higher floor")
    base = case.problem()
    tight = case.problem(floor=higher)
    capped = case.problem(caps={"lf": case.total})
    for backend in BACKENDS:
        for strategy in STRATEGIES:
            key = (backend, strategy)
            status, value = run(base, backend, strategy)
            t_status, t_value = run(tight, backend, strategy)
            if status is Status.INFEASIBLE:
                assert t_status is Status.INFEASIBLE, f"{key}: floor {higher} feasible, lower not"
            elif t_status is Status.OPTIMAL:
                assert t_value >= value - REL * max(1.0, abs(value)), (key, t_value, value)
            agreed({"no cap": (status, value), "cap": run(capped, backend, strategy)})


# -- product bugs found by the properties ---------------------------------------

CBC_PRESOLVE_INFEASIBLE = {
    # 2 contiguous areas with lf >= 11 out of 6, 3, 5, 9, 1 (total 24). Without contiguity
    # {6, 5} | {3, 9, 1} would do; on this graph no split is connected. HiGHS and CBC 'cuts'
    # say infeasible, CBC 'flow' reports an error.
    "n5-k2-floor11-contiguous": (
        Case(((12, 18), (8, 3), (4, 4), (0, 15), (18, 3)), (6, 3, 5, 9, 1), (3, 2, 5, 1, 1),
             2, 11), True),
    # 3 areas with lf >= 7 out of 8, 2, 1, 9, 1 (total 21): impossible even without contiguity.
    "n5-k3-floor7-contiguous": (
        Case(((10, 7), (8, 11), (1, 17), (11, 6), (10, 6)), (8, 2, 1, 9, 1), (2, 2, 5, 4, 2),
             3, 7), True),
    "n5-k3-floor7-relaxed": (
        Case(((10, 7), (8, 11), (1, 17), (11, 6), (10, 6)), (8, 2, 1, 9, 1), (2, 2, 5, 4, 2),
             3, 7), False),
}


@pytest.mark.skipif("cbc" not in BACKENDS, reason="CBC is not installed")
@pytest.mark.parametrize(("case", "contiguity"), list(CBC_PRESOLVE_INFEASIBLE.values()),
                         ids=list(CBC_PRESOLVE_INFEASIBLE))
def test_cbc_reports_presolve_infeasibility_as_infeasible(case, contiguity):
    problem = case.problem(contiguity=contiguity)
    assert brute_force(problem) is None
    for strategy in STRATEGIES:
        assert solve(problem, backend="highs", strategy=strategy).status is Status.INFEASIBLE
    outcomes = {s: solve(problem, backend="cbc", strategy=s) for s in STRATEGIES}
    wrong = {s: (str(v.status), v.message) for s, v in outcomes.items()
             if v.status is not Status.INFEASIBLE}
    assert not wrong, wrong

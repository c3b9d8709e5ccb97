"""Back-end specific behaviour: CP-SAT's integer translation, limits, warm starts, honesty.

The solver-neutral tests (test_solve.py, test_properties.py) already run on
every installed back end; these pin what differs between them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import BACKENDS, ROOT, bind

from optimizer import formulation
from optimizer.backends import REGISTRY, Status, get_backend
from optimizer.errors import BackendError
from optimizer.milp import MILP, RowBlock
from optimizer.model import load_model

needs_cpsat = pytest.mark.skipif("cpsat" not in BACKENDS, reason="OR-Tools is not installed")
needs_scip = pytest.mark.skipif("scip" not in BACKENDS, reason="OR-Tools SCIP is not installed")
REL = 1e-6


def milp_of(c, rows, lo, hi, col_lo=None, col_hi=None, integer=None, implied=None) -> MILP:
    n = len(c)
    return MILP(c=np.asarray(c, float), A=sp.csr_matrix(np.asarray(rows, float)),
                row_lo=np.asarray(lo, float), row_hi=np.asarray(hi, float),
                col_lo=np.zeros(n) if col_lo is None else np.asarray(col_lo, float),
                col_hi=np.ones(n) if col_hi is None else np.asarray(col_hi, float),
                integer=np.ones(n, bool) if integer is None else np.asarray(integer, bool),
                implied_integer=implied)


def jobseeker_milp() -> MILP:
    """Pick municipalities (jobseeker means such as 1234.25 and 953/12) to cover a floor
    cheaply, under a cap, with fractional costs; the optimum is unique."""
    js = [1234.25, 953 / 12, 2000.1, 555.5, 812.75, 47 / 3]
    cost = [3.7, 1.25, 5.1, 2.2, 2.95, 0.33]
    rows = [js, [1, 1, 1, 1, 1, 1]]
    return milp_of(cost, rows, [2100.3, 2], [4000.05, 4])


def enumerated_optimum(milp: MILP) -> float:
    """Optimum of a small all-binary MILP by trying every 0/1 vector."""
    n = milp.num_cols
    points = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)
    return min(milp.objective(x) for x in points if milp.is_feasible(x))


def test_jobseeker_milp_optimum():
    assert enumerated_optimum(jobseeker_milp()) == pytest.approx(7.3)  # 2000.1 + 555.5


@pytest.fixture(scope="module")
def harder():
    """North Ostrobothnia with 5 areas (cuts formulation) and a verified heuristic start."""
    from optimizer.heuristic import heuristic_plan

    problem = bind(load_model(ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml").with_areas(5))
    form = formulation.build(problem, "cuts")
    plan = heuristic_plan(problem, time_limit=2.0)
    assert plan is not None
    start = form.start(plan)
    assert form.milp.is_feasible(start)
    return form.milp, start


# -- every back end --------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_version_is_named(name):
    assert REGISTRY[name].version().strip()
    assert REGISTRY[name].capabilities <= {"warm_start", "fractional_objective", "threads"}


@pytest.mark.parametrize("name", BACKENDS)
def test_small_milp_optimum_and_bound(name):
    milp = jobseeker_milp()
    res = get_backend(name).solve(milp)
    assert res.status is Status.OPTIMAL, res.message
    assert milp.is_feasible(res.values)
    assert res.objective == pytest.approx(milp.objective(res.values), rel=1e-9)
    assert res.bound <= res.objective
    assert res.objective == pytest.approx(enumerated_optimum(milp), rel=REL)


@pytest.mark.parametrize("name", BACKENDS)
def test_tiny_time_limit_is_never_optimal(name, harder):
    milp, _ = harder
    res = get_backend(name).solve(milp, time_limit=0.05)
    assert res.status in (Status.FEASIBLE, Status.NO_SOLUTION), (res.status, res.message)
    if res.status is Status.FEASIBLE:
        assert milp.is_feasible(res.values)
        assert res.objective == pytest.approx(milp.objective(res.values), rel=1e-9)
    if res.bound is not None and res.objective is not None:
        assert res.bound <= res.objective


@pytest.mark.parametrize("name", [b for b in BACKENDS
                                  if "warm_start" in REGISTRY[b].capabilities])
def test_warm_start_is_never_lost(name, harder):
    milp, start = harder
    res = get_backend(name).solve(milp, time_limit=0.05, warm_start=start)
    assert res.status.has_solution, (res.status, res.message)
    assert milp.is_feasible(res.values)
    assert res.objective <= milp.objective(start) + REL * abs(milp.objective(start))
    if res.bound is not None:
        assert res.bound <= res.objective


@pytest.mark.parametrize("name", BACKENDS)
def test_a_stopped_run_never_claims_a_bound_above_a_known_point(name, harder):
    # Negated costs: the optimum is far below 0, so a default bound of 0 would be wrong
    # (CP-SAT and OR-Tools' SCIP both read 0 when stopped in presolve).
    milp, start = harder
    flipped = replace(milp, c=-milp.c)
    for limit in (0.001, 0.05):
        res = get_backend(name).solve(flipped, time_limit=limit)
        assert res.status in (Status.FEASIBLE, Status.NO_SOLUTION), (res.status, res.message)
        if res.bound is not None:
            assert res.bound <= flipped.objective(start)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize(("row", "lo", "hi"), [([1, 1], 3, np.inf), ([4, 0], 1.2, 1.8)],
                         ids=["too-few-columns", "no-integer-in-range"])
def test_infeasible_milp_is_infeasible(name, row, lo, hi):
    # Binaries: x0 + x1 ≥ 3, or 4·x0 ∈ [1.2, 1.8] (CP-SAT rounds it to the empty [2, 1]).
    res = get_backend(name).solve(milp_of([1, 1], [row], [lo], [hi]))
    assert res.status is Status.INFEASIBLE, res.message
    assert res.values is None and res.objective is None


# -- CP-SAT ----------------------------------------------------------------------


@needs_cpsat
def test_cpsat_scales_fractional_rows_to_the_same_optimum():
    from optimizer.backends.cpsat import scale_rows

    milp = jobseeker_milp()
    A, lo, hi, mult = scale_rows(milp)
    assert mult.tolist() == [60.0, 1.0]  # 1/4, 1/12, 1/10 and 1/3 need 60
    assert np.all(A.data == np.round(A.data))
    # 2100.3·60 is 126018.00000000001 in floating point: rounding the bound inwards must
    # not step past the integer it stands for.
    assert (lo[0], hi[0]) == (126018, 240003)
    res = get_backend("cpsat").solve(milp)
    assert res.status is Status.OPTIMAL
    assert "rows scaled" in res.message
    if "highs" in BACKENDS:
        ref = get_backend("highs").solve(milp)
        assert res.objective == pytest.approx(ref.objective, rel=REL)
        np.testing.assert_allclose(res.values, ref.values, atol=1e-6)


@needs_cpsat
def test_cpsat_refuses_a_row_it_cannot_scale():
    milp = milp_of([1, 1], [[np.pi, 1]], [1], [np.inf])
    with pytest.raises(BackendError, match=r"row 0 .*3\.14159"):
        get_backend("cpsat").solve(milp)


@needs_cpsat
def test_cpsat_refuses_a_continuous_column_unless_implied_integer():
    # min y  s.t.  y − 2·x ≥ 0.5 with x binary ≥ 1, y continuous in [0, 10]: y* = 2.5, but
    # restricting y to integers would give 3, so y is not implied integer.
    kw = dict(col_lo=[1, 0], col_hi=[1, 10], integer=[True, False])
    milp = milp_of([0, 1], [[-2, 1]], [0.5], [np.inf], **kw)
    with pytest.raises(BackendError, match="column 1 is continuous"):
        get_backend("cpsat").solve(milp)
    # Marked implied integer (here wrongly, on purpose), CP-SAT accepts it and rounds y up.
    marked = milp_of([0, 1], [[-2, 1]], [0.5], [np.inf], implied=[False, True], **kw)
    res = get_backend("cpsat").solve(marked)
    assert res.status is Status.OPTIMAL and res.objective == pytest.approx(3.0)


@needs_cpsat
def test_cpsat_bounds_priced_staff_and_refuses_a_free_column():
    from optimizer.backends.cpsat import finite_bounds

    # FTE y ≥ (Σ s_i x_i) / 150, priced: no optimum needs y above ⌈(200 + 170) / 150⌉ = 3.
    staff = milp_of([1, 1, 100], [[-200, -170, 150]], [0], [np.inf],
                    col_hi=[1, 1, np.inf])
    _, hi, notes = finite_bounds(staff)
    assert hi.tolist() == [1, 1, 3] and notes
    res = get_backend("cpsat").solve(staff)
    assert res.status is Status.OPTIMAL and res.objective == pytest.approx(0.0)
    # A column that the cost pushes up and no row stops cannot be given a domain.
    free = milp_of([1, -1], [[1, 0]], [0], [1], col_hi=[1, np.inf])
    with pytest.raises(BackendError, match=r"column 1 .*no finite bound"):
        get_backend("cpsat").solve(free)


@needs_cpsat
def test_cpsat_rounding_gap_is_never_called_optimal(monkeypatch):
    import optimizer.backends.cpsat as cpsat

    milp = jobseeker_milp()
    # A coarse objective scale (largest coefficient ~10): CP-SAT proves the rounded
    # problem optimal, but the rounding leaves a real gap, so the answer is not optimal.
    monkeypatch.setattr(cpsat, "OBJECTIVE_TARGET", 10.0)
    res = get_backend("cpsat").solve(milp)
    assert res.status is Status.FEASIBLE
    assert "rounding" in res.message
    assert res.bound <= 7.3 <= res.objective  # the bound is still a valid lower bound


def test_flow_columns_are_bounded_implied_integers(north_ostrobothnia):
    problem = bind(north_ostrobothnia.with_areas(4))
    form = formulation.build(problem, "flow")
    milp = form.milp
    flows = slice(milp.num_cols - len(form.arc_u), milp.num_cols)
    assert milp.implied_integer[flows].all() and not milp.implied_integer[: form.num_pairs].any()
    assert np.isfinite(milp.col_hi).all()
    size = formulation.candidate_pairs(problem).sum(axis=0)
    np.testing.assert_array_equal(milp.col_hi[flows], size[form.arc_j] - 1)
    assert formulation.build(problem, "cuts").milp.implied_integer.sum() == 0


# -- SCIP ------------------------------------------------------------------------


@needs_scip
def test_scip_refuses_more_than_one_thread():
    milp = jobseeker_milp()
    with pytest.raises(BackendError, match="threads"):
        get_backend("scip").solve(milp, threads=2)
    assert get_backend("scip").solve(milp, threads=1).status is Status.OPTIMAL
    assert "SCIP" in get_backend("scip").version() and "OR-Tools" in get_backend("scip").version()


# -- the MILP --------------------------------------------------------------------


def test_implied_integer_survives_new_rows_and_not_the_relaxation():
    milp = milp_of([1, 1], [[1, 1]], [1], [2], implied=[False, True])
    rows = RowBlock()
    rows.add([0], [1.0], 0.0, 1.0)
    bigger = milp.with_rows(rows)
    assert bigger.num_rows == 2 and bigger.implied_integer.tolist() == [False, True]
    assert milp_of([1], [[1]], [0], [1]).implied_integer.tolist() == [False]
    if hasattr(milp, "relaxation"):
        assert not milp.relaxation().implied_integer.any()


@pytest.mark.skipif("cbc" not in BACKENDS, reason="CBC is not installed")
def test_cbc_interrupted_past_its_limit_still_reports_its_incumbent(monkeypatch, harder):
    # CBC checks its clock only between nodes, so it can overrun; it is then sent Ctrl-C.
    # Simulate an overrun: interrupt 0.5 s into a run whose own limit is 100 s.
    from optimizer.backends import cbc

    milp, _ = harder
    monkeypatch.setattr(cbc, "INTERRUPT_AFTER", 0.5 - 100)
    res = get_backend("cbc").solve(milp, time_limit=100)
    assert res.status in (Status.FEASIBLE, Status.NO_SOLUTION), (res.status, res.message)
    assert "ctrl-c" in res.message.lower()
    if res.status is Status.FEASIBLE:
        assert milp.is_feasible(res.values)
        assert res.bound is None or res.bound <= res.objective


@pytest.mark.skipif("cbc" not in BACKENDS, reason="CBC is not installed")
def test_cbc_that_cannot_be_stopped_is_a_limit_not_an_error(monkeypatch, harder):
    # When even Ctrl-C does not stop CBC in time it is killed: a time-limit stop with
    # no plan of its own (the start, if any, is returned), never "optimal" or "error".
    from optimizer.backends import cbc

    milp, start = harder
    monkeypatch.setattr(cbc, "INTERRUPT_AFTER", 0.3 - 100)
    monkeypatch.setattr(cbc, "GRACE_SECONDS", 0.001)
    res = get_backend("cbc").solve(milp, time_limit=100)
    assert res.status is Status.NO_SOLUTION, (res.status, res.message)
    assert "killed" in res.message
    res = get_backend("cbc").solve(milp, time_limit=100, warm_start=start)
    assert res.status is Status.FEASIBLE, (res.status, res.message)
    assert res.objective == pytest.approx(milp.objective(start))

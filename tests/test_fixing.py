"""The levers around the solver are exact: separator rows, the root bound, fixing, the
lead-set descent. Checked against every plan of small random instances, enumerated."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import BACKENDS, every_plan, line_instance, model_for
from hypothesis import given
from hypothesis import strategies as st
from test_properties import BRUTE_MAX_N, cases, close, settings_for

from optimizer.mip.formulation import build
from optimizer.model.binding import bind
from optimizer.model.verify import verify
from optimizer.search.fixing import dual_bound, reduced_cost_fixing, root_relaxation
from optimizer.search.levers import NO_LEVERS, Levers
from optimizer.solve import solve


def problem_of(case, fixed: bool, cap: bool):
    """The case's problem, optionally with its first municipality a fixed lead and a cap."""
    caps = {"lf": max(case.lf) + case.total // 2} if cap else None
    model = model_for(case.k, floors={"lf": case.floor}, caps=caps,
                      fixed=(case.instance.codes[0],) if fixed else ())
    return bind(model, case.instance)


@settings_for(25)
@given(case=cases(max_n=BRUTE_MAX_N), fixed=st.booleans(), cap=st.booleans(),
       slack=st.sampled_from([0.0, 0.02, 0.2]))
def test_fixing_never_removes_a_plan_as_good_as_the_incumbent(case, fixed, cap, slack):
    """With the incumbent at the optimum (or above it), every verified plan at most as
    costly as the incumbent keeps all its columns free; the root bound is a lower bound."""
    problem = problem_of(case, fixed, cap)
    try:
        form = build(problem, "cuts")
    except Exception:
        return
    every = [(plan, value) for plan, ok, value in every_plan(problem) if ok]
    if not every:
        return
    optimum = min(v for _, v in every)
    root = root_relaxation(form.milp)
    assert root is not None
    assert root.bound <= optimum + 1e-6 * max(1.0, abs(optimum))
    incumbent = optimum * (1 + slack)
    fixing = reduced_cost_fixing(form.milp, root, incumbent, form.milp.lazy.path_costs)
    for plan, value in every:
        if value <= incumbent:
            x = form.start(plan)
            assert not np.any(fixing.zero & (x > 0.5)), (value, incumbent)
            assert not np.any(fixing.one & (x < 0.5)), (value, incumbent)


@settings_for(25)
@given(case=cases(max_n=BRUTE_MAX_N), fixed=st.booleans())
def test_separator_rows_hold_for_every_contiguous_plan(case, fixed):
    """Rows found at the root LP and at non-contiguous integral points are satisfied by every
    verified (contiguous) plan; an integral point gets rows exactly when it is not
    contiguous."""
    problem = problem_of(case, fixed, cap=False)
    try:
        form = build(problem, "cuts")
    except Exception:
        return
    lazy = form.milp.lazy
    found = []
    root = root_relaxation(form.milp)
    if root is not None:
        found.append(root.rows.matrix(form.milp.num_cols))
    for plan, ok, _ in itertools.islice(every_plan(problem), 400):
        x = form.start(plan)
        if x is None:
            continue
        rows = lazy.violated(x, integral=True)
        contiguous = ok or _contiguous(problem, plan)
        assert (len(rows) == 0) == contiguous
        if len(rows):
            A = rows.matrix(form.milp.num_cols)
            assert np.all(A @ x > rows.hi + 0.5)  # each row cuts the point off
            found.append(A)
        frac = lazy.violated(x, integral=False)
        assert (len(frac) == 0) == contiguous
    for plan, ok, _ in every_plan(problem):
        if ok:
            x = form.start(plan)
            for A in found:
                assert np.all(A @ x <= 1e-9)


def _contiguous(problem, plan) -> bool:
    from optimizer.mip.contiguity import pieces

    adj = problem.instance.adjacency
    return all(len(pieces(adj, np.flatnonzero(plan.lead == j))) == 1
               for j in np.unique(plan.lead))


@settings_for(20)
@given(case=cases(max_n=7), data=st.data())
def test_dual_bound_is_below_every_plan(case, data):
    """L(y) for arbitrary multipliers (not only the LP's) never exceeds a plan's cost."""
    problem = problem_of(case, False, False)
    try:
        milp = build(problem, "cuts").milp
    except Exception:
        return
    form = build(problem, "cuts")
    y = np.array(data.draw(st.lists(st.floats(-50, 50), min_size=milp.num_rows,
                                    max_size=milp.num_rows)))
    bound, _ = dual_bound(milp, y)
    for plan, ok, value in itertools.islice(every_plan(problem), 300):
        if ok:
            assert bound <= milp.objective(form.start(plan)) + 1e-6 * max(1.0, abs(value))


@pytest.mark.parametrize("backend", BACKENDS)
def test_levers_change_speed_not_answers(backend):
    """Each lever on or off, every back end proves the same optimum on a path whose
    floor, fixed lead and fixed cost make the LP bound loose."""
    inst = line_instance([0, 1, 2, 4, 7, 8, 9, 12], {"lf": [3, 1, 4, 1, 5, 9, 2, 6]})
    from optimizer.model.schema import Objective

    model = model_for(3, floors={"lf": 8}, fixed=("4",),
                      objective=Objective(travel_weight="w", fixed_cost_per_area=3.0))
    problem = bind(model, inst)
    values = set()
    for levers in (NO_LEVERS, Levers(), Levers(fixing=False), Levers(incumbent=False),
                   Levers(root=False), Levers(lagrange=False)):
        sol = solve(problem, backend=backend, levers=levers)
        assert sol.status.value == "optimal"
        assert verify(problem, sol.plan).ok
        values.add(round(sol.objective, 6))
    assert len(values) == 1
    best = min(v for _, ok, v in every_plan(problem) if ok)
    assert close(values.pop(), best)

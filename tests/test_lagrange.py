"""The Lagrangian bound and the sparse model are exact: checked against every plan of small
random instances, enumerated, with the pairs kept as few as a large instance would keep."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BACKENDS, every_plan, line_instance, model_for
from hypothesis import given
from hypothesis import strategies as st
from test_properties import BRUTE_MAX_N, cases, close, settings_for

from optimizer.mip.formulation import build
from optimizer.mip.pairs import cost_rows, pair_costs, pairs_only
from optimizer.model.binding import bind
from optimizer.model.verify import verify
from optimizer.search.lagrange import Lagrangian, keep_pairs, survivors
from optimizer.solve import solve


def problem_of(case, fixed: bool, cap: bool, k_range: bool = False):
    caps = {"lf": max(case.lf) + case.total // 2} if cap else None
    k = (max(1, case.k - 1), case.k) if k_range else case.k
    model = model_for(k, floors={"lf": case.floor}, caps=caps,
                      fixed=(case.instance.codes[0],) if fixed else ())
    return bind(model, case.instance)


def plans(problem):
    return [(plan, value) for plan, ok, value in every_plan(problem) if ok]


@settings_for(30)
@given(case=cases(max_n=BRUTE_MAX_N), fixed=st.booleans(), cap=st.booleans(),
       k_range=st.booleans(), few=st.booleans(), steps=st.sampled_from([1, 5, 60]))
def test_lagrangian_bound_is_below_the_optimum(case, fixed, cap, k_range, few, steps):
    """Whatever the multipliers (after 1, 5 or 60 steps) and however few pairs are kept
    (the rest stand in by their least costs), the bound never exceeds the optimum."""
    problem = problem_of(case, fixed, cap, k_range)
    every = plans(problem)
    pairs = keep_pairs(problem, per_member=1 if few else 3, per_lead=1 if few else 3,
                       keep_all=False)
    lag = Lagrangian(problem, pairs)
    lb = lag.run(iterations=steps)
    if not every:
        return  # an infinite bound is allowed, and a finite one too
    optimum = min(v for _, v in every)
    assert lb.bound <= optimum + 1e-6 * max(1.0, abs(optimum))


@settings_for(30)
@given(case=cases(max_n=BRUTE_MAX_N), contiguity=st.booleans(),
       slack=st.sampled_from([0.0, 0.01, 0.2]), steps=st.sampled_from([1, 40]))
def test_capacitated_knapsacks_by_dynamic_programming_stay_exact(case, contiguity, slack,
                                                                steps):
    """A cap alone on whole numbers (the capacitated p-median): the knapsacks are solved
    exactly by dynamic programming; the bound stays below the optimum and the survivors
    hold every plan better than the incumbent."""
    cap = max(case.lf) + case.total // (case.k + 1)
    model = model_for(case.k, caps={"lf": cap}, contiguity=contiguity)
    problem = bind(model, case.instance)
    every = plans(problem)
    lag = Lagrangian(problem, keep_pairs(problem, keep_all=True))
    assert lag.dp
    if not every:
        return
    optimum = min(v for _, v in every)
    incumbent = optimum * (1 + slack) + 1e-9
    lb = lag.run(upper=incumbent, iterations=steps)
    assert lb.bound <= optimum + 1e-6 * max(1.0, abs(optimum))
    alive = survivors(lag, lb, incumbent)
    ok = {(int(i), int(j)) for i, j in zip(alive.member, alive.lead, strict=True)}
    for plan, value in every:
        if value <= incumbent:
            assert {(i, int(plan.lead[i])) for i in range(problem.n)} <= ok


@settings_for(30)
@given(case=cases(max_n=BRUTE_MAX_N), fixed=st.booleans(), cap=st.booleans(),
       few=st.booleans(), slack=st.sampled_from([0.0, 0.01, 0.2]))
def test_survivors_hold_every_better_plan(case, fixed, cap, few, slack):
    """Every plan cheaper than the incumbent uses only surviving pairs and opens every
    lead the fixing says must be open (the incumbent at the optimum or above it)."""
    problem = problem_of(case, fixed, cap)
    every = plans(problem)
    if not every:
        return
    optimum = min(v for _, v in every)
    incumbent = optimum * (1 + slack) + 1e-9
    pairs = keep_pairs(problem, per_member=1 if few else 2, per_lead=1 if few else 2,
                       keep_all=False)
    lag = Lagrangian(problem, pairs)
    lb = lag.run(upper=incumbent, iterations=40)
    alive = survivors(lag, lb, incumbent)
    assert alive is not None
    ok = {(int(i), int(j)) for i, j in zip(alive.member, alive.lead, strict=True)}
    for plan, value in every:
        if value <= incumbent:
            used = {(i, int(plan.lead[i])) for i in range(problem.n)}
            assert used <= ok, (value, incumbent)
            assert set(alive.opened.tolist()) <= set(plan.lead.tolist())


@settings_for(15)
@given(case=cases(max_n=BRUTE_MAX_N), fixed=st.booleans())
def test_pair_costs_are_the_formulation_s(case, fixed):
    """The pairs' own costs (dense rows and pair by pair) are the MILP's coefficients."""
    problem = problem_of(case, fixed, False)
    assert pairs_only(problem) is None
    try:
        form = build(problem, "cuts")
    except Exception:
        return
    c = form.milp.c[: form.num_pairs]
    assert np.allclose(pair_costs(problem, form.pair_i, form.pair_j), c)
    dense = cost_rows(problem, np.arange(problem.n))
    assert np.allclose(dense[form.pair_i, form.pair_j], c)


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b in ("highs", "scipopt", "cbc")])
def test_sparse_model_proves_the_full_optimum(backend, monkeypatch):
    """Made to take the sparse model, the sparse model (two pairs kept
    per municipality and lead, Lagrangian bound, survivors) proves the same optimum as
    enumeration."""
    from optimizer import sparse
    from optimizer.model.schema import Objective
    from optimizer.search import lagrange

    monkeypatch.setattr(lagrange, "KEEP_ALL_UNDER", 0)
    monkeypatch.setattr(sparse, "PER_MEMBER", 2)
    monkeypatch.setattr(sparse, "PER_LEAD", 2)
    monkeypatch.setattr(sparse, "SPARSE_PAIRS", 0)
    inst = line_instance([0, 1, 2, 4, 7, 8, 9, 12], {"lf": [3, 1, 4, 1, 5, 9, 2, 6]})
    model = model_for(3, floors={"lf": 8},
                      objective=Objective(travel_weight="w", fixed_cost_per_area=3.0))
    problem = bind(model, inst)
    best = min(v for _, ok, v in every_plan(problem) if ok)
    sol = solve(problem, backend=backend)
    assert "sparse model" in sol.message
    assert sol.status.value == "optimal"
    assert verify(problem, sol.plan).ok
    assert close(sol.objective, best)

"""One definition of every objective term: the formulation's coefficients and the values a
plan's figures give agree, term by term, on every random plan the MILP admits
(model/objective.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, grid_instance, model_for

from optimizer.data.plan import Plan
from optimizer.decisions.exemptions import declare_short
from optimizer.mip.formulation import build
from optimizer.model.binding import bind
from optimizer.model.objective import BASIC, BY_NAME, DERIVED, LIMIT_TERMS, TERMS, term_values
from optimizer.model.parse import load_model
from optimizer.model.problem import reference_areas
from optimizer.model.schema import Objective, Staffing
from optimizer.model.verify import verify
from optimizer.search.heuristic import heuristic_plan

SEED = ROOT / "models" / "pohjois-pohjanmaa.toml"


def nearest_plans(problem, count: int, seed: int):
    """Random lead sets (the fixed leads among them, the others drawn among the most
    populous candidates so that areas can meet their floors), every other municipality
    served by its nearest lead that may serve it."""
    rng = np.random.default_rng(seed)
    fixed = list(problem.fixed)
    size = problem.instance.attributes.get("population", np.ones(problem.n))
    pool = [j for j in np.argsort(-size) if problem.candidates[j] and j not in fixed]
    pool = pool[: max(2 * problem.k_max, 8)]
    for _ in range(count):
        k = int(rng.integers(problem.k_min, problem.k_max + 1))
        leads = np.array(fixed + list(rng.choice(pool, size=k - len(fixed), replace=False)))
        d = problem.instance.distance[:, leads].astype(float).copy()
        d[~problem.allowed[:, leads]] = np.inf
        for c, j in enumerate(leads):
            if j in problem.self_only:
                d[:, c] = np.inf
        lead = leads[np.argmin(d, axis=1)]
        lead[leads] = leads
        if np.isfinite(d.min(axis=1)[np.isin(np.arange(problem.n), leads, invert=True)]).all():
            yield Plan.from_leads(problem.instance, lead)


def walk(problem, plan: Plan, count: int, seed: int):
    """Valid plans near `plan`: random single moves of a municipality to a neighbouring area,
    or a new lead for an area, kept when the verifier accepts the result."""
    rng = np.random.default_rng(seed)
    inst = problem.instance
    found = [plan]
    for _ in range(40 * count):
        lead = np.array(found[int(rng.integers(len(found)))].lead)
        i = int(rng.integers(problem.n))
        if rng.random() < 0.5:
            options = [int(lead[v]) for v in inst.neighbours(i) if lead[v] != lead[i]]
            if lead[i] == i or not options:
                continue
            lead[i] = options[int(rng.integers(len(options)))]
        else:
            members = np.flatnonzero(lead == lead[i])
            lead[members] = i
        candidate = Plan.from_leads(inst, lead)
        if verify(problem, candidate).ok:
            found.append(candidate)
        if len(found) > count:
            break
    return found


def grid_problem(min_fte: float = 1):
    inst = grid_instance(3, 3, {"population": [5, 9, 2, 7, 1, 8, 3, 6, 4],
                                "jobseekers": [30, 55, 12, 41, 7, 49, 20, 33, 26]})
    model = model_for((2, 4), objective=Objective(travel_weight="w", fixed_cost_per_area=700),
                      staffing=Staffing(caseload=20, min_fte=min_fte, cost_per_fte=100))
    return bind(model, inst)


def grid_with_reference():
    problem = grid_problem()
    reference = Plan.from_leads(problem.instance, np.array([0, 0, 0, 4, 4, 4, 8, 8, 8]))
    return replace(problem, reference=reference_areas(reference))


def exempting(problem):
    """The problem with exemptions allowed from every floor (the staffing floor among them),
    at most three areas."""
    model = problem.model
    ex = replace(model.exemptions, enabled=True, max=3, mode="allowed")
    return bind(replace(model, exemptions=ex), problem.instance)


def grid_exempt_problem():
    return exempting(grid_problem(min_fte=4))


def seed_exempt_problem():
    return bind(load_model(SEED, {"exemptions.max": 3, "exemptions.mode": "allowed"}))


def seed_priced_splits():
    return bind(load_model(SEED, {"areas.split_cost": {"subregion": 30000}}))


def seed_area_orders():
    # every regional area buys two events from the organiser: a cost per area
    return bind(load_model(SEED, {"services.orders.recruitment_events_local":
                                  {"each_area": 2}}))


@pytest.mark.parametrize("make", [grid_problem, grid_with_reference,
                                  lambda: bind(load_model(SEED)),
                                  grid_exempt_problem, seed_exempt_problem, seed_priced_splits,
                                  seed_area_orders],
                         ids=["grid with whole FTE", "grid with a reference plan", "the seed model",
                              "grid with exempted areas", "the seed with exempted areas",
                              "the seed pricing split sub-regions",
                              "the seed with orders of every area"])
def test_formulation_and_plan_values_agree_term_by_term(make):
    problem = make()
    plans = list(nearest_plans(problem, 30, seed=3))
    start = heuristic_plan(problem, time_limit=None, steps=200)
    plans += walk(problem, start, 12, seed=5) if start is not None else []
    if problem.exemptions is not None:  # the short areas declared exempt (the staff floor's)
        plans = [declare_short(problem, p) for p in plans]
        assert sum(bool(p.exempt) for p in plans) >= 5
    checked = 0
    for term in BASIC:
        weighed = replace(problem, weights={term: 1.0})
        form = build(weighed, "cuts")
        for plan in plans:
            x = form.start(plan)
            value = term_values(weighed, plan)[term]
            if x is None or value is None or not form.milp.is_feasible(x):
                continue
            assert form.milp.objective(x) == pytest.approx(value, rel=1e-9, abs=1e-6), term
            checked += 1
    assert checked >= 5 * len(BASIC)


def test_the_registry_is_consistent():
    names = [t.name for t in TERMS]
    assert len(names) == len(set(names)) and set(BY_NAME) == set(names)
    assert set(BASIC) | set(DERIVED) == set(names)
    assert all(set(parts) <= set(BASIC) for parts in DERIVED.values())
    assert set(LIMIT_TERMS) <= set(names)

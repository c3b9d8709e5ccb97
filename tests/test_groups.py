"""Groups kept whole (areas.keep_whole) and priced when split (areas.split_cost): the exact
optimum against enumeration on every installed back end, the organiser's exception, the
verifier's message, the heuristic's plans, the precheck and the model keys."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, bind, brute_force, every_plan, grid_instance, line_instance, model_for

from optimizer.data.plan import Plan
from optimizer.decisions import SolveOptions, solve_model
from optimizer.errors import InfeasibleModelError, ModelError
from optimizer.model.evaluate import evaluate
from optimizer.model.groups import groups_of
from optimizer.model.parse import load_model
from optimizer.model.precheck import diagnose
from optimizer.model.schema import Objective
from optimizer.model.verify import verify
from optimizer.search.heuristic import heuristic_plan
from optimizer.solve import solve
from optimizer.status import Status

SEED = ROOT / "models" / "pohjois-pohjanmaa.toml"
SUBREGIONS = ROOT / "models" / "pohjois-pohjanmaa-subregions.toml"

#   0 1 2       sub-regions: {0,1} = 1, {2,5} = 2, {3,4} = 3
#   3 4 5
POP = [5, 9, 2, 7, 1, 8]
SUB = [1, 1, 2, 3, 3, 2]


def grid(**kw):
    inst = grid_instance(2, 3, {"population": POP, "sub": SUB}, weight=POP)
    return bind(model_for((2, 3), floors={"population": 10},
                          objective=Objective(travel_weight="w", fixed_cost_per_area=3), **kw),
                inst)


def test_a_group_kept_whole_matches_enumeration(backend, strategy):
    problem = grid(keep_whole=("sub",))
    best = brute_force(problem)
    free = brute_force(grid())
    assert best is not None and best > free  # the rule costs something here
    sol = solve(problem, backend=backend, strategy=strategy)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(best)
    assert verify(problem, sol.plan).ok
    lead = sol.plan.lead
    for members in ([0, 1], [2, 5], [3, 4]):
        assert len({int(lead[i]) for i in members}) == 1


@pytest.mark.parametrize("price", [0.5, 4.0, 50.0])
def test_a_priced_split_matches_enumeration(backend, price):
    # Every plan is allowed; each sub-region split costs `price` in the objective.
    problem = grid(split_cost={"sub": price})
    best = min(v for _, ok, v in every_plan(problem) if ok)
    sol = solve(problem, backend=backend)
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(best)
    splits = sum(len({int(sol.plan.lead[i]) for i in m}) > 1
                 for m in ([0, 1], [2, 5], [3, 4]))
    assert sol.figures.terms["splits"] == pytest.approx(price * splits)
    if price == 50.0:  # dearer than any saving: nothing is split
        assert splits == 0 and sol.objective == pytest.approx(brute_force(
            grid(keep_whole=("sub",))))


def test_the_organiser_producing_alone_leaves_its_group():
    # a-b-c-d-e, sub-regions {a,b,c} and {d,e}; the organiser a produces alone, so its
    # group is {b,c} and the rest stays together: {a} | {b,c} | {d,e}.
    inst = line_instance(range(5), {"sub": [1, 1, 1, 2, 2]})
    problem = bind(model_for(3, organiser="0", keep_whole=("sub",)), inst)
    assert [g.members for g in problem.groups] == [(1, 2), (3, 4)]
    sol = solve(problem)
    assert sol.status is Status.OPTIMAL
    assert sorted(sorted(a.member_names) for a in sol.figures.areas) == [
        ["a"], ["b", "c"], ["d", "e"]]
    # as a lead that may take neighbours, the organiser keeps its group
    lead = bind(model_for(2, organiser="0", own_area="lead", keep_whole=("sub",)), inst)
    assert [g.members for g in lead.groups] == [(0, 1, 2), (3, 4)]


def test_no_group_values_and_single_members_group_nobody():
    inst = line_instance(range(5), {"ca": [99, 99, 7, 7, 5]})
    inst = replace(inst, metadata={"no_group": {"ca": [99]}})
    assert [g.members for g in groups_of(inst, "ca")] == [(2, 3)]


def test_the_verifier_names_the_split_group_and_its_parts():
    problem = grid(keep_whole=("sub",))
    plan = Plan.from_leads(problem.instance, np.array([0, 0, 2, 0, 2, 2]))  # 4 leaves 3
    v = verify(problem, plan)
    (x,) = [x for x in v.violations if x.rule == "keep whole"]
    assert x.message == ("sub 3 (n3 and 1 more) must stay in one area, but the plan splits "
                         "it: n3 (led by n0); n4 (led by n2)")
    assert x.municipalities == ("3", "4")


def test_the_heuristic_moves_groups_as_units():
    for r in (4, 5):
        problem = bind(load_model(SEED, {"areas.keep_whole": ["subregion"]})
                       .with_regional_leads(r))
        plan = heuristic_plan(problem, time_limit=None, steps=300)
        assert plan is not None and verify(problem, plan).ok


def test_two_fixed_leads_in_one_group_are_explained():
    problem = grid(keep_whole=("sub",), fixed=("3", "4"))
    reasons = diagnose(problem)
    assert any("must stay in one area, but n3, n4 must each lead an area" in r
               for r in reasons)
    with pytest.raises(InfeasibleModelError, match="must each lead an area"):
        solve_model(problem, SolveOptions())


@pytest.mark.parametrize("overrides, message", [
    ({"areas.keep_whole": ["nowhere"]}, "'areas.keep_whole': instance 'pohjois-pohjanmaa' "
                                        "has no attribute 'nowhere'"),
    ({"areas.keep_whole": "subregion"}, "'areas.keep_whole' must be a list"),
    ({"areas.keep_whole": ["subregion"], "areas.split_cost": {"subregion": 5}},
     "'areas.split_cost.subregion': 'subregion' is kept whole"),
    ({"areas.split_cost": {"subregion": -5}}, "'areas.split_cost.subregion'"),
])
def test_bad_group_keys_name_the_key(overrides, message):
    with pytest.raises(ModelError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bind(load_model(SEED, overrides))


def test_the_subregions_model_keeps_every_official_sub_region_whole():
    problem = bind(load_model(SUBREGIONS).with_regional_leads(4))
    sol = solve(problem)
    assert sol.status is Status.OPTIMAL and verify(problem, sol.plan).ok
    sub = problem.instance.attributes["subregion"]
    oulu = problem.instance.index["564"]
    for value in np.unique(sub):
        members = [i for i in np.flatnonzero(sub == value) if i != oulu]
        assert len({int(sol.plan.lead[i]) for i in members}) == 1, value
    assert evaluate(problem, sol.plan).objective == pytest.approx(sol.objective)

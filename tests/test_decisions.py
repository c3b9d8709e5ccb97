"""Decisions on hand-checkable instances: exemptions, the most areas, moves, Pareto fronts.

Every optimum here is either worked out by hand in the comment beside it or checked
against an enumeration of every plan that goes through the verifier only.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT, bind, grid_instance, line_instance, model_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.backends import Status
from optimizer.data.matching import area_matching, moved
from optimizer.data.plan import Plan
from optimizer.data.planfile import read_plan
from optimizer.decisions import SolveOptions, count_bound, solve_model
from optimizer.decisions.areas import greedy_most_areas, most_areas
from optimizer.decisions.exemptions import declare_short, exempted_areas
from optimizer.decisions.moves import moves_curve
from optimizer.decisions.pareto import pareto_front
from optimizer.errors import BackendError
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.model.problem import reference_areas
from optimizer.model.schema import Exemptions
from optimizer.model.verify import verify
from optimizer.output.text import explain_infeasible
from optimizer.solve import solve


def every_plan(problem, counts=None):
    """Every assignment of municipalities to leads with k_min..k_max areas (small n only)."""
    n = problem.n
    for k in counts or range(problem.k_min, problem.k_max + 1):
        for leads in itertools.combinations(range(n), k):
            others = [i for i in range(n) if i not in leads]
            for choice in itertools.product(leads, repeat=len(others)):
                lead = np.arange(n)
                lead[others] = choice
                yield Plan.from_leads(problem.instance, lead)


def exempt_line(floor=5.0, hard=None, k=2):
    # a(4) - b(1) - c(1) - d(1) - e(1) at 0..4: labour force 8 cannot give two areas of 5.
    inst = line_instance(range(5), {"lf": [4, 1, 1, 1, 1]})
    ex = Exemptions(enabled=True, floors=("lf",), hard_floor=hard)
    return bind(model_for(k, floors={"lf": floor}, exemptions=ex), inst)


# -- exemptions ---------------------------------------------------------------


def test_fewest_exemptions_then_cost(backend):
    # Every 2-area plan has an area below 5, so the fewest is 1; with one exemption the
    # cheapest plans are {a,b}|{c,d,e} and {a,b,c}|{d,e}, both of travel 3.
    problem = exempt_line()
    d = solve_model(problem, SolveOptions(backend=backend))
    assert d.answer == 1 and d.answer_proven
    assert d.solution.status is Status.OPTIMAL
    assert d.solution.objective == pytest.approx(3.0)
    assert verify(d.solution.problem, d.solution.plan).ok
    short = exempted_areas(d.solution.problem, d.solution.plan)
    assert len(short) == 1 and short[0].shortfall == pytest.approx(5 - short[0].value)


def test_hard_floor_forces_two_exemptions(backend):
    # An exempted area still needs 4: only {a} | {b,c,d,e} (4 and 4) is left, both exempt,
    # travel 0 + (1 + 1 + 2) = 4 (led by c or d).
    d = solve_model(exempt_line(hard=4), SolveOptions(backend=backend))
    assert d.answer == 2
    assert d.solution.objective == pytest.approx(4.0)
    assert {x.member_names for x in exempted_areas(d.solution.problem, d.solution.plan)} == \
        {("a",), ("b", "c", "d", "e")}


@pytest.mark.parametrize("whole", [True, False], ids=["whole FTE", "person-years"])
def test_an_exempted_area_is_staffed_and_priced_at_its_need(backend, whole):
    # a(40) - b(10) - c(10) - d(40) jobseekers, caseload 20, at least 3 FTE an area, 100 €
    # an FTE, two areas, at most one exempted (allowed mode). {a,b}|{c,d} would need two
    # exemptions; {a}|{b,c,d} needs one: a is staffed at its need of 2 FTE (not the floor's
    # 3), b,c,d at 3, so staff 500 and travel 2 (led by c): 502, as the solver prices it.
    from optimizer.model.schema import Staffing

    inst = line_instance(range(4), {"jobseekers": [40, 10, 10, 40]})
    ex = Exemptions(enabled=True, floors=("staffing",), max=1, mode="allowed")
    model = model_for(2, exemptions=ex,
                      staffing=Staffing(caseload=20, min_fte=3, cost_per_fte=100,
                                        whole_fte=whole))
    d = solve_model(bind(model, inst), SolveOptions(backend=backend))
    sol = d.solution
    assert sol.status is Status.OPTIMAL and sol.objective == pytest.approx(502.0)
    figs = evaluate(sol.problem, sol.plan)
    assert figs.objective == pytest.approx(502.0)
    assert sorted(a.fte for a in figs.areas) == [2, 3]
    assert len(sol.plan.exempt) == 1


def test_plain_solve_refuses_a_fewest_first_model():
    with pytest.raises(BackendError, match="fewest exemptions"):
        solve(exempt_line())


def test_verifier_accepts_declared_exemptions_only():
    problem = exempt_line(hard=2)
    plan = Plan.from_leads(problem.instance, np.array([0, 0, 3, 3, 3]))  # 5 | 3
    bad = verify(problem, plan)
    assert [v.rule for v in bad.violations] == ["floor"]
    assert verify(problem, plan.with_exempt({3})).ok
    # a declared exemption does not waive the hard floor: {d, e} has 2 ≥ 2, {e} 1 < 2
    low = Plan.from_leads(problem.instance, np.array([0, 0, 0, 0, 4])).with_exempt({4})
    assert [v.rule for v in verify(problem, low).violations] == ["floor"]
    capped = replace(problem, limits={"exemptions": 0.0})
    assert "limit" in {v.rule for v in verify(capped, plan.with_exempt({3})).violations}
    plain = bind(model_for(2, floors={"lf": 5.0}), problem.instance)
    assert "exemption" in {v.rule for v in verify(plain, plan.with_exempt({3})).violations}


def test_infeasible_model_is_explained_with_the_exemptions_it_needs():
    plain = bind(model_for(2, floors={"lf": 5.0}), exempt_line().instance)
    text = " ".join(explain_infeasible(plain, "no plan satisfies every rule").split())
    assert "at least 1 area must fall short of floor lf (proven)" in text
    assert "short" in text and "--exemptions" in text


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 6), min_size=6, max_size=6), st.integers(6, 12))
def test_fewest_exemptions_match_enumeration(values, floor):
    # 2×3 grid, 3 areas: the fewest short areas over every contiguous plan, then the
    # cheapest plan with that many, by enumeration through the verifier.
    inst = grid_instance(2, 3, {"lf": values})
    ex = Exemptions(enabled=True, floors=("lf",))
    problem = bind(model_for(3, floors={"lf": float(floor)}, exemptions=ex), inst)
    best = None
    for plan in every_plan(problem):
        plan = declare_short(problem, plan)
        if verify(problem, plan).ok:
            key = (len(plan.exempt), evaluate(problem, plan).terms["total"])
            best = key if best is None else min(best, key)
    d = solve_model(problem)
    assert (d.answer, d.solution.objective) == pytest.approx(best)


# -- the most areas -----------------------------------------------------------


def test_most_areas_on_a_line():
    # lf 3,1,2,2,1,3 with floor 3: the ends alone, {1,2} and {3,4}: 4 areas, which is the
    # bound (2 big ends + ⌊6 / 3⌋ from the small middle).
    inst = line_instance(range(6), {"lf": [3, 1, 2, 2, 1, 3]})
    problem = bind(model_for(1, floors={"lf": 3.0}).with_most_areas(), inst)
    assert count_bound(problem) == 4
    d = solve_model(problem)
    assert (d.answer, d.answer_proven) == (4, True)
    assert verify(d.solution.problem, d.solution.plan).ok
    # floor 4: nothing is big, 12 / 4 = 3 areas ({0,1}, {2,3}, {4,5})
    four = bind(model_for(1, floors={"lf": 4.0}).with_most_areas(), inst)
    assert solve_model(four).answer == 3


def test_greedy_start_is_a_verified_plan():
    inst = grid_instance(3, 3, {"lf": [2, 1, 1, 1, 3, 1, 1, 1, 2]})
    problem = bind(model_for((1, 9), floors={"lf": 3.0}), inst)
    plan = greedy_most_areas(problem)
    assert plan is not None and verify(problem, plan).ok


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 5), min_size=6, max_size=6), st.integers(3, 9),
       st.integers(0, 1))
def test_most_areas_match_enumeration(values, floor, exemptions):
    # The largest count over every contiguous plan of a 2×3 grid (at most `exemptions` areas
    # below the floor) equals the proven answer, and never exceeds the bound.
    inst = grid_instance(2, 3, {"lf": values})
    ex = Exemptions(enabled=True, floors=("lf",), max=exemptions)
    problem = bind(model_for(1, floors={"lf": float(floor)}, exemptions=ex).with_most_areas(),
                   inst)
    best = 0
    for plan in every_plan(problem, range(1, 7)):
        plan = declare_short(problem, plan)
        if len(plan.exempt) <= exemptions and verify(replace(problem, k_max=6), plan).ok:
            best = max(best, len(plan.areas()))
    d = most_areas(problem, SolveOptions(), cheapest=False)
    assert d.answer_proven
    assert d.answer == best <= count_bound(problem, exemptions)


# -- moves from a reference ---------------------------------------------------


def test_a_municipality_moves_when_its_lead_changes():
    """Defect: moves were counted against areas matched by counting municipalities, so a
    big town that kept its lead was listed as moved and its neighbours that changed lead
    were not. Now a move is a change of lead; matching only names continuing areas."""
    inst = line_instance(range(6), {"lf": [1] * 6, "population": [900, 10, 10, 10, 50, 60]})
    ref = Plan.from_leads(inst, np.array([0, 0, 0, 0, 4, 4]))      # a big town leads 0-3
    plan = Plan.from_leads(inst, np.array([0, 0, 4, 4, 4, 4]))     # 2 and 3 go to 4's area
    assert moved(plan, ref).tolist() == [False, False, True, True, False, False]
    assert area_matching(plan, ref) == {"0": "0", "4": "4"}
    relabelled = Plan.from_leads(inst, np.array([1, 1, 1, 1, 5, 5]))
    assert moved(relabelled, ref).all()  # every lead changed: everyone moves
    assert area_matching(relabelled, ref) == {"1": "0", "5": "4"}  # the same areas continue
    # by the population shared, not by the number of municipalities
    swap = Plan.from_leads(inst, np.array([0, 1, 1, 1, 1, 1]))
    assert area_matching(swap, ref) == {"0": "0", "1": "4"}


def test_the_2025_areas_and_the_seed_optimum_move_the_municipalities_that_change_lead():
    """The demo's case: Oulu keeps its lead (not a move); Kempele, Liminka and Muhos go from
    Oulu's 2025 area to Tyrnävä's (moves)."""
    problem = bind(load_model(ROOT / "models" / "pohjois-pohjanmaa.toml"))
    sol = solve(problem)
    ref = read_plan(ROOT / "instances" / "finland" / "employment_areas_2025.csv",
                    problem.instance)
    names = {problem.instance.names[i] for i in np.flatnonzero(moved(sol.plan, ref))}
    assert "Oulu" not in names
    tyrnava = problem.instance.index["859"]
    for town in ("Kempele", "Liminka", "Muhos"):
        i = problem.instance.names.index(town)
        assert (sol.plan.lead[i] == tyrnava) == (town in names)


def test_moves_curve_matches_enumeration(backend):
    # Reference {0,1,2,3} | {4,5} on a line (lead 1 and 4), 2 areas of at least 2: the cost
    # at each bound on moves equals the cheapest plan that moves no more, by enumeration.
    inst = line_instance(range(6), {"lf": [1] * 6})
    base = bind(model_for(2, floors={"lf": 2.0}), inst)
    ref = Plan.from_leads(inst, np.array([1, 1, 1, 1, 4, 4]))
    problem = replace(base, reference=reference_areas(ref))
    curve = moves_curve(problem, [0, 1, 2], SolveOptions(backend=backend))
    for point in curve.points:
        best = min(evaluate(problem, p).terms["total"] for p in every_plan(problem)
                   if verify(problem, p).ok and moved(p, ref).sum() <= point.max_moves)
        assert point.decision.proven
        assert point.cost == pytest.approx(best)
        assert point.moves <= point.max_moves
    # the optimum {0,1,2} | {3,4,5} costs 2 + 2 = 4 and moves one municipality (3)
    assert curve.optimum_cost == pytest.approx(4.0)
    assert curve.points[1].cost == pytest.approx(4.0)
    assert curve.share_of_gain(curve.points[1]) == pytest.approx(1.0)


# -- Pareto fronts ------------------------------------------------------------


def test_pareto_front_matches_enumeration(backend):
    # 2×3 grid, 1–3 areas at 10 each: the front of (fixed cost, travel) is every count's
    # least travel, keeping the non-dominated ones, by enumeration.
    inst = grid_instance(2, 3, {"lf": [1] * 6}, weight=[1, 2, 1, 3, 1, 2])
    from optimizer.model.schema import Objective

    problem = bind(model_for((1, 3), objective=Objective(travel_weight="w",
                                                         fixed_cost_per_area=10.0)), inst)
    values = {(evaluate(problem, p).terms["cost"], evaluate(problem, p).terms["travel"])
              for p in every_plan(problem) if verify(problem, p).ok}
    expected = sorted((x, y) for x, y in values
                      if not any(a <= x and b <= y and (a, b) != (x, y) for a, b in values))
    front = pareto_front(problem, "cost", "travel", points=4,
                         options=SolveOptions(backend=backend))
    assert front.proven
    assert [v for p in front.points for v in (p.x, p.y)] == \
        pytest.approx([v for point in expected for v in point])


def test_greedy_moves_keep_the_rules_and_the_bound_on_moves():
    # 3×3 grid in two areas from a poor reference: each greedy move saves travel, the plan
    # keeps every rule and moves at most the number allowed.
    from optimizer.decisions.moves import greedy_moves

    inst = grid_instance(3, 3, {"lf": [1] * 9})
    base = bind(model_for(2, floors={"lf": 3.0}), inst)
    ref = Plan.from_leads(inst, np.array([0, 0, 0, 0, 0, 0, 0, 8, 8]))
    problem = replace(base, reference=reference_areas(ref))
    for n in (1, 2, 3):
        limited = replace(problem, limits={"moves": float(n)})
        plan = greedy_moves(limited, ref, n)
        assert verify(limited, plan).ok
        assert moved(plan, ref).sum() <= n
        assert evaluate(limited, plan).objective < evaluate(limited, ref).objective


def test_the_sums_prove_exemptions_before_any_search():
    """Defect: `-k 10` on North Ostrobothnia searched for 20 s before saying anything,
    though the sums alone prove at least 5 exemptions. A big municipality is one area at
    most; the others hold their total over the floor."""
    from optimizer.decisions.exemptions import arithmetic_exemptions

    inst = line_instance(range(6), {"lf": [50, 5, 5, 5, 5, 5]})
    exempt = Exemptions(enabled=True)
    problem = bind(model_for(4, floors={"lf": 10.0}, exemptions=exempt), inst)
    need, why = arithmetic_exemptions(problem)
    assert need == 4 - (1 + 2) and "at most 3" in why  # the big one + ⌊25 / 10⌋
    best = min(len(p.exempt) for p in every_plan_with_exemptions(problem))
    assert best >= need
    d = solve_model(problem, SolveOptions())
    assert d.answer == best and d.notes and "at least 1 exemption" in d.notes[0]
    assert arithmetic_exemptions(bind(model_for(3, floors={"lf": 10.0}, exemptions=exempt),
                                      inst)) == (0, "")


def every_plan_with_exemptions(problem):
    """Every valid plan, each with its short areas declared exempt."""
    from conftest import every_plan

    for plan, _, _ in every_plan(problem):
        declared = declare_short(problem, plan)
        if verify(problem, declared).ok:
            yield declared

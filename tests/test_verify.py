"""The verifier, the pre-checks and the plan figures on hand-made plans over tiny instances."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import bind, grid_instance, line_instance, model_for

from optimizer.data.plan import UNASSIGNED, Plan
from optimizer.model.evaluate import evaluate
from optimizer.model.precheck import diagnose
from optimizer.model.schema import Objective, Staffing
from optimizer.model.verify import verify

# Five municipalities a..e (codes "0".."4") at 0..4 on a line; neighbours consecutive.
LINE = line_instance(range(5), {"lf": [1] * 5})
SPLIT = [0, 0, 0, 3, 3]  # {a, b, c} led by a, {d, e} led by d


def check(model, lead, inst=LINE):
    return verify(bind(model, inst), Plan.from_leads(inst, lead))


def only(result, rule):
    """The violations of `result`, asserting they all belong to `rule`."""
    assert {v.rule for v in result.violations} == {rule}, result.summary()
    return result.violations


# -- verify ------------------------------------------------------------------------


def test_valid_plan_has_no_violations():
    result = check(model_for(2), SPLIT)
    assert result.ok
    assert result.violations == ()
    assert "every rule holds" in result.summary()


def test_valid_plan_on_a_grid():
    inst = grid_instance(3, 3, {"lf": [4, 1, 1, 1, 1, 1, 1, 1, 1]})
    # {n0} | {n1, n2, n4, n5} led by n4 | {n3, n6, n7, n8} led by n6
    lead = [0, 4, 4, 6, 4, 4, 6, 6, 6]
    assert check(model_for(3, floors={"lf": 4}), lead, inst).ok


def test_unassigned_municipality():
    (v,) = only(check(model_for(2), [0, 0, UNASSIGNED, 3, 3]), "assignment")
    assert v.municipalities == ("2",)
    assert "not assigned to any area: c" in v.message
    assert "plan breaks 1 rule" in check(model_for(2), [0, 0, -2, 3, 3]).summary()


def test_lead_assigned_elsewhere():
    # b leads {a} but is itself in d's area.
    (v,) = only(check(model_for(2, contiguity=False), [1, 3, 3, 3, 3]), "lead")
    assert v.municipalities == ("1",)
    assert "b (1) leads an area but is itself assigned elsewhere" in v.message


@pytest.mark.parametrize(
    ("k", "lead", "needle"),
    [
        (2, [0, 0, 2, 2, 4], "3 areas, the model asks for 2"),
        (2, [2, 2, 2, 2, 2], "1 areas, the model asks for 2"),
        ((3, 4), SPLIT, "2 areas, the model asks for 3–4"),
        ((1, 2), [0, 1, 2, 3, 4], "5 areas, the model asks for 1–2"),
    ],
)
def test_area_count_outside_range(k, lead, needle):
    (v,) = only(check(model_for(k), lead), "area count")
    assert needle in v.message


def test_area_count_inside_range_is_fine():
    assert check(model_for((1, 3)), [2, 2, 2, 2, 2]).ok
    assert check(model_for((1, 3)), [0, 0, 2, 2, 4]).ok


def test_non_candidate_lead():
    model = model_for(2, candidate_leads=("0", "3"))
    assert check(model, SPLIT).ok
    (v,) = only(check(model, [1, 1, 1, 3, 3]), "candidate")
    assert v.municipalities == ("1",)
    assert "b (1) leads an area but is not a candidate lead" in v.message


def test_fixed_lead_not_leading():
    model = model_for(2, fixed=("e",))  # by name
    (v,) = only(check(model, SPLIT), "fixed lead")
    assert v.municipalities == ("4",)
    assert "e (4) must lead an area" in v.message
    assert check(model, [0, 0, 0, 4, 4]).ok


def test_lock_broken():
    model = model_for(2, locks={"4": "0"}, contiguity=False)
    (v,) = only(check(model, SPLIT), "lock")
    assert v.municipalities == ("4",)
    assert "e (4) is locked to a (0)" in v.message
    assert check(model, [0, 0, 0, 3, 0]).ok


def test_max_distance_exceeded():
    model = model_for(2, max_distance_km=1.5)
    (v,) = only(check(model, SPLIT), "max distance")  # c is 2 from a; e is 1 from d
    assert v.municipalities == ("2",)
    assert "c (2) is 2.0 km from its lead a (0), limit 1.5 km" in v.message
    # exactly at the limit is allowed
    assert check(model_for(2, max_distance_km=2.0), SPLIT).ok


def test_disconnected_area_names_the_cut_off_municipalities():
    # {a, c} led by a: c is cut off; {b, d, e} led by d: b is cut off.
    result = check(model_for(2), [0, 3, 0, 3, 3])
    violations = only(result, "contiguity")
    by_lead = {v.message.split(" is not")[0]: v for v in violations}
    assert set(by_lead) == {"area led by a (0)", "area led by d (3)"}
    assert by_lead["area led by a (0)"].municipalities == ("2",)
    assert "c cut off from a" in by_lead["area led by a (0)"].message
    assert by_lead["area led by d (3)"].municipalities == ("1",)
    assert "b cut off from d, e" in by_lead["area led by d (3)"].message
    # the same plan without the contiguity rule is fine
    assert check(model_for(2, contiguity=False), [0, 3, 0, 3, 3]).ok


def test_disconnected_area_in_a_grid_names_every_stray_piece():
    # 3×3 grid; area of n0 = {n0, n2, n8}: n2 and n8 are two pieces apart from n0.
    inst = grid_instance(3, 3, {"lf": [1] * 9})
    lead = [0, 4, 0, 4, 4, 4, 4, 4, 0]
    (v,) = only(check(model_for(2), lead, inst), "contiguity")
    assert v.municipalities == ("2", "8")
    assert "n2, n8 cut off from n0" in v.message


def test_floor_exactly_at_threshold_is_ok():
    inst = line_instance(range(4), {"lf": [2, 2, 2, 2]})
    assert check(model_for(2, floors={"lf": 4}), [0, 0, 2, 2], inst).ok


def test_floor_just_below_threshold_is_a_violation():
    inst = line_instance(range(4), {"lf": [2, 2, 2, 2 - 1e-3]})
    (v,) = only(check(model_for(2, floors={"lf": 4}), [0, 0, 2, 2], inst), "floor")
    assert v.municipalities == ("2", "3")
    assert "area led by c (2)" in v.message
    assert "lf 4.00 < 4.00 (floor lf)" in v.message  # 3.999 shown with two decimals


def test_cap_above():
    inst = line_instance(range(4), {"lf": [2, 2, 1, 1]})
    assert check(model_for(2, caps={"lf": 4}), [0, 0, 2, 2], inst).ok  # exactly at the cap
    (v,) = only(check(model_for(2, caps={"lf": 3}), [0, 0, 2, 2], inst), "cap")
    assert v.municipalities == ("0", "1")
    assert "area led by a (0): lf 4.00 > 3.00 (cap lf)" in v.message


def test_staffing_floor():
    # caseload 100 and at least 2 FTE per area: each area needs ≥ 200 jobseekers.
    inst = line_instance(range(4), {"jobseekers": [150, 60, 100, 99]})
    model = model_for(2, staffing=Staffing(caseload=100, min_fte=2))
    (v,) = only(check(model, [0, 0, 2, 2], inst), "floor")  # 210 | 199
    assert v.municipalities == ("2", "3")
    assert "jobseekers 199.00 < 200.00" in v.message
    assert "staffing (2 FTE × caseload 100)" in v.message
    assert check(model, [0, 0, 0, 3], inst).ok is False  # {d} alone has 99
    assert check(model_for(1, staffing=Staffing(caseload=100, min_fte=2)), [1] * 4, inst).ok


def test_several_rules_at_once_are_all_reported():
    model = model_for(2, fixed=("4",), max_distance_km=1.5, contiguity=False)
    result = check(model, [0, 0, UNASSIGNED, 0, 3])
    rules = sorted(v.rule for v in result.violations)
    # c unassigned; d leads e but is in a's area; e is not leading; d is 3 km from a
    assert rules == ["assignment", "fixed lead", "lead", "max distance"]


# -- precheck.diagnose --------------------------------------------------------------


def reasons(model, inst=LINE) -> list[str]:
    return diagnose(bind(model, inst))


def test_feasible_problem_has_no_reasons():
    assert reasons(model_for(2, floors={"lf": 2}, caps={"lf": 3}, fixed=("0",))) == []


def test_too_many_fixed_leads():
    (r,) = reasons(model_for(1, fixed=("0", "3")))
    assert "2 fixed leads (a, d) but at most 1 areas" in r


def test_fixed_lead_not_a_candidate():
    rs = reasons(model_for(1, fixed=("3",), candidate_leads=("0",)))
    assert rs == ["fixed lead d (3) is not a candidate lead"]


def test_floor_total_too_small_for_k_min_areas():
    (r,) = reasons(model_for((2, 3), floors={"lf": 3}))  # 5 in all < 2 × 3
    assert "lf totals 5: not enough for 2 areas with floor lf 3" in r
    assert reasons(model_for((1, 3), floors={"lf": 3})) == []


def test_separate_component_below_the_floor():
    inst = line_instance(range(4), {"lf": [5, 5, 1, 1]})
    inst = replace(inst, edges=np.array([(0, 1), (2, 3)]))  # {a, b} and {c, d}
    (r,) = reasons(model_for(2, floors={"lf": 3}), inst)
    assert "separate part {c, d} has lf 2 < floor lf 3" in r
    assert "a, b" not in r


def test_municipality_above_a_cap():
    inst = line_instance(range(4), {"lf": [1, 5, 1, 1]})
    (r,) = reasons(model_for(2, caps={"lf": 4}), inst)  # 8 in all fits 2 × 4
    assert r.startswith("b alone exceed(s) cap lf 4")


# -- figures.evaluate ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        # area of a: a·0 + 2·1 = 2; area of c (x=3): 3·0 + 4·3 + 5·7 = 47; 2 areas × 10
        (Objective(travel_weight="w", fixed_cost_per_area=10.0), 2 * 10 + 2 + 47),
        (Objective(travel_weight="w", fixed_cost_per_area=10.0, cost_per_weighted_km=2.0),
         2 * 10 + 2 * (2 + 47)),
        # squared distances: 2·1 = 2; 4·9 + 5·49 = 281
        (Objective(travel_weight="w", fixed_cost_per_area=10.0, distance_power=2),
         2 * 10 + 2 + 281),
        # unweighted: 1 + (3 + 7) = 11
        (Objective(travel_weight=None, fixed_cost_per_area=0.0), 11),
    ],
)
def test_evaluate_objective_by_hand(objective, expected):
    inst = line_instance([0, 1, 3, 6, 10], {"population": [10, 20, 30, 40, 50]},
                         weight=[1, 2, 3, 4, 5])
    problem = bind(model_for(2, objective=objective), inst)
    figures = evaluate(problem, Plan.from_leads(inst, [0, 0, 2, 2, 2]))
    assert figures.objective == pytest.approx(expected)
    by_lead = {a.lead_code: a for a in figures.areas}
    assert set(by_lead) == {"0", "2"}
    assert by_lead["0"].members == ("0", "1")
    assert by_lead["2"].member_names == ("c", "d", "e")
    assert by_lead["2"].totals["population"] == 120


def test_evaluate_travel_and_staff_by_hand():
    inst = line_instance([0, 1, 3, 6, 10], {"jobseekers": [120, 40, 90, 10, 1]},
                         weight=[1, 2, 3, 4, 5])
    st = Staffing(caseload=100, cost_per_fte=1000.0)
    obj = Objective(travel_weight="w", fixed_cost_per_area=10.0)
    problem = bind(model_for(2, objective=obj, staffing=st), inst)
    figures = evaluate(problem, Plan.from_leads(inst, [0, 0, 2, 2, 2]))
    by_lead = {a.lead_code: a for a in figures.areas}
    assert by_lead["0"].travel == pytest.approx(2.0)
    assert by_lead["2"].travel == pytest.approx(47.0)
    assert figures.travel == pytest.approx(49.0)
    assert by_lead["0"].fte == 2  # 160 jobseekers / 100 → 2 whole FTE
    assert by_lead["2"].fte == 2  # 101 → 2
    assert by_lead["0"].cost == pytest.approx(10 + 2 + 2000)
    assert figures.objective == pytest.approx(2 * 10 + 49 + 4 * 1000)


def test_contiguity_message_when_the_lead_is_not_in_its_area():
    # c leads {a, d} but is itself in e's area: a and d are both cut off from c.
    result = check(model_for((1, 3)), [2, 1, 4, 2, 4])
    (v,) = [v for v in result.violations
            if v.rule == "contiguity" and v.message.startswith("area led by c (2)")]
    assert v.message.endswith("its pieces are a | d"), v.message
    assert set(v.municipalities) == {"0", "3"}

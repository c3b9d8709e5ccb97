"""Plan files: both formats, codes without leading zeros, rows and leads outside the instance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import bind, line_instance, model_for

from optimizer.data.load import load_instance
from optimizer.data.plan import OUTSIDE, UNASSIGNED, Plan
from optimizer.data.planfile import read_plan
from optimizer.model.parse import load_model
from optimizer.model.verify import verify

ROOT = Path(__file__).resolve().parents[1]
REAL_INSTANCE = ROOT / "instances" / "finland" / "pohjois-pohjanmaa.json"
REAL_MODEL = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
PLAN_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"

# a..e at 0..4 on a line; populations make c the most populous, then b.
LINE = line_instance(range(5), {"population": [10, 50, 90, 5, 5]})


@pytest.fixture(scope="module")
def north():
    return load_instance(REAL_INSTANCE)


def write(tmp_path: Path, text: str, name: str = "plan.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- assignment format ----------------------------------------------------------------


def test_assignment_format_accepts_codes_without_leading_zeros(tmp_path, north):
    oulu = north.index["564"]
    rows = ["code,name,lead_code,lead_name"]
    for code, name in zip(north.codes, north.names, strict=True):
        # as a spreadsheet saves them: 009 → 9, 072 → 72; the lead Ylivieska stays 977
        lead = "977" if code == "009" else "564"
        rows.append(f"{int(code)},{name},{lead},x")
    plan = read_plan(write(tmp_path, "\n".join(rows) + "\n"), north)
    assert "9" not in north.index and "009" in north.index
    assert plan.lead[north.index["009"]] == north.index["977"]
    assert plan.lead[north.index["072"]] == oulu
    assert (plan.lead >= 0).all()
    assert plan.notes == ()
    assert plan.outside == {}


def test_assignment_format_lead_code_without_leading_zeros(tmp_path, north):
    path = write(tmp_path, "code,lead_code\n072,72\n564,564\n")
    plan = read_plan(path, north)
    assert plan.lead[north.index["072"]] == north.index["072"]
    assert plan.lead[north.index["564"]] == north.index["564"]
    # everything not listed is unassigned
    assert (plan.lead == UNASSIGNED).sum() == north.n - 2


def test_assignment_format_ignores_extra_columns_and_bom(tmp_path):
    text = "\ufeffCode,Name,Lead_Code,Lead_Name,area_code\n0,a,1,b,7\n1,b,1,b,7\n2,c,1,b,7\n" \
           "3,d,3,d,8\n4,e,3,d,8\n"
    plan = read_plan(write(tmp_path, text), LINE)
    assert plan.lead.tolist() == [1, 1, 1, 3, 3]


def test_rows_outside_the_instance_are_ignored_with_a_note(tmp_path):
    text = "code,name,lead_code,lead_name\n0,a,0,a\n1,b,0,b\n999,far,999,far\n" \
           "2,c,0,a\n998,farther,0,a\n3,d,3,d\n4,e,3,d\n"
    plan = read_plan(write(tmp_path, text), LINE)
    assert plan.lead.tolist() == [0, 0, 0, 3, 3]
    assert plan.notes == ("2 rows for municipalities outside instance 'line' ignored",)


def test_lead_outside_the_instance_is_kept_and_flagged(tmp_path):
    text = "code,name,lead_code,lead_name\n0,a,0,a\n1,b,0,a\n2,c,0,a\n3,d,99,Faraway\n" \
           "4,e,99,Faraway\n"
    plan = read_plan(write(tmp_path, text), LINE)
    assert plan.lead.tolist() == [0, 0, 0, OUTSIDE, OUTSIDE]
    assert plan.outside == {3: ("99", "Faraway"), 4: ("99", "Faraway")}
    assert plan.lead_code(3) == "99"
    assert set(plan.areas()) == {0, "99"}
    result = verify(bind(model_for(2), LINE), plan)
    (v,) = [v for v in result.violations if v.rule == "lead"]
    assert v.municipalities == ("3", "4")
    assert "d, e: lead Faraway (99) is outside instance 'line'" in v.message
    assert not result.ok


def test_2025_areas_on_north_ostrobothnia():
    # Kuusamo and Taivalkoski belong to Kainuu-Koillismaa, led by Kajaani (Kainuu).
    problem = bind(load_model(REAL_MODEL))
    inst = problem.instance
    plan = read_plan(PLAN_2025, inst)
    assert plan.notes == ("262 rows for municipalities outside instance "
                          "'pohjois-pohjanmaa' ignored",)
    outside = {inst.codes[i] for i in np.flatnonzero(plan.lead == OUTSIDE)}
    assert outside == {"305", "832"}
    assert set(plan.outside.values()) == {("205", "Kajaani")}
    assert not (plan.lead == UNASSIGNED).any()
    leads = [v for v in verify(problem, plan).violations if v.rule == "lead"]
    assert [v.municipalities for v in leads] == [("305", "832")]
    assert "Kajaani (205) is outside instance 'pohjois-pohjanmaa'" in leads[0].message


def test_missing_rows_are_unassigned_and_flagged(tmp_path):
    plan = read_plan(write(tmp_path, "code,lead_code\n0,0\n1,0\n3,3\n4,3\n"), LINE)
    assert plan.lead[2] == UNASSIGNED
    (v,) = verify(bind(model_for(2, contiguity=False), LINE), plan).violations
    assert v.rule == "assignment" and v.municipalities == ("2",)


# -- code,area format ---------------------------------------------------------------------


def test_area_format_lead_is_the_member_named_by_the_label(tmp_path):
    # area "3" contains d (code 3): d leads although c is more populous
    plan = read_plan(write(tmp_path, "code,area\n0,0\n1,0\n2,3\n3,3\n4,3\n"), LINE)
    assert plan.lead.tolist() == [0, 0, 3, 3, 3]
    assert plan.notes == ()


def test_area_format_falls_back_to_the_most_populous_member(tmp_path):
    # "north" is no code; "4" is a code but e is not in that area → most populous
    plan = read_plan(write(tmp_path, "code,area\n0,north\n1,north\n2,4\n3,4\n"), LINE)
    assert plan.lead.tolist() == [1, 1, 2, 2, UNASSIGNED]
    (note,) = plan.notes
    assert note.startswith("leads taken as the most populous member:")
    assert "north→b" in note and "4→c" in note


def test_area_format_on_the_real_instance(tmp_path, north):
    # labels that lost their leading zeros still name their member (Hailuoto 072)
    rows = ["code,area"] + [f"{int(c)},{'72' if c in ('072', '564') else 'rest'}"
                            for c in north.codes]
    rows.append("205,rest")  # Kajaani, outside the instance
    plan = read_plan(write(tmp_path, "\n".join(rows) + "\n"), north)
    hailuoto = north.index["072"]
    assert plan.lead[hailuoto] == hailuoto
    assert plan.lead[north.index["564"]] == hailuoto
    pop = north.attributes["population"]
    rest = [i for i in range(north.n) if north.codes[i] not in ("072", "564")]
    biggest = max(rest, key=lambda i: pop[i])
    assert all(plan.lead[i] == biggest for i in rest)
    assert f"rest→{north.names[biggest]}" in plan.notes[-1]
    assert "1 rows for municipalities outside instance" in plan.notes[0]


# -- round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize("lead", [[0, 0, 0, 3, 3], [2, 2, 2, 2, 2], [0, 1, 2, 3, 4],
                                  [4, 4, UNASSIGNED, 4, 4]])
def test_to_csv_round_trip(tmp_path, lead):
    plan = Plan.from_leads(LINE, np.array(lead))
    text = plan.to_csv()
    assert text.splitlines()[0] == "code,name,lead_code,lead_name"
    assert len(text.splitlines()) == 1 + sum(x != UNASSIGNED for x in lead)
    back = read_plan(write(tmp_path, text), LINE)
    assert back.lead.tolist() == lead
    assert back.notes == ()


def test_to_csv_round_trip_with_outside_leads(tmp_path, north):
    plan = read_plan(PLAN_2025, north)
    back = read_plan(write(tmp_path, plan.to_csv()), north)
    np.testing.assert_array_equal(back.lead, plan.lead)
    assert dict(back.outside) == dict(plan.outside)
    assert back.notes == ()
    assert back.to_csv() == plan.to_csv()


@pytest.mark.parametrize("bad", [5, -5, OUTSIDE], ids=["too-high", "negative", "outside"])
def test_plan_refuses_lead_values_out_of_range(bad):
    from optimizer.errors import PlanError

    with pytest.raises(PlanError):
        Plan.from_leads(LINE, np.array([0, 0, bad, 3, 3]))


# -- names where codes belong ----------------------------------------------------------


def test_names_in_the_code_column_are_read_as_the_municipalities(tmp_path):
    # A planner's spreadsheet names the municipalities in the code column (any case).
    plan = read_plan(write(tmp_path, "code,lead_code\nA,c\nb,c\nc,c\nd,e\nE,e\n"), LINE)
    assert plan.lead.tolist() == [2, 2, 2, 4, 4]


def test_a_plan_with_no_municipality_of_the_instance_is_refused(tmp_path):
    from optimizer.errors import PlanError

    with pytest.raises(PlanError, match="no row names a municipality of instance 'line'"):
        read_plan(write(tmp_path, "code,lead_code\nHelsinki,Helsinki\nEspoo,Helsinki\n"), LINE)


def test_names_in_the_code_column_count_the_regional_leads_right(tmp_path):
    # The seed's 4 regional leads by name: "4 regional leads", never "-1".
    model = load_model(ROOT / "models" / "pohjois-pohjanmaa.toml")
    problem = bind(model.with_regional_leads(5))
    rows = ["code,lead_code"] + [f"{n},{'Oulu' if n == 'Oulu' else 'Ylivieska'}"
                                  for n in problem.instance.names]
    plan = read_plan(write(tmp_path, "\n".join(rows) + "\n"), problem.instance)
    count = [v for v in verify(problem, plan).violations if v.rule == "area count"]
    assert [v.message for v in count] == [
        "1 regional leads besides the organiser's own area, the model asks for 5"]

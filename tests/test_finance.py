"""Who pays what: a 5-municipality path settled by hand to the cent, the identities every
settlement keeps, exact cent allocation, and subsidies from a column, a file or a formula."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, bind, line_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.data.plan import Plan
from optimizer.data.planfile import read_plan
from optimizer.economics.cents import allocate, format_cents, round_fraction, to_cents
from optimizer.economics.contract import SubsidySource
from optimizer.economics.settle import Finance, settle
from optimizer.economics.subsidy import read_subsidies, subsidies
from optimizer.errors import FinanceError
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model

DATA = Path(__file__).resolve().parent / "data" / "subsidies"

# a..e on a line 1 km apart; a is the organiser and produces alone; b leads {b, c}, e leads
# {d, e} (e's own fixed cost is 40, everyone else's 20).
PATH5 = line_instance(range(5), {"jobseekers": [20, 10, 10, 5, 15],
                                 "population": [200, 100, 300, 50, 150]})
PATH5_PLAN = [0, 1, 1, 4, 4]
MODEL = """
[instance]
path = "unused.json"
[organiser]
municipality = "0"
[areas]
regional_leads = 2
[staffing]
caseload = 10
cost_per_fte = 100
[services]
catalogue = "services.csv"
[lead_costs]
"4" = 40
[objective]
travel_weight = "w"
fixed_cost_per_area = 20
[finance]
organiser_result = "{settle}"
[finance.subsidy]
file = "subsidies.csv"
[finance.organiser_share]
{share}
[finance.equalisation]
key = "population"
[finance.incentives]
surplus_reward = 0.5
max_caseload = 8
sanction_per_excess_jobseeker = 1
"""
SERVICES = """service,tier,group,name_fi,name_en,driver,unit_cost,staff,reason
org_mgmt,organiser,c,Johto,Management,region,1000,0,once for the region
steering,organiser,c,Ohjaus,Steering,area,100,0,per production area
counselling,regional,c,Neuvonta,Counselling,jobseeker,10,0,per jobseeker
area_office,regional,c,Toimisto,Office,area,500,0,per area
"""
SUBSIDIES = "code,subsidy_eur\n0,1000\n1,1000\n2,400\n3,300\n4,500\n"


def path5(tmp_path, share="percent = 10", settle_by="organiser"):
    (tmp_path / "services.csv").write_text(SERVICES, encoding="utf-8")
    (tmp_path / "subsidies.csv").write_text(SUBSIDIES, encoding="utf-8")
    (tmp_path / "m.toml").write_text(MODEL.format(share=share, settle=settle_by),
                                     encoding="utf-8")
    problem = bind(load_model(tmp_path / "m.toml"), PATH5)
    return problem, Plan.from_leads(PATH5, np.array(PATH5_PLAN))


def test_path5_money_by_hand(tmp_path):
    """Every euro of the 5-municipality path, computed by hand (amounts in cents).

    Production (FTE = jobseekers / 10 = 2 in each area, 100 € each; counselling 10 €
    per jobseeker; office 500 € per area; own fixed cost 20 €, e 40 €):
      {a} 20 + 500 + 200 + 200 = 920; {b,c} 920; {d,e} 40 + 500 + 200 + 200 = 940.
    Common cost: 1000 + 100 × 3 areas = 1300. Shares (10 %): 100, 100, 40, 30, 50.
    {a}: 900 − 920 = −20, a pays 20. {b,c}: 1260 − 920 = +340; half (170) is kept,
    by population 100:300 → b 42.50, c 127.50; 170 returns to the organiser.
    {d,e}: 720 − 940 = −220, by population 50:150 → d 55, e 165.
    Sanctions: 20 jobseekers on 2 FTE against at most 8 per FTE → 4 excess × 1 € per
    area, by population: a 4; b 1, c 3; d 1, e 3.
    Organiser: 320 + 170 + 12 − 1300 = −798, borne by a.
    Net: a −20 − 4 − 798 = −822; b 41.50; c 124.50; d −56; e −168; Σ −880
    = 3200 subsidies − 2780 production − 1300 common.
    """
    problem, plan = path5(tmp_path)
    fin = settle(problem, plan)
    m = {x.name: x for x in fin.municipalities}
    assert [m[k].subsidy for k in "abcde"] == [100000, 100000, 40000, 30000, 50000]
    assert [m[k].to_organiser for k in "abcde"] == [10000, 10000, 4000, 3000, 5000]
    assert [m[k].to_area for k in "abcde"] == [90000, 90000, 36000, 27000, 45000]
    assert [a.production_cost for a in fin.areas] == [92000, 92000, 94000]
    assert [a.subsidy for a in fin.areas] == [90000, 126000, 72000]
    assert [a.balance for a in fin.areas] == [-2000, 34000, -22000]
    assert [a.returned for a in fin.areas] == [0, 17000, 0]
    assert [m[k].equalisation for k in "abcde"] == [2000, -4250, -12750, 5500, 16500]
    assert [m[k].sanctions for k in "abcde"] == [400, 100, 300, 100, 300]
    o = fin.organiser
    assert (o.common_cost, o.shares, o.returned, o.sanctions, o.result) == (
        130000, 32000, 17000, 1200, -79800)
    assert [m[k].organiser_result for k in "abcde"] == [-79800, 0, 0, 0, 0]
    assert [m[k].net for k in "abcde"] == [-82200, 4150, 12450, -5600, -16800]
    assert fin.total_net == -88000 == fin.total_subsidy - fin.total_production - 130000
    assert fin.largest_payer().name == "a" and fin.largest_receiver().name == "c"
    assert len(fin.lines) == 4  # one surplus, three caseload sanctions
    # the plan's objective: production 2780 + travel 2 (c and d, 1 km each) + common 1300
    figs = evaluate(problem, plan)
    assert figs.objective == pytest.approx(4082.0)
    assert figs.common_cost == pytest.approx(1300.0)


def test_path5_organiser_result_shared_by_members(tmp_path):
    problem, plan = path5(tmp_path, settle_by="members")
    fin = settle(problem, plan)
    # −798 € by subsidy 1000:1000:400:300:500 → −249.375 ×2, −99.75, −74.8125, −124.6875;
    # floors leave 2 cents, which go to the largest remainders: e (.75), then a (.5, first)
    assert [x.organiser_result for x in fin.municipalities] == [-24938, -24937, -9975, -7481,
                                                                -12469]
    assert sum(x.organiser_result for x in fin.municipalities) == -79800
    assert fin.total_net == -88000


def test_path5_common_cost_shared_by_key(tmp_path):
    problem, plan = path5(tmp_path, share='key = "population"')
    fin = settle(problem, plan)
    # 1300 € by population 200:100:300:50:150 of 800 → 325, 162.50, 487.50, 81.25, 243.75
    assert [x.to_organiser for x in fin.municipalities] == [32500, 16250, 48750, 8125, 24375]
    assert fin.organiser.shares == fin.organiser.common_cost
    assert fin.organiser.result == fin.organiser.returned + fin.organiser.sanctions
    assert fin.total_net == -88000


def test_settlement_tables_and_csv_balance(tmp_path):
    problem, plan = path5(tmp_path)
    fin = settle(problem, plan)
    rows = list(csv.DictReader(io.StringIO(fin.to_csv())))
    body, total = rows[:-1], rows[-1]
    assert total["code"] == "total" and len(body) == 5
    for col in [k for k in total if k.endswith("_eur")]:
        assert sum(Decimal(r[col]) for r in body) == Decimal(total[col]), col
    assert [r["net_eur"] for r in body] == ["-822.00", "41.50", "124.50", "-56.00", "-168.00"]
    df = fin.to_pandas()
    assert list(df["name"]) == list("abcde") and df["net"].sum() == pytest.approx(-880.0)
    assert fin.summary()["total_net"] == -880.0


def test_settling_needs_every_municipality_in_an_area(tmp_path):
    problem, _ = path5(tmp_path)
    partial = Plan.from_leads(PATH5, np.array([0, 1, 1, -2, 4]))
    with pytest.raises(FinanceError, match="leaves d \\(3\\) out of every area"):
        settle(problem, partial)


# -- every settlement balances to the cent ------------------------------------------------


@pytest.fixture(scope="module")
def seed():
    return bind(load_model(ROOT / "models" / "pohjois-pohjanmaa.toml"))


def check_identities(fin: Finance, reward: float) -> None:
    ms = {m.code: m for m in fin.municipalities}
    for m in fin.municipalities:
        assert m.to_organiser + m.to_area == m.subsidy
        assert m.net == -m.equalisation - m.sanctions + m.organiser_result
    for a in fin.areas:
        members = [ms[c] for c in a.members]
        assert sum(m.to_area for m in members) == a.subsidy
        assert a.balance == a.subsidy - a.production_cost
        assert sum(m.equalisation for m in members) == a.equalised
        assert sum(m.sanctions for m in members) == a.sanctions
        if a.balance < 0:
            assert a.equalised == -a.balance and a.returned == 0
        else:
            assert -a.equalised + a.returned == a.balance
            # the share kept, in whole cents rounded half away from zero, exactly (a float
            # formula rounded 0.5 × 110876141 cents down)
            assert -a.equalised == round_fraction(Fraction(reward) * a.balance)
    o = fin.organiser
    assert o.shares == sum(m.to_organiser for m in fin.municipalities)
    assert o.returned == sum(a.returned for a in fin.areas)
    assert o.sanctions == sum(a.sanctions for a in fin.areas)
    assert o.result == o.shares + o.returned + o.sanctions - o.common_cost
    assert sum(m.organiser_result for m in fin.municipalities) == o.result
    assert fin.total_net == fin.total_subsidy - fin.total_production - fin.common_cost


def test_the_2025_areas_balance_to_the_cent(seed):
    plan = read_plan(ROOT / "instances" / "finland" / "employment_areas_2025.csv",
                     seed.instance)
    fin = settle(seed, plan)
    check_identities(fin, 0.5)
    assert fin.total_subsidy == 55_000_000_00
    kajaani = [a for a in fin.areas if a.outside]
    assert [a.lead_name for a in kajaani] == ["Kajaani"] and kajaani[0].sanctions > 0
    assert any("leads from outside" in n for n in fin.notes)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_any_plan_balances_to_the_cent(seed, data):
    """Random plans (contiguous or not: any plan can be settled) keep every identity."""
    n = seed.n
    leads = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6, unique=True))
    lead = np.array([data.draw(st.sampled_from(leads)) for _ in range(n)])
    lead[leads] = leads
    check_identities(settle(seed, Plan.from_leads(seed.instance, lead)), 0.5)


# -- cents ---------------------------------------------------------------------------------


def test_allocation_by_largest_remainder():
    assert allocate(100, [1, 1, 1]).tolist() == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]).tolist() == [-34, -33, -33]
    assert allocate(7, [0, 0]).tolist() == [4, 3]  # no weight at all: equal shares
    assert allocate(10, [1, 2, 7]).tolist() == [1, 2, 7]
    assert format_cents(-123405) == "-1234.05" and format_cents(7) == "0.07"
    assert to_cents(0.125) == 13 and to_cents(-0.125) == -13


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**12, 10**12),
       st.lists(st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=40))
def test_allocation_sums_exactly_and_stays_within_a_cent(total, weights):
    shares = allocate(total, weights)
    assert int(shares.sum()) == total
    w = np.asarray(weights)
    quota = total * (w / w.sum()) if w.sum() > 0 else np.full(len(w), total / len(w))
    assert np.all(np.abs(shares - quota) < 1 + 1e-6 * abs(total))


# -- subsidies ------------------------------------------------------------------------------

THREE = line_instance(range(3), {"population": [1, 1, 2], "jobseekers": [3, 1, 0],
                                 "subsidy_eur": [10.005, 20, 30.5]})


def test_subsidy_formula_by_hand():
    # 1000 € by 0.5 × population share (¼, ¼, ½) + 0.5 × jobseeker share (¾, ¼, 0)
    src = SubsidySource(total=1000.0, weights={"population": 0.5, "jobseekers": 0.5})
    assert subsidies(src, THREE).tolist() == [50000, 25000, 25000]


def test_subsidy_from_a_column_and_a_file(tmp_path):
    assert subsidies(SubsidySource(column="subsidy_eur"), THREE).tolist() == [1001, 2000, 3050]
    path = tmp_path / "s.csv"
    path.write_text("code,subsidy_eur\n2,30.5\n1,20\n0,10.01\n99,5\n", encoding="utf-8")
    assert read_subsidies(path, THREE).tolist() == [1001, 2000, 3050]  # 99: not in the region


SUBSIDY_DEFECTS = {
    "not_a_number.csv": (":3:", "'subsidy_eur'", "'abc'", "b (1)"),
    "negative.csv": (":4:", "'subsidy_eur'", "'-5'", "c (2)"),
    "missing_municipality.csv": ("no 'subsidy_eur' for d (3)",),
    "listed_twice.csv": (":6:", "b (1)", "twice", "line 3"),
    "missing_column.csv": (":1:", "missing column 'subsidy_eur'"),
}


def test_every_subsidy_defect_file_is_listed():
    assert {p.name for p in DATA.glob("*.csv")} == set(SUBSIDY_DEFECTS)


@pytest.mark.parametrize("name", sorted(SUBSIDY_DEFECTS))
def test_subsidy_file_defect_is_one_named_error(name):
    path = DATA / name
    with pytest.raises(FinanceError) as info:
        read_subsidies(path, PATH5)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for needle in SUBSIDY_DEFECTS[name]:
        assert needle in message, f"{needle!r} not in {message!r}"

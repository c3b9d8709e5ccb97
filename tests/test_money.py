"""The money issue 16 added, checked by hand on the 5-municipality path of test_finance:
deficits equalised within the official sub-region, the law's incentive (the municipal
share of unemployment benefits), the organiser's sales, and every money input with its
source (the illustrative banner)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import numpy as np
import pytest
from conftest import ROOT, bind, line_instance
from test_finance import MODEL, SERVICES, SUBSIDIES

from optimizer.data.plan import Plan
from optimizer.economics.settle import settle
from optimizer.economics.sources import money_sources
from optimizer.errors import FinanceError, ModelError
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.output.sources import banner_text, sources_csv

# a..e on a line; a is the organiser alone, b leads {b, c}, e leads {d, e} (test_finance).
# Official sub-regions: a and b in 1, c, d and e in 2.
PATH5 = line_instance(range(5), {"jobseekers": [20, 10, 10, 5, 15],
                                 "population": [200, 100, 300, 50, 150],
                                 "sub": [1, 1, 2, 2, 2]})
PLAN = [0, 1, 1, 4, 4]
ON_DEMAND = ("extra_coaching,on_demand,c,Lisävalmennus,Extra coaching,jobseeker,30,0,price a "
             "jobseeker\nevent,on_demand,c,Tapahtuma,Recruitment event,area,50,0,price an "
             "event\n")


def path5(tmp_path, extra: str = "", files: dict | None = None, unit: str | None = None):
    (tmp_path / "services.csv").write_text(SERVICES + ON_DEMAND, encoding="utf-8")
    (tmp_path / "subsidies.csv").write_text(SUBSIDIES, encoding="utf-8")
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    text = MODEL.format(share="percent = 10", settle="organiser") + extra
    if unit is not None:
        text = text.replace('key = "population"', f'key = "population"\nunit = "{unit}"')
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    problem = bind(load_model(tmp_path / "m.toml"), PATH5)
    return problem, Plan.from_leads(PATH5, np.array(PLAN))


# -- equalisation within the official sub-region ----------------------------------------


def test_a_deficit_equalised_within_the_sub_region_by_hand(tmp_path):
    """Units: a (the organiser's own area), b (its sub-region without a: on its own), and
    {c, d, e} (sub-region 2, across two areas). Costs attributed by the costs each
    municipality drives (10 €/jobseeker of counselling + 100 € × jobseekers/10 of staff =
    20 € a jobseeker): {b,c} 920 → 460 + 460; {d,e} 940 → 235 + 705.
      a: 900 − 920 = −20, a pays 20.
      b: 900 − 460 = +440: half kept (b −220), 220 returned.
      {c,d,e}: 360 + 270 + 450 − (460 + 235 + 705) = −320, by population 300:50:150 →
      c 192, d 32, e 96.
    Sanctions as before (per area): a 4, b 1, c 3, d 1, e 3. Organiser: shares 320 +
    returned 220 + sanctions 12 − common 1300 = −748, borne by a.
    Net: a −20 − 4 − 748 = −772; b 219; c −195; d −33; e −99; Σ −880 as by area."""
    problem, plan = path5(tmp_path, unit="sub")
    fin = settle(problem, plan)
    assert fin.equalise_within == "sub"
    units = {u.name: u for u in fin.units}
    assert sorted(units) == ["2 (c and 2 more)", "a (the organiser's own area)",
                             "b (in no group)"]
    u = units["2 (c and 2 more)"]
    assert (u.cost, u.subsidy, u.balance, u.equalised, u.returned) == (
        140000, 108000, -32000, 32000, 0)
    assert u.areas == ("b", "e")
    m = {x.name: x for x in fin.municipalities}
    assert [m[k].equalisation for k in "abcde"] == [2000, -22000, 19200, 3200, 9600]
    assert [m[k].net for k in "abcde"] == [-77200, 21900, -19500, -3300, -9900]
    assert fin.organiser.result == -74800 and fin.organiser.returned == 22000
    assert fin.total_net == -88000 == fin.total_subsidy - fin.total_production - 130000
    assert [(a.equalised, a.returned) for a in fin.areas] == [(2000, 0), (-2800, 22000),
                                                              (12800, 0)]


def test_units_that_are_the_areas_settle_as_the_areas(tmp_path):
    # b, c in one sub-region, d, e in another: each area is one unit, so the money is the
    # area settlement's to the cent.
    inst = line_instance(range(5), {"jobseekers": [20, 10, 10, 5, 15],
                                    "population": [200, 100, 300, 50, 150],
                                    "sub": [1, 2, 2, 3, 3]})
    (tmp_path / "services.csv").write_text(SERVICES, encoding="utf-8")
    (tmp_path / "subsidies.csv").write_text(SUBSIDIES, encoding="utf-8")
    base = MODEL.format(share="percent = 10", settle="organiser")
    (tmp_path / "a.toml").write_text(base, encoding="utf-8")
    (tmp_path / "u.toml").write_text(base.replace('key = "population"',
                                                  'key = "population"\nunit = "sub"'),
                                     encoding="utf-8")
    plan = Plan.from_leads(inst, np.array(PLAN))
    by_area = settle(bind(load_model(tmp_path / "a.toml"), inst), plan)
    by_unit = settle(bind(load_model(tmp_path / "u.toml"), inst), plan)
    assert by_unit.units and not by_area.units
    assert [x.net for x in by_unit.municipalities] == [x.net for x in by_area.municipalities]
    assert [x.equalisation for x in by_unit.municipalities] == \
        [x.equalisation for x in by_area.municipalities]


def test_a_unit_that_is_not_an_attribute_is_refused(tmp_path):
    with pytest.raises(ModelError, match=r"'finance\.equalisation\.unit'.*'nowhere'"):
        path5(tmp_path, unit="nowhere")


# -- the law's incentive ---------------------------------------------------------------

BENEFIT = """
[finance.benefit_share]
bands = [[101, 10], [201, 20]]
daily_benefit_eur = 40
file = "benefit.csv"
days_saved_per_fte = 5
"""
BENEFIT_FILE = ("code,days_101,eur_201,compensation_eur,year,source\n"
                "0,100,2000,900,2025,Kela\n1,50,0,200,2025,Kela\n2,0,0,0,2025,Kela\n"
                "3,10,400,50,2025,Kela\n4,20,800,300,2025,Kela\n")


def test_the_benefit_share_by_hand(tmp_path):
    """Days charged (the 201– band given in euros, 40 € a day): a 100 + 50, b 50, c 0,
    d 10 + 10, e 20 + 20. Share = 40 € × (days 101– × 10 % + days 201– × 20 %):
    a 40 × (10 + 10) = 800; b 200; c 0; d 40 × 3 = 120; e 40 × 6 = 240.
    Every area has 2 FTE above the (zero) floor: 10 benefit days saved, spread by days
    charged and priced at each municipality's € per day: {a} 10 × 800/150 = 53.33;
    {b, c} all b's: 10 × 200/50 = 40; {d, e} 10 × 20/60 ... d 3.33 days × 6 € = 20,
    e 6.67 days × 6 € = 40. Net = compensation − share − effect."""
    problem, plan = path5(tmp_path, BENEFIT, {"benefit.csv": BENEFIT_FILE})
    b = settle(problem, plan).benefit
    r = {x.name: x for x in b.rows}
    assert [r[k].cost for k in "abcde"] == [80000, 20000, 0, 12000, 24000]
    assert [r[k].effect for k in "abcde"] == [-5333, -4000, 0, -2000, -4000]
    assert [r[k].compensation for k in "abcde"] == [90000, 20000, 0, 5000, 30000]
    assert [r[k].net for k in "abcde"] == [15333, 4000, 0, -5000, 10000]
    assert b.total("net") == b.total("compensation") - b.total("cost") - b.total("effect")
    assert len(b.lines) == 3 and "2.0 FTE above the floor × 5 days = 10 benefit days" in \
        b.lines[0]


def test_illustrative_benefit_days_from_the_jobseekers(tmp_path):
    # 250 days a jobseeker × shares 0.2, 0.3; no file: compensation = the total cost split
    # by population (cost-neutral), daily 37.21 €.
    problem, _ = path5(tmp_path, "[finance.benefit_share]\nbands = [[101, 10], [201, 20]]\n"
                          "band_shares = [0.2, 0.3]\n")
    inputs = problem.benefit
    assert inputs.days[0].tolist() == [20 * 250 * 0.2, 20 * 250 * 0.3]
    cost_a = 37.21 * (1000 * 0.1 + 1500 * 0.2)
    assert inputs.cost[0] == pytest.approx(cost_a)
    assert inputs.compensation.sum() == pytest.approx(inputs.cost.sum(), abs=0.01)
    assert "band shares" in inputs.derived and "split by population" in inputs.derived


@pytest.mark.parametrize("table, message", [
    ("bands = [[101, 10], [50, 20]]\nband_shares = [0.1, 0.1]", "increasing days"),
    ("bands = [[101, 120]]\nband_shares = [0.1]", "bands[0]"),
    ("bands = [[101, 10]]", "needs per-municipality inputs"),
    ("bands = [[101, 10]]\nband_shares = [0.5, 0.6]", "one share per band"),
    ("bands = [[101, 10]]\nband_shares = [0.1]\nbonus = 1", "unknown key "
                                                            "'finance.benefit_share.bonus'"),
])
def test_bad_benefit_share_keys_name_the_key(tmp_path, table, message):
    with pytest.raises(ModelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        path5(tmp_path, "[finance.benefit_share]\n" + table + "\n")


def test_a_benefit_file_without_a_band_names_the_column(tmp_path):
    with pytest.raises(FinanceError, match="missing column 'days_201'"):
        path5(tmp_path, BENEFIT, {"benefit.csv": "code,days_101\n0,1\n1,1\n2,1\n3,1\n4,1\n"})


# -- the organiser's sales ----------------------------------------------------------------

SALES = """
[services.orders.extra_coaching]
"3" = 2
[services.orders.event]
each_area = 1
"""


def test_sales_are_revenue_for_the_organiser_and_a_cost_for_the_buyer(tmp_path):
    # d buys 2 × 30 € of coaching; each regional area ({b,c} and {d,e}) one 50 € event, in
    # its production cost: revenue 60 + 100 = 160 €, sold at cost.
    plain, plan = path5(tmp_path)
    (tmp_path / "x").mkdir()
    problem, _ = path5(tmp_path / "x", SALES)
    fin, before = settle(problem, plan), settle(plain, plan)
    m = {x.name: x.purchases for x in fin.municipalities}
    assert m == {"a": 0, "b": 0, "c": 0, "d": 6000, "e": 0}
    # sold at cost: the organiser's result moves only with what the areas return
    o, b = fin.organiser, before.organiser
    assert o.sales == 16000 and o.result - b.result == o.returned - b.returned == -2500
    assert [a.production_cost - b.production_cost for a, b in zip(fin.areas, before.areas,
                                                                   strict=True)] == [0, 5000, 5000]
    assert evaluate(problem, plan).objective == pytest.approx(
        evaluate(plain, plan).objective + 100)
    assert [(r.service, r.buyer, r.amount) for r in fin.sales] == [
        ("extra_coaching", "d", 6000), ("event", "each regional area (2)", 10000)]
    rows = list(csv.DictReader(io.StringIO(fin.to_csv())))
    assert rows[-1]["purchases_eur"] == "60.00"


@pytest.mark.parametrize("orders, message", [
    ('[services.orders.counselling]\n"3" = 1', "only on-demand lines are sold"),
    ('[services.orders.nothing]\n"3" = 1', "no service 'nothing'"),
    ('[services.orders.event]\n"Nowhere" = 1', "municipality 'Nowhere' is not in"),
    ('[services.orders.event]\n"3" = -1', "'services.orders.event.3'"),
])
def test_bad_orders_name_the_key(tmp_path, orders, message):
    with pytest.raises(ModelError, match=message):
        path5(tmp_path, "\n" + orders + "\n")


# -- money with its source ---------------------------------------------------------------

CITED = """
[sources]
subsidy = { source = "the state's decision", year = 2025 }
organiser_share = { source = "the region's agreement", year = 2025 }
staffing = { source = "the region's agreement", year = 2025 }
staff_pay = { source = "the collective agreement", year = 2025 }
area_costs = { source = "the leads' budgets", year = 2025 }
travel = { source = "the Tax Administration's mileage allowance", year = 2025 }
contract = { source = "the region's agreement", year = 2025 }
"""


def test_every_input_cited_leaves_no_banner(tmp_path):
    services = "\n".join(line + (",the leads' budgets,2025" if k else ",source,year")
                         for k, line in enumerate(SERVICES.strip().splitlines()))
    problem, _ = path5(tmp_path, CITED, {"services.csv": services + "\n"})
    problem = bind(load_model(tmp_path / "m.toml"), PATH5)
    ms = money_sources(problem)
    assert ms.banner is None and banner_text(ms) is None
    assert {x.kind for x in ms.money} == {"subsidy", "organiser_share", "staffing",
                                          "staff_pay", "area_costs", "travel", "services",
                                          "contract"}
    assert not any(x.illustrative for x in ms.money)


def test_a_missing_source_is_illustrative_and_named_in_the_banner(tmp_path):
    problem, _ = path5(tmp_path, CITED.replace(
        'staff_pay = { source = "the collective agreement", year = 2025 }\n', ""))
    ms = money_sources(problem)
    assert ms.banner.startswith("Illustrative figures: staff pay per FTE, service unit costs")
    rows = list(csv.DictReader(io.StringIO(sources_csv(ms))))
    pay = next(r for r in rows if r["kind"] == "staff_pay")
    assert pay["source"] == "" and pay["illustrative"] == "yes"


@pytest.mark.parametrize("sources, message", [
    ('[sources]\nbudget = { source = "x", year = 2025 }', "unknown key 'sources.budget'"),
    ('[sources]\nsubsidy = "the state"', "'sources.subsidy' must be"),
    ('[sources]\nsubsidy = { source = "x", year = 25 }', "'sources.subsidy.year'"),
])
def test_bad_sources_name_the_key(tmp_path, sources, message):
    with pytest.raises(ModelError, match=message):
        path5(tmp_path, "\n" + sources + "\n")


SEED = ROOT / "models" / "pohjois-pohjanmaa.toml"
MONEY = ROOT / "tests" / "data" / "money"


def test_the_seed_says_its_money_is_illustrative_and_its_data_years():
    ms = money_sources(bind(load_model(SEED)))
    assert "state subsidy per municipality" in ms.banner
    years = {x.label: x.year for x in ms.data}
    assert years == {"population": "2022", "labour force": "2020", "jobseekers": "2019"}
    cited = [x.kind for x in ms.money if not x.illustrative]
    assert cited == ["benefit_daily"]


def test_a_subsidy_file_and_an_overlay_leave_the_rest_illustrative():
    problem = bind(load_model(SEED, {
        "finance.subsidy": {"file": str(MONEY / "pp-subsidies-2025.csv")},
        "instance.statistics": str(MONEY / "pp-statistics-2023.csv")}))
    ms = money_sources(problem)
    assert "state subsidy" not in ms.banner and "staff pay per FTE" in ms.banner
    sub = next(x for x in ms.money if x.kind == "subsidy")
    assert sub.year == "2025" and sub.source.startswith("test fixture") and not sub.illustrative
    data = {x.label.split(" (")[0]: x for x in ms.data}
    assert data["population"].year == "2023" and "overlay" in data["population"].label
    assert data["long term unemployed"].year == "2023"
    inst = problem.instance
    assert inst.attributes["population"].sum() == sum(
        int(p * 1.01) for p in bind(load_model(SEED)).instance.attributes["population"])
    assert problem.subsidy.sum() == sum(
        int(Decimal(r["subsidy_eur"]) * 100)
        for r in csv.DictReader((MONEY / "pp-subsidies-2025.csv").open(encoding="utf-8")))

"""The command line for the two tiers and the money: solve writes finance.csv and shows the
money per area, `optimizer finance` settles any plan, bad catalogue, subsidy and count input
is one line and exit 2."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
from test_cli import assert_bad_input, invoke, status_of

from optimizer.staging import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED = "models/pohjois-pohjanmaa.toml"
SCENARIO = "models/pohjois-pohjanmaa-4-5-areas.toml"
PLAN_2025 = "instances/finland/employment_areas_2025.csv"


def balanced(path: Path) -> list[dict[str, str]]:
    """The rows of a finance.csv after checking that its total row sums every column."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    body, total = rows[:-1], rows[-1]
    assert total["code"] == "total"
    for col in [k for k in total if k.endswith("_eur")]:
        assert sum(Decimal(r[col]) for r in body) == Decimal(total[col]), col
    return body


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = invoke(["solve", SEED, "--regional-leads", "4", "--out", out])
    return result, out


def test_seed_solve_shows_the_tiers_and_the_money(solved):
    result, out = solved
    assert result.exit_code == 0, result.output
    assert status_of(result.stdout) == "optimal"
    text = result.stdout.replace("\n", " ")
    assert "organiser Oulu (564) for 30 municipalities (labour force 186,791 ≥ 20,000," in text
    assert "produces its own area alone; 4 regional leads besides it" in text
    assert "organiser's work" in text and "production" in text and "after share" in text
    assert "finance.csv" in {p.name for p in out.iterdir()}
    assert {"assignment.csv", "summary.json", "map.png"} < {p.name for p in out.iterdir()}


def test_seed_solve_money_balances(solved):
    _, out = solved
    rows = balanced(out / "finance.csv")
    assert len(rows) == 30
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    fin = summary["finance"]
    assert len(fin["areas"]) == 5 and len(fin["municipalities"]) == 30
    assert sum(Decimal(r["net_eur"]) for r in rows) == Decimal(str(fin["total_net"]))
    assert fin["total_net"] == pytest.approx(
        fin["total_subsidy"] - fin["total_production_cost"] - fin["common_cost"], abs=1e-6)
    # the objective is production + travel + the organiser's common cost
    assert summary["objective"] == pytest.approx(
        sum(a["cost"] for a in summary["areas"]) + fin["common_cost"], rel=1e-12)


def test_finance_of_the_2025_areas(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    result = invoke(["finance", PLAN_2025, "--model", SEED, "--out", out])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "breaks 4 rule(s) of the model" in text  # Oulu not alone, Kajaani, count, floor
    assert "Kajaani (outside)" in text and "largest net payer" in text
    assert "sanction" in text
    rows = balanced(out / "finance.csv")
    assert {r["lead_name"] for r in rows} == {"Oulu", "Raahe", "Ylivieska", "Kajaani"}
    assert {p.name for p in out.iterdir()} == {"finance.csv", "finance_sources.csv",
                                               "summary.json", MANIFEST}


def test_finance_json(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke(["finance", PLAN_2025, "--model", SEED, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["finance"]["total_subsidy"] == 55_000_000
    assert not data["verification"]["ok"]


# -- bad input: one line, exit 2, nothing written -------------------------------------


def test_finance_needs_a_finance_table(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    line = assert_bad_input(invoke(["finance", PLAN_2025, "--model", SCENARIO, "--out", out]),
                            out)
    assert "no [finance] table" in line and "pohjois-pohjanmaa-4-5-areas.toml" in line


@pytest.mark.parametrize("args, needles", [
    (["solve", SEED, "--areas", "4"], ("--areas", "--regional-leads")),
    (["solve", SCENARIO, "--regional-leads", "4"], ("no [organiser]",)),
    (["solve", SEED, "--regional-leads", "x"], ("--regional-leads", "'x'")),
    (["check", PLAN_2025, "--model", SEED, "--areas", "3"], ("--areas", "organiser")),
])
def test_count_options_are_unambiguous(args, needles, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    line = assert_bad_input(invoke([*args, "--out", out]), out)
    for needle in needles:
        assert needle in line, line


MODEL_WITH = """[instance]
path = "{root}/instances/smoke/path5.json"
[organiser]
municipality = "0"
[areas]
regional_leads = 1
[staffing]
caseload = 1
[services]
catalogue = "{catalogue}"
[finance.subsidy]
file = "{subsidies}"
"""


@pytest.mark.parametrize("defect", sorted((DATA / "catalogues").glob("*.csv")),
                         ids=lambda p: p.stem)
def test_catalogue_defect_through_the_cli(defect, tmp_path):
    model = tmp_path / "m.toml"
    model.write_text(MODEL_WITH.format(root=ROOT, catalogue=defect,
                                       subsidies=DATA / "subsidies" / "negative.csv"))
    out = tmp_path / "o" / "out"
    out.parent.mkdir()
    line = assert_bad_input(invoke(["solve", model, "--out", out]), out)
    assert f"{defect}:" in line  # the catalogue file and its line


@pytest.mark.parametrize("defect", sorted((DATA / "subsidies").glob("*.csv")),
                         ids=lambda p: p.stem)
def test_subsidy_defect_through_the_cli(defect, tmp_path):
    model = tmp_path / "m.toml"
    model.write_text(f'[instance]\npath = "{ROOT}/instances/smoke/path5.json"\n'
                     '[areas]\ncount = 2\n[objective]\ntravel_weight = "w"\n'
                     '[finance.equalisation]\nkey = "lf"\n'
                     f'[finance.subsidy]\nfile = "{defect}"\n')
    plan = tmp_path / "plan.csv"
    plan.write_text("code,lead_code\n0,0\n1,2\n2,2\n3,2\n4,2\n")
    out = tmp_path / "o" / "out"
    out.parent.mkdir()
    line = assert_bad_input(invoke(["finance", plan, "--model", model, "--out", out]), out)
    assert f"{defect}" in line  # the subsidy file (and its line)


def test_finance_settles_a_run_directory_with_the_model_it_names(solved, monkeypatch):
    # compare and report take a run directory; so does finance (its model from summary.json)
    _, out = solved
    monkeypatch.chdir(ROOT)
    for args in (["finance", out], ["finance", out, "--model", SEED]):
        result = invoke(args)
        assert result.exit_code == 0, result.output
        text = " ".join(result.stdout.split())
        assert "every rule holds" in text and "largest net payer" in text


def test_finance_of_a_plan_file_needs_a_model(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    line = assert_bad_input(invoke(["finance", PLAN_2025]), tmp_path / "none")
    assert "needs --model" in line


# -- money with its source --------------------------------------------------------------

MONEY = DATA / "money"


def test_the_solve_prints_the_banner_and_the_sources_and_writes_them(solved):
    result, out = solved
    text = result.stdout
    assert text.count("Illustrative figures:") == 1 and "money inputs and their sources:" in text
    assert "population: 416,543 (total) — THL Sotkanet, population 31.12.2022 (2022)" in text
    rows = list(csv.DictReader((out / "finance_sources.csv").open(encoding="utf-8")))
    assert {r["kind"] for r in rows} >= {"subsidy", "staff_pay", "services", "data"}
    assert next(r for r in rows if r["kind"] == "subsidy")["illustrative"] == "yes"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["money_sources"]["banner"].startswith("Illustrative figures:")


def test_the_report_shows_the_banner_and_the_sources(solved, monkeypatch):
    _, out = solved
    monkeypatch.chdir(ROOT)
    result = invoke(["report", out])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'class="illustrative"' in page and "Illustrative figures:" in page
    assert 'id="sources"' in page and "THL Sotkanet, population 31.12.2022" in page
    assert "the municipal share of unemployment benefits" in page


def test_real_subsidies_and_statistics_leave_the_rest_in_the_banner(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    result = invoke(["finance", PLAN_2025, "--model", SEED, "--subsidies",
                     MONEY / "pp-subsidies-2025.csv", "--statistics",
                     MONEY / "pp-statistics-2023.csv", "--out", out])
    assert result.exit_code == 0, result.output
    banner = " ".join(result.stdout.split("\nplan ")[0].replace("!", " ").split())
    assert "Illustrative figures:" in banner and "state subsidy" not in banner
    assert "staff pay per FTE" in banner
    text = " ".join(result.stdout.split())
    assert "from pp-subsidies-2025.csv" in text
    assert "population (overlay pp-statistics-2023.csv)" in text
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["model_overrides"]) == {"finance.subsidy", "instance.statistics"}
    assert summary["finance"]["total_subsidy"] == pytest.approx(50_503_970.0)


@pytest.mark.parametrize("text, needle", [
    ("code,population\n564,1\n", "no row for"),
    ("code,population\n" + "\n".join(f"{c},-1" for c in ("009", "564")) + "\n", "'population'"),
    ("code,people\n564,1\n", "unknown column 'people'"),
])
def test_a_bad_statistics_file_is_one_line(text, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    bad = tmp_path / "stats.csv"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "o").mkdir()
    line = assert_bad_input(invoke(["finance", PLAN_2025, "--model", SEED, "--statistics",
                                    bad]), tmp_path / "o" / "none")
    assert "stats.csv" in line and needle in line

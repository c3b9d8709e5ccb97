"""The decision commands end to end: solve --exemptions / -k max / --reference, compare,
pareto, sweep on a local Dask cluster, bench on a local cluster; bad input exits 2.

Real solves: Lapland with 4 areas (infeasible, then with exemptions), a North Ostrobothnia
solve compared with the 2025 areas, a three-point front and a small sweep.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from test_cli import assert_bad_input

from optimizer.cli import cli
from optimizer.decisions.sweep import grid, parse_value
from optimizer.staging import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
LAPPI = ROOT / "benchmarks" / "models" / "finland" / "lappi.toml"
REGION = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
SEED = ROOT / "models" / "pohjois-pohjanmaa.toml"
PLAN_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"
WIDTH = 100


def invoke(args) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_infeasible_lapland_says_which_floor_and_how_many_exemptions():
    r = invoke(["solve", LAPPI, "-k", "4"])
    assert r.exit_code == 1
    text = " ".join(r.stdout.split())
    assert "Lappi cannot be split into 4 contiguous areas" in text
    assert "at least 1 area must fall short" in text and "(proven)" in text
    assert "short)" in text and "--exemptions" in text


def test_lapland_with_exemptions_names_the_fewest_and_proves_them(tmp_path):
    out = tmp_path / "run"
    r = invoke(["solve", LAPPI, "-k", "4", "--exemptions", "--out", out])
    assert r.exit_code == 0, r.output
    assert "fewest exempted areas: 1 (proven)" in r.stdout
    assert "1 exempted area:" in r.stdout and "short" in r.stdout
    assert "plan verified: every rule holds" in r.stdout
    assert [line for line in r.stdout.splitlines()
            if len(line) > WIDTH and str(out) not in line] == []
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["answer"] == {"value": 1.0, "proven": True, "bound": 1.0}
    assert [p["status"] for p in summary["phases"]] == ["optimal", "optimal"]
    assert len(summary["exempted_areas"]) >= 1
    rows = list(csv.DictReader((out / "assignment.csv").open(encoding="utf-8")))
    exempt = {r["lead_code"] for r in rows if r["exempt"] == "yes"}
    assert len(exempt) == 1
    # the plan with its declared exemption checks out under the same model with exemptions
    r = invoke(["check", out / "assignment.csv", "--model", LAPPI, "--areas", "4"])
    assert r.exit_code == 1  # the model itself allows no exemption
    assert "exemption" in r.stdout


def test_compare_prints_moves_figures_terms_and_money(tmp_path):
    run = tmp_path / "run"
    assert invoke(["solve", SEED, "-q", "--out", run]).exit_code == 0
    out = tmp_path / "cmp"
    r = invoke(["compare", PLAN_2025, run, "--out", out])  # the run names its model
    assert r.exit_code == 0, r.output
    assert "municipalities change lead from employment areas 2025 to run:" in r.stdout
    assert "area in employment areas 2025" in r.stdout and "total cost" in r.stdout
    assert "net money per municipality" in r.stdout
    assert [line for line in r.stdout.splitlines()
            if len(line) > WIDTH and str(out) not in line] == []
    assert {p.name for p in out.iterdir()} == {"compare.csv", "compare.md", "map.html",
                                              "map.png", MANIFEST}
    rows = list(csv.DictReader((out / "compare.csv").open(encoding="utf-8")))
    assert len(rows) == 30
    moved = [r for r in rows if r["moved"] == "yes"]
    assert moved and all(r["lead_code_a"] != r["lead_code_b"] for r in moved)
    assert all(r["lead_code_a"] == r["lead_code_b"] for r in rows if r["moved"] != "yes")
    assert all(float(r["net_eur_b"]) - float(r["net_eur_a"])
               == pytest.approx(float(r["net_eur_difference"])) for r in rows)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert f"moved municipalities ({len(moved)})" in html
    # a plan compared with itself moves nothing and differs in no term
    r = invoke(["compare", run, run / "assignment.csv", "--model", SEED, "--json"])
    data = json.loads(r.stdout)
    assert data["moves"] == [] and all(t["difference"] in (0, None) for t in data["terms"])


def test_minimal_change_curve_from_the_2025_areas(tmp_path):
    out = tmp_path / "curve"
    r = invoke(["solve", REGION, "-k", "4", "--reference", PLAN_2025, "--max-moves", "12,14",
                "--out", out])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((out / "moves.csv").open(encoding="utf-8")))
    assert [r["max_moves"] for r in rows] == ["12", "14", "none"]
    costs = [float(r["cost"]) for r in rows]
    assert costs[0] >= costs[1] >= costs[2] - 1e-6  # more moves never cost more
    assert all(int(r["moves"]) <= int(r["max_moves"]) for r in rows[:2])
    assert (out / "moves.png").read_bytes()[:4] == b"\x89PNG"


def test_pareto_front_of_cost_and_travel(tmp_path):
    out = tmp_path / "front"
    r = invoke(["pareto", REGION, "--x", "cost", "--y", "travel", "--points", "3",
                "--areas", "3-5", "--out", out, "-q"])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader((out / "pareto.csv").open(encoding="utf-8")))
    xs = [float(r["cost"]) for r in rows]
    ys = [float(r["travel"]) for r in rows]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # non-dominated
    assert all(r["proven"] == "True" for r in rows)
    assert len(list((out / "plans").iterdir())) == len(rows)


@pytest.mark.parametrize("args, words", [
    (["solve", REGION, "--max-moves", "3"], "--max-moves and --cost-per-move need --reference"),
    (["solve", REGION, "--exemptions", "many"], "--exemptions"),
    (["solve", REGION, "--exemption-mode", "allowed"], "exemptions.max"),
    (["pareto", REGION, "--x", "beauty"], "'beauty' is not one of"),
    (["sweep", REGION, "--set", "floors.labour_force"], "--set: expected key=v1"),
    (["sweep", REGION, "--set", "areas.colour=4,5"], "unknown key 'areas.colour'"),
])
def test_bad_decision_input_exits_2(tmp_path, args, words):
    out = tmp_path / "out"
    args = [*args, "--out", out] if args[0] == "sweep" else args
    line = assert_bad_input(invoke(args), out)
    assert words in line


def test_grid_values_are_toml():
    assert parse_value("18000") == 18000 and parse_value("[4, 5]") == [4, 5]
    assert parse_value("max") == "max" and parse_value("0.5") == 0.5
    sc = grid(["areas.count=[4,5],6", "floors.labour_force=1,2"])
    assert [s.id for s in sc] == ["count=[4,5]+labour_force=1", "count=[4,5]+labour_force=2",
                                  "count=6+labour_force=1", "count=6+labour_force=2"]


def test_sweep_on_a_local_cluster_keeps_failures_apart_and_skips_finished(tmp_path):
    from optimizer.decisions.sweep import SweepOptions
    from optimizer.output.sweep import run_sweep

    out = tmp_path / "sweep"
    # an unknown back end is a bad key that stops the sweep before it runs; a failure at run
    # time is SCIP asked for two threads (it runs on one and refuses)
    scenarios = grid(["areas.count=4,7", "solver.backend=highs,scip"])
    options = SweepOptions(time_limit=60, threads=2)
    sweep = run_sweep(REGION, scenarios, out, options=options, workers=2, processes=False)
    status = {r.scenario.id: r.status for r in sweep.results}
    assert status == {"count=4+backend=highs": "optimal", "count=7+backend=highs": "infeasible",
                      "count=4+backend=scip": "error", "count=7+backend=scip": "error"}
    assert "local cluster, 2 workers" in sweep.where
    done = out / "count=4+backend=highs"
    assert (done / "assignment.csv").exists() and (done / "map.png").exists()
    summary = json.loads((done / "summary.json").read_text(encoding="utf-8"))
    assert summary["verification"]["ok"] is True
    rows = list(csv.DictReader((out / "summary.csv").open(encoding="utf-8")))
    assert [r["status"] for r in rows] == [r.status for r in sweep.results]
    assert (out / "summary.png").exists()
    # a rerun keeps the finished scenarios and tries the failed ones again
    again = run_sweep(REGION, scenarios, out, options=options, sequential=True)
    assert [r.skipped for r in again.results] == [True, False, True, False]
    assert [r.status for r in again.results] == [r.status for r in sweep.results]


def test_bench_on_a_local_cluster_gives_the_sequential_answers(tmp_path):
    from optimizer import bench as b
    from optimizer.cluster import dask_client

    suite = b.load_suite(ROOT / "benchmarks" / "suites" / "smoke.toml")
    kw = {"backends": ("highs",), "strategies": ("cuts",), "only": ("path5-floor",
                                                                   "grid3x3-floor")}
    seq = b.run_suite(suite, {}, **kw)
    with dask_client(workers=2, processes=False) as client:
        par = b.run_suite(suite, {}, client=client, **kw)
    assert [(r.instance, r.status, r.objective) for r in par] == \
        [(r.instance, r.status, r.objective) for r in seq]
    assert all(r.verified for r in par)


def test_check_takes_the_2025_areas_short_of_the_floor_as_their_exemptions():
    mainland = ROOT / "models" / "mainland.toml"
    r = invoke(["check", PLAN_2025, "--model", mainland, "--exemptions", "6"])
    assert r.exit_code == 0, r.output
    assert "6 exempted areas:" in r.stdout and "plan verified: every rule holds" in r.stdout
    r = invoke(["check", PLAN_2025, "--model", mainland, "--exemptions", "5"])
    assert r.exit_code == 1 and "exempted areas 6.00 > limit 5.00" in r.stdout

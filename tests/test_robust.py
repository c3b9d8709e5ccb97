"""The newer commands held to the solver's standard (issue 18): no false verdict, no stale or
lost result, no unbounded input. One test per defect of the audit, named after it.

Run directories are tampered with after a real solve of the 3×3 grid (no geometry, so no
map is drawn and every case takes well under a second); the report's verdict is read
from `report_html.verdict` and from the written file. Nothing here depends on the
machine's speed: the solves are proven at once, and the limits tested are counts.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import ROOT

from optimizer.cli import cli
from optimizer.data.planfile import read_plan
from optimizer.model.binding import bind
from optimizer.model.evaluate import evaluate
from optimizer.model.parse import load_model
from optimizer.output.report_html import verdict
from optimizer.output.run_dir import load_run
from optimizer.staging import MANIFEST

GRID = ROOT / "benchmarks" / "models" / "smoke" / "grid3x3-floor.toml"
NORTH = ROOT / "models" / "pohjois-pohjanmaa.toml"
PLAN_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"
NOT_CONTIGUOUS = {"0": "0", "1": "2", "2": "2", "3": "2", "5": "2", "4": "6", "6": "6",
                  "7": "6", "8": "6"}
"""A 3×3 grid plan whose area led by n2 holds n3, which touches none of n1, n2, n5."""


def run(*args) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_error_line(result: Result) -> str:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    """The 3×3 grid solved to proven optimality into a run directory."""
    out = tmp_path_factory.mktemp("grid") / "run"
    r = run("solve", GRID, "-b", "highs", "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def copy(solved, tmp_path):
    """A fresh copy of the solved run directory and a way to edit its summary.json."""
    folder = tmp_path / "run"
    shutil.copytree(solved, folder)

    def edit(**changes) -> Path:
        path = folder / "summary.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, value in changes.items():
            if value is DELETE:
                data.pop(key, None)
            else:
                data[key] = value
        path.write_text(json.dumps(data), encoding="utf-8")
        return folder

    return folder, edit


DELETE = object()


def badge(folder: Path):
    return verdict(load_run(folder))


def report_title(folder: Path) -> str:
    """The written report's <title>: the region, the areas and the verdict's words."""
    r = run("report", folder, "--quiet")
    assert r.exit_code == 0, r.output
    text = (folder / "report.html").read_text(encoding="utf-8")
    return text.split("<title>", 1)[1].split("</title>", 1)[0]


def write_plan(folder: Path, leads: dict[str, str]) -> None:
    rows = "".join(f"{c},n{c},{j},n{j}\n" for c, j in sorted(leads.items()))
    (folder / "assignment.csv").write_text("code,name,lead_code,lead_name\n" + rows,
                                           encoding="utf-8")


# -- report: every verdict recomputed -----------------------------------------------


def test_control_the_untouched_run_is_proven_optimal(solved):
    v = badge(solved)
    assert (v.text, v.css) == ("proven optimal", "ok")


def test_report_does_not_call_a_non_contiguous_plan_proven_optimal(copy):
    """Objective and bound set to the non-contiguous plan's own cost: the badge was green."""
    folder, edit = copy
    write_plan(folder, NOT_CONTIGUOUS)
    problem = bind(load_model(GRID))
    cost = evaluate(problem, read_plan(folder / "assignment.csv", problem.instance)).objective
    edit(objective=cost, bound=cost, gap=0.0)
    v = badge(folder)
    assert v.css == "bad" and "proven optimal" not in v.text and "breaks" in v.text
    assert "proven optimal" not in report_title(folder)


@pytest.mark.parametrize("value", [DELETE, None], ids=["missing", "null"])
def test_report_badge_when_the_objective_is_missing_or_null(copy, value):
    _folder, edit = copy
    v = badge(edit(objective=value))
    assert v.css == "bad" and "no objective" in v.text


def test_report_refuses_an_objective_that_is_a_string(copy):
    folder, edit = copy
    line = one_error_line(run("report", edit(objective="8")))
    assert "'objective'" in line and "number" in line
    assert not (folder / "report.html").exists()


@pytest.mark.parametrize(("changes", "words"), [
    ({"bound": 4.0, "gap": 0.5}, "gap of 50.00%"),
    ({"bound": 9.0, "gap": 0.0}, "above the objective"),
    ({"bound": None}, "no bound"),
    ({"gap": 0.5}, "states a gap of 50.00%"),
], ids=["gap-50-percent", "bound-above-objective", "no-bound", "gap-inconsistent"])
def test_report_badge_when_optimal_is_claimed_on_a_certificate_that_does_not_hold(
        copy, changes, words):
    _folder, edit = copy
    v = badge(edit(**changes))
    assert v.css == "bad" and "proven optimal" not in v.text and words in v.text, v.text


def test_report_badge_when_assignment_csv_is_missing(copy):
    folder, _ = copy
    (folder / "assignment.csv").unlink()
    v = badge(folder)
    assert v.css == "bad" and "no plan" in v.text
    assert "proven optimal" not in report_title(folder)


def test_report_badge_when_a_check_run_claims_optimal(tmp_path):
    out = tmp_path / "check"
    plan = tmp_path / "plan.csv"
    plan.write_text("code,area\n0,0\n1,2\n2,2\n4,2\n5,2\n3,6\n6,6\n7,6\n8,6\n", encoding="utf-8")
    assert run("check", plan, "--model", GRID, "--out", out).exit_code == 0
    assert badge(out).text == "checked plan: every rule holds"
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (out / "summary.json").write_text(json.dumps({**data, "status": "optimal", "bound": 8.0}),
                                      encoding="utf-8")
    v = badge(out)
    assert v.css == "bad" and "no solver was run" in v.text


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("areas", "five", "'areas' must be a list"),
    ("areas", 5, "'areas' must be a list"),
    ("bound", "x", "'bound' must be a finite number"),
    ("gap", "0.1", "'gap' must be a finite number"),
    ("nodes", "many", "'nodes' must be a whole number"),
    ("status", "proven", "'status' must be one of"),
    ("kind", "guess", "'kind' must be one of"),
    ("summary_version", 2, "this release reads version 1"),
    ("notes", [1], "every item of 'notes'"),
    ("phases", [{"nodes": "x"}], "phases[0]: 'nodes'"),
    ("wall_time_s", None, "'wall_time_s' must not be null"),
], ids=lambda v: str(v)[:12])
def test_report_malformed_summary_fields_are_one_error_line(copy, key, value, needle):
    """`areas: "five"` re-verified with 4 areas (the string's length); strings in bound,
    gap and nodes, and areas as a number, gave tracebacks."""
    folder, edit = copy
    line = one_error_line(run("report", edit(**{key: value})))
    assert needle in line and "summary.json" in line, line
    assert not (folder / "report.html").exists()


def test_report_refuses_nan_in_summary_json(copy):
    folder, _ = copy
    path = folder / "summary.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"bound": 8.0', '"bound": NaN'),
                    encoding="utf-8")
    assert "'bound' must be a finite number" in one_error_line(run("report", folder))


# -- report: money recomputed, finance folders verified ------------------------------


@pytest.fixture(scope="module")
def settled(tmp_path_factory) -> Path:
    """`finance --out` of the 2025 areas under North Ostrobothnia (no plan of its own)."""
    out = tmp_path_factory.mktemp("finance") / "fin"
    r = run("finance", PLAN_2025, "--model", NORTH, "--out", out)
    assert r.exit_code == 0, r.output
    return out


def test_report_of_a_finance_folder_verifies_the_settled_plan(tmp_path):
    """A `finance --out` folder whose plan verified was reported as "breaks rules" (it
    has no assignment.csv: the plan is the file its summary names)."""
    plan = tmp_path / "plan.csv"
    plan.write_text("code,area\n0,0\n1,2\n2,2\n4,2\n5,2\n3,6\n6,6\n7,6\n8,6\n", encoding="utf-8")
    model = tmp_path / "grid.toml"
    model.write_text(GRID.read_text(encoding="utf-8").replace(
        '"../../../instances/', f'"{ROOT}/instances/') + FINANCE, encoding="utf-8")
    out = tmp_path / "fin"
    r = run("finance", plan, "--model", model, "--out", out)
    assert r.exit_code == 0, r.output
    v = badge(out)
    assert (v.text, v.css) == ("settled plan: every rule holds", "ok")
    assert "every rule holds" in report_title(out)


FINANCE = """
[finance.subsidy]
total = 1000
weights = { lf = 1.0 }
[finance.equalisation]
key = "lf"
"""


@pytest.mark.parametrize("edit", ["9999999.99", "nan", "1e999", "short"])
def test_report_money_ignores_an_edited_finance_csv(settled, tmp_path, edit):
    """An edited 9,999,999.99, nan and 1e999 were shown as found; a short row crashed."""
    folder = tmp_path / "fin"
    shutil.copytree(settled, folder)
    path = folder / "finance.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[1].split(",")
    if edit == "short":
        lines[1] = ",".join(cells[:3])
    else:
        cells[-1] = edit
        lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("report", folder, "--quiet")
    assert r.exit_code == 0, r.output
    text = (folder / "report.html").read_text(encoding="utf-8")
    for shown in ("9,999,999.99", "nan", "1e999", "inf"):
        assert f">{shown}<" not in text
    assert load_run(folder).finance is not None


# -- output folders ---------------------------------------------------------------------


def test_out_into_a_shared_folder_keeps_foreign_report_and_finance_files(tmp_path):
    """`--out` into a shared folder deleted a foreign report.html or finance.csv."""
    out = tmp_path / "shared"
    out.mkdir()
    for name in ("report.html", "finance.csv", "map.png"):
        (out / name).write_text("a colleague's file\n", encoding="utf-8")
    assert run("solve", GRID, "--out", out, "--quiet").exit_code == 0
    for name in ("report.html", "finance.csv", "map.png"):
        assert (out / name).read_text(encoding="utf-8") == "a colleague's file\n"
    own = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["entries"]
    assert own == ["assignment.csv", "plan.csv", "summary.json"]
    # the toolkit's own report goes into the set, and the next run replaces it
    assert run("report", out, "--quiet").exit_code == 0
    assert "a colleague" not in (out / "report.html").read_text(encoding="utf-8")
    assert run("solve", GRID, "--out", out, "--quiet").exit_code == 0
    assert not (out / "report.html").exists()
    assert (out / "finance.csv").exists() and (out / "map.png").exists()


def test_out_empty_is_refused_not_the_current_folder(tmp_path, monkeypatch):
    """`--out ""` wrote into the current directory."""
    monkeypatch.chdir(tmp_path)
    for args in (["solve", GRID, "--out", ""], ["pareto", GRID, "--out", ""],
                 ["instances", "random", "--n", "5", "--out", ""]):
        assert "empty path" in one_error_line(run(*args))
    assert list(tmp_path.iterdir()) == []


def test_out_with_a_300_character_name_is_one_error_line(tmp_path):
    """A 300-character --out name gave an OSError traceback (File name too long)."""
    out = tmp_path / ("x" * 300)
    line = one_error_line(run("solve", GRID, "--out", out, "--quiet"))
    assert "longer than 255 bytes" in line
    line = one_error_line(run("instances", "random", "--n", "5", "--out",
                              tmp_path / ("y" * 300 + ".json")))
    assert "longer than 255 bytes" in line
    assert list(tmp_path.iterdir()) == []


def test_instances_random_writes_files_others_may_read(tmp_path):
    """`instances random` wrote its files with mode 0600 (mkstemp's)."""
    old = os.umask(0o022)
    try:
        r = run("instances", "random", "--n", "8", "--out", tmp_path / "r.json", "--model",
                tmp_path / "r.toml")
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    for name in ("r.json", "r.toml"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644


# -- pareto -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def front_model(tmp_path_factory) -> Path:
    """The 3×3 grid with 2–4 areas and a price per area: a front of fixed cost against
    travel with two points (2 areas: 2 / 9, 3 areas: 3 / 8)."""
    path = tmp_path_factory.mktemp("front") / "grid.toml"
    path.write_text(GRID.read_text(encoding="utf-8").replace(
        '"../../../instances/', f'"{ROOT}/instances/').replace(
        "count = 3", "count = [2, 4]") + "fixed_cost_per_area = 1\n", encoding="utf-8")
    return path


def test_pareto_rerun_into_the_same_out_replaces_the_whole_front(front_model, tmp_path):
    """A rerun into the same --out failed with 'Directory not empty' after all the solving
    and left the new pareto.csv beside the old run's plans."""
    out = tmp_path / "front"
    assert run("pareto", front_model, "--x", "fixed", "--y", "travel", "--out", out,
               "-q").exit_code == 0
    assert sorted(p.name for p in (out / "plans").iterdir()) == ["point-01.csv",
                                                                 "point-02.csv"]
    (out / "plans" / "point-07.csv").write_text("from an older run\n", encoding="utf-8")
    (out / "notes.txt").write_text("mine\n", encoding="utf-8")
    r = run("pareto", front_model, "--x", "fixed", "--y", "travel", "--out", out, "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (out / "plans").iterdir()) == ["point-01.csv",
                                                                 "point-02.csv"]
    assert (out / "notes.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "notes.txt", "pareto.csv",
                                                     "pareto.png", "plans"]


def test_pareto_refuses_a_foreign_plans_folder_before_solving(front_model, tmp_path):
    out = tmp_path / "front"
    (out / "plans").mkdir(parents=True)
    (out / "plans" / "mine.csv").write_text("keep\n", encoding="utf-8")
    line = one_error_line(run("pareto", front_model, "--out", out))
    assert "plans is there and was not written by optimizer" in line
    assert (out / "plans" / "mine.csv").read_text(encoding="utf-8") == "keep\n"


def test_pareto_does_not_solve_repeated_points(front_model):
    """`--points` had no cap and every ε was solved, also those whose answer was known."""
    from optimizer.decisions.base import SolveOptions
    from optimizer.decisions.pareto import pareto_front

    front = pareto_front(bind(load_model(front_model)), "fixed", "travel", 20,
                         SolveOptions(backend="highs"))
    assert [(p.x, p.y) for p in front.points] == [(2.0, 9.0), (3.0, 8.0)]
    assert front.proven and front.solves <= 6  # the two ends and one ε, not 18 of them


def test_pareto_points_are_capped(front_model):
    line = one_error_line(run("pareto", front_model, "--points",
                              "99999999999999999999999"))
    assert "--points" in line and "100" in line


def test_pareto_time_limit_bounds_the_whole_front(front_model):
    """`pareto -t 3` took 6.9 s: every solve got the limit anew. No solve starts after it."""
    import time

    from optimizer.decisions.base import SolveOptions
    from optimizer.decisions.pareto import pareto_front

    spent = SolveOptions(backend="highs", time_limit=1.0, started=time.perf_counter() - 10)
    front = pareto_front(bind(load_model(front_model)), "fixed", "travel", 20, spent)
    assert front.stopped == "time limit reached" and not front.proven
    assert front.solves <= 1


def test_pareto_moves_without_a_reference_is_one_error_line(front_model, tmp_path):
    """`pareto --x moves` without a reference plan gave a traceback."""
    line = one_error_line(run("pareto", front_model, "--x", "moves", "--out", tmp_path / "o"))
    assert "'moves'" in line and "reference" in line
    assert not (tmp_path / "o").exists()


def test_pareto_areas_on_an_organiser_model_is_refused_as_solve_does(tmp_path):
    line = one_error_line(run("pareto", NORTH, "--areas", "3", "--out", tmp_path / "o"))
    assert "organiser" in line and "--regional-leads" in line


# -- sweep -------------------------------------------------------------------------------


def sweep(model: Path, out: Path, *args) -> Result:
    return run("sweep", model, "--sequential", "--out", out, "-q", *args)


def test_sweep_keeps_no_stale_result_after_the_model_changes(tmp_path):
    """After fixed_cost_per_area changed, a rerun reported the old objective as '(kept)';
    changing -b or -t kept old results too."""
    model = tmp_path / "grid.toml"
    text = GRID.read_text(encoding="utf-8").replace('"../../../instances/',
                                                   f'"{ROOT}/instances/')
    model.write_text(text + "fixed_cost_per_area = 50000\n", encoding="utf-8")
    out = tmp_path / "sweep"
    first = sweep(model, out, "--set", "areas.count=2,3", "-b", "highs")
    assert first.exit_code == 0 and "(kept)" not in first.stdout
    again = sweep(model, out, "--set", "areas.count=2,3", "-b", "highs")
    assert again.stdout.count("(kept)") == 2  # nothing changed: both kept
    model.write_text(text + "fixed_cost_per_area = 5000000\n", encoding="utf-8")
    changed = sweep(model, out, "--set", "areas.count=2,3", "-b", "highs")
    assert "(kept)" not in changed.stdout and "15,000,0" in changed.stdout
    for option in (["-b", "cbc"], ["-t", "77"]):
        other = sweep(model, out, "--set", "areas.count=2,3", *option)
        assert "(kept)" not in other.stdout, option


def test_sweep_scenario_names_that_collide_are_made_distinct(tmp_path):
    """`--set 'description="a b","a_b","a/b"'` wrote three scenarios into one folder."""
    out = tmp_path / "sweep"
    r = sweep(GRID, out, "--set", 'description="a b","a_b","a/b"', "-b", "highs",
              "-t", "5")
    assert r.exit_code == 0, r.output
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 3 and len({f.lower() for f in folders}) == 3
    said = {json.loads((out / f / "scenario.json").read_text(encoding="utf-8"))["description"]
            for f in folders}
    assert said == {"a b", "a_b", "a/b"}


def test_sweep_grid_is_capped(tmp_path):
    values = ",".join(str(v) for v in range(200))
    line = one_error_line(run("sweep", GRID, "--set", f"floors.lf={values}", "--set",
                              f"objective.fixed_cost_per_area={values}", "--out",
                              tmp_path / "s"))
    assert "10,000 scenarios" in line and not (tmp_path / "s").exists()


@pytest.mark.parametrize("option", [["-t", "nan"], ["-b", "bogus"], ["--threads", "0"],
                                    ["--workers", "0"]])
def test_sweep_bad_options_are_refused_before_the_grid_runs(tmp_path, option):
    line = one_error_line(run("sweep", GRID, "--set", "areas.count=2,3", "--out",
                              tmp_path / "s", *option))
    assert option[0] in line
    assert not (tmp_path / "s").exists()


# -- input limits --------------------------------------------------------------------


def test_instances_random_n_beyond_the_cap_is_one_error_line(tmp_path):
    """`instances random --n 99999999999` died of a MemoryError traceback."""
    line = one_error_line(run("instances", "random", "--n", "99999999999", "--out",
                              tmp_path / "r.json"))
    assert "--n" in line and "5000" in line


def _model_with(tmp_path: Path, **paths) -> Path:
    """North Ostrobothnia's model with the instance, catalogue or subsidy file replaced."""
    text = NORTH.read_text(encoding="utf-8").replace(
        '"../instances/', f'"{ROOT}/instances/').replace(
        '"services-pohjois', f'"{ROOT}/models/services-pohjois')
    if "instance" in paths:
        text = text.replace(f'"{ROOT}/instances/finland/pohjois-pohjanmaa.json"',
                            f'"{paths["instance"]}"')
    if "catalogue" in paths:
        text = text.replace(f'"{ROOT}/models/services-pohjois-pohjanmaa.csv"',
                            f'"{paths["catalogue"]}"')
    if "subsidy" in paths:
        text = text.replace(
            "total = 55000000", f'file = "{paths["subsidy"]}"').replace(
            "weights = { jobseekers = 0.6, labour_force = 0.25, population = 0.15 }", "")
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("special", ["dev-zero", "fifo"])
@pytest.mark.parametrize("role", ["model", "instance", "catalogue", "subsidy", "plan",
                                  "reference", "warm-start", "travel", "osm-extract"])
def test_devices_and_fifos_as_inputs_are_refused_without_blocking(tmp_path, role, special):
    """/dev/zero as model, instance, catalogue or plan ended in a MemoryError traceback; a
    FIFO as an input hung."""
    if special == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    else:
        target = Path("/dev/zero")
    scenario = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
    if role == "model":
        args = ["solve", target]
    elif role in ("instance", "catalogue", "subsidy"):
        args = ["solve", _model_with(tmp_path, **{role: target})]
    elif role == "plan":
        args = ["check", target, "--model", scenario]
    elif role == "reference":
        args = ["solve", scenario, "--reference", target, "--max-moves", "2"]
    elif role == "warm-start":
        args = ["solve", scenario, "--warm-start", target]
    elif role == "osm-extract":
        args = ["instances", "travel-times", ROOT / "instances/finland/pohjois-pohjanmaa.json",
                "--osm", target, "--out", tmp_path / "minutes.csv"]
    else:
        model = tmp_path / "travel.toml"
        model.write_text(scenario.read_text(encoding="utf-8").replace(
            '"../instances/', f'"{ROOT}/instances/').replace(
            "[instance]", f'[instance]\ndistance = "file"\ndistance_file = "{target}"\n'
            'distance_unit = "km"'), encoding="utf-8")
        args = ["solve", model]
    line = one_error_line(run(*args))
    assert str(target) in line and ("not a regular file" in line or "not found" not in line)


def test_subsidy_csv_in_cp1252_with_semicolons_is_read(tmp_path):
    """A subsidy file in cp1252 with semicolons (and decimal commas) was refused, although
    plan files in that format are read."""
    data = json.loads((ROOT / "instances/finland/pohjois-pohjanmaa.json").read_text("utf-8"))
    rows = "".join(f"{n['id']};{1000 + k},50\r\n" for k, n in enumerate(data["nodes"]))
    subsidy = tmp_path / "tuet.csv"
    subsidy.write_bytes(("kunta;nimi\r\n" if False else "code;subsidy_eur\r\n").encode()
                        + rows.encode("cp1252") + "999;Näin 1,00\r\n".encode("cp1252"))
    from optimizer.data.load import load_instance
    from optimizer.economics.subsidy import read_subsidies

    inst = load_instance(ROOT / "instances/finland/pohjois-pohjanmaa.json")
    cents = read_subsidies(subsidy, inst)
    assert cents[0] == 100050 and cents[-1] == (1000 + inst.n - 1) * 100 + 50
    r = run("finance", PLAN_2025, "--model", _model_with(tmp_path, subsidy=subsidy), "--json")
    assert r.exit_code == 0, r.output  # the model's [finance.subsidy] file, read the same way
    assert json.loads(r.stdout)["finance"]["total_subsidy"] == sum(cents) / 100


def test_money_is_exact_to_the_cent_at_the_largest_allowed_subsidies(tmp_path):
    """With 1e15 € per municipality the organiser's result was off by 1.20 € and Σ net by
    0.46 €: now the subsidies may add up to 1e15 € at most, and at that size every
    identity of the settlement holds to the cent."""
    data = json.loads((ROOT / "instances/finland/pohjois-pohjanmaa.json").read_text("utf-8"))
    huge = tmp_path / "huge.csv"
    huge.write_text("code,subsidy_eur\n" + "".join(f"{n['id']},1e15\n" for n in data["nodes"]),
                    encoding="utf-8")
    line = one_error_line(run("finance", PLAN_2025, "--model", _model_with(tmp_path,
                                                                          subsidy=huge)))
    assert "cannot be settled to the cent" in line
    largest = tmp_path / "largest.csv"
    largest.write_text("code,subsidy_eur\n" + "".join(
        f"{n['id']},33333333333333.33\n" for n in data["nodes"]), encoding="utf-8")
    from optimizer.economics.settle import settle

    for organiser_result in ("organiser", "members"):
        model = _model_with(tmp_path, subsidy=largest)
        model.write_text(model.read_text(encoding="utf-8").replace(
            'organiser_result = "organiser"', f'organiser_result = "{organiser_result}"'),
            encoding="utf-8")
        problem = bind(load_model(model))
        fin = settle(problem, read_plan(PLAN_2025, problem.instance))
        org = fin.organiser
        assert fin.total_subsidy == 30 * 3333333333333333
        assert org.result == org.shares + org.returned + org.sanctions - org.common_cost
        assert fin.total_net == fin.total_subsidy - fin.total_production - fin.common_cost
        assert sum(m.organiser_result for m in fin.municipalities) == org.result
        for m in fin.municipalities:
            assert m.to_organiser + m.to_area == m.subsidy
            assert m.net == -m.equalisation - m.sanctions + m.organiser_result


def test_allocation_is_exact_at_every_magnitude():
    from optimizer.economics.cents import MAX_CENTS, allocate

    for total in (MAX_CENTS, MAX_CENTS - 1, 7, -MAX_CENTS):
        for weights in ([1e-300, 1.0, 3.3], [1e15, 1.0, 1e-3], [0.0, 0.0], [2**60, 1, 3]):
            shares = allocate(total, weights)
            assert int(sum(int(x) for x in shares)) == total
            s = sum(weights) or len(weights)
            for x, w in zip(shares, weights, strict=True):
                quota = abs(total) * ((w / s) if sum(weights) else 1 / len(weights))
                assert abs(abs(int(x)) - quota) <= 1 + 1e-6 * quota


def test_deterministic_geopackage_has_no_time_stamps(tmp_path):
    """`--deterministic` left gpkg_contents.last_change time stamps in areas.gpkg."""
    from optimizer.output.geometry import dissolved, municipalities
    from optimizer.output.gpkg import write_geopackage

    problem = bind(load_model(ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"))
    plan = read_plan(PLAN_2025, problem.instance)
    figs = evaluate(problem, plan)
    written = []
    for k in range(2):
        path = tmp_path / f"areas-{k}.gpkg"
        write_geopackage(plan, figs, dissolved(plan, figs), municipalities(plan), path,
                         deterministic=True)
        written.append(path.read_bytes())  # a stamp of the time (to the ms) would differ
    assert written[0] == written[1]


def test_bad_input_is_one_line_even_with_a_line_break_in_it(tmp_path):
    """A path or value holding a form feed or newline made the one error line two (found by
    the long fuzz run: instance.path = '\\x0c')."""
    model = tmp_path / "model.toml"
    model.write_text('name = "x"\n[instance]\npath = "\\f"\n[areas]\ncount = 2\n',
                     encoding="utf-8")
    assert "\\x0c" in one_error_line(run("solve", model))
    assert "\\n" in one_error_line(run("pareto", GRID, "--points", "a\nb"))

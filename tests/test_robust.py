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

"""The `optimizer` command line, driven through click's CliRunner.

Bad input must exit 2 with exactly one `error:` line on stderr, no traceback and
nothing written; a real solve must write a complete, self-consistent set of outputs.
Real solves in this file: the 4-area solve (shared), the --json solve, the
time-limited solve and the staffing-attribute defect (which reaches the solver).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from optimizer.cli import cli
from optimizer.data.load import load_instance
from optimizer.data.planfile import read_plan
from optimizer.errors import InputError
from optimizer.model.binding import bind
from optimizer.model.parse import load_model
from optimizer.staging import MANIFEST

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
MODEL = "models/pohjois-pohjanmaa-4-5-areas.toml"
REAL_MODEL = ROOT / MODEL
REAL_INSTANCE = ROOT / "instances" / "finland" / "pohjois-pohjanmaa.json"
PLAN_2025 = "instances/finland/employment_areas_2025.csv"
OUTPUT_FILES = {"assignment.csv", "plan.csv", "summary.json", "areas.geojson", "areas.gpkg",
                "map.png", "map.html"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def status_of(text: str) -> str:
    m = re.search(r"^status (\S+) ·", text, flags=re.MULTILINE)
    assert m, f"no solver line in {text!r}"
    return m.group(1)


def assert_bad_input(result: Result, out: Path) -> str:
    """Exit 2, one `error:` line on stderr, nothing else, nothing written; returns the line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"unhandled {type(result.exception).__name__}: {result.exception}"
    )
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert lines[0].startswith("error: "), lines[0]
    assert result.stdout == ""
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    # no staging directory or stray file left next to the output directory either
    assert [p.name for p in out.parent.iterdir() if p.name != out.name] == []
    return lines[0]


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


# -- (a) bad input ---------------------------------------------------------


def _model_defects():
    for path in sorted((DATA / "models").glob("*.toml")):
        yield pytest.param(path, id=path.stem)


def test_there_are_defect_files_to_run():
    assert len(list((DATA / "models").glob("*.toml"))) >= 17
    assert len(list((DATA / "plans").glob("*.csv"))) >= 6


@pytest.mark.parametrize("path", list(_model_defects()))
def test_solve_model_defect_is_one_line(path, tmp_path):
    out = tmp_path / "out"
    line = assert_bad_input(invoke(["solve", path, "--out", out]), out)
    # the CLI reports exactly what the API raises, and the line names the model file
    # (or, when the instance is missing, the instance file)
    with pytest.raises(InputError) as info:
        bind(load_model(path))
    assert line == f"error: {info.value}"
    assert path.name in line or "no-such-region.json" in line


def test_solve_missing_model_file(tmp_path):
    out = tmp_path / "out"
    line = assert_bad_input(invoke(["solve", tmp_path / "nope.toml", "--out", out]), out)
    assert "model file not found" in line and "nope.toml" in line


def test_solve_unknown_backend(tmp_path):
    out = tmp_path / "out"
    line = assert_bad_input(
        invoke(["solve", REAL_MODEL, "--backend", "nope", "--areas", "4", "--out", out]), out)
    assert "'nope'" in line and "highs" in line


def test_solve_malformed_areas(tmp_path):
    out = tmp_path / "out"
    line = assert_bad_input(invoke(["solve", REAL_MODEL, "--areas", "x", "--out", out]), out)
    assert "--areas" in line and "'x'" in line


def test_solve_missing_warm_start(tmp_path):
    out = tmp_path / "out"
    args = ["solve", REAL_MODEL, "--areas", "4", "--warm-start", tmp_path / "start.csv",
            "--out", out]
    line = assert_bad_input(invoke(args), out)
    assert "plan file not found" in line and "start.csv" in line


def test_check_missing_plan_file(tmp_path):
    out = tmp_path / "out"
    args = ["check", tmp_path / "plan.csv", "--model", REAL_MODEL, "--out", out]
    line = assert_bad_input(invoke(args), out)
    assert "plan file not found" in line and "plan.csv" in line


@pytest.mark.parametrize("path", sorted((DATA / "plans").glob("*.csv")), ids=lambda p: p.stem)
def test_check_plan_defect_is_one_line(path, tmp_path):
    out = tmp_path / "out"
    line = assert_bad_input(invoke(["check", path, "--model", REAL_MODEL, "--out", out]), out)
    with pytest.raises(InputError) as info:
        read_plan(path, load_instance(REAL_INSTANCE))
    assert line == f"error: {info.value}"
    assert path.name in line


# -- (b) a real solve with outputs -------------------------------------------


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    """One real solve of the bundled model at 4 areas, run from the repository root."""
    parent = tmp_path_factory.mktemp("solve")
    out = parent / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        result = invoke(["solve", MODEL, "--areas", "4", "--out", out])
    return result, out


def test_solve_reports_optimal_and_verified(solved):
    result, _ = solved
    assert result.exception is None, result.output
    assert result.exit_code == 0, result.output
    assert status_of(result.stdout) == "optimal"
    assert "status optimal" in result.stdout
    assert "plan verified: every rule holds" in result.stdout
    assert "Traceback" not in result.output


def test_solve_writes_all_outputs_and_nothing_else(solved):
    _, out = solved
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES | {MANIFEST}
    assert [p.name for p in out.parent.iterdir()] == ["out"]  # no staging leftovers


def _assignment(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (out / "assignment.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def test_assignment_csv_is_a_complete_plan(solved):
    _, out = solved
    header, rows = _assignment(out)
    assert header == ["code", "name", "lead_code", "lead_name"]
    assert len(rows) == 30
    instance = load_instance(REAL_INSTANCE)
    assert sorted(r["code"] for r in rows) == sorted(instance.codes)
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        assert r["name"] == instance.names[instance.index[r["code"]]]
        lead = by_code[r["lead_code"]]  # every lead is itself a row of the plan ...
        assert lead["lead_code"] == lead["code"]  # ... that leads itself
        assert r["lead_name"] == lead["name"]
    leads = {r["lead_code"] for r in rows}
    assert len(leads) == 4
    assert "564" in leads  # Oulu is a fixed lead


def test_summary_json_certifies_the_plan(solved):
    _, out = solved
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal"
    assert summary["verification"] == {"ok": True, "violations": []}
    assert summary["model_file"] == MODEL
    assert summary["instance"] == "pohjois-pohjanmaa"
    assert summary["gap"] is not None and summary["gap"] <= 1e-6
    areas = summary["areas"]
    assert len(areas) == 4
    for area in areas:
        assert area["labour_force"] >= 20000, area["lead_name"]
        assert area["lead_code"] in area["members"]
        assert area["municipalities"] == len(area["members"])
    assert sum(a["cost"] for a in areas) == pytest.approx(summary["objective"], rel=1e-9)
    # the summary's areas are exactly the groups of assignment.csv
    _, rows = _assignment(out)
    groups: dict[str, set[str]] = {}
    for r in rows:
        groups.setdefault(r["lead_code"], set()).add(r["code"])
    assert {a["lead_code"]: set(a["members"]) for a in areas} == groups


def test_geojson_and_map(solved):
    _, out = solved
    geo = json.loads((out / "areas.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection"
    features = geo["features"]
    assert len(features) == 4
    _, rows = _assignment(out)
    assert {f["properties"]["lead_code"] for f in features} == {r["lead_code"] for r in rows}
    for f in features:
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert f["properties"]["labour_force"] >= 20000
    png = (out / "map.png").read_bytes()
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 10_000


# -- (c) --json ------------------------------------------------------------------


def test_solve_json_prints_only_json(at_root, solved):
    result = invoke(["solve", MODEL, "--areas", "4", "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no progress lines either
    summary = json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert summary["status"] == "optimal"
    assert summary["verification"]["ok"] is True
    assert len(summary["areas"]) == 4
    # same model, same optimum as the run that wrote files
    written = json.loads((solved[1] / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective"] == pytest.approx(written["objective"], rel=1e-9)


# -- (d) checking the 2025 division ----------------------------------------------


def test_check_2025_division_breaks_the_floor(at_root):
    result = invoke(["check", PLAN_2025, "--model", MODEL])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert "plan breaks" in text
    assert "plan verified" not in text
    assert max(map(len, text.splitlines())) <= 100  # the terminal's width, wrapped
    lines = re.sub(r"\n {6}", " ", text).splitlines()  # a wrapped violation as one line
    lead = [ln for ln in lines if "[lead]" in ln]
    assert any("Kuusamo" in ln and "Taivalkoski" in ln and "Kajaani" in ln for ln in lead), lead
    floors = [ln for ln in lines if "[floor]" in ln]
    assert any("Kajaani" in ln and "labour_force" in ln and "< 20,000" in ln for ln in floors), (
        floors)


# -- (e) a time limit never yields an unproven "optimal" ----------------------------


def test_tight_time_limit_is_optimal_only_when_proven(at_root):
    # Defect: this test assumed that no solve finishes within 0.01 s. At any speed, what
    # holds is: "optimal" only with a bound that proves it, else a stop with a verified
    # plan (exit 0) or no plan (exit 1).
    result = invoke(["solve", MODEL, "--time-limit", "0.01", "--areas", "5", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    summary = json.loads(result.stdout)
    status = summary["status"]
    assert status in ("optimal", "feasible-at-limit", "no-solution-at-limit")
    if status == "optimal":
        assert summary["gap"] is not None and summary["gap"] <= 1e-6
        assert summary["bound"] == pytest.approx(summary["objective"], rel=1e-6)
    else:
        assert "time limit reached" in summary["message"]
    if status == "no-solution-at-limit":
        assert result.exit_code == 1, result.output
        assert "areas" not in summary
    else:
        assert result.exit_code == 0, result.output
        assert summary["verification"] == {"ok": True, "violations": []}


# -- (f) help ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--help"], ("solve", "check", "instances")),
        (["solve", "--help"], ("MODEL", "--time-limit", "--areas", "--warm-start", "--out")),
        (["check", "--help"], ("PLAN", "--model", "--out")),
        (["instances", "build", "--help"], ("--raw", "--out")),
    ],
    ids=["top", "solve", "check", "instances-build"],
)
def test_help(args, needles):
    result = invoke(args)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Usage:")
    for needle in needles:
        assert needle in result.stdout

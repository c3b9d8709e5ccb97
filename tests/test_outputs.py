"""Output folders: checked before the work, written as one set, describing the last run only.

Each test is named after the defect it pins. The solves here are small (the
smoke path instance, North Ostrobothnia at 4 areas) and their outcome does not
depend on the machine's speed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result
from conftest import BACKENDS, ROOT

from optimizer.cli import cli
from optimizer.output.write import OUTPUT_FILES
from optimizer.staging import MANIFEST, STAGE_PREFIX

NO_MODEL = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
PATH_MODEL = ROOT / "benchmarks" / "models" / "smoke" / "path5-floor.toml"


def invoke(*args) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line_exit_2(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "status" not in result.stdout  # refused before any solve
    return lines[0]


def infeasible_copy(tmp_path: Path) -> Path:
    """North Ostrobothnia with a floor no plan can meet (the solver proves it)."""
    text = NO_MODEL.read_text(encoding="utf-8")
    text = text.replace('path = "../instances/', f'path = "{ROOT}/instances/')
    text = text.replace("labour_force = 20000", "labour_force = 60000")
    path = tmp_path / "infeasible.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_stale_plan_files_do_not_stay_beside_an_infeasible_summary(tmp_path):
    # Defect: solving into OUT and then solving an infeasible model into OUT left the
    # old assignment.csv, map.png and areas.geojson beside the new summary.
    out = tmp_path / "out"
    first = invoke("solve", NO_MODEL, "--areas", "4", "--out", out, "--quiet")
    assert first.exit_code == 0, first.output
    assert {p.name for p in out.iterdir()} == set(OUTPUT_FILES) - {
        "finance.csv", "finance_sources.csv", "report.html"} | {MANIFEST}
    (out / "notes.txt").write_text("the planner's own file\n")
    second = invoke("solve", infeasible_copy(tmp_path), "--areas", "4", "--out", out)
    assert second.exit_code == 1, second.output
    assert {p.name for p in out.iterdir()} == {"summary.json", "notes.txt", MANIFEST}
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "infeasible" and "labour_force" in summary["message"]


def test_a_killed_runs_staging_folder_is_removed_by_the_next_run(tmp_path):
    # Defect: outputs were staged in a hidden folder beside OUT, left there by a killed run.
    out = tmp_path / "out"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid is free now (and will not be reused within this test)
    dead = out / f"{STAGE_PREFIX}{gone.pid}-x1"
    alive = out / f"{STAGE_PREFIX}1-x2"  # pid 1 is always running
    for d in (dead, alive):
        d.mkdir()
        (d / "assignment.csv").write_text("half")
    r = invoke("solve", PATH_MODEL, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert not dead.exists() and alive.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [alive.name, "assignment.csv", "plan.csv", "summary.json", MANIFEST])
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing staged beside OUT


@contextlib.contextmanager
def read_only(folder: Path):
    """Make a folder read-only for this process: chmod, or (for root, whom chmod does not
    stop) the immutable attribute; skip where neither works."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                        capture_output=True).returncode != 0:
        pytest.skip("running as root without a working chattr: cannot make a folder read-only")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_a_read_only_parent_is_fine_when_out_is_writable(tmp_path):
    # Defect: staging in the parent gave a PermissionError traceback there.
    parent = tmp_path / "shared"
    out = parent / "out"
    out.mkdir(parents=True)
    with read_only(parent):
        r = invoke("solve", PATH_MODEL, "--out", out, "--quiet")
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == {"assignment.csv", "plan.csv", "summary.json",
                                              MANIFEST}
    assert [p.name for p in parent.iterdir()] == ["out"]


def test_a_read_only_out_is_refused_before_solving(tmp_path):
    # Defect: a read-only --out gave a PermissionError traceback after the whole solve.
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    with read_only(out):
        line = assert_one_line_exit_2(invoke("solve", NO_MODEL, "--out", out))
    assert str(out) in line and "cannot write" in line
    assert [p.name for p in out.iterdir()] == ["summary.json"]  # untouched


@pytest.mark.parametrize("where", ["parent", "out"])
def test_out_or_its_parent_being_a_file_is_refused_before_solving(tmp_path, where):
    # Defect: `FileExistsError` traceback, and only after the whole solve.
    blocker = tmp_path / "taken"
    blocker.write_text("a file\n")
    out = blocker / "out" if where == "parent" else blocker
    line = assert_one_line_exit_2(invoke("solve", NO_MODEL, "--out", out))
    assert str(blocker) in line and "is a file" in line
    assert blocker.read_text() == "a file\n"


@pytest.mark.parametrize("name", BACKENDS)
def test_json_with_log_keeps_stdout_parseable(tmp_path, name):
    # Defect: `--json --log` put the solver's log on stdout. A real process, so that
    # what the solvers print from C is caught too.
    model = ROOT / "benchmarks" / "models" / "smoke" / "grid3x3-floor.toml"
    r = subprocess.run([sys.executable, "-m", "optimizer", "solve", str(model), "-b", name,
                        "--json", "--log"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["status"] == "optimal" and summary["backend"] == name
    assert len(r.stderr.splitlines()) > 3  # the log went to stderr


def test_no_command_prints_a_traceback_on_stderr(tmp_path):
    """Defect: every `solve --out` printed "Exception ignored ... release unlocked lock"
    from a fork while the map libraries were imported in the background. Real processes,
    since only they fork: solve (counts solved side by side), check, finance, compare,
    report."""
    seed = ROOT / "models" / "pohjois-pohjanmaa.toml"
    plan_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"
    run = tmp_path / "run"
    commands = [
        ["solve", seed, "--out", run, "--quiet"],
        ["check", plan_2025, "--model", seed, "--out", tmp_path / "check"],
        ["finance", run / "assignment.csv", "--model", seed, "--out", tmp_path / "money"],
        ["compare", plan_2025, run, "--model", seed, "--out", tmp_path / "compare"],
        ["report", run, "--reference", plan_2025],
    ]
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "optimizer", *map(str, args)], cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), (args[0], done.stderr)
        for bad in ("Traceback", "Exception ignored", "Error:"):
            assert bad not in done.stderr, (args[0], done.stderr)


def test_the_bundled_land_mask_is_the_globe_cut_around_finland():
    """The printed map's sea comes from a cut of the GLOBE mask (loading the globe takes
    seconds): inside the cut it answers exactly as the whole globe does, outside it the
    globe answers."""
    globe = pytest.importorskip("global_land_mask.globe")
    from optimizer.output.land import is_land

    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(57.0, 72.0, 50_000), rng.uniform(10.0, 38.0, 50_000)
    assert np.array_equal(is_land(lat, lon), globe.is_land(lat.copy(), lon.copy()))
    assert 0.3 < is_land(lat, lon).mean() < 0.9  # land and sea both there
    assert is_land(np.array([65.0, 0.0]), np.array([25.5, -30.0])).tolist() == [True, False]

"""`optimizer bench`: case selection, the CSV it leaves behind, and what fails CI."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from optimizer.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "benchmarks" / "suites" / "smoke.toml"


def bench(*args) -> object:
    return CliRunner().invoke(cli, ["bench", str(SMOKE), *map(str, args)])


def rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_only_runs_the_matching_cases_and_writes_every_row(tmp_path):
    out = tmp_path / "r.csv"
    r = bench("--only", "path*,grid*", "--backends", "highs", "--out", out,
              "--best-known", ROOT / "benchmarks" / "best_known.csv")
    assert r.exit_code == 0, r.output
    got = rows(out)
    assert {(x["instance"], x["formulation"]) for x in got} == {
        (case, f) for case in ("path5-floor", "grid3x3-floor") for f in ("cuts", "flow")}
    assert all(x["status"] == "optimal" and x["verified"] == "True" for x in got)
    assert all(x["objective"] == x["best_known"] for x in got)


def test_a_pattern_matching_nothing_is_bad_input(tmp_path):
    r = bench("--only", "no-such-case", "--out", tmp_path / "r.csv")
    assert r.exit_code == 2
    assert "no-such-case" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "r.csv").exists()


def test_a_wrong_known_optimum_fails_the_run(tmp_path):
    known = tmp_path / "best.csv"
    known.write_text("instance,objective,status,source,published_time,published_source\n"
                     "path5-floor,3,optimal,deliberately wrong,,\n")
    r = bench("--only", "path5-floor", "--backends", "highs", "--contiguity", "flow",
              "--best-known", known)
    assert r.exit_code == 1
    assert "FAIL path5-floor" in r.stderr and "differs from the known optimum" in r.stderr


def test_every_shipped_suite_loads_with_distinct_ids():
    from optimizer.bench import load_suite

    for path in sorted((ROOT / "benchmarks" / "suites").glob("*.toml")):
        ids = [c.id for c in load_suite(path).cases]
        assert len(ids) == len(set(ids)) > 0, path.name


def test_a_suite_repeating_an_id_is_bad_input(tmp_path):
    suite = tmp_path / "twice.toml"
    model = ROOT / "benchmarks" / "models" / "smoke" / "path5-floor.toml"
    suite.write_text(f'[[instances]]\nid = "a"\nmodel = "{model}"\n'
                     f'[[instances]]\nid = "a"\nmodel = "{model}"\n')
    r = CliRunner().invoke(cli, ["bench", str(suite)])
    assert r.exit_code == 2
    assert "'a' appears twice" in r.stderr and "Traceback" not in r.output


def test_a_case_counts_regional_leads_besides_the_organiser():
    from optimizer.bench import load_suite

    (case,) = [c for c in load_suite(SMOKE).cases if c.id == "pohjois-pohjanmaa-seed-r4"]
    assert case.regional_leads == (4, 4) and case.areas is None
    assert case.time_limit is None and case.repeat is None

"""Every defect file under tests/data is refused with a named error that points at the fault.

One parametrised test per family: planning models (TOML), plan files (CSV),
instance files (node-link JSON), benchmark suites and best-known files. Each
case asserts the error type and a substring of its message that names the
offending key, municipality or file. Below them, one test per defect that is
not a file of its own (command-line values, raw build files, everyday plan
files that must be read, warm-start notes, threads), named after the defect.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from optimizer.backends import Status
from optimizer.bench import load_references, load_suite
from optimizer.cli import cli
from optimizer.data.finland import RAW_FILES
from optimizer.data.load import load_instance
from optimizer.data.planfile import read_plan
from optimizer.errors import (
    InfeasibleModelError,
    InputError,
    InstanceError,
    ModelError,
    PlanError,
    SuiteError,
)
from optimizer.mip.formulation import build
from optimizer.model.binding import bind
from optimizer.model.parse import load_model
from optimizer.solve import solve

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REAL_MODEL = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
REAL_INSTANCE = ROOT / "instances" / "finland" / "pohjois-pohjanmaa.json"
PLAN_2025 = ROOT / "instances" / "finland" / "employment_areas_2025.csv"

# file name -> (error type, substrings the message must contain)
MODEL_DEFECTS: dict[str, tuple[type[Exception], tuple[str, ...]]] = {
    "unknown_key.toml": (ModelError, ("unknown key 'colour'",)),
    "unknown_key_in_table.toml": (ModelError, ("unknown key 'areas.max_distance'",)),
    "count_not_integer.toml": (ModelError, ("'areas.count'", "4.5")),
    "count_reversed_range.toml": (ModelError, ("'areas.count'", "min <= max", "[5, 4]")),
    "bool_as_number.toml": (ModelError, ("'areas.max_distance_km'", "must be a number")),
    "missing_instance_path.toml": (ModelError, ("missing key 'instance.path'",)),
    "instance_file_missing.toml": (InstanceError, ("not found", "no-such-region.json")),
    "fixed_lead_not_in_instance.toml": (ModelError, ("'areas.fixed_leads'", "'091'")),
    "lock_to_unknown_lead.toml": (ModelError, ("'locks.305'", "'205'")),
    "floor_unknown_attribute.toml": (ModelError, ("'floors.labor_force'",)),
    "floor_not_number.toml": (ModelError, ("'floors.labour_force'", "must be a number")),
    "bad_contiguity_method.toml": (ModelError, ("'solver.contiguity'", "flow", "cuts")),
    "negative_time_limit.toml": (ModelError, ("'solver.time_limit'", "positive")),
    "link_not_pair.toml": (ModelError, ("'contiguity.links[1]'", "pair")),
    "invalid_toml_syntax.toml": (ModelError, ("invalid TOML", "line 9")),
    "travel_weight_unknown.toml": (ModelError, ("'objective.travel_weight'", "'commuters'")),
    "distance_power_three.toml": (ModelError, ("'objective.distance_power'", "1 or 2")),
    "staffing_attribute_unknown.toml": (ModelError, ("'staffing.attribute'", "'headcount'")),
    # bad numbers that produced false claims, hangs or tracebacks (issue 9)
    "floor_nan.toml": (ModelError, ("'floors.labour_force'", "nan")),
    "cap_nan.toml": (ModelError, ("'caps.population'", "nan")),
    "floor_too_large.toml": (ModelError, ("'floors.labour_force'", "too large")),
    "caseload_nan.toml": (ModelError, ("'staffing.caseload'", "positive", "nan")),
    "caseload_tiny.toml": (ModelError, ("'staffing.caseload'", "rescale")),
    "min_fte_nan.toml": (ModelError, ("'staffing.min_fte'", "nan")),
    "cost_per_weighted_km_inf.toml": (ModelError, ("'objective.cost_per_weighted_km'", "inf")),
    "cost_per_weighted_km_nan.toml": (ModelError, ("'objective.cost_per_weighted_km'", "nan")),
    "travel_cost_too_large.toml": (ModelError, ("'objective.cost_per_weighted_km'", "1e+15")),
    "fixed_cost_per_area_inf.toml": (ModelError, ("'objective.fixed_cost_per_area'", "inf")),
    "fixed_cost_per_area_nan.toml": (ModelError, ("'objective.fixed_cost_per_area'", "nan")),
    "time_limit_inf.toml": (ModelError, ("'solver.time_limit'", "positive", "inf")),
    "gap_nan.toml": (ModelError, ("'solver.gap'", "[0, 1)", "nan")),
    "max_distance_nan.toml": (ModelError, ("'areas.max_distance_km'", "nan")),
    "balance_tolerance_nan.toml": (ModelError, ("'balance.tolerance'", "nan")),
    "count_zero.toml": (ModelError, ("'areas.count'", "at least 1", "0")),
    "count_negative.toml": (ModelError, ("'areas.count'", "at least 1", "-1")),
    "threads_negative.toml": (ModelError, ("'solver.threads'", "[0, 64]", "-1")),
    "threads_too_many.toml": (ModelError, ("'solver.threads'", "[0, 64]", "1024")),
    "unknown_backend.toml": (ModelError, ("'solver.backend'", "'gurobi'", "highs")),
    "negative_labour_force.toml": (ModelError, ("'floors.labour_force'", "negative",
                                                "Kempele (244)")),
    "subsidy_total_too_large.toml": (ModelError, ("'finance.subsidy.total'", "too large")),
    "sanction_too_large.toml": (ModelError, ("'finance.incentives.sanction_per_excess_jobseeker'",
                                             "rescale")),
    # two tiers, per-lead costs, separate pairs, services and finance
    "organiser_with_count.toml": (ModelError, ("'areas.count'", "'areas.regional_leads'")),
    "regional_leads_without_organiser.toml": (ModelError, ("'areas.regional_leads'",
                                                           "[organiser]")),
    "organiser_not_in_instance.toml": (ModelError, ("'organiser.municipality'", "'091'")),
    "own_area_unknown.toml": (ModelError, ("'organiser.own_area'", "alone", "'shared'")),
    "finance_two_subsidy_sources.toml": (ModelError, ("'finance.subsidy'", "'column'",
                                                      "'file'")),
    "finance_weights_not_one.toml": (ModelError, ("'finance.subsidy.weights'", "add up to 1",
                                                  "0.9")),
    "finance_percent_over_100.toml": (ModelError, ("'finance.organiser_share.percent'",
                                                   "120")),
    "finance_unknown_key.toml": (ModelError, ("unknown key 'finance.incentives.bonus'",)),
    "equalisation_key_unknown.toml": (ModelError, ("'finance.equalisation.key'",
                                                   "'inhabitants'")),
    "lead_cost_negative.toml": (ModelError, ("'lead_costs.678'", "≥ 0")),
    "separate_not_pair.toml": (ModelError, ("'areas.separate[1]'", "pair")),
    "deficit_bound_without_finance.toml": (ModelError, ("'objective.max_deficit_per_key'",
                                                        "[finance]")),
    "tier_move_unknown_service.toml": (ModelError, ("'services.tiers.teleportation'",
                                                    "services-pohjois-pohjanmaa.csv")),
    "organiser_services_without_organiser.toml": (ModelError, (
        "'services.catalogue'", "'management_development'", "no [organiser]")),
}
PLAN_DEFECTS: dict[str, tuple[str, ...]] = {
    "no_code_column.csv": ("'code' column", "municipality"),
    "no_lead_or_area_column.csv": ("'lead_code'", "'area'"),
    "municipality_twice.csv": ("municipality_twice.csv:4:", "Oulu (564)", "twice", "line 2"),
    "empty_lead.csv": ("empty_lead.csv:3:", "'lead_code'", "'305'"),
    "empty_file.csv": ("empty_file.csv", "empty plan file"),
    "short_row.csv": ("short_row.csv:3:", "expected 4 columns, got 2"),
    "nul_bytes.csv": ("nul_bytes.csv", "NUL"),
    "neither_utf8_nor_cp1252.csv": ("neither UTF-8 nor cp1252",),
}

INSTANCE_DEFECTS: dict[str, tuple[str, ...]] = {
    "not_json.json": ("not_json.json", "not valid JSON"),
    "no_nodes.json": ("no_nodes.json", "'nodes'"),
    "edge_to_unknown_node.json": ("edge_to_unknown_node.json", "'999'", "unknown node"),
    "duplicate_node_id.json": ("duplicate_node_id.json", "duplicate node ids", "'564'"),
    "missing_coordinates.json": ("missing_coordinates.json", "Kempele", "'lat'"),
    "latitude_out_of_range.json": ("latitude_out_of_range.json", "'lat'", "Kempele (244)",
                                   "500", "outside [-90, 90]"),
    "longitude_out_of_range.json": ("longitude_out_of_range.json", "'lon'", "Kempele (244)",
                                    "200", "outside [-180, 180]"),
    "attribute_nan.json": ("attribute_nan.json", "'labour_force'", "Kempele (244)",
                           "not a finite number"),
    "attribute_huge_integer.json": ("attribute_huge_integer.json", "'labour_force'",
                                    "Kempele (244)", "not a finite number"),
    "matrix_not_numeric.json": ("matrix_not_numeric.json", "distance matrix", "finite"),
}

SUITE_DEFECTS: dict[str, tuple[str, ...]] = {
    "not_utf8.toml": ("not_utf8.toml", "not UTF-8"),
    "time_limit_not_number.toml": ("'time_limit'", "positive", "'x'"),
    "time_limit_nan.toml": ("'time_limit'", "nan"),
    "instances_not_list.toml": ("'instances'", "list", "5"),
    "instance_not_table.toml": ("'instances[0]'", "table", "5"),
    "backends_not_list.toml": ("'backends'", "list", "'highs'"),
    "unknown_strategy.toml": ("'contiguity'", "'magic'"),
    "repeat_zero.toml": ("'repeat'", "0"),
    "case_areas_zero.toml": ("'instances[0].areas'", "0"),
    "case_model_not_string.toml": ("'instances[0].model'", "5"),
}

BEST_KNOWN_DEFECTS: dict[str, tuple[str, ...]] = {
    "wrong_columns.csv": ("wrong_columns.csv", "instance, objective, status", "missing"),
    "objective_nan.csv": ("objective_nan.csv:2", "'objective'", "nan"),
    "negative_published_time.csv": ("negative_published_time.csv:2", "'published_time'", "-1"),
}


def _files(sub: str, pattern: str) -> set[str]:
    return {p.name for p in (DATA / sub).glob(pattern)}


@pytest.mark.parametrize(
    ("sub", "pattern", "table"),
    [("models", "*.toml", MODEL_DEFECTS), ("plans", "*.csv", PLAN_DEFECTS),
     ("instances", "*.json", INSTANCE_DEFECTS), ("suites", "*.toml", SUITE_DEFECTS),
     ("best_known", "*.csv", BEST_KNOWN_DEFECTS)],
)
def test_every_defect_file_is_covered(sub, pattern, table):
    """No defect file is left untested and no parametrised case lacks its file."""
    assert _files(sub, pattern) == set(table)


@pytest.fixture(scope="module")
def instance():
    return load_instance(REAL_INSTANCE)


def test_real_model_and_instance_are_accepted(instance):
    """Control: the files the defects are derived from load and bind cleanly."""
    problem = bind(load_model(REAL_MODEL))
    assert problem.n == instance.n == 30
    assert (problem.k_min, problem.k_max) == (4, 5)


@pytest.mark.parametrize("name", sorted(MODEL_DEFECTS))
def test_model_defect_is_refused(name):
    error, needles = MODEL_DEFECTS[name]
    path = DATA / "models" / name
    with pytest.raises(InputError) as info:
        bind(load_model(path))
    assert type(info.value) is error, f"{name}: {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for needle in needles:
        assert needle in message, f"{name}: {needle!r} not in {message!r}"
    if error is ModelError:
        assert str(path) in message, "a model error names the model file"


@pytest.mark.parametrize("name", sorted(PLAN_DEFECTS))
def test_plan_defect_is_refused(name, instance):
    path = DATA / "plans" / name
    with pytest.raises(PlanError) as info:
        read_plan(path, instance)
    message = str(info.value)
    assert str(path) in message
    for needle in PLAN_DEFECTS[name]:
        assert needle in message, f"{name}: {needle!r} not in {message!r}"


@pytest.mark.parametrize("name", sorted(INSTANCE_DEFECTS))
def test_instance_defect_is_refused(name):
    path = DATA / "instances" / name
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    message = str(info.value)
    for needle in INSTANCE_DEFECTS[name]:
        assert needle in message, f"{name}: {needle!r} not in {message!r}"


@pytest.mark.parametrize("name", sorted(SUITE_DEFECTS))
def test_suite_defect_is_refused(name, tmp_path):
    path = DATA / "suites" / name
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert str(path) in message
    for needle in SUITE_DEFECTS[name]:
        assert needle in message, f"{name}: {needle!r} not in {message!r}"
    out = tmp_path / "r.csv"
    assert_one_line(run(["bench", path, "--out", out]), f"error: {message}")
    assert not out.exists()


@pytest.mark.parametrize("name", sorted(BEST_KNOWN_DEFECTS))
def test_best_known_defect_is_refused(name, tmp_path):
    path = DATA / "best_known" / name
    with pytest.raises(SuiteError) as info:
        load_references(path)
    message = str(info.value)
    for needle in BEST_KNOWN_DEFECTS[name]:
        assert needle in message, f"{name}: {needle!r} not in {message!r}"
    out = tmp_path / "r.csv"
    assert_one_line(run(["bench", SMOKE, "--best-known", path, "--out", out]),
                    f"error: {message}")
    assert not out.exists()


# -- defects that are not files of their own -----------------------------------------

SMOKE = ROOT / "benchmarks" / "suites" / "smoke.toml"


def run(args: list) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def assert_one_line(result: Result, expected: str | None = None) -> str:
    """Exit 2, exactly one `error:` line on stderr, no traceback, nothing on stdout."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert result.stdout == ""
    if expected is not None:
        assert lines[0] == expected
    return lines[0]


def test_suite_path_that_is_a_directory_is_refused(tmp_path):
    line = assert_one_line(run(["bench", tmp_path]))
    assert str(tmp_path) in line and "directory" in line.lower()


@pytest.mark.parametrize(("option", "value"), [("--time-limit", "nan"), ("-t", "inf"),
                                               ("--gap", "nan"), ("--gap", "-inf"),
                                               ("--time-limit", "1e400")])
def test_non_finite_number_on_the_command_line_is_refused(option, value, tmp_path):
    out = tmp_path / "out"
    line = assert_one_line(run(["solve", REAL_MODEL, option, value, "--out", out]))
    assert option.lstrip("-") in line.replace("'-t'", "'time-limit'") and repr(value) in line
    assert not out.exists()


def test_bench_time_limit_nan_is_refused(tmp_path):
    line = assert_one_line(run(["bench", SMOKE, "--time-limit", "nan"]))
    assert "--time-limit" in line and "'nan'" in line


def test_usage_error_is_one_line():
    line = assert_one_line(run(["solve", REAL_MODEL, "--no-such-option"]))
    assert "--no-such-option" in line
    assert "needs --model MODEL" in assert_one_line(run(["check", REAL_MODEL]))


def test_area_range_beyond_the_candidates_is_clamped_with_a_note():
    """`--areas 4-100000000` looped over every count; the maximum is the candidate count."""
    problem = bind(load_model(REAL_MODEL).with_areas(4, 100_000_000))
    assert (problem.k_min, problem.k_max) == (4, 30)
    assert problem.notes and "100000000" in problem.notes[0] and "30" in problem.notes[0]
    assert bind(load_model(REAL_MODEL)).notes == ()  # the shipped 4–5 needs no note


def test_area_count_of_int64_max_is_clamped(tmp_path):
    """`areas.count = [4, 9223372036854775807]` hung; it is clamped to the candidates."""
    text = REAL_MODEL.read_text(encoding="utf-8").replace(
        "count = [4, 5]", "count = [4, 9223372036854775807]").replace(
        '"../instances/', f'"{ROOT}/instances/')
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    problem = bind(load_model(path))
    assert (problem.k_min, problem.k_max) == (4, 30)
    assert "9223372036854775807" in problem.notes[0]


def test_area_count_above_the_candidates_is_explained_as_infeasible():
    problem = bind(load_model(REAL_MODEL).with_areas(31))
    with pytest.raises(InfeasibleModelError, match="30 candidate leads but at least 31 areas"):
        solve(problem, backend="highs")


def test_max_distance_of_one_km_is_explained_not_a_traceback():
    """`areas.max_distance_km = 1` raised a ValueError in the formulation."""
    model = replace(load_model(REAL_MODEL), max_distance_km=1.0)
    problem = bind(model)
    with pytest.raises(InfeasibleModelError, match="can only be served by themselves"):
        solve(problem, backend="highs")
    # the formulation itself copes with no pair but i = j: every municipality leads itself
    alone = bind(replace(model, fixed_leads=()).with_areas(30))
    form = build(alone, "cuts")
    assert len(form.pair_i) == 30 and (form.pair_i == form.pair_j).all()


def test_threads_zero_is_the_back_ends_default_and_negative_is_refused(backend):
    """CP-SAT gave MODEL_INVALID for -1; HiGHS and CBC took 0 or -1 silently."""
    problem = bind(load_model(REAL_MODEL).with_areas(4))
    sol = solve(problem, backend=backend, threads=0, time_limit=120)
    assert sol.status is Status.OPTIMAL or sol.status is Status.FEASIBLE
    with pytest.raises(InputError, match="'threads'"):
        solve(problem, backend=backend, threads=-1)


def test_bench_threads_negative_is_refused():
    line = assert_one_line(run(["bench", SMOKE, "--threads", "-1"]))
    assert "--threads" in line


# -- everyday plan files ---------------------------------------------------------------

PLAN_ROWS = [("564", "Oulu", "564", "Oulu"), ("244", "Kempele", "564", "Oulu"),
             ("305", "Kuusamo", "305", "Kuusamo"), ("009", "Alavieska", "977", "Ylivieska"),
             ("626", "Pyhäjärvi", "626", "Pyhäjärvi")]


@pytest.mark.parametrize(
    ("delimiter", "encoding", "said"),
    [(";", "cp1252", "read as CP1252, semicolon-separated"),
     ("\t", "utf-8-sig", "read as UTF-8 with BOM, tab-separated"),
     (";", "utf-16", "read as UTF-16, semicolon-separated"),
     (",", "utf-8", None)],
    ids=["semicolon-cp1252", "tab-utf8-bom", "semicolon-utf16", "comma-utf8"])
def test_spreadsheet_plan_exports_are_read(delimiter, encoding, said, instance, tmp_path):
    """Finnish spreadsheets save `;` and cp1252: both were refused."""
    rows = [("code", "name", "lead_code", "lead_name"), *PLAN_ROWS,
            ("851", "Tornio", "851", "Tornio")]  # outside the region: ignored with a note
    path = tmp_path / "plan.csv"
    path.write_bytes("\r\n".join(delimiter.join(r) for r in rows).encode(encoding))
    plan = read_plan(path, instance)
    lead = {instance.codes[i]: plan.lead_code(i) for i in range(instance.n)
            if plan.lead[i] >= 0}
    assert lead == {"564": "564", "244": "564", "305": "305", "009": "977", "626": "626"}
    assert (plan.notes[0] == said) if said else not any("read as" in n for n in plan.notes)
    assert any("1 rows for municipalities outside" in n for n in plan.notes)


def test_area_labels_that_are_lead_names_keep_those_leads(instance, tmp_path):
    """A `code,area` file labelled "Ylivieska" re-picked the most populous member."""
    path = tmp_path / "areas.csv"
    # Ylivieska (977) and Nivala (535) are more populous than Sievi (746), named as lead
    path.write_text("code,area\n564,Oulu\n244,Oulu\n977,Sievi\n746,Sievi\n535,Sievi\n"
                    "305,kuusamo\n", encoding="utf-8")
    plan = read_plan(path, instance)
    leads = {instance.codes[i]: plan.lead_code(i) for i in range(instance.n)
             if plan.lead[i] >= 0}
    assert leads == {"564": "564", "244": "564", "977": "746", "746": "746", "535": "746",
                     "305": "305"}
    assert not any("most populous" in n for n in plan.notes)
    path.write_text("code,area\n564,North\n244,North\n", encoding="utf-8")
    assert "most populous member: North→Oulu" in read_plan(path, instance).notes[-1]


def test_unusable_warm_start_is_noted_on_the_terminal_and_in_the_summary(tmp_path):
    """The note was folded into a message that was not printed when a plan exists."""
    out = tmp_path / "out"
    result = run(["solve", REAL_MODEL, "--areas", 4, "--warm-start", PLAN_2025, "-t", 300,
                  "--out", out])
    assert result.exit_code == 0, result.output
    said = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert any("warm start breaks a rule" in line for line in said), result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("warm start breaks a rule" in n for n in summary["notes"])
    # the reason is given: the 2025 areas cross the region's border
    assert any("not used:" in n for n in summary["notes"])


# -- instances build -----------------------------------------------------------------


def raw_copy(tmp_path: Path) -> Path:
    """The committed raw files linked into a folder whose files a test may replace."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for f in RAW_FILES.values():
        (raw / f).symlink_to(ROOT / "instances" / "finland" / "raw" / f)
    return raw


@pytest.mark.parametrize(
    ("file", "content", "needles"),
    [("data_kunta_1001.rda", "truncated", ("data_kunta_1001.rda", "cannot read")),
     ("kuntarajat.2023.json", '{"type": "FeatureCollection", "features": []}',
      ("kuntarajat.2023.json", "'NATCODE'")),
     ("kuntarajat.2023.json", "no NATCODE", ("kuntarajat.2023.json", "'NATCODE'"))],
    ids=["truncated-rda", "geojson-without-features", "geojson-without-natcode"])
def test_broken_raw_file_is_named_and_nothing_is_written(file, content, needles, tmp_path):
    raw = raw_copy(tmp_path)
    source = raw / file
    original = source.resolve().read_bytes()
    source.unlink()
    if content == "truncated":
        source.write_bytes(original[: len(original) // 3])
    elif content == "no NATCODE":
        data = json.loads(original)
        for feature in data["features"]:
            feature["properties"].pop("NATCODE")
        source.write_text(json.dumps(data), encoding="utf-8")
    else:
        source.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    line = assert_one_line(run(["instances", "build", "--raw", raw, "--out", out]))
    for needle in needles:
        assert needle in line, line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_cap_of_zero_is_explained_not_a_traceback(tmp_path):
    """`caps.jobseekers = 0` crashed the heuristic (no candidate lead left) while the
    infeasibility was being explained; found by the fuzz test."""
    text = REAL_MODEL.read_text(encoding="utf-8").replace(
        '"../instances/', f'"{ROOT}/instances/') + "\n[caps]\njobseekers = 0\n"
    path = tmp_path / "model.toml"
    path.write_text(text, encoding="utf-8")
    result = run(["solve", path, "-b", "highs", "-t", 60])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 1, result.output
    assert "alone exceed(s) cap jobseekers 0" in result.stderr

"""Every defect file under tests/data is refused with a named error that points at the fault.

One parametrised test per family: planning models (TOML), plan files (CSV) and
instance files (node-link JSON). Each case asserts the error type and a
substring of its message that names the offending key, municipality or file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.errors import InputError, InstanceError, ModelError, PlanError
from optimizer.instance import load_instance
from optimizer.model import bind, load_model
from optimizer.plan import read_plan

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REAL_MODEL = ROOT / "models" / "pohjois-pohjanmaa-4-5-areas.toml"
REAL_INSTANCE = ROOT / "instances" / "finland" / "pohjois-pohjanmaa.json"

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
    "lead_cost_negative.toml": (ModelError, ("'lead_costs.678'", ">= 0")),
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
}

INSTANCE_DEFECTS: dict[str, tuple[str, ...]] = {
    "not_json.json": ("not_json.json", "not valid JSON"),
    "no_nodes.json": ("no_nodes.json", "'nodes'"),
    "edge_to_unknown_node.json": ("edge_to_unknown_node.json", "'999'", "unknown node"),
    "duplicate_node_id.json": ("duplicate_node_id.json", "duplicate node ids", "'564'"),
    "missing_coordinates.json": ("missing_coordinates.json", "Kempele", "'lat'"),
}


def _files(sub: str, pattern: str) -> set[str]:
    return {p.name for p in (DATA / sub).glob(pattern)}


@pytest.mark.parametrize(
    ("sub", "pattern", "table"),
    [("models", "*.toml", MODEL_DEFECTS), ("plans", "*.csv", PLAN_DEFECTS),
     ("instances", "*.json", INSTANCE_DEFECTS)],
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

"""Reading a planning-model TOML file into a `PlanningModel`: every key checked, named when wrong.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..backends.names import NAMES
from ..data.instance import METRICS
from ..data.load import FORMATS
from ..data.travel import MISSING, UNITS
from ..economics.catalogue import Catalogue, read_catalogue
from ..economics.contract import parse_finance
from ..economics.provenance import parse_sources
from ..economics.sales import parse_orders
from ..errors import ModelError
from ..reading import read_text
from ..values import MAX_NAME, MAX_THREADS, count_range, integer, number
from ..words import did_you_mean
from .objective import LIMIT_TERMS
from .schema import (
    CONTIGUITY_METHODS,
    EXEMPTION_MODES,
    MOST_AREAS,
    OWN_AREA,
    SCHEMA,
    Balance,
    Exemptions,
    InstanceOptions,
    Objective,
    Organiser,
    PlanningModel,
    ReferencePlan,
    SolverOptions,
    Staffing,
    _Num,
)


def _check_table(table: Mapping[str, Any], section: str, source: str) -> None:
    allowed = SCHEMA[section]
    for key, value in table.items():
        dotted = f"{section}.{key}" if section else key
        if key not in allowed:
            hint = did_you_mean(key, allowed)
            raise ModelError(f"{source}: unknown key '{dotted}'{hint}")
        expected = allowed[key]
        if isinstance(value, bool) and expected is not bool and bool not in _as_tuple(expected):
            raise ModelError(f"{source}: '{dotted}' must be {_type_name(expected)}, got {value!r}")
        if not isinstance(value, expected):
            raise ModelError(f"{source}: '{dotted}' must be {_type_name(expected)}, got {value!r}")


def _as_tuple(t) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _type_name(t) -> str:
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a table", bool: "true or false"}
    if t == _Num:
        return "a number"
    return " or ".join(names[x] for x in _as_tuple(t))


def model_number(table: Mapping[str, Any], key: str, source: str, default: float | None = None,
                 **limits) -> float | None:
    """`table[key]` checked by `values.number` (finite, in range) under its dotted name.

    `key` is dotted ('staffing.caseload'); its last part is looked up in `table`.
    """
    name = key.rsplit(".", 1)[-1]
    if name not in table:
        return default
    return number(table[name], key, where=source, error=ModelError, **limits)


def _number_table(table: Mapping[str, Any], section: str, source: str) -> dict[str, float]:
    """Floors, caps, lead costs: finite, non-negative numbers named `section.key`."""
    return {key: number(value, f"{section}.{key}", where=source, lo=0, error=ModelError)
            for key, value in table.items()}


def _pairs(value, key: str, source: str) -> tuple[tuple[str, str], ...]:
    out = []
    for k, pair in enumerate(value):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str)
                                                                  for x in pair)):
            raise ModelError(f"{source}: '{key}[{k}]' must be a pair of codes")
        out.append((pair[0], pair[1]))
    return tuple(out)


def _organiser(table: Mapping[str, Any], source: str) -> Organiser:
    _check_table(table, "organiser", source)
    if "municipality" not in table:
        raise ModelError(f"{source}: missing key 'organiser.municipality'")
    area = table.get("area", "all")
    if isinstance(area, str):
        if area != "all":
            raise ModelError(f"{source}: 'organiser.area' must be \"all\" or a list")
        members = None
    else:
        members = _strings(area, "organiser.area", source)
    own = table.get("own_area", "alone")
    if own not in OWN_AREA:
        raise ModelError(f"{source}: 'organiser.own_area' must be one of "
                         f"{', '.join(OWN_AREA)}, got {own!r}")
    return Organiser(table["municipality"], members, own,
                     _number_table(table.get("floors", {}), "organiser.floors", source),
                     table.get("contiguous", True))


def _catalogue(table: Mapping[str, Any], base: Path, source: str) -> Catalogue:
    _check_table(table, "services", source)
    if "catalogue" not in table:
        raise ModelError(f"{source}: missing key 'services.catalogue'")
    cat = read_catalogue((base / table["catalogue"]).resolve())
    for name, tier in table.get("tiers", {}).items():
        if not isinstance(tier, str):
            raise ModelError(f"{source}: 'services.tiers.{name}' must be a tier name")
    return cat.with_tiers(table.get("tiers", {}), source)


def _strings(value, key: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelError(f"{source}: '{key}' must be a list of municipality codes or names")
    return tuple(value)


def parse_model(data: Mapping[str, Any], *, base: Path, source: str) -> PlanningModel:
    """Validate a TOML document (already parsed) into a `PlanningModel`."""
    _check_table(data, "", source)
    for section in ("instance", "areas", "balance", "staffing", "objective", "contiguity",
                    "solver", "exemptions", "reference"):
        if section in data:
            _check_table(data[section], section, source)
    if "path" not in data.get("instance", {}):
        raise ModelError(f"{source}: missing key 'instance.path'")
    areas = data.get("areas", {})
    organiser = _organiser(data["organiser"], source) if "organiser" in data else None
    cont = data.get("contiguity", {})
    locks = data.get("locks", {})
    for key, value in locks.items():
        if not isinstance(value, str):
            raise ModelError(f"{source}: 'locks.{key}' must be the code of a lead municipality")
    instance_options = _instance_options(data["instance"], base, source)
    max_minutes = model_number(areas, "areas.max_minutes", source, lo=0, lo_open=True)
    _travel_keys(instance_options, data.get("objective", {}), max_minutes, source)
    name = data.get("name", Path(source).stem)
    if isinstance(name, str) and len(name) > MAX_NAME:
        raise ModelError(f"{source}: 'name' is longer than {MAX_NAME} characters")
    return PlanningModel(
        name=name,
        instance_path=(base / data["instance"]["path"]).resolve(),
        instance_options=instance_options,
        areas=_area_count(areas, organiser is not None, source),
        most_areas=areas.get("count") == "max",
        exemptions=_exemptions(data.get("exemptions", {}), source),
        reference=_reference(data["reference"], base, source) if "reference" in data else None,
        limits=_limits(data.get("limits", {}), source),
        fixed_leads=_strings(areas.get("fixed_leads", []), "areas.fixed_leads", source),
        candidate_leads=_candidates(areas, source),
        floors=_number_table(data.get("floors", {}), "floors", source),
        caps=_number_table(data.get("caps", {}), "caps", source),
        balance=_balance(data["balance"], source) if "balance" in data else None,
        staffing=_staffing(data["staffing"], source) if "staffing" in data else None,
        objective=_objective(data.get("objective", {}), "finance" in data, source),
        contiguity=cont.get("enabled", True),
        links=_pairs(cont.get("links", []), "contiguity.links", source),
        locks=dict(locks),
        max_distance_km=model_number(areas, "areas.max_distance_km", source, lo=0,
                                     lo_open=True),
        max_minutes=max_minutes,
        solver=_solver(data.get("solver", {}), source),
        source=source,
        organiser=organiser,
        catalogue=_catalogue(data["services"], base, source) if "services" in data else None,
        finance=parse_finance(data["finance"], base=base, source=source)
        if "finance" in data else None,
        lead_costs=_number_table(data.get("lead_costs", {}), "lead_costs", source),
        self_only=_strings(areas.get("self_only", []), "areas.self_only", source),
        separate=_pairs(areas.get("separate", []), "areas.separate", source),
        **_groupings(areas, source),
        statistics=(base / data["instance"]["statistics"]).resolve()
        if "statistics" in data["instance"] else None,
        sources=parse_sources(data.get("sources", {}), source),
        orders=parse_orders(data.get("services", {}).get("orders", {}), source),
    )


def _groupings(areas: Mapping[str, Any], source: str) -> dict:
    """`areas.keep_whole` (attributes whose groups stay whole) and `areas.split_cost`
    (attribute → €/yr per split group); one attribute may not be in both."""
    keep = areas.get("keep_whole", [])
    if not all(isinstance(a, str) and a for a in keep):
        raise ModelError(f"{source}: 'areas.keep_whole' must be a list of attribute names, "
                         'e.g. ["subregion"]')
    price = _number_table(areas.get("split_cost", {}), "areas.split_cost", source)
    both = sorted(set(keep) & set(price))
    if both:
        raise ModelError(f"{source}: 'areas.split_cost.{both[0]}': {both[0]!r} is kept whole "
                         "by 'areas.keep_whole' already (a rule or a price, not both)")
    return {"keep_whole": tuple(dict.fromkeys(keep)), "split_cost": price}


def _area_count(areas: Mapping[str, Any], organiser: bool, source: str) -> tuple[int, int]:
    """Areas in all: `areas.count` (K, [K1, K2] or "max"), or with an organiser its own area
    plus `areas.regional_leads`."""
    if organiser:
        if "count" in areas:
            raise ModelError(f"{source}: 'areas.count' counts every area; with an [organiser] "
                             "give 'areas.regional_leads' (leads besides its own area)")
        if "regional_leads" not in areas:
            raise ModelError(f"{source}: missing key 'areas.regional_leads'")
        lo, hi = count_range(areas["regional_leads"], "areas.regional_leads", least=0,
                             where=source, error=ModelError)
        return lo + 1, hi + 1
    if "regional_leads" in areas:
        raise ModelError(f"{source}: 'areas.regional_leads' counts leads besides an "
                         "organiser's own area: add an [organiser] or use 'areas.count'")
    if "count" not in areas:
        raise ModelError(f"{source}: missing key 'areas.count'")
    if areas["count"] == "max":
        return 1, MOST_AREAS
    return count_range(areas["count"], "areas.count", where=source, error=ModelError,
                       words='"max"')


def _candidates(areas: Mapping[str, Any], source: str) -> tuple[str, ...] | None:
    cand = areas.get("candidate_leads", "all")
    if isinstance(cand, str):
        if cand != "all":
            raise ModelError(f"{source}: 'areas.candidate_leads' must be \"all\" or a list")
        return None
    return _strings(cand, "areas.candidate_leads", source)


def _staffing(st: Mapping[str, Any], source: str) -> Staffing:
    if "caseload" not in st:
        raise ModelError(f"{source}: missing key 'staffing.caseload'")
    return Staffing(
        caseload=model_number(st, "staffing.caseload", source, lo=0, lo_open=True),
        min_fte=model_number(st, "staffing.min_fte", source, 0.0, lo=0),
        cost_per_fte=model_number(st, "staffing.cost_per_fte", source, 0.0, lo=0),
        attribute=st.get("attribute", "jobseekers"),
        whole_fte=st.get("whole_fte", True),
    )


def _objective(obj: Mapping[str, Any], has_finance: bool, source: str) -> Objective:
    objective = Objective(
        travel_weight=obj.get("travel_weight", "jobseekers"),
        cost_per_weighted_km=model_number(obj, "objective.cost_per_weighted_km", source, 1.0,
                                          lo=0),
        cost_per_weighted_minute=model_number(obj, "objective.cost_per_weighted_minute",
                                              source, lo=0),
        fixed_cost_per_area=model_number(obj, "objective.fixed_cost_per_area", source, 0.0,
                                         lo=0),
        distance_power=obj.get("distance_power", 1),
        max_deficit_per_key=model_number(obj, "objective.max_deficit_per_key", source),
    )
    if objective.distance_power not in (1, 2):
        raise ModelError(f"{source}: 'objective.distance_power' must be 1 or 2")
    if objective.max_deficit_per_key is not None and not has_finance:
        raise ModelError(f"{source}: 'objective.max_deficit_per_key' bounds the deficits "
                         "of the [finance] table, which the model lacks")
    return objective


def _solver(sv: Mapping[str, Any], source: str) -> SolverOptions:
    threads = sv.get("threads")
    solver = SolverOptions(
        backend=sv.get("backend", "auto"),
        time_limit=model_number(sv, "solver.time_limit", source, lo=0, lo_open=True),
        gap=model_number(sv, "solver.gap", source, 0.0, lo=0, hi=1, hi_open=True),
        contiguity=sv.get("contiguity", "cuts"),
        threads=None if threads is None else integer(threads, "solver.threads", where=source,
                                                     lo=0, hi=MAX_THREADS, error=ModelError),
        node_limit=None if sv.get("node_limit") is None else integer(
            sv["node_limit"], "solver.node_limit", where=source, lo=1, error=ModelError),
        deterministic=sv.get("deterministic", False),
    )
    if solver.backend not in NAMES:
        raise ModelError(f"{source}: 'solver.backend' must be one of "
                         f"{', '.join(NAMES)}, got {solver.backend!r}"
                         f"{did_you_mean(solver.backend, NAMES)}")
    if solver.contiguity not in CONTIGUITY_METHODS:
        raise ModelError(
            f"{source}: 'solver.contiguity' must be one of {', '.join(CONTIGUITY_METHODS)}"
        )
    return solver


def _travel_keys(opts: InstanceOptions, objective: Mapping[str, Any], max_minutes,
                 source: str) -> None:
    """Travel times need a file; the travel price names the unit the distances are in."""
    minutes = opts.distance == "file" and opts.distance_unit == "minutes"
    if max_minutes is not None and not minutes:
        raise ModelError(f"{source}: 'areas.max_minutes' needs travel times: set "
                         "instance.distance = \"file\" with a travel-time file in minutes")
    if minutes and "cost_per_weighted_km" in objective:
        raise ModelError(f"{source}: 'objective.cost_per_weighted_km' prices km, but the "
                         "distances are minutes (instance.distance_unit): use "
                         "'objective.cost_per_weighted_minute'")
    if not minutes and "cost_per_weighted_minute" in objective:
        raise ModelError(f"{source}: 'objective.cost_per_weighted_minute' needs distances in "
                         "minutes (instance.distance = \"file\", distance_unit = \"minutes\"); "
                         "use 'objective.cost_per_weighted_km'")


def _instance_options(table: Mapping[str, Any], base: Path, source: str) -> InstanceOptions:
    values = {k: v for k, v in table.items() if k not in ("path", "statistics")}
    if table.get("distance") == "file":
        if "distance_file" not in table:
            raise ModelError(f"{source}: 'instance.distance = \"file\"' needs "
                             "'instance.distance_file' (a travel-time CSV, see "
                             "`optimizer instances travel-times`)")
        values["distance_file"] = (base / table["distance_file"]).resolve()
        if values.get("distance_unit", "minutes") not in UNITS:
            raise ModelError(f"{source}: 'instance.distance_unit' must be one of "
                             f"{', '.join(UNITS)}, got {values['distance_unit']!r}")
        if values.get("missing_pairs", "error") not in MISSING:
            raise ModelError(f"{source}: 'instance.missing_pairs' must be one of "
                             f"{', '.join(MISSING)}, got {values['missing_pairs']!r}")
    else:
        for key in ("distance_file", "distance_unit", "missing_pairs"):
            if key in table:
                raise ModelError(f"{source}: 'instance.{key}' applies to a travel-time file "
                                 "only: set instance.distance = \"file\"")
    opts = InstanceOptions(**values)
    if opts.format not in FORMATS:
        raise ModelError(f"{source}: 'instance.format' must be one of {', '.join(FORMATS)}, "
                         f"got {opts.format!r}")
    if opts.distance is not None and opts.distance not in METRICS:
        raise ModelError(f"{source}: 'instance.distance' must be one of {', '.join(METRICS)}, "
                         f"got {opts.distance!r}")
    if opts.format != "node-link":
        for key in ("name_attribute", "lon_attribute", "lat_attribute"):
            if key in table:
                raise ModelError(f"{source}: 'instance.{key}' applies to node-link instances "
                                 f"only, not format {opts.format!r}")
        if opts.distance not in (None, "matrix", "file"):
            raise ModelError(f"{source}: 'instance.distance' must be \"matrix\" for format "
                             f"{opts.format!r} (it has no longitude/latitude)")
    return opts


def _balance(table: Mapping[str, Any], source: str) -> Balance:
    for key in ("attribute", "tolerance"):
        if key not in table:
            raise ModelError(f"{source}: missing key 'balance.{key}'")
    tol = model_number(table, "balance.tolerance", source, lo=0, hi=1, hi_open=True)
    return Balance(attribute=table["attribute"], tolerance=tol)


def _exemptions(table: Mapping[str, Any], source: str) -> Exemptions:
    floors = table.get("floor")
    if isinstance(floors, str):
        floors = (floors,)
    elif floors is not None:
        floors = _strings(floors, "exemptions.floor", source)
    hard = table.get("hard_floor")
    if hard is not None:
        hard = _finite(hard, "exemptions.hard_floor", source, lo=0)
        if floors is None or len(floors) != 1:
            raise ModelError(f"{source}: 'exemptions.hard_floor' needs one floor named in "
                             "'exemptions.floor' (the attribute it applies to)")
    most = table.get("max")
    if most is not None and most < 0:
        raise ModelError(f"{source}: 'exemptions.max' must be an integer ≥ 0, got {most!r}")
    mode = table.get("mode", "fewest")
    if mode not in EXEMPTION_MODES:
        raise ModelError(f"{source}: 'exemptions.mode' must be one of "
                         f"{', '.join(EXEMPTION_MODES)}, got {mode!r}")
    if mode == "allowed" and most is None:
        raise ModelError(f"{source}: 'exemptions.mode = \"allowed\"' needs 'exemptions.max'")
    return Exemptions(enabled=table.get("enabled", bool(table)), floors=floors,
                      hard_floor=hard, max=most, mode=mode)


def _reference(table: Mapping[str, Any], base: Path, source: str) -> ReferencePlan:
    if "plan" not in table:
        raise ModelError(f"{source}: missing key 'reference.plan'")
    moves = table.get("max_moves")
    if moves is not None and moves < 0:
        raise ModelError(f"{source}: 'reference.max_moves' must be an integer ≥ 0, got {moves!r}")
    price = _finite(table.get("cost_per_move", 0.0), "reference.cost_per_move", source, lo=0)
    return ReferencePlan((base / table["plan"]).resolve(), moves, price)


def _limits(table: Mapping[str, Any], source: str) -> dict[str, float]:
    out = {}
    for key, value in table.items():
        if key not in LIMIT_TERMS:
            raise ModelError(f"{source}: unknown key 'limits.{key}' (terms: "
                             f"{', '.join(LIMIT_TERMS)})")
        out[key] = _finite(value, f"limits.{key}", source, lo=0)
    return out


def _finite(value: Any, key: str, source: str, lo: float | None = None) -> float:
    """A finite number ≥ `lo`, named by its dotted key when it is not (`values.number`)."""
    return number(value, key, where=source, lo=lo, error=ModelError)


def load_model(path: str | Path, overrides: Mapping[str, Any] | None = None) -> PlanningModel:
    """Read and validate a planning-model TOML file; `overrides` sets dotted keys first
    (`{"floors.labour_force": 18000}`), validated like the file's own."""
    data = _model_data(path)
    for key, value in (overrides or {}).items():
        set_key(data, key, value, str(path))
    path = Path(path)
    model = parse_model(data, base=path.parent, source=str(path))
    return replace(model, overrides=dict(overrides or {})) if overrides else model


def set_key(data: dict, key: str, value: Any, source: str) -> None:
    """Set a dotted key in a parsed TOML document (tables made as needed)."""
    parts = key.split(".")
    if not all(parts):
        raise ModelError(f"{source}: bad key {key!r}")
    table = data
    for k, part in enumerate(parts[:-1]):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ModelError(f"{source}: '{'.'.join(parts[:k + 1])}' is not a table, so "
                             f"'{key}' cannot be set")
    table[parts[-1]] = value


def _model_data(path: str | Path) -> dict:
    """The parsed TOML of a model file."""
    path = Path(path)
    text = read_text(path, "model file", ModelError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: invalid TOML: {exc}") from None
    return data

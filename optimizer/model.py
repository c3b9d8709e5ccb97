"""The planning model: a TOML file parsed, validated, then bound to its instance.

`load_model` reads the file into a `PlanningModel` (references still as the
user wrote them); `bind` resolves every reference against the instance and
returns a `Problem` of arrays that the verifier and the formulation share.
Unknown keys and wrong types are errors that name the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .backends import NAMES
from .economics.catalogue import Catalogue, read_catalogue
from .economics.cents import to_cents
from .economics.costs import CostRates, cost_rates
from .economics.finance import organiser_shares
from .economics.subsidy import subsidies
from .economics.terms import DeficitBound, FinanceTerms, parse_finance
from .errors import InstanceError, ModelError
from .instance import FORMATS, METRICS, Instance, load_instance
from .plan import UNASSIGNED, Plan
from .values import LARGEST, MAX_THREADS, integer, number

CONTIGUITY_METHODS = ("flow", "cuts")
OWN_AREA = ("alone", "lead")
"""How the organiser's own municipality is produced: as an area of its own (the slides'
reading), or as a lead that may take neighbours."""


@dataclass(frozen=True)
class InstanceOptions:
    """How to read the instance file: its format and, for node-link files from
    other sources, which node attributes hold the name and coordinates; the
    distance (None = the file's own: its matrix if it has one, else great-circle)."""

    format: str = "node-link"
    name_attribute: str | None = None
    lon_attribute: str | None = None
    lat_attribute: str | None = None
    distance: str | None = None


@dataclass(frozen=True)
class Balance:
    """Every area's sum of `attribute` within ±tolerance of the ideal P/k."""

    attribute: str
    tolerance: float

    def limits(self, total: float, k: int) -> tuple[float, float]:
        """Floor ⌈(1−t)·P/k⌉ and cap ⌊(1+t)·P/k⌋ (Validi, Buchanan & Lykhovyd 2022)."""
        return (float(math.ceil((1 - self.tolerance) * total / k)),
                float(math.floor((1 + self.tolerance) * total / k)))


@dataclass(frozen=True)
class Staffing:
    """Staff needed per area: FTE ≥ jobseekers / caseload, at least `min_fte` per area.

    `whole_fte`: staff is counted in whole FTEs (rounded up per area); False counts
    person-years as a budget does, fractional, so staff cost is linear in the plan.
    """

    caseload: float
    min_fte: float = 0.0
    cost_per_fte: float = 0.0
    attribute: str = "jobseekers"
    whole_fte: bool = True


@dataclass(frozen=True)
class Objective:
    """Σ fixed_cost·[j leads] + cost_per_weighted_km · Σ w_i · d_ij^power + staffing cost."""

    travel_weight: str | None = "jobseekers"
    cost_per_weighted_km: float = 1.0
    fixed_cost_per_area: float = 0.0
    distance_power: int = 1
    max_deficit_per_key: float | None = None
    """Variant: every municipality's share of its area's deficit is at most this many euros
    per unit of the equalisation key (needs [finance])."""


@dataclass(frozen=True)
class Organiser:
    """The organiser (vastuukunta) of an employment area over the production areas.

    It organises the statutory services for `area` (None = the whole instance; the
    law's `floors` and, if `contiguous`, contiguity are checked on that area), pays the
    catalogue's organiser-tier services, and produces for its own municipality either
    `alone` or as a `lead` that may take neighbours.
    """

    municipality: str
    area: tuple[str, ...] | None = None
    own_area: str = "alone"
    floors: Mapping[str, float] = field(default_factory=dict)
    contiguous: bool = True


@dataclass(frozen=True)
class Exemptions:
    """Floors an area may miss with a (legal) exemption, as the law's 20,000 floor allows.

    `floors` names the floors an exempted area may miss (attributes of `[floors]`, or
    `staffing` for the staffing floor; None = every floor); `hard_floor` is a floor even an
    exempted area must meet (on the one exemptable floor's attribute); `max` caps the
    number of exemptions. `mode` "fewest" minimises the number of exempted areas first,
    then cost (both proven); "allowed" minimises cost with at most `max` exemptions.
    """

    enabled: bool = False
    floors: tuple[str, ...] | None = None
    hard_floor: float | None = None
    max: int | None = None
    mode: str = "fewest"


EXEMPTION_MODES = ("fewest", "allowed")


@dataclass(frozen=True)
class ReferencePlan:
    """A plan to stay close to: at most `max_moves` municipalities move, or each move costs
    `cost_per_move` in the objective (areas are matched so that the fewest move)."""

    path: Path
    max_moves: int | None = None
    cost_per_move: float = 0.0


LIMIT_TERMS = ("fixed", "travel", "staffing", "cost", "total")
"""Objective terms a `[limits]` table may bound (see `optimizer.terms`)."""


@dataclass(frozen=True)
class SolverOptions:
    backend: str = "highs"
    time_limit: float | None = None
    gap: float = 0.0
    contiguity: str = "cuts"
    threads: int | None = None
    node_limit: int | None = None
    deterministic: bool = False


@dataclass(frozen=True)
class PlanningModel:
    """A planning model as written in its TOML file (references unresolved)."""

    name: str
    instance_path: Path
    areas: tuple[int, int]
    fixed_leads: tuple[str, ...] = ()
    candidate_leads: tuple[str, ...] | None = None
    floors: Mapping[str, float] = field(default_factory=dict)
    caps: Mapping[str, float] = field(default_factory=dict)
    staffing: Staffing | None = None
    objective: Objective = field(default_factory=Objective)
    contiguity: bool = True
    links: tuple[tuple[str, str], ...] = ()
    locks: Mapping[str, str] = field(default_factory=dict)
    max_distance_km: float | None = None
    solver: SolverOptions = field(default_factory=SolverOptions)
    source: str = "<model>"
    instance_options: InstanceOptions = field(default_factory=InstanceOptions)
    balance: Balance | None = None
    organiser: Organiser | None = None
    catalogue: Catalogue | None = None
    finance: FinanceTerms | None = None
    lead_costs: Mapping[str, float] = field(default_factory=dict)
    self_only: tuple[str, ...] = ()
    separate: tuple[tuple[str, str], ...] = ()
    exemptions: Exemptions = field(default_factory=Exemptions)
    reference: ReferencePlan | None = None
    limits: Mapping[str, float] = field(default_factory=dict)
    most_areas: bool = False
    """`areas.count = "max"`: the largest number of areas the rules allow."""

    def with_areas(self, k_min: int, k_max: int | None = None) -> PlanningModel:
        """A copy with `k_min`..`k_max` areas in all (with an organiser: its own area plus
        the regional leads)."""
        return replace(self, areas=_area_range((k_min, k_max or k_min), "areas.count", self.source),
                       most_areas=False)

    def with_most_areas(self) -> PlanningModel:
        """The same model asking for the largest number of areas."""
        return replace(self, areas=(1, MOST_AREAS), most_areas=True)

    def with_regional_leads(self, r_min: int, r_max: int | None = None) -> PlanningModel:
        """A copy with `r_min`..`r_max` regional leads besides the organiser's own area."""
        if self.organiser is None:
            raise ModelError(f"{self.source}: regional leads are counted besides an organiser's "
                             "own area, but the model has no [organiser]; give the area count")
        lo, hi = _lead_range((r_min, r_max if r_max is not None else r_min),
                             "areas.regional_leads", self.source)
        return replace(self, areas=(lo + 1, hi + 1))

    @property
    def regional_leads(self) -> tuple[int, int] | None:
        """Regional leads besides the organiser's own area (None without an organiser)."""
        if self.organiser is None:
            return None
        return self.areas[0] - 1, self.areas[1] - 1


MOST_AREAS = 10**6
"""Upper end of `areas` while the count is `"max"` (bind clamps it to the instance)."""


# -- TOML schema -------------------------------------------------------------

_Num = (int, float)
SCHEMA: dict[str, dict[str, Any]] = {
    "": {"name": str, "description": str, "instance": dict, "areas": dict, "floors": dict,
         "caps": dict, "balance": dict, "staffing": dict, "objective": dict, "contiguity": dict,
         "locks": dict, "solver": dict, "organiser": dict, "services": dict, "finance": dict,
         "lead_costs": dict, "exemptions": dict,
         "reference": dict, "limits": dict},
    "instance": {"path": str, "format": str, "name_attribute": str, "lon_attribute": str,
                 "lat_attribute": str, "distance": str},
    "balance": {"attribute": str, "tolerance": _Num},
    "areas": {"count": (int, list, str), "regional_leads": (int, list), "fixed_leads": list,
              "candidate_leads": (str, list), "max_distance_km": _Num, "self_only": list,
              "separate": list},
    "staffing": {"caseload": _Num, "min_fte": _Num, "cost_per_fte": _Num, "attribute": str,
                 "whole_fte": bool},
    "objective": {"travel_weight": str, "cost_per_weighted_km": _Num,
                  "fixed_cost_per_area": _Num, "distance_power": int,
                  "max_deficit_per_key": _Num},
    "organiser": {"municipality": str, "area": (str, list), "own_area": str, "floors": dict,
                  "contiguous": bool},
    "services": {"catalogue": str, "tiers": dict},
    "contiguity": {"enabled": bool, "links": list},
    "exemptions": {"enabled": bool, "floor": (str, list), "hard_floor": _Num, "max": int,
                   "mode": str},
    "reference": {"plan": str, "max_moves": int, "cost_per_move": _Num},
    "solver": {"backend": str, "time_limit": _Num, "gap": _Num, "contiguity": str,
               "threads": int, "node_limit": int, "deterministic": bool},
}


def _check_table(table: Mapping[str, Any], section: str, source: str) -> None:
    allowed = SCHEMA[section]
    for key, value in table.items():
        dotted = f"{section}.{key}" if section else key
        if key not in allowed:
            raise ModelError(f"{source}: unknown key '{dotted}'")
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


def _area_range(count, key: str, source: str) -> tuple[int, int]:
    if isinstance(count, int) and not isinstance(count, bool):
        lo = hi = count
    elif (
        isinstance(count, list | tuple)
        and len(count) == 2
        and all(isinstance(c, int) and not isinstance(c, bool) for c in count)
    ):
        lo, hi = count
    else:
        raise ModelError(f"{source}: '{key}' must be an integer, [min, max] or \"max\", "
                         f"got {count!r}")
    if lo == hi and lo < 1:
        raise ModelError(f"{source}: '{key}' must be at least 1, got {lo}")
    if not 1 <= lo <= hi:
        raise ModelError(f"{source}: '{key}' needs 1 <= min <= max, got {list(count)!r}")
    return int(lo), int(hi)


def _lead_range(count, key: str, source: str) -> tuple[int, int]:
    """Like `_area_range`, but 0 is allowed (the organiser's own area may be the only one)."""
    if isinstance(count, int) and not isinstance(count, bool):
        lo = hi = count
    elif (isinstance(count, list | tuple) and len(count) == 2
          and all(isinstance(c, int) and not isinstance(c, bool) for c in count)):
        lo, hi = count
    else:
        raise ModelError(f"{source}: '{key}' must be an integer or [min, max], got {count!r}")
    if not 0 <= lo <= hi:
        raise ModelError(f"{source}: '{key}' needs 0 <= min <= max, got {count!r}")
    return int(lo), int(hi)


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
    instance_options = _instance_options(data["instance"], source)
    balance = _balance(data["balance"], source) if "balance" in data else None
    areas = data.get("areas", {})
    organiser = _organiser(data["organiser"], source) if "organiser" in data else None
    if organiser is not None:
        if "count" in areas:
            raise ModelError(f"{source}: 'areas.count' counts every area; with an [organiser] "
                             "give 'areas.regional_leads' (leads besides its own area)")
        if "regional_leads" not in areas:
            raise ModelError(f"{source}: missing key 'areas.regional_leads'")
        lo, hi = _lead_range(areas["regional_leads"], "areas.regional_leads", source)
        area_count: tuple[int, int] = (lo + 1, hi + 1)
    else:
        if "regional_leads" in areas:
            raise ModelError(f"{source}: 'areas.regional_leads' counts leads besides an "
                             "organiser's own area: add an [organiser] or use 'areas.count'")
        if "count" not in areas:
            raise ModelError(f"{source}: missing key 'areas.count'")
        area_count = (1, MOST_AREAS) if areas["count"] == "max" else \
            _area_range(areas["count"], "areas.count", source)
    cand = areas.get("candidate_leads", "all")
    if isinstance(cand, str):
        if cand != "all":
            raise ModelError(f"{source}: 'areas.candidate_leads' must be \"all\" or a list")
        candidates = None
    else:
        candidates = _strings(cand, "areas.candidate_leads", source)

    staffing = None
    if "staffing" in data:
        st = data["staffing"]
        if "caseload" not in st:
            raise ModelError(f"{source}: missing key 'staffing.caseload'")
        staffing = Staffing(
            caseload=model_number(st, "staffing.caseload", source, lo=0, lo_open=True),
            min_fte=model_number(st, "staffing.min_fte", source, 0.0, lo=0),
            cost_per_fte=model_number(st, "staffing.cost_per_fte", source, 0.0, lo=0),
            attribute=st.get("attribute", "jobseekers"),
            whole_fte=st.get("whole_fte", True),
        )

    obj = data.get("objective", {})
    objective = Objective(
        travel_weight=obj.get("travel_weight", "jobseekers"),
        cost_per_weighted_km=model_number(obj, "objective.cost_per_weighted_km", source, 1.0,
                                          lo=0),
        fixed_cost_per_area=model_number(obj, "objective.fixed_cost_per_area", source, 0.0,
                                         lo=0),
        distance_power=obj.get("distance_power", 1),
        max_deficit_per_key=model_number(obj, "objective.max_deficit_per_key", source),
    )
    if objective.distance_power not in (1, 2):
        raise ModelError(f"{source}: 'objective.distance_power' must be 1 or 2")
    if objective.max_deficit_per_key is not None and "finance" not in data:
        raise ModelError(f"{source}: 'objective.max_deficit_per_key' bounds the deficits "
                         "of the [finance] table, which the model lacks")
    lead_costs = _number_table(data.get("lead_costs", {}), "lead_costs", source)

    cont = data.get("contiguity", {})
    links = []
    for k, link in enumerate(cont.get("links", [])):
        pair = isinstance(link, list) and len(link) == 2
        if not (pair and all(isinstance(x, str) for x in link)):
            raise ModelError(f"{source}: 'contiguity.links[{k}]' must be a pair of codes")
        links.append((link[0], link[1]))

    locks = data.get("locks", {})
    for key, value in locks.items():
        if not isinstance(value, str):
            raise ModelError(f"{source}: 'locks.{key}' must be the code of a lead municipality")

    sv = data.get("solver", {})
    threads = sv.get("threads")
    solver = SolverOptions(
        backend=sv.get("backend", "highs"),
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
                         f"{', '.join(NAMES)}, got {solver.backend!r}")
    if solver.contiguity not in CONTIGUITY_METHODS:
        raise ModelError(
            f"{source}: 'solver.contiguity' must be one of {', '.join(CONTIGUITY_METHODS)}"
        )
    max_d = model_number(areas, "areas.max_distance_km", source, lo=0, lo_open=True)

    most = areas.get("count") == "max"
    return PlanningModel(
        name=data.get("name", Path(source).stem),
        instance_path=(base / data["instance"]["path"]).resolve(),
        instance_options=instance_options,
        areas=area_count,
        most_areas=most,
        exemptions=_exemptions(data.get("exemptions", {}), source),
        reference=_reference(data["reference"], base, source) if "reference" in data else None,
        limits=_limits(data.get("limits", {}), source),
        fixed_leads=_strings(areas.get("fixed_leads", []), "areas.fixed_leads", source),
        candidate_leads=candidates,
        floors=_number_table(data.get("floors", {}), "floors", source),
        caps=_number_table(data.get("caps", {}), "caps", source),
        balance=balance,
        staffing=staffing,
        objective=objective,
        contiguity=cont.get("enabled", True),
        links=tuple(links),
        locks=dict(locks),
        max_distance_km=max_d,
        solver=solver,
        source=source,
        organiser=organiser,
        catalogue=_catalogue(data["services"], base, source) if "services" in data else None,
        finance=parse_finance(data["finance"], base=base, source=source)
        if "finance" in data else None,
        lead_costs=lead_costs,
        self_only=_strings(areas.get("self_only", []), "areas.self_only", source),
        separate=_pairs(areas.get("separate", []), "areas.separate", source),
    )


def _instance_options(table: Mapping[str, Any], source: str) -> InstanceOptions:
    opts = InstanceOptions(**{k: v for k, v in table.items() if k != "path"})
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
        if opts.distance not in (None, "matrix"):
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
    return parse_model(data, base=path.parent, source=str(path))


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
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError(f"model file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read model file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: invalid TOML: {exc}") from None
    return data


# -- binding -----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Bound:
    """A floor or cap on an attribute summed over each area."""

    attribute: str
    values: np.ndarray
    limit: float
    label: str
    exemptable: bool = False
    """An area with an exemption may miss this floor (`[exemptions]`)."""
    scale: float = 1.0
    """The formulation multiplies the row by this (to keep its coefficients integral)."""
    offset: float = 0.0
    """A floor's per-area constant: an area's total is Σ values over its members + offset."""

    @property
    def member_limit(self) -> float:
        """What the members' values must reach: the limit less the per-area offset."""
        return self.limit - self.offset


@dataclass(frozen=True, eq=False)
class Problem:
    """A planning model resolved against its instance: everything as arrays.

    `allowed[i, j]` is False where i may never be served by j (j not a
    candidate, beyond the maximum distance, or a lock says otherwise).
    `cost[i, j]` is the objective coefficient of serving i from j.
    """

    model: PlanningModel
    instance: Instance
    k_min: int
    k_max: int
    candidates: np.ndarray
    fixed: tuple[int, ...]
    locks: Mapping[int, int]
    floors: tuple[Bound, ...]
    caps: tuple[Bound, ...]
    allowed: np.ndarray
    cost: np.ndarray
    fixed_cost: float
    contiguity: bool
    exemptions: Exemptions | None = None
    """The model's exemption rules when enabled (its exemptable floors are marked in `floors`)."""
    reference: ReferenceAreas | None = None
    weights: Mapping[str, float] | None = None
    """Weight of each objective term (`optimizer.terms`); None = the model's own objective."""
    limits: Mapping[str, float] = field(default_factory=dict)
    """Upper limits on objective terms (`[limits]`, `exemptions.max`, `reference.max_moves`)."""
    available: np.ndarray | None = None
    """Euros each municipality's subsidy brings its area after the organiser's share, when
    that share is fixed in advance (the `deficit` term; with [finance])."""
    organiser: int | None = None
    organiser_area: np.ndarray | None = None
    organiser_floors: tuple[Bound, ...] = ()
    self_only: tuple[int, ...] = ()
    separate: tuple[tuple[int, int], ...] = ()
    lead_base: np.ndarray | None = None
    rates: CostRates | None = None
    subsidy: np.ndarray | None = None
    deficit_bound: DeficitBound | None = None
    notes: tuple[str, ...] = ()
    """`notes`: what binding changed or assumed (an area count cut to the candidates).
    The fields above: two tiers, per-lead costs, self-only leads, separate pairs and money
    (see `bind`):
    `lead_base[j]` is the cost of running an area from j itself (`lead_costs`, else the
    fixed cost per area), `rates` the catalogue's cost rates, `subsidy` cents per
    municipality (with [finance])."""

    def __post_init__(self) -> None:
        n = self.instance.n
        if self.lead_base is None:
            object.__setattr__(self, "lead_base", np.full(n, float(self.fixed_cost)))
        if self.rates is None:
            object.__setattr__(self, "rates", CostRates.none(n))
        if self.organiser_area is None and self.organiser is not None:
            object.__setattr__(self, "organiser_area", np.ones(n, dtype=bool))

    @property
    def in_organiser_area(self) -> np.ndarray:
        """Mask of the municipalities the organiser organises for (none without one)."""
        if self.organiser_area is None:
            return np.zeros(self.n, dtype=bool)
        return self.organiser_area

    @property
    def lead_fixed(self) -> np.ndarray:
        """Fixed yearly cost in the objective of an area led by j: its own base cost, the
        catalogue's regional per-area services and the organiser's cost per area."""
        r = self.rates
        out = self.lead_base + r.area_fixed
        if r.common_per_area:
            out = out + r.common_per_area * self.in_organiser_area
        return out

    @property
    def production_fte_price(self) -> float:
        """Money per FTE of a production area: staff pay and regional per-FTE services."""
        st = self.staffing
        return (st.cost_per_fte if st is not None else 0.0) + self.rates.area_per_fte

    @property
    def fte_price(self) -> np.ndarray:
        """Objective cost of one FTE in an area led by j (adds the organiser's per-FTE cost
        inside its area)."""
        out = np.full(self.n, self.production_fte_price)
        if self.rates.common_per_fte:
            out = out + self.rates.common_per_fte * self.in_organiser_area
        return out

    @property
    def n(self) -> int:
        return self.instance.n

    @property
    def objective_weights(self) -> Mapping[str, float]:
        """The weights in force: `weights`, else fixed cost, travel, staff and moves priced."""
        if self.weights is not None:
            return self.weights
        ref = self.model.reference
        price = ref.cost_per_move if ref is not None and self.reference is not None else 0.0
        return {"fixed": 1.0, "travel": 1.0, "staffing": 1.0, "moves": price}

    @property
    def needs_phases(self) -> str | None:
        """Why one solve of the model's own objective is not its answer (None if it is):
        the largest area count, or the fewest exemptions before cost."""
        if self.weights is not None:
            return None
        if self.model.most_areas:
            return "the largest number of areas"
        if self.exemptions is not None and self.exemptions.mode == "fewest":
            return "the fewest exemptions first"
        return None

    @property
    def staffing(self) -> Staffing | None:
        return self.model.staffing

    def fte_needed(self, total: float, extra: float = 0.0) -> int:
        """Whole FTEs needed for an area with `total` of the staffing attribute (plus
        `extra` FTE that its catalogue services need)."""
        st = self.staffing
        if st is None:
            return 0
        need = max(total / st.caseload + extra, st.min_fte)
        return int(np.ceil(need - 1e-9))

    def staff_need(self, members) -> float | None:
        """FTE an area with these members needs: its staffing attribute / caseload plus the
        staff of its catalogue services (None without [staffing])."""
        st = self.staffing
        if st is None:
            return None
        m = np.asarray(members, dtype=np.int64)
        need = float(self.instance.attribute(st.attribute)[m].sum()) / st.caseload
        if self.rates.has_area_staff:
            need += float(self.rates.area_staff[m].sum()) + self.rates.area_staff_fixed
        return need

    def fte_of(self, members) -> float | None:
        """FTEs of an area with these members, at least the floor: whole (an int) unless
        `staffing.whole_fte` is false (None without [staffing])."""
        need = self.staff_need(members)
        if need is None:
            return None
        need = max(need, self.staffing.min_fte)
        return int(np.ceil(need - 1e-9)) if self.staffing.whole_fte else need

    @property
    def whole_fte(self) -> bool:
        return self.staffing is None or self.staffing.whole_fte

    def production_cost(self, members, lead: int | None) -> float:
        """Money an area costs a year: its lead's base cost, the regional services (per
        area and per member) and its staff. `lead` None = a lead outside the instance
        (its part inside is costed as an area of its own)."""
        m = np.asarray(members, dtype=np.int64)
        base = self.fixed_cost if lead is None else float(self.lead_base[lead])
        cost = base + self.rates.area_fixed + float(self.rates.area_variable[m].sum())
        fte = self.fte_of(m)
        if fte is not None and self.production_fte_price:
            cost += self.production_fte_price * fte
        return cost

    def common_cost(self, areas: dict) -> float | None:
        """The organiser's yearly common cost for a plan's areas ({lead key: members});
        None without an organiser."""
        if self.organiser is None:
            return None
        inside = [m for key, m in areas.items()
                  if isinstance(key, int) and self.in_organiser_area[key]]
        fte = sum(self.fte_of(m) or 0 for m in inside)
        st = self.staffing
        return self.rates.common_cost(len(inside), fte, st.cost_per_fte if st else 0.0,
                                      self.whole_fte)


@dataclass(frozen=True, eq=False)
class ReferenceAreas:
    """A reference plan's areas as groups: `group[i]` is the reference area of i."""

    plan: Plan
    group: np.ndarray
    names: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.names)


def reference_areas(plan: Plan, source: str = "reference plan") -> ReferenceAreas:
    """Group the municipalities by their area in `plan`, which must assign every one."""
    from .errors import PlanError

    missing = np.flatnonzero(plan.lead == UNASSIGNED)
    if len(missing):
        shown = ", ".join(plan.instance.label(i) for i in missing[:5])
        raise PlanError(f"{source}: does not assign {shown}"
                        + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    keys = sorted({plan.lead_code(i) for i in range(plan.instance.n)})
    pos = {k: g for g, k in enumerate(keys)}
    group = np.array([pos[plan.lead_code(i)] for i in range(plan.instance.n)], dtype=np.int64)
    group.setflags(write=False)
    names = tuple(f"{plan.lead_label(plan.lead_key(int(np.flatnonzero(group == g)[0])))[1]}"
                  for g in range(len(keys)))
    return ReferenceAreas(plan, group, names)


def bind(model: PlanningModel, instance: Instance | None = None) -> Problem:
    """Resolve a model against its instance (loaded from `model.instance_path` if not given)."""
    src = model.source
    if instance is None:
        instance = load_instance(model.instance_path, **asdict(model.instance_options))

    def idx(ref: str, key: str) -> int:
        try:
            return instance.resolve(ref)
        except InstanceError:
            raise ModelError(
                f"{src}: '{key}': municipality {ref!r} is not in instance {instance.name!r}"
            ) from None

    links = [(idx(a, "contiguity.links"), idx(b, "contiguity.links")) for a, b in model.links]
    for a, b in links:
        if a == b:
            raise ModelError(f"{src}: 'contiguity.links' links {instance.label(a)} to itself")
    inst = instance.with_links(links)
    n = inst.n

    if model.candidate_leads is None:
        candidates = np.ones(n, dtype=bool)
    else:
        candidates = np.zeros(n, dtype=bool)
        candidates[[idx(c, "areas.candidate_leads") for c in model.candidate_leads]] = True
    fixed = tuple(dict.fromkeys(idx(c, "areas.fixed_leads") for c in model.fixed_leads))
    locks = {idx(i, f"locks.{i}"): idx(j, f"locks.{i}") for i, j in model.locks.items()}
    self_only = [idx(c, "areas.self_only") for c in model.self_only]
    separate = []
    for a, b in model.separate:
        pair = (idx(a, "areas.separate"), idx(b, "areas.separate"))
        if pair[0] == pair[1]:
            raise ModelError(f"{src}: 'areas.separate' keeps {inst.label(pair[0])} apart "
                             "from itself")
        separate.append(tuple(sorted(pair)))
    lead_base = np.full(n, model.objective.fixed_cost_per_area)
    for ref, value in model.lead_costs.items():
        lead_base[idx(ref, f"lead_costs.{ref}")] = value
    organiser = organiser_area = None
    organiser_floors: list[Bound] = []
    org = model.organiser
    if org is not None:
        organiser = idx(org.municipality, "organiser.municipality")
        organiser_area = np.ones(n, dtype=bool)
        if org.area is not None:
            organiser_area[:] = False
            organiser_area[[idx(c, "organiser.area") for c in org.area]] = True
            if not organiser_area[organiser]:
                raise ModelError(f"{src}: 'organiser.area' must include the organiser "
                                 f"{inst.label(organiser)}")
        fixed = tuple(dict.fromkeys((organiser, *fixed)))
        if org.own_area == "alone":
            self_only.append(organiser)
        for attr, limit in org.floors.items():
            values = _amounts(inst, attr, f"organiser.floors.{attr}", src)
            organiser_floors.append(Bound(attr, values, limit, f"organiser floor {attr}"))
    rates = cost_rates(model.catalogue, inst, organiser_area, f"{src}: 'services.catalogue'")

    def bounds(table: Mapping[str, float], kind: str) -> list[Bound]:
        out = []
        for attr, limit in table.items():
            values = _amounts(inst, attr, f"{kind}.{attr}", src)
            out.append(Bound(attr, values, limit, f"{kind[:-1]} {attr}"))
        return out

    floors = bounds(model.floors, "floors")
    caps = bounds(model.caps, "caps")
    exempt_names = model.exemptions.floors or ()
    if model.balance is not None:
        floor, cap = _balance_bounds(model, inst)
        floors.append(floor)
        caps.append(cap)
    st = model.staffing
    if st is not None:
        values = _amounts(inst, st.attribute, "staffing.attribute", src)
        _within(float(values.sum()) / st.caseload, "staffing.caseload",
                "makes the staff of all areas", src)
        _within(st.min_fte * st.caseload, "staffing.min_fte", "times the caseload is", src)
        most_fte = values.sum() / st.caseload + n * (st.min_fte + 1)  # Σ over ≤ n areas
        _within(st.cost_per_fte * most_fte, "staffing.cost_per_fte",
                "makes a staff cost of up to", src)
    elif rates.has_area_staff or rates.area_per_fte or rates.common_per_fte:
        raise ModelError(f"{src}: 'services.catalogue': its production-area services need "
                         "staff or are priced per FTE, which needs a [staffing] table")
    if st is not None and st.min_fte > 0 and not rates.has_area_staff:
        floors.append(Bound(st.attribute, values, st.min_fte * st.caseload,
                            f"staffing ({st.min_fte:g} FTE × caseload {st.caseload:g})",
                            exemptable="staffing" in exempt_names))
    elif st is not None and st.min_fte > 0:
        # In FTE; the row is multiplied by the caseload so its coefficients stay integral.
        floors.append(Bound("staff need (FTE)", values / st.caseload + rates.area_staff,
                            st.min_fte, f"staffing: {st.min_fte:g} FTE at caseload "
                            f"{st.caseload:g} with the services' staff",
                            scale=st.caseload, offset=rates.area_staff_fixed,
                            exemptable="staffing" in exempt_names))
    exemptions = _bind_exemptions(model, inst, floors) if model.exemptions.enabled else None

    obj = model.objective
    if obj.travel_weight is None or obj.travel_weight == "":
        weight = np.ones(n)
    else:
        weight = _amounts(inst, obj.travel_weight, "objective.travel_weight", src)
    dist = inst.distance
    cost = obj.cost_per_weighted_km * weight[:, None] * dist**obj.distance_power
    _within(float(cost.max()), "objective.cost_per_weighted_km",
            "gives a travel cost (× weight × distance) of", src)
    _within(float(lead_base.max()) * n, "objective.fixed_cost_per_area",
            "(or a lead cost) gives fixed costs of up to", src)
    k_min, k_max, notes = _clamped_count(model, int(candidates.sum()))

    allowed = np.repeat(candidates[None, :], n, axis=0)
    if model.max_distance_km is not None:
        allowed &= dist <= model.max_distance_km
    for i, j in locks.items():
        allowed[i, :] = False
        allowed[i, j] = True

    reference = None
    if model.reference is not None:
        from .plan import read_plan

        reference = reference_areas(read_plan(model.reference.path, inst),
                                    str(model.reference.path))
    limits = dict(model.limits)
    if exemptions is not None and exemptions.max is not None:
        limits["exemptions"] = float(exemptions.max)
    if model.reference is not None and model.reference.max_moves is not None:
        limits["moves"] = float(model.reference.max_moves)
    subsidy, bound, available = _money(model, inst, rates, organiser_area)
    return Problem(
        model=model, instance=inst, k_min=k_min, k_max=k_max, notes=notes,
        candidates=candidates, fixed=fixed, locks=locks, floors=tuple(floors), caps=tuple(caps),
        allowed=allowed, cost=cost, fixed_cost=obj.fixed_cost_per_area,
        contiguity=model.contiguity, organiser=organiser, organiser_area=organiser_area,
        organiser_floors=tuple(organiser_floors), self_only=tuple(dict.fromkeys(self_only)),
        separate=tuple(dict.fromkeys(separate)), lead_base=lead_base, rates=rates,
        subsidy=subsidy, deficit_bound=bound, exemptions=exemptions, reference=reference,
        limits=limits, available=available,
    )


def _amounts(inst: Instance, attr: str, key: str, src: str) -> np.ndarray:
    """An attribute that a rule sums (floor, cap, staffing, weight): finite and ≥ 0 everywhere."""
    try:
        values = inst.attribute(attr)
    except InstanceError as exc:
        raise ModelError(f"{src}: '{key}': {exc}") from None
    for bad, what in ((values < 0, "negative"), (values > LARGEST, f"above {LARGEST:g}")):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ModelError(f"{src}: '{key}': instance {inst.name!r} has a {what} {attr!r} "
                             f"({values[i]:g}) for {inst.label(i)}; a summed amount must be "
                             f"0 to {LARGEST:g}")
    return values


def _within(value: float, key: str, what: str, src: str) -> None:
    """Refuse a setting whose derived figure leaves the range solvers handle exactly."""
    if not value <= LARGEST:
        raise ModelError(f"{src}: '{key}' {what} {value:g}, more than {LARGEST:g}: "
                         "rescale the units")


def _clamped_count(model: PlanningModel, candidates: int) -> tuple[int, int, tuple[str, ...]]:
    """The area range with its maximum cut to the number of candidate leads (each area
    needs its own lead); a minimum above it is kept, for the precheck to explain. Said in
    a note unless the model asks for the most areas ("max")."""
    k_min, k_max = model.areas
    top = max(k_min, candidates)
    if k_max <= top:
        return k_min, k_max, ()
    if model.most_areas:
        return k_min, top, ()
    return k_min, top, (f"the area count allows up to {k_max} areas but only {candidates} "
                        f"municipalities may lead one: at most {top} areas are tried",)


def _bind_exemptions(model: PlanningModel, inst: Instance, floors: list[Bound]) -> Exemptions:
    """Mark the exemptable floors (every floor unless named) and add the hard floor."""
    ex = model.exemptions
    src = model.source
    names = ex.floors
    known = {b.attribute for b in floors if not b.label.startswith("staffing")}
    for name in names or ():
        if name != "staffing" and name not in known:
            raise ModelError(f"{src}: 'exemptions.floor': {name!r} is not a floor of the model "
                             f"(floors: {', '.join(sorted(known)) or 'none'})")
    if not floors:
        raise ModelError(f"{src}: '[exemptions]' needs a floor to exempt from (the model has "
                         "none)")
    for k, b in enumerate(floors):
        if names is None or (b.attribute in names and not b.label.startswith("staffing")):
            floors[k] = replace(b, exemptable=True)
    if ex.hard_floor is not None:
        attr = names[0]
        values = next(b.values for b in floors if b.exemptable and
                      (b.attribute == attr or attr == "staffing"))
        limit = ex.hard_floor
        if any(b.exemptable and b.limit < limit for b in floors):
            raise ModelError(f"{src}: 'exemptions.hard_floor' {limit:,.0f} is above the floor "
                             "it relaxes")
        floors.append(Bound(attr, values, limit, f"hard floor {attr} (exempted areas too)"))
    return ex


def finance_key(model: PlanningModel, inst: Instance, name: str, key: str,
                subsidy: np.ndarray | None) -> np.ndarray:
    """Values of a sharing key: 'subsidy' (euros) or an instance attribute (must be >= 0)."""
    if name == "subsidy":
        return subsidy / 100.0
    try:
        values = inst.attribute(name)
    except InstanceError as exc:
        raise ModelError(f"{model.source}: '{key}': {exc}") from None
    if np.any(values < 0):
        i = int(np.flatnonzero(values < 0)[0])
        raise ModelError(f"{model.source}: '{key}': {name!r} is negative for {inst.label(i)}")
    return values


def _money(model: PlanningModel, inst: Instance, rates: CostRates,
           organiser_area: np.ndarray | None) -> tuple[np.ndarray | None, DeficitBound | None,
                                                       np.ndarray | None]:
    """Subsidies (cents), the deficit bound of the objective's variant if asked for, and the
    euros each municipality brings its area (subsidy less a share to the organiser fixed in
    advance; None when the share depends on the plan)."""
    terms = model.finance
    if terms is None:
        return None, None, None
    if organiser_area is None and (terms.surplus_reward < 1 or terms.sanction_per_missing_fte
                                   or terms.sanction_per_excess_jobseeker):
        raise ModelError(f"{model.source}: 'finance.incentives' pay surpluses and sanctions "
                         "to the organiser, but the model has no [organiser]")
    st = model.staffing
    if st is not None:  # sanctions in cents must fit an int64 however the plan falls
        need = float(inst.attribute(st.attribute).sum())
        _within(terms.sanction_per_missing_fte * inst.n * (st.min_fte + 1),
                "finance.incentives.sanction_per_missing_fte", "gives sanctions of up to",
                model.source)
        _within(terms.sanction_per_excess_jobseeker * need,
                "finance.incentives.sanction_per_excess_jobseeker",
                "gives sanctions of up to", model.source)
    subsidy = subsidies(terms.subsidy, inst, model.source)
    equal = finance_key(model, inst, terms.equalise_by, "finance.equalisation.key", subsidy)
    if terms.share_key is not None:
        finance_key(model, inst, terms.share_key, "finance.organiser_share.key", subsidy)
    limit = model.objective.max_deficit_per_key
    varies = rates.common_per_area or rates.common_per_fte or (
        rates.common_staff_per_area and st is not None and st.cost_per_fte)
    if terms.share_key is not None and varies:
        if limit is None:
            return subsidy, None, None
        raise ModelError(f"{model.source}: 'objective.max_deficit_per_key' needs each "
                         "municipality's share to the organiser fixed in advance: use "
                         "'finance.organiser_share.percent', or organiser services whose cost "
                         "does not depend on the plan")
    share = np.zeros(inst.n, dtype=np.int64)
    if organiser_area is not None:
        key = None if terms.share_key is None else finance_key(
            model, inst, terms.share_key, "finance.organiser_share.key", subsidy)
        common = to_cents(rates.common_cost(0, 0, st.cost_per_fte if st else 0.0,
                                            st is None or st.whole_fte))
        share = organiser_shares(terms, subsidy, common, key, organiser_area)
    available = (subsidy - share) / 100.0
    if limit is None:
        return subsidy, None, available
    return subsidy, DeficitBound(limit, available, equal, terms.equalise_by), available


def _balance_bounds(model: PlanningModel, inst: Instance) -> tuple[Bound, Bound]:
    """The balance rule as a floor and a cap on its attribute (needs a fixed area count)."""
    bal = model.balance
    src = model.source
    k_min, k_max = model.areas
    if k_min != k_max:
        raise ModelError(f"{src}: 'balance' needs a fixed area count, but 'areas.count' is "
                         f"[{k_min}, {k_max}]")
    values = _amounts(inst, bal.attribute, "balance.attribute", src)
    lo, hi = bal.limits(float(values.sum()), k_min)
    if lo > hi:
        raise ModelError(f"{src}: 'balance.tolerance' {bal.tolerance:g} leaves no whole value "
                         f"between {lo:,.0f} and {hi:,.0f}")
    pct = f"{100 * bal.tolerance:g} %"
    return (Bound(bal.attribute, values, lo, f"balance floor {bal.attribute} (P/k − {pct})"),
            Bound(bal.attribute, values, hi, f"balance cap {bal.attribute} (P/k + {pct})"))

"""The planning model as written in its TOML file: frozen dataclasses and the key table.

`SCHEMA` lists every key of every table with its type; `parse.py` refuses any
other key. The dataclasses keep references as the user wrote them (codes or
names); `bind.py` resolves them against the instance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..economics.catalogue import Catalogue
from ..economics.contract import FinanceTerms
from ..economics.provenance import Source
from ..errors import ModelError
from ..values import count_range

CONTIGUITY_METHODS = ("flow", "cuts")


OWN_AREA = ("alone", "lead")
"""How the organiser's own municipality is produced: as an area of its own (the slides'
reading), or as a lead that may take neighbours."""


@dataclass(frozen=True)
class InstanceOptions:
    """How to read the instance file: its format and, for node-link files from
    other sources, which node attributes hold the name and coordinates; the
    distance (None = the file's own: its matrix if it has one, else great-circle;
    `"file"` = the travel-time file `distance_file`, counted in `distance_unit`, a pair
    it lacks an error unless `missing_pairs` is `"unreachable"`)."""

    format: str = "node-link"
    name_attribute: str | None = None
    lon_attribute: str | None = None
    lat_attribute: str | None = None
    distance: str | None = None
    distance_file: Path | None = None
    distance_unit: str = "minutes"
    missing_pairs: str = "error"


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
    """Σ fixed_cost·[j leads] + cost_per_weighted_km · Σ w_i · d_ij^power + staffing cost
    (`cost_per_weighted_minute` in place of the km price when d is a file's minutes)."""

    travel_weight: str | None = "jobseekers"
    cost_per_weighted_km: float = 1.0
    cost_per_weighted_minute: float | None = None
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




@dataclass(frozen=True)
class SolverOptions:
    backend: str = "auto"
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
    max_minutes: float | None = None
    """Nobody is served from a lead farther than this many minutes (a travel-time file)."""
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
    keep_whole: tuple[str, ...] = ()
    """Attributes whose groups (e.g. the official sub-regions) no area may split
    (`model/groups.py`)."""
    split_cost: Mapping[str, float] = field(default_factory=dict)
    """Attribute → €/yr for each of its groups split across areas (the `splits` term)."""
    statistics: Path | None = None
    """A statistics overlay (`instance.statistics`): the planner's figures replace the
    instance's for this model (`data/statistics.py`)."""
    sources: Mapping[str, Source] = field(default_factory=dict)
    """Where each kind of money input comes from (`[sources]`, economics/provenance.py)."""
    orders: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """What the municipalities buy from the organiser (`[services.orders]`): service →
    {municipality or each_area → units a year}."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The dotted keys a command line set over the file (kept in summary.json so that a
    report reproduces the run)."""

    def with_areas(self, k_min: int, k_max: int | None = None) -> PlanningModel:
        """A copy with `k_min`..`k_max` areas in all (with an organiser: its own area plus
        the regional leads)."""
        span = count_range([k_min, k_max or k_min], "areas.count", where=self.source,
                           error=ModelError)
        return replace(self, areas=span,
                       most_areas=False)

    def with_most_areas(self) -> PlanningModel:
        """The same model asking for the largest number of areas."""
        return replace(self, areas=(1, MOST_AREAS), most_areas=True)

    def with_regional_leads(self, r_min: int, r_max: int | None = None) -> PlanningModel:
        """A copy with `r_min`..`r_max` regional leads besides the organiser's own area."""
        if self.organiser is None:
            raise ModelError(f"{self.source}: regional leads are counted besides an organiser's "
                             "own area, but the model has no [organiser]; give the area count")
        lo, hi = count_range([r_min, r_max if r_max is not None else r_min],
                             "areas.regional_leads", least=0, where=self.source,
                             error=ModelError)
        return replace(self, areas=(lo + 1, hi + 1))

    @property
    def regional_leads(self) -> tuple[int, int] | None:
        """Regional leads besides the organiser's own area (None without an organiser)."""
        if self.organiser is None:
            return None
        return self.areas[0] - 1, self.areas[1] - 1


MOST_AREAS = 10**6
"""Upper end of `areas` while the count is `"max"` (bind clamps it to the instance)."""


_Num = (int, float)


SCHEMA: dict[str, dict[str, Any]] = {
    "": {"name": str, "description": str, "instance": dict, "areas": dict, "floors": dict,
         "caps": dict, "balance": dict, "staffing": dict, "objective": dict, "contiguity": dict,
         "locks": dict, "solver": dict, "organiser": dict, "services": dict, "finance": dict,
         "lead_costs": dict, "exemptions": dict,
         "reference": dict, "limits": dict, "sources": dict},
    "instance": {"path": str, "format": str, "name_attribute": str, "lon_attribute": str,
                 "lat_attribute": str, "distance": str, "distance_file": str,
                 "distance_unit": str, "missing_pairs": str, "statistics": str},
    "balance": {"attribute": str, "tolerance": _Num},
    "areas": {"count": (int, list, str), "regional_leads": (int, list), "fixed_leads": list,
              "candidate_leads": (str, list), "max_distance_km": _Num, "max_minutes": _Num,
              "self_only": list, "separate": list, "keep_whole": list, "split_cost": dict},
    "staffing": {"caseload": _Num, "min_fte": _Num, "cost_per_fte": _Num, "attribute": str,
                 "whole_fte": bool},
    "objective": {"travel_weight": str, "cost_per_weighted_km": _Num,
                  "cost_per_weighted_minute": _Num, "fixed_cost_per_area": _Num,
                  "distance_power": int, "max_deficit_per_key": _Num},
    "organiser": {"municipality": str, "area": (str, list), "own_area": str, "floors": dict,
                  "contiguous": bool},
    "services": {"catalogue": str, "tiers": dict, "orders": dict},
    "contiguity": {"enabled": bool, "links": list},
    "exemptions": {"enabled": bool, "floor": (str, list), "hard_floor": _Num, "max": int,
                   "mode": str},
    "reference": {"plan": str, "max_moves": int, "cost_per_move": _Num},
    "solver": {"backend": str, "time_limit": _Num, "gap": _Num, "contiguity": str,
               "threads": int, "node_limit": int, "deterministic": bool},
}

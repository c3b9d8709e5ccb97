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
from ..errors import ModelError

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

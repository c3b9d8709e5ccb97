"""The bound problem: the arrays the formulation, the verifier and the figures share.

`Problem` also prices an area (production cost, staff, the organiser's common
cost) so that the solver's objective and the evaluator use one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data.instance import Instance
from ..data.plan import UNASSIGNED, Plan
from ..economics.benefit import BenefitInputs
from ..economics.contract import DeficitBound
from ..economics.costs import CostRates
from ..economics.provenance import Source
from ..economics.sales import Sales
from ..errors import PlanError
from .groups import Group
from .schema import Exemptions, PlanningModel, Staffing


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
    """Weight of each objective term (`model/objective.py`); None = the model's own objective."""
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
    sales: Sales | None = None
    """What the municipalities and the regional areas buy from the organiser (the areas'
    purchases are in `lead_base`)."""
    benefit: BenefitInputs | None = None
    """The law's incentive's per-municipality inputs (with `[finance.benefit_share]`)."""
    provenance: Mapping[str, Source] = field(default_factory=dict)
    """Where the figures of files come from (the subsidy file's `year` and `source`)."""
    groups: tuple[Group, ...] = ()
    """Groups of municipalities kept whole (`areas.keep_whole`) or priced when split
    (`areas.split_cost`), from `model/groups.py`."""
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
    def hard_groups(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if g.hard)

    @property
    def priced_groups(self) -> tuple[Group, ...]:
        return tuple(g for g in self.groups if not g.hard)

    def unit_of(self) -> list[tuple[int, ...]]:
        """What moves with each municipality when a plan changes: its hard group (without
        the rest it is split), else itself."""
        out = [(i,) for i in range(self.n)]
        for g in self.hard_groups:
            for i in g.members:
                out[i] = g.members
        return out

    @property
    def objective_weights(self) -> Mapping[str, float]:
        """The weights in force: `weights`, else fixed cost, travel, staff, moves and split
        groups priced."""
        if self.weights is not None:
            return self.weights
        ref = self.model.reference
        price = ref.cost_per_move if ref is not None and self.reference is not None else 0.0
        return {"fixed": 1.0, "travel": 1.0, "staffing": 1.0, "moves": price, "splits": 1.0}

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

    @property
    def staff_floor_exemptable(self) -> bool:
        """Whether an exempted area may be staffed below `staffing.min_fte` (the staffing
        floor is among the floors `[exemptions]` lets an area miss)."""
        return self.exemptions is not None and any(
            b.exemptable and b.label.startswith("staffing") for b in self.floors)

    def fte_of(self, members, exempt: bool = False) -> float | None:
        """FTEs of an area with these members: its staff need, at least the floor
        `staffing.min_fte` unless the area is `exempt` from the staffing floor (then its need
        alone, as the formulation prices it); whole (an int) unless `staffing.whole_fte` is
        false (None without [staffing]). The one definition of an area's staff, which the
        formulation's rows (S) and its staff term price and every figure uses."""
        need = self.staff_need(members)
        if need is None:
            return None
        floor = 0.0 if exempt and self.staff_floor_exemptable else self.staffing.min_fte
        need = max(need, floor)
        return int(np.ceil(need - 1e-9)) if self.staffing.whole_fte else need

    @property
    def whole_fte(self) -> bool:
        return self.staffing is None or self.staffing.whole_fte

    def production_cost(self, members, lead: int | None, exempt: bool = False) -> float:
        """Money an area costs a year: its lead's base cost, the regional services (per
        area and per member) and its staff (`exempt`: the area has an exemption, see
        `fte_of`). `lead` None = a lead outside the instance (its part inside is costed as
        an area of its own)."""
        m = np.asarray(members, dtype=np.int64)
        base = self.fixed_cost if lead is None else float(self.lead_base[lead])
        cost = base + self.rates.area_fixed + float(self.rates.area_variable[m].sum())
        fte = self.fte_of(m, exempt)
        if fte is not None and self.production_fte_price:
            cost += self.production_fte_price * fte
        return cost

    def common_cost(self, areas: dict, exempt=frozenset()) -> float | None:
        """The organiser's yearly common cost for a plan's areas ({lead key: members}, the
        keys in `exempt` with an exemption); None without an organiser."""
        if self.organiser is None:
            return None
        inside = [(key, m) for key, m in areas.items()
                  if isinstance(key, int) and self.in_organiser_area[key]]
        fte = sum(self.fte_of(m, key in exempt) or 0 for key, m in inside)
        st = self.staffing
        return self.rates.common_cost(len(inside), fte, st.cost_per_fte if st else 0.0,
                                      self.whole_fte)


@dataclass(frozen=True, eq=False)
class ReferenceAreas:
    """A reference plan (the 2025 areas, say): `lead[i]` is i's lead there (its position,
    or −1 when that lead is outside the instance). A municipality moves when its lead in a
    plan is another (`data/matching.moved`)."""

    plan: Plan
    lead: np.ndarray

    @property
    def count(self) -> int:
        """The reference plan's number of areas."""
        return len(self.plan.areas())


def reference_areas(plan: Plan, source: str = "reference plan") -> ReferenceAreas:
    """The reference leads of `plan`, which must assign every municipality."""
    missing = np.flatnonzero(plan.lead == UNASSIGNED)
    if len(missing):
        shown = ", ".join(plan.instance.label(i) for i in missing[:5])
        raise PlanError(f"{source}: does not assign {shown}"
                        + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""))
    lead = np.where(plan.lead >= 0, plan.lead, -1).astype(np.int64)
    lead.setflags(write=False)
    return ReferenceAreas(plan, lead)

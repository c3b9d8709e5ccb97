"""Binding: a planning model resolved against its instance into a `Problem` of arrays.

Every reference (municipality codes or names, attributes, the catalogue, the
subsidies) is checked here and named in the error when it does not resolve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..data.instance import Instance
from ..data.load import load_instance
from ..data.planfile import read_plan
from ..data.statistics import read_statistics
from ..economics.benefit import benefit_inputs
from ..economics.cents import to_cents
from ..economics.contract import AREA, COST_KEYS, DeficitBound
from ..economics.costs import CostRates, cost_rates
from ..economics.sales import bind_orders
from ..economics.subsidy import subsidies, subsidy_source
from ..errors import InstanceError, ModelError
from ..values import LARGEST
from ..words import did_you_mean
from .groups import bind_groups
from .problem import Bound, Problem, reference_areas
from .schema import Exemptions, PlanningModel


@dataclass(frozen=True)
class _Refs:
    """Municipality references of a model resolved in its instance; an unknown one is a
    ModelError naming the key."""

    instance: Instance
    source: str

    def one(self, ref: str, key: str) -> int:
        try:
            return self.instance.resolve(ref)
        except InstanceError:
            raise ModelError(f"{self.source}: '{key}': municipality {ref!r} is not in "
                             f"instance {self.instance.name!r}"
                             f"{did_you_mean(ref, self.instance.names)}") from None

    def many(self, refs, key: str) -> list[int]:
        return [self.one(r, key) for r in refs]


def bind(model: PlanningModel, instance: Instance | None = None) -> Problem:
    """Resolve a model against its instance (loaded from `model.instance_path` if not given).

    (long: every reference of the model resolved in turn into the Problem's fields; each
    step's helper checks its own keys)
    """
    src = model.source
    if instance is None:
        instance = load_instance(model.instance_path, **asdict(model.instance_options))
    if model.statistics is not None:  # the planner's own figures for this run
        instance = read_statistics(model.statistics, instance)
    refs = _Refs(instance, src)
    links = [(refs.one(a, "contiguity.links"), refs.one(b, "contiguity.links"))
             for a, b in model.links]
    for a, b in links:
        if a == b:
            raise ModelError(f"{src}: 'contiguity.links' links {instance.label(a)} to itself")
    inst = instance.with_links(links)
    refs = _Refs(inst, src)
    n = inst.n
    candidates = np.ones(n, dtype=bool)
    if model.candidate_leads is not None:
        candidates[:] = False
        candidates[refs.many(model.candidate_leads, "areas.candidate_leads")] = True
    fixed = list(dict.fromkeys(refs.many(model.fixed_leads, "areas.fixed_leads")))
    locks = {refs.one(i, f"locks.{i}"): refs.one(j, f"locks.{i}") for i, j in model.locks.items()}
    self_only = refs.many(model.self_only, "areas.self_only")
    lead_base = np.full(n, model.objective.fixed_cost_per_area)
    for ref, value in model.lead_costs.items():
        lead_base[refs.one(ref, f"lead_costs.{ref}")] = value
    organiser, organiser_area, organiser_floors = _organiser(model, inst, refs)
    if organiser is not None:
        fixed = list(dict.fromkeys((organiser, *fixed)))
        if model.organiser.own_area == "alone":
            self_only.append(organiser)
    rates = cost_rates(model.catalogue, inst, organiser_area, f"{src}: 'services.catalogue'")
    floors, caps = _floors_and_caps(model, inst, rates)
    exemptions = _bind_exemptions(model, inst, floors) if model.exemptions.enabled else None
    cost = _travel_cost(model, inst)
    _within(float(lead_base.max()) * n, "objective.fixed_cost_per_area",
            "(or a lead cost) gives fixed costs of up to", src)
    k_min, k_max, notes = _clamped_count(model, int(candidates.sum()))
    if inst.metric == "file":  # every output says what the travel figures are
        notes = (*notes, f"travel: {inst.distance_source}")
    allowed = np.repeat(candidates[None, :], n, axis=0) & np.isfinite(inst.distance)
    if model.max_distance_km is not None:
        allowed &= inst.km <= model.max_distance_km
    if model.max_minutes is not None:
        allowed &= inst.minutes <= model.max_minutes
    for i, j in locks.items():
        allowed[i, :] = False
        allowed[i, j] = True
    reference = None
    if model.reference is not None:
        reference = reference_areas(read_plan(model.reference.path, inst),
                                    str(model.reference.path))
    limits = dict(model.limits)
    if exemptions is not None and exemptions.max is not None:
        limits["exemptions"] = float(exemptions.max)
    if model.reference is not None and model.reference.max_moves is not None:
        limits["moves"] = float(model.reference.max_moves)
    sales = bind_orders(model.orders, model.catalogue, refs.one, n, organiser is not None, src)
    if sales.per_area:  # every regional area buys these from the organiser
        regional = organiser_area.copy()
        regional[organiser] = False
        lead_base = lead_base + sales.per_area * regional
    subsidy, bound, available = _money(model, inst, rates, organiser_area)
    groups = bind_groups(inst, model.keep_whole, model.split_cost, organiser=organiser,
                         alone=model.organiser is not None and
                         model.organiser.own_area == "alone", inside=organiser_area,
                         source=src)
    return Problem(
        model=model, instance=inst, k_min=k_min, k_max=k_max, notes=notes,
        candidates=candidates, fixed=tuple(fixed), locks=locks, floors=tuple(floors),
        caps=tuple(caps), allowed=allowed, cost=cost,
        fixed_cost=model.objective.fixed_cost_per_area, contiguity=model.contiguity,
        organiser=organiser, organiser_area=organiser_area,
        organiser_floors=tuple(organiser_floors), self_only=tuple(dict.fromkeys(self_only)),
        separate=_separate(model, inst, refs), lead_base=lead_base, rates=rates,
        subsidy=subsidy, deficit_bound=bound, exemptions=exemptions, reference=reference,
        limits=limits, available=available, groups=groups, sales=sales,
        benefit=None if model.finance is None or model.finance.benefit is None
        else benefit_inputs(model.finance.benefit, inst, src),
        provenance=_provenance(model),
    )


def _provenance(model: PlanningModel) -> dict:
    """Where the figures of the model's files come from (their `year`, `source` columns)."""
    out = {}
    if model.finance is not None and model.finance.subsidy.file is not None:
        out["subsidy"] = subsidy_source(model.finance.subsidy.file)
    return out


def _separate(model: PlanningModel, inst: Instance, refs: _Refs) -> tuple[tuple[int, int], ...]:
    """The pairs that may never share an area, as sorted position pairs."""
    out = []
    for a, b in model.separate:
        pair = (refs.one(a, "areas.separate"), refs.one(b, "areas.separate"))
        if pair[0] == pair[1]:
            raise ModelError(f"{model.source}: 'areas.separate' keeps {inst.label(pair[0])} "
                             "apart from itself")
        out.append(tuple(sorted(pair)))
    return tuple(dict.fromkeys(out))


def _organiser(model: PlanningModel, inst: Instance, refs: _Refs
               ) -> tuple[int | None, np.ndarray | None, list[Bound]]:
    """The organiser's position, the mask of the municipalities it organises for, and the
    law's floors on that area (None, None, [] without an organiser)."""
    org = model.organiser
    if org is None:
        return None, None, []
    organiser = refs.one(org.municipality, "organiser.municipality")
    area = np.ones(inst.n, dtype=bool)
    if org.area is not None:
        area[:] = False
        area[refs.many(org.area, "organiser.area")] = True
        if not area[organiser]:
            raise ModelError(f"{model.source}: 'organiser.area' must include the organiser "
                             f"{inst.label(organiser)}")
    floors = [Bound(attr, _amounts(inst, attr, f"organiser.floors.{attr}", model.source),
                    limit, f"organiser floor {attr}") for attr, limit in org.floors.items()]
    return organiser, area, floors


def _floors_and_caps(model: PlanningModel, inst: Instance, rates: CostRates
                     ) -> tuple[list[Bound], list[Bound]]:
    """Every floor and cap on an area: `[floors]`, `[caps]`, the balance rule and the
    staffing floor (in FTE when the catalogue's services need staff too)."""
    src = model.source

    def bounds(table: Mapping[str, float], kind: str) -> list[Bound]:
        return [Bound(attr, _amounts(inst, attr, f"{kind}.{attr}", src), limit,
                      f"{kind[:-1]} {attr}") for attr, limit in table.items()]

    floors = bounds(model.floors, "floors")
    caps = bounds(model.caps, "caps")
    if model.balance is not None:
        floor, cap = _balance_bounds(model, inst)
        floors.append(floor)
        caps.append(cap)
    st = model.staffing
    if st is None:
        if rates.has_area_staff or rates.area_per_fte or rates.common_per_fte:
            raise ModelError(f"{src}: 'services.catalogue': its production-area services "
                             "need staff or are priced per FTE, which needs a [staffing] table")
        return floors, caps
    values = _amounts(inst, st.attribute, "staffing.attribute", src)
    _within(float(values.sum()) / st.caseload, "staffing.caseload",
            "makes the staff of all areas", src)
    _within(st.min_fte * st.caseload, "staffing.min_fte", "times the caseload is", src)
    most_fte = values.sum() / st.caseload + inst.n * (st.min_fte + 1)  # Σ over ≤ n areas
    _within(st.cost_per_fte * most_fte, "staffing.cost_per_fte",
            "makes a staff cost of up to", src)
    exemptable = "staffing" in (model.exemptions.floors or ())
    if st.min_fte > 0 and not rates.has_area_staff:
        floors.append(Bound(st.attribute, values, st.min_fte * st.caseload,
                            f"staffing ({st.min_fte:g} FTE × caseload {st.caseload:g})",
                            exemptable=exemptable))
    elif st.min_fte > 0:
        # In FTE; the row is multiplied by the caseload so its coefficients stay integral.
        floors.append(Bound("staff need (FTE)", values / st.caseload + rates.area_staff,
                            st.min_fte, f"staffing: {st.min_fte:g} FTE at caseload "
                            f"{st.caseload:g} with the services' staff",
                            scale=st.caseload, offset=rates.area_staff_fixed,
                            exemptable=exemptable))
    return floors, caps


def _travel_cost(model: PlanningModel, inst: Instance) -> np.ndarray:
    """cost[i, j] = price × weight_i × d_ij^power (the travel term): the price per weighted
    km, or per weighted minute with a travel-time file in minutes; a pair without a route
    costs nothing here (it is not allowed)."""
    obj = model.objective
    if obj.travel_weight is None or obj.travel_weight == "":
        weight = np.ones(inst.n)
    else:
        weight = _amounts(inst, obj.travel_weight, "objective.travel_weight", model.source)
    minutes = inst.distance_unit == "minutes"
    price = obj.cost_per_weighted_minute if minutes else obj.cost_per_weighted_km
    price = 1.0 if price is None else price
    dist = np.where(np.isfinite(inst.distance), inst.distance, 0.0)
    cost = price * weight[:, None] * dist**obj.distance_power
    _within(float(cost.max()), f"objective.cost_per_weighted_{'minute' if minutes else 'km'}",
            "gives a travel cost (× weight × distance) of", model.source)
    return cost


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




def _money(model: PlanningModel, inst: Instance, rates: CostRates,
           organiser_area: np.ndarray | None
           ) -> tuple[np.ndarray | None, DeficitBound | None, np.ndarray | None]:
    """Subsidies (cents), the deficit bound of the objective's variant if asked for, and the
    euros each municipality brings its area (subsidy less a share to the organiser fixed in
    advance; None when the share depends on the plan)."""
    terms = model.finance
    if terms is None:
        return None, None, None
    if organiser_area is None and (terms.surplus_reward < 1 or terms.sanction_per_missing_fte
                                   or terms.sanction_per_excess_jobseeker):
        raise ModelError(f"{model.source}: '{terms.contract_key}' pays surpluses and sanctions "
                         "to the organiser, but the model has no [organiser]")
    st = model.staffing
    if st is not None:  # sanctions in cents must fit an int64 however the plan falls
        need = float(inst.attribute(st.attribute).sum())
        _within(terms.sanction_per_missing_fte * inst.n * (st.min_fte + 1),
                f"{terms.contract_key}.sanction_per_missing_fte", "gives sanctions of up to",
                model.source)
        _within(terms.sanction_per_excess_jobseeker * need,
                f"{terms.contract_key}.sanction_per_excess_jobseeker",
                "gives sanctions of up to", model.source)
    subsidy = subsidies(terms.subsidy, inst, model.source)
    equal = terms.key_values(terms.equalise_by, inst, subsidy, "finance.equalisation.key",
                             model.source)
    if terms.equalise_within != AREA:
        _amounts(inst, terms.equalise_within, "finance.equalisation.unit", model.source)
    if terms.cost_key not in COST_KEYS:
        _amounts(inst, terms.cost_key, "finance.equalisation.cost_key", model.source)
    if terms.share_key is not None:
        terms.key_values(terms.share_key, inst, subsidy, "finance.organiser_share.key",
                         model.source)
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
        key = None if terms.share_key is None else terms.key_values(
            terms.share_key, inst, subsidy, "finance.organiser_share.key", model.source)
        common = to_cents(rates.common_cost(0, 0, st.cost_per_fte if st else 0.0,
                                            st is None or st.whole_fte))
        share = terms.organiser_shares(subsidy, common, key, organiser_area)
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

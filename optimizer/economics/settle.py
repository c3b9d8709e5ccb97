"""Who pays what under a plan: every euro per municipality, to the cent.

The slides' money rules, in order: every municipality receives its subsidy
and pays the organiser a share for the common work; the rest of its subsidy
goes to its production area. An area whose production costs more than those
subsidies has a deficit, which its municipalities equalise by a key; an area
with a surplus keeps the reward share of it (by the same key) and returns the
rest to the organiser. Sanctions (staff need below the floor, caseload above
the agreed maximum) are paid to the organiser by the area's municipalities.
The organiser's result (shares + returns + sanctions − common cost) stays with
the organiser municipality or is shared by its area's municipalities.

The deficit or surplus is settled within each production area, or, with
`finance.equalisation.unit` naming a grouping such as the official sub-region
(`subregion`, the slides' "seutukunnittain"), within each group of it: every area's
cost is then attributed to its municipalities (by the costs they drive, or by
`finance.equalisation.cost_key`), and a group's deficit is its municipalities'
attributed costs less their subsidies after the organiser's share, whatever areas
they are in. The groups are those of `model/groups.py` (the organiser producing
alone is a unit of its own).

All amounts are integer cents; every split uses the largest-remainder method,
so each column balances exactly:
Σ net = Σ subsidy − Σ production cost − common cost.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, replace
from fractions import Fraction

import numpy as np

from ..data.plan import OUTSIDE, UNASSIGNED, Plan
from ..errors import FinanceError
from ..model.groups import groups_of
from ..model.problem import Problem
from .benefit import BenefitMoney, settle_benefit
from .cents import MAX_CENTS, allocate, format_cents, money, round_fraction, to_cents
from .contract import AREA, FinanceTerms


@dataclass(frozen=True)
class MunicipalityMoney:
    """One municipality's year in cents: received `subsidy`; paid `to_organiser` and
    `to_area`; `equalisation` its share of the area's deficit (> 0, pays) or of the
    surplus kept (< 0, receives); `sanctions` paid; `organiser_result` its part of the
    organiser's result; `net` = −equalisation − sanctions + organiser_result."""

    code: str
    name: str
    lead_code: str
    lead_name: str
    subsidy: int
    to_organiser: int
    to_area: int
    equalisation: int
    sanctions: int
    organiser_result: int
    net: int
    purchases: int = 0
    """Paid to the organiser for services it sells (on-demand lines), outside `net`."""


@dataclass(frozen=True)
class AreaMoney:
    """One production area in cents: `production_cost` against `subsidy` (its members'
    subsidies less their shares to the organiser); `balance` = subsidy − cost (< 0 a
    deficit); `equalised` what its members pay (> 0) or keep (< 0); `returned` the
    surplus returned to the organiser; `sanctions` paid to the organiser."""

    lead_code: str
    lead_name: str
    members: tuple[str, ...]
    jobseekers: float
    fte: float | None
    staff_need: float | None
    production_cost: int
    subsidy: int
    balance: int
    equalised: int
    returned: int
    sanctions: int
    outside: bool = False


@dataclass(frozen=True)
class UnitMoney:
    """One unit of equalisation other than the area (an official sub-region, say), in
    cents: its municipalities' attributed `cost` against their `subsidy` (after the
    organiser's shares); `equalised` what they pay (> 0) or keep (< 0); `returned` the
    surplus returned to the organiser; `areas` the leads of the areas it is in."""

    name: str
    members: tuple[str, ...]
    areas: tuple[str, ...]
    cost: int
    subsidy: int
    balance: int
    equalised: int
    returned: int


@dataclass(frozen=True)
class SaleRow:
    """An order the organiser sells: `service`, who buys (a municipality, or each regional
    area), `quantity` units a year of `unit` at `price` €; `amount` cents in all."""

    service: str
    buyer: str
    quantity: float
    unit: str
    price: float
    amount: int


@dataclass(frozen=True)
class OrganiserMoney:
    code: str
    name: str
    municipalities: int
    common_cost: int
    fte: float
    shares: int
    returned: int
    sanctions: int
    result: int
    settled_by: str
    sales: int = 0
    """Revenue from the services it sells (at cost: its cost of producing them is equal)."""


@dataclass(frozen=True)
class Finance:
    """The settlement of one plan. Amounts are cents; `rows()`, `area_rows()` and
    `to_pandas()` give euros."""

    municipalities: tuple[MunicipalityMoney, ...]
    areas: tuple[AreaMoney, ...]
    organiser: OrganiserMoney | None
    equalise_by: str
    share_rule: str
    lines: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    equalise_within: str = AREA
    """"area", or the attribute whose groups equalise deficits (e.g. "subregion")."""
    units: tuple[UnitMoney, ...] = ()
    """The units of equalisation when they are not the areas (empty otherwise)."""
    cost_key: str = "services"
    benefit: BenefitMoney | None = None
    """The law's incentive per municipality (with [finance.benefit_share])."""
    sales: tuple[SaleRow, ...] = ()
    """One row per order the organiser sells: buyer, units, price, amount."""

    @property
    def total_subsidy(self) -> int:
        return sum(m.subsidy for m in self.municipalities)

    @property
    def total_production(self) -> int:
        return sum(a.production_cost for a in self.areas)

    @property
    def common_cost(self) -> int:
        return self.organiser.common_cost if self.organiser else 0

    @property
    def total_net(self) -> int:
        return sum(m.net for m in self.municipalities)

    def largest_payer(self) -> MunicipalityMoney:
        """The municipality with the most negative net position."""
        return min(self.municipalities, key=lambda m: (m.net, m.code))

    def largest_receiver(self) -> MunicipalityMoney:
        return max(self.municipalities, key=lambda m: (m.net, m.code))

    def rows(self) -> list[dict]:
        """Per municipality, amounts in euros (what `finance.csv` holds)."""
        out = []
        for m in self.municipalities:
            d = asdict(m)
            for k in _MONEY_FIELDS:
                d[k] = d[k] / 100
            out.append(d)
        return out

    def area_rows(self) -> list[dict]:
        out = []
        for a in self.areas:
            d = asdict(a)
            d["members"] = list(a.members)
            for k in ("production_cost", "subsidy", "balance", "equalised", "returned",
                      "sanctions"):
                d[k] = d[k] / 100
            out.append(d)
        return out

    def to_pandas(self):
        """The per-municipality table as a pandas DataFrame (euros)."""
        import pandas as pd

        return pd.DataFrame(self.rows())

    def extra_columns(self) -> dict[str, list[int]]:
        """finance.csv's columns beyond the settlement's, cents per municipality: the
        services bought from the organiser, the law's incentive (when the model has them)."""
        out: dict[str, list[int]] = {}
        if self.sales:
            out["purchases"] = [m.purchases for m in self.municipalities]
        if self.benefit is not None:
            for k in ("cost", "effect", "compensation", "net"):
                out[f"benefit_{k}"] = [getattr(r, k) for r in self.benefit.rows]
        return out

    def to_csv(self) -> str:
        """`finance.csv`: one row per municipality, euros with two decimals, then a total."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        extra = self.extra_columns()
        head = ["code", "name", "lead_code", "lead_name", *(f"{k}_eur" for k in _MONEY_FIELDS),
                *(f"{k}_eur" for k in extra)]
        w.writerow(head)
        for i, m in enumerate(self.municipalities):
            w.writerow([m.code, m.name, m.lead_code, m.lead_name,
                        *(format_cents(getattr(m, k)) for k in _MONEY_FIELDS),
                        *(format_cents(v[i]) for v in extra.values())])
        w.writerow(["total", "", "", "", *(format_cents(sum(getattr(m, k)
                                                              for m in self.municipalities))
                                           for k in _MONEY_FIELDS),
                    *(format_cents(sum(v)) for v in extra.values())])
        return buf.getvalue()

    def summary(self) -> dict:
        """For summary.json: totals, the organiser, the areas and the municipalities."""
        org = None
        if self.organiser is not None:
            org = asdict(self.organiser)
            for k in ("common_cost", "shares", "returned", "sanctions", "result"):
                org[k] = org[k] / 100
        units = []
        for u in self.units:
            d = asdict(u)
            d["members"], d["areas"] = list(u.members), list(u.areas)
            for k in ("cost", "subsidy", "balance", "equalised", "returned"):
                d[k] = d[k] / 100
            units.append(d)
        return {
            "equalise_by": self.equalise_by, "equalise_within": self.equalise_within,
            "cost_attributed_by": self.cost_key if self.units else None, "units": units,
            "organiser_share": self.share_rule,
            "total_subsidy": self.total_subsidy / 100,
            "total_production_cost": self.total_production / 100,
            "common_cost": self.common_cost / 100, "total_net": self.total_net / 100,
            "organiser": org, "areas": self.area_rows(), "municipalities": self.rows(),
            "incentives_and_sanctions": list(self.lines), "notes": list(self.notes),
            "sales": [asdict(r) | {"amount": r.amount / 100} for r in self.sales],
            "benefit_share": None if self.benefit is None else {
                "derived": self.benefit.derived, "lines": list(self.benefit.lines),
                "municipalities": [{**asdict(r), **{k: getattr(r, k) / 100 for k in
                                                    ("cost", "effect", "compensation", "net")}}
                                   for r in self.benefit.rows]},
        }


_MONEY_FIELDS = ("subsidy", "to_organiser", "to_area", "equalisation", "sanctions",
                 "organiser_result", "net")






def settle(problem: Problem, plan: Plan) -> Finance:
    """Who pays what under `plan` (any plan: leads outside the instance are costed on
    their part inside, as an area of its own).

    (long: the steps of the module docstring in order, each amount in one array that the
    next step and the rows read: shares, areas, units, the organiser, the municipalities)
    """
    terms = problem.model.finance
    inst = problem.instance
    if terms is None or problem.subsidy is None:
        raise FinanceError(f"{problem.model.source}: the model has no [finance] table, so "
                           "nothing says who pays what")
    lead = plan.lead
    missing = np.flatnonzero(lead == UNASSIGNED)
    if len(missing):
        raise FinanceError(f"the plan leaves {inst.label(int(missing[0]))} out of every "
                           "area; who pays what needs every municipality in an area")
    s = problem.subsidy.astype(np.int64)
    _bounded(sum(int(c) for c in s), "the subsidies")
    equal = terms.key_values(terms.equalise_by, inst, s, "finance.equalisation.key",
                             problem.model.source)
    inside = problem.in_organiser_area
    areas = plan.areas()
    notes: list[str] = []
    lines: list[str] = []
    org = problem.organiser

    common = org_fte = 0
    share_key = None
    if org is not None:
        common = to_cents(problem.common_cost(areas, plan.exempt))
        n_inside = sum(1 for k in areas if isinstance(k, int) and inside[k])
        org_fte = problem.rates.common_fte(n_inside, problem.whole_fte)
        if terms.share_key is not None:
            share_key = terms.key_values(terms.share_key, inst, s,
                                         "finance.organiser_share.key", problem.model.source)
    _bounded(common, "the organiser's common cost")
    to_org = terms.organiser_shares(s, common, share_key, inside) if org is not None \
        else np.zeros(inst.n, dtype=np.int64)
    to_area = s - to_org
    equalisation = np.zeros(inst.n, dtype=np.int64)
    sanctions = np.zeros(inst.n, dtype=np.int64)
    area_money = []
    by_unit = terms.equalise_within != AREA
    for key, members in areas.items():
        m = np.asarray(members, dtype=np.int64)
        if isinstance(key, str):
            code, name = plan.lead_label(key)
            notes.append(f"{name} ({code}) leads from outside instance {inst.name!r}: its "
                         "part inside is costed as an area of its own")
        money = _area(problem, plan, key, m, int(to_area[m].sum()), [] if by_unit else lines)
        if not by_unit:
            equalisation[m] = allocate(money.equalised, equal[m])  # < 0: a surplus kept
        sanctions[m] = allocate(money.sanctions, equal[m])
        area_money.append(money)
    _bounded(sum(a.production_cost for a in area_money), "the areas' production costs")
    units: tuple[UnitMoney, ...] = ()
    if by_unit:
        units, returned_by = _by_unit(problem, plan, area_money, to_area, equal, equalisation,
                                      lines)
        area_money = [replace(a, equalised=int(equalisation[_positions(inst, a)].sum()),
                              returned=int(returned_by[_positions(inst, a)].sum()))
                      for a in area_money]
    purchases = (to_cents(problem.sales.by_municipality) if problem.sales is not None
                 else np.zeros(inst.n, dtype=np.int64))

    result_share = np.zeros(inst.n, dtype=np.int64)
    organiser = None
    if org is not None:
        shares = int(to_org.sum())
        returned = sum(a.returned for a in area_money)
        fines = int(sanctions.sum())
        result = shares + returned + fines - common
        sold = int(purchases.sum()) + sum(_area_buys(problem, a) for a in area_money)
        if terms.settle == "organiser":
            result_share[org] = result
        else:
            weights = share_key if share_key is not None else s
            result_share[inside] = allocate(result, weights[inside])
        organiser = OrganiserMoney(inst.codes[org], inst.names[org], int(inside.sum()), common,
                                   org_fte, shares, returned, fines, result, terms.settle, sold)
    net = -equalisation - sanctions + result_share
    rows = tuple(
        MunicipalityMoney(inst.codes[i], inst.names[i], *plan.lead_label(plan.lead_key(i)),
                          int(s[i]), int(to_org[i]), int(to_area[i]), int(equalisation[i]),
                          int(sanctions[i]), int(result_share[i]), int(net[i]),
                          int(purchases[i]))
        for i in range(inst.n))
    if (lead == OUTSIDE).any() and org is not None:
        notes.append("the organiser's shares assume it organises for every municipality of "
                     "its area, whoever produces their services")
    rule = (f"{terms.share_percent:g} % of the subsidy" if terms.share_key is None
            else f"common cost by {terms.share_key}")
    return Finance(rows, tuple(area_money), organiser, terms.equalise_by, rule, tuple(lines),
                   tuple(notes), terms.equalise_within, units, terms.cost_key,
                   _benefit(problem, plan, areas), _sales_lines(problem, area_money))


def _benefit(problem: Problem, plan: Plan, areas: dict) -> BenefitMoney | None:
    """The law's incentive under the plan: each area's FTE above the staffing floor."""
    terms = problem.model.finance.benefit
    if terms is None or problem.benefit is None:
        return None
    st = problem.staffing
    rows = []
    for key, members in areas.items():
        fte = problem.fte_of(members, key in plan.exempt) if st is not None else None
        above = 0.0 if fte is None else float(fte) - st.min_fte
        rows.append((plan.lead_label(key)[1], members, above))
    labels = [plan.lead_label(plan.lead_key(i))[1] if plan.lead[i] != UNASSIGNED else ""
              for i in range(problem.n)]
    return settle_benefit(terms, problem.benefit, problem.instance, labels, rows)


def _area_buys(problem: Problem, a: AreaMoney) -> int:
    """Cents a regional area inside the organiser's area pays the organiser for the
    services it orders (part of its production cost)."""
    per = problem.sales.per_area if problem.sales is not None else 0.0
    org = problem.organiser
    if not per or a.outside or org is None:
        return 0
    j = problem.instance.index[a.lead_code]
    return to_cents(per) if problem.in_organiser_area[j] and j != org else 0


def _sales_lines(problem: Problem, area_money: list[AreaMoney]) -> tuple[SaleRow, ...]:
    """One row per order: who buys how many units of what, at what price, for how much."""
    sales = problem.sales
    if sales is None or not sales.orders:
        return ()
    regional = [a for a in area_money if _area_buys(problem, a)]
    out = []
    for o in sales.orders:
        if o.buyer is None:
            who = f"each regional area ({len(regional)})"
            total = len(regional) * to_cents(o.amount)
        else:
            who, total = problem.instance.names[o.buyer], to_cents(o.amount)
        out.append(SaleRow(o.service, who, o.quantity, o.unit, o.price, total))
    return tuple(out)


def _positions(inst, area: AreaMoney) -> np.ndarray:
    return np.array([inst.index[c] for c in area.members], dtype=np.int64)


def cost_weights(problem: Problem) -> np.ndarray:
    """How an area's production cost is attributed to its municipalities when deficits are
    equalised in units other than the areas: by `finance.equalisation.cost_key`, or by the
    costs each municipality drives ("services": its regional services and its staff need at
    the price of an FTE)."""
    terms, inst = problem.model.finance, problem.instance
    if terms.cost_key != "services":
        return inst.attribute(terms.cost_key)
    weights = np.array(problem.rates.area_variable, dtype=float)
    st = problem.staffing
    if st is not None and problem.production_fte_price:
        need = inst.attribute(st.attribute) / st.caseload + problem.rates.area_staff
        weights = weights + problem.production_fte_price * need
    return weights


def _units(problem: Problem) -> list[tuple[str, np.ndarray]]:
    """The units of equalisation: each group of the unit attribute, and every municipality
    in none on its own."""
    inst, org = problem.instance, problem.model.organiser
    groups = groups_of(inst, problem.model.finance.equalise_within,
                       organiser=problem.organiser,
                       alone=org is not None and org.own_area == "alone",
                       inside=problem.organiser_area)
    out = [(g.name, np.asarray(g.members, dtype=np.int64)) for g in groups]
    grouped = {i for g in groups for i in g.members}
    out += [(inst.names[i] + (" (the organiser's own area)" if i == problem.organiser
                              else " (in no group)"), np.array([i]))
            for i in range(inst.n) if i not in grouped]
    return out


def _by_unit(problem: Problem, plan: Plan, area_money: list[AreaMoney], to_area: np.ndarray,
             equal: np.ndarray, equalisation: np.ndarray, lines: list[str]
             ) -> tuple[tuple[UnitMoney, ...], np.ndarray]:
    """Deficits and surpluses settled within each unit (`finance.equalisation.unit`): the
    areas' costs attributed to their municipalities, each unit's balance equalised among its
    own (filled into `equalisation`); also the surplus each municipality returns."""
    inst = problem.instance
    weights = cost_weights(problem)
    attributed = np.zeros(inst.n, dtype=np.int64)
    for a in area_money:
        m = _positions(inst, a)
        attributed[m] = allocate(a.production_cost, weights[m])
    returned_by = np.zeros(inst.n, dtype=np.int64)
    units = []
    for name, m in _units(problem):
        cost, subsidy = int(attributed[m].sum()), int(to_area[m].sum())
        equalised, returned = _balance(problem.model.finance, subsidy - cost, name, lines)
        equalisation[m] = allocate(equalised, equal[m])
        returned_by[m] = allocate(returned, equal[m])
        leads = tuple(dict.fromkeys(plan.lead_label(plan.lead_key(int(i)))[1] for i in m))
        units.append(UnitMoney(name, tuple(inst.codes[i] for i in m), leads, cost, subsidy,
                               subsidy - cost, equalised, returned))
    return tuple(units), returned_by


def _balance(terms: FinanceTerms, balance: int, label: str,
             lines: list[str]) -> tuple[int, int]:
    """A unit's balance settled: a deficit paid by its members (equalised > 0), a surplus
    kept by them at the reward share (equalised < 0) and the rest returned to the organiser;
    a line for each surplus returned."""
    if balance < 0:
        return -balance, 0
    kept = round_fraction(Fraction(terms.surplus_reward) * balance)  # exact, half away
    returned = balance - kept
    if returned:
        lines.append(f"{label}: surplus {_money(balance)}, {100 * terms.surplus_reward:g} % "
                     f"kept as a reward ({_money(kept)}), {_money(returned)} returned to the "
                     "organiser")
    return -kept, returned


def _bounded(cents: int, what: str) -> None:
    """Refuse amounts beyond what a settlement keeps exact to the cent (`MAX_CENTS`)."""
    if abs(cents) > MAX_CENTS:
        raise FinanceError(f"{what}: {money(cents)} € in all, more than {money(MAX_CENTS)} €; "
                           "amounts that large cannot be settled to the cent")


def _area(problem: Problem, plan: Plan, key, m: np.ndarray, subsidy: int,
          lines: list[str]) -> AreaMoney:
    """One production area's money in cents: its cost against its members' subsidies (after
    the organiser's shares), the deficit its members pay or the surplus they keep (the rest
    returned to the organiser), and its sanctions; a line for each surplus returned."""
    terms = problem.model.finance
    outside = isinstance(key, str)
    code, name = plan.lead_label(key)
    label = f"{name} ({code})" + (" (its part inside)" if outside else "")
    exempt = key in plan.exempt
    cost = to_cents(problem.production_cost(m, None if outside else key, exempt))
    balance = subsidy - cost
    equalised, returned = _balance(terms, balance, label, lines)
    fine, need, fte = _sanction(problem, terms, m, label, lines, exempt)
    st = problem.staffing
    js = float(problem.instance.attribute(st.attribute)[m].sum()) if st else 0.0
    return AreaMoney(code, name, tuple(problem.instance.codes[i] for i in m), js, fte, need,
                     cost, subsidy, balance, int(equalised), returned, fine, outside)


def _sanction(problem: Problem, terms: FinanceTerms, m: np.ndarray, label: str,
              lines: list[str], exempt: bool = False) -> tuple[int, float | None, int | None]:
    """The area's sanctions in cents (staff need below the floor; caseload above the
    agreed maximum), one line each; also its staff need and FTE."""
    st = problem.staffing
    if st is None:
        return 0, None, None
    js = float(problem.instance.attribute(st.attribute)[m].sum())
    need = problem.staff_need(m)
    fte = problem.fte_of(m, exempt)
    fine = 0
    if terms.sanction_per_missing_fte and need < st.min_fte - 1e-9:
        amount = to_cents(terms.sanction_per_missing_fte * (st.min_fte - need))
        lines.append(f"{label}: staff need {need:.2f} FTE below the floor of "
                     f"{st.min_fte:g} FTE: sanction {st.min_fte - need:.2f} × "
                     f"{terms.sanction_per_missing_fte:,.0f} € = {_money(amount)}")
        fine += amount
    if terms.max_caseload is not None and terms.sanction_per_excess_jobseeker and fte:
        excess = js - terms.max_caseload * fte
        if excess > 1e-9:
            amount = to_cents(terms.sanction_per_excess_jobseeker * excess)
            lines.append(f"{label}: {js / fte:.1f} jobseekers per FTE above the agreed "
                         f"{terms.max_caseload:g}: sanction {excess:,.1f} × "
                         f"{terms.sanction_per_excess_jobseeker:,.0f} € = {_money(amount)}")
            fine += amount
    return fine, need, fte


def _money(cents: int) -> str:
    return f"{money(cents, decimals=True)} €"

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

All amounts are integer cents; every split uses the largest-remainder method,
so each column balances exactly:
Σ net = Σ subsidy − Σ production cost − common cost.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from ..data.plan import OUTSIDE, UNASSIGNED, Plan
from ..errors import FinanceError
from ..model.problem import Problem
from .cents import MAX_CENTS, allocate, format_cents, money, round_fraction, to_cents
from .contract import FinanceTerms


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

    def to_csv(self) -> str:
        """`finance.csv`: one row per municipality, euros with two decimals, then a total."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        head = ["code", "name", "lead_code", "lead_name", *(f"{k}_eur" for k in _MONEY_FIELDS)]
        w.writerow(head)
        for m in self.municipalities:
            w.writerow([m.code, m.name, m.lead_code, m.lead_name,
                        *(format_cents(getattr(m, k)) for k in _MONEY_FIELDS)])
        w.writerow(["total", "", "", "", *(format_cents(sum(getattr(m, k)
                                                              for m in self.municipalities))
                                           for k in _MONEY_FIELDS)])
        return buf.getvalue()

    def summary(self) -> dict:
        """For summary.json: totals, the organiser, the areas and the municipalities."""
        org = None
        if self.organiser is not None:
            org = asdict(self.organiser)
            for k in ("common_cost", "shares", "returned", "sanctions", "result"):
                org[k] = org[k] / 100
        return {
            "equalise_by": self.equalise_by, "organiser_share": self.share_rule,
            "total_subsidy": self.total_subsidy / 100,
            "total_production_cost": self.total_production / 100,
            "common_cost": self.common_cost / 100, "total_net": self.total_net / 100,
            "organiser": org, "areas": self.area_rows(), "municipalities": self.rows(),
            "incentives_and_sanctions": list(self.lines), "notes": list(self.notes),
        }


_MONEY_FIELDS = ("subsidy", "to_organiser", "to_area", "equalisation", "sanctions",
                 "organiser_result", "net")






def settle(problem: Problem, plan: Plan) -> Finance:
    """Who pays what under `plan` (any plan: leads outside the instance are costed on
    their part inside, as an area of its own)."""
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
        common = to_cents(problem.common_cost(areas))
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
    for key, members in areas.items():
        m = np.asarray(members, dtype=np.int64)
        if isinstance(key, str):
            code, name = plan.lead_label(key)
            notes.append(f"{name} ({code}) leads from outside instance {inst.name!r}: its "
                         "part inside is costed as an area of its own")
        money = _area(problem, plan, key, m, int(to_area[m].sum()), lines)
        equalisation[m] = allocate(money.equalised, equal[m])  # < 0: a surplus kept
        sanctions[m] = allocate(money.sanctions, equal[m])
        area_money.append(money)
    _bounded(sum(a.production_cost for a in area_money), "the areas' production costs")
    result_share = np.zeros(inst.n, dtype=np.int64)
    organiser = None
    if org is not None:
        shares = int(to_org.sum())
        returned = sum(a.returned for a in area_money)
        fines = int(sanctions.sum())
        result = shares + returned + fines - common
        if terms.settle == "organiser":
            result_share[org] = result
        else:
            weights = share_key if share_key is not None else s
            result_share[inside] = allocate(result, weights[inside])
        organiser = OrganiserMoney(inst.codes[org], inst.names[org], int(inside.sum()), common,
                                   org_fte, shares, returned, fines, result, terms.settle)
    net = -equalisation - sanctions + result_share
    rows = tuple(
        MunicipalityMoney(inst.codes[i], inst.names[i], *plan.lead_label(plan.lead_key(i)),
                          int(s[i]), int(to_org[i]), int(to_area[i]), int(equalisation[i]),
                          int(sanctions[i]), int(result_share[i]), int(net[i]))
        for i in range(inst.n))
    if (lead == OUTSIDE).any() and org is not None:
        notes.append("the organiser's shares assume it organises for every municipality of "
                     "its area, whoever produces their services")
    rule = (f"{terms.share_percent:g} % of the subsidy" if terms.share_key is None
            else f"common cost by {terms.share_key}")
    return Finance(rows, tuple(area_money), organiser, terms.equalise_by, rule, tuple(lines),
                   tuple(notes))


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
    cost = to_cents(problem.production_cost(m, None if outside else key))
    balance = subsidy - cost
    returned = 0
    equalised = -balance
    if balance >= 0:
        kept = round_fraction(Fraction(terms.surplus_reward) * balance)
        equalised = -kept
        returned = balance - kept
        if returned:
            lines.append(f"{label}: surplus {_money(balance)}, "
                         f"{100 * terms.surplus_reward:g} % kept as a reward "
                         f"({_money(kept)}), {_money(returned)} returned to the organiser")
    fine, need, fte = _sanction(problem, terms, m, label, lines)
    st = problem.staffing
    js = float(problem.instance.attribute(st.attribute)[m].sum()) if st else 0.0
    return AreaMoney(code, name, tuple(problem.instance.codes[i] for i in m), js, fte, need,
                     cost, subsidy, balance, int(equalised), returned, fine, outside)


def _sanction(problem: Problem, terms: FinanceTerms, m: np.ndarray, label: str,
              lines: list[str]) -> tuple[int, float | None, int | None]:
    """The area's sanctions in cents (staff need below the floor; caseload above the
    agreed maximum), one line each; also its staff need and FTE."""
    st = problem.staffing
    if st is None:
        return 0, None, None
    js = float(problem.instance.attribute(st.attribute)[m].sum())
    need = problem.staff_need(m)
    fte = problem.fte_of(m)
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

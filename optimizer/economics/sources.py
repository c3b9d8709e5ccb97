"""Every money input of a bound model with its source and year, and the illustrative banner.

`money_sources(problem)` gives one line per kind of input the model uses
(`economics/provenance.KINDS`: the subsidies, the organiser's share, staffing, staff
pay, the costs of an area, travel, the services, the contract, the law's incentive,
the organiser's sales), each with its value in words, its source and its year, and one
line per figure of the data (population, labour force, jobseekers, ...) with the year
and source the instance or a statistics overlay gives. The banner names every money
input that is illustrative or of no stated source; there is none when every input is
cited. The terminal, summary.json, finance_sources.csv and the report all print these
(`output/sources.py`), so a figure that leaves the program says where it comes from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..model.problem import Problem
from .provenance import BY_KEY, Source, sources_of, years

DATA_FIGURES = ("population", "labour_force", "jobseekers", "working_age_population",
                "foreign_language_share", "long_term_unemployed")
"""Figures of the data whose year and source are printed when the model uses them."""


@dataclass(frozen=True)
class SourceLine:
    """One input: its kind (a key of `KINDS`, or `data`), what it is, its value in words,
    where it comes from and the year it describes; whether it is illustrative."""

    kind: str
    label: str
    value: str
    source: str
    year: str
    illustrative: bool

    def as_dict(self) -> dict:
        return asdict(self)

    def words(self) -> str:
        """`label: value — source (year)` for a terminal line."""
        src = Source(self.source, self.year).words()
        return f"{self.label}: {self.value} — {src}"


@dataclass(frozen=True)
class MoneySources:
    """The money inputs' lines, the data's lines, and the banner (None: all cited)."""

    money: tuple[SourceLine, ...]
    data: tuple[SourceLine, ...]

    def __bool__(self) -> bool:
        """Whether the model has money to source at all."""
        return bool(self.money)

    @property
    def illustrative(self) -> tuple[SourceLine, ...]:
        return tuple(x for x in self.money if x.illustrative)

    @property
    def banner(self) -> str | None:
        """'Illustrative figures: ...' naming every illustrative money input, or None."""
        ill = self.illustrative
        if not ill:
            return None
        return ("Illustrative figures: " + ", ".join(x.label for x in ill) + " are "
                "illustrative or of no stated source. The money shows the mechanics, not a "
                "budget: replace them with the region's own figures before acting on it.")

    def summary(self) -> dict:
        return {"banner": self.banner, "money": [x.as_dict() for x in self.money],
                "data": [x.as_dict() for x in self.data]}


def _line(kind: str, value: str, src: Source) -> SourceLine:
    return SourceLine(kind, BY_KEY[kind].label, value, src.source, src.year, src.illustrative)


def money_sources(problem: Problem) -> MoneySources:
    """The lines of every money input `problem` uses, and of the data figures it uses.

    (long: one short block per kind of input, in the order of KINDS)
    """
    model = problem.model
    given = dict(model.sources)
    given.update({k: v for k, v in problem.provenance.items() if v.source or v.year})
    out: list[SourceLine] = []

    def add(kind: str, value: str, src: Source | None = None) -> None:
        out.append(_line(kind, value, src or given.get(kind, Source())))

    fin = model.finance
    if fin is not None:
        add("subsidy", _subsidy_words(problem))
        if problem.organiser is not None:
            add("organiser_share", f"{fin.share_percent:g} % of each subsidy"
                if fin.share_key is None else f"the common cost split by {fin.share_key}")
    st = model.staffing
    if st is not None:
        add("staffing", f"{st.caseload:g} jobseekers per FTE, at least {st.min_fte:g} FTE "
                        "an area")
        if st.cost_per_fte:
            add("staff_pay", f"{st.cost_per_fte:,.0f} € per FTE a year")
    obj = model.objective
    if obj.fixed_cost_per_area or model.lead_costs:
        leads = ", ".join(f"{_name(problem, ref)} {v:,.0f} €"
                          for ref, v in model.lead_costs.items())
        add("area_costs", f"{obj.fixed_cost_per_area:,.0f} € an area a year"
            + (f"; leads {leads}" if leads else ""))
    unit = problem.instance.distance_unit
    price = obj.cost_per_weighted_minute if unit == "minutes" else obj.cost_per_weighted_km
    if obj.travel_weight:
        add("travel", f"{1.0 if price is None else price:g} € per "
                      f"{obj.travel_weight.rstrip('s')}-{'minute' if unit == 'minutes' else 'km'}")
    if model.catalogue is not None:
        out.append(_services_line(model.catalogue))
    if fin is not None and (fin.surplus_reward < 1 or fin.sanction_per_missing_fte
                            or fin.sanction_per_excess_jobseeker):
        add("contract", _contract_words(fin))
    if fin is not None and fin.benefit is not None:
        out += _benefit_lines(problem, given)
    if problem.sales is not None and problem.sales.orders:
        add("sales", f"{len(problem.sales.orders)} orders at the on-demand lines' prices")
    if all(x.kind in ("travel", "staffing") for x in out):  # no euros besides travel's price
        return MoneySources((), ())
    return MoneySources(tuple(out), _data_lines(problem))


def _name(problem: Problem, ref: str) -> str:
    return problem.instance.names[problem.instance.resolve(ref)]


def _subsidy_words(problem: Problem) -> str:
    sub = problem.model.finance.subsidy
    total = f"{problem.subsidy.sum() / 100:,.0f} €" if problem.subsidy is not None else ""
    if sub.file is not None:
        return f"{total} from {sub.file.name}, one figure per municipality"
    if sub.column is not None:
        return f"{total} from the instance's {sub.column!r}"
    parts = ", ".join(f"{k.replace('_', ' ')} {100 * w:g} %" for k, w in sub.weights.items())
    return f"{total} split by {parts}"


def _contract_words(fin) -> str:
    parts = [f"{100 * fin.surplus_reward:g} % of a surplus kept"]
    if fin.sanction_per_missing_fte:
        parts.append(f"{fin.sanction_per_missing_fte:,.0f} € per FTE below the floor")
    if fin.sanction_per_excess_jobseeker and fin.max_caseload:
        parts.append(f"{fin.sanction_per_excess_jobseeker:,.0f} € per jobseeker above "
                     f"{fin.max_caseload:g} per FTE")
    return "; ".join(parts)


def _services_line(catalogue) -> SourceLine:
    """The catalogue's priced lines: one source when they share it, else how many are
    illustrative."""
    priced = [s for s in catalogue.services if s.priced or s.tier == "on_demand"]
    src = Source(sources_of(s.source for s in priced), years(s.year for s in priced))
    ill = [s for s in priced if Source(s.source, s.year).illustrative]
    name = catalogue.source.rsplit("/", 1)[-1]
    value = f"{len(priced)} priced lines of {name}"
    if len({s.source for s in priced}) > 1:
        src = Source(f"per line: {len(priced) - len(ill)} cited, {len(ill)} illustrative "
                     "or without a source", src.year)
    line = _line("services", value, src)
    return SourceLine(line.kind, line.label, line.value, line.source, line.year, bool(ill))


def _benefit_lines(problem: Problem, given: dict) -> list[SourceLine]:
    terms, inputs = problem.model.finance.benefit, problem.benefit
    bands = ", ".join(f"from day {d} {p:g} %" for d, p in terms.bands)
    out = [_line("benefit_bands", bands, given.get("benefit_bands", Source())),
           _line("benefit_days", inputs.derived.split(";")[0],
                 inputs.days_source if inputs.days_source.source
                 else given.get("benefit_days", Source())),
           _line("benefit_daily", f"{terms.daily_eur:,.2f} € a benefit day",
                 given.get("benefit_daily", Source()))]
    comp = f"{inputs.compensation.sum():,.0f} € a year in all"
    out.append(_line("benefit_compensation", comp, inputs.compensation_source
                     if inputs.compensation_source is not None
                     else given.get("benefit_compensation", Source())))
    if terms.days_saved_per_fte:
        out.append(_line("benefit_effect", f"{terms.days_saved_per_fte:g} benefit days saved a "
                         "year per FTE above the staffing floor",
                         given.get("benefit_effect", Source())))
    return out


def _data_lines(problem: Problem) -> tuple[SourceLine, ...]:
    """The year and source of each data figure the model uses (population, ...)."""
    inst = problem.instance
    meta = inst.metadata.get("attribute_sources", {})
    used = [a for a in DATA_FIGURES if a in inst.attributes]
    out = []
    for attr in used:
        entry = meta.get(attr, {})
        src = Source(str(entry.get("source", "")), str(entry.get("year", "")))
        value = f"{inst.attributes[attr].sum():,.2f}".rstrip("0").rstrip(".") \
            + (" (total)" if attr != "foreign_language_share" else "")
        if attr == "foreign_language_share":
            value = "a share per municipality"
        label = attr.replace("_", " ") + (" (overlay " + entry["file"].rsplit("/", 1)[-1]
                                          + ")" if entry.get("file") else "")
        out.append(SourceLine("data", label, value, src.source, src.year, src.illustrative))
    return tuple(out)

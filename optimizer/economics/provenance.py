"""Where each money input comes from: a citation or "illustrative", and a year.

Every monetary input of a model (the subsidies, the organiser's share, staff pay, the
costs of an area, travel's price, the contract's terms, the law's incentive, the
organiser's sales) names its source in the model's `[sources]` table, one entry per
input kind of `KINDS`; a catalogue line names its own (`source`, `year` columns); a
file of figures (subsidies, statistics, benefit days) names its own in `source` and
`year` columns. An input whose source starts with "illustrative", or that names none,
is illustrative: the outputs print a banner saying so (`economics/sources.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ModelError


@dataclass(frozen=True)
class Kind:
    """A kind of money input: its `[sources]` key, what it is in words, and the model keys
    that set it."""

    key: str
    label: str
    keys: str


KINDS: tuple[Kind, ...] = (
    Kind("subsidy", "state subsidy per municipality", "finance.subsidy"),
    Kind("organiser_share", "share paid to the organiser", "finance.organiser_share"),
    Kind("staffing", "caseload and minimum staff of an area",
         "staffing.caseload, staffing.min_fte"),
    Kind("staff_pay", "staff pay per FTE", "staffing.cost_per_fte"),
    Kind("area_costs", "fixed cost of an area and of its lead",
         "objective.fixed_cost_per_area, lead_costs"),
    Kind("travel", "price of travel", "objective.cost_per_weighted_km (or _minute)"),
    Kind("services", "service unit costs and staff", "the catalogue's lines"),
    Kind("contract", "the agreement's surplus reward and sanctions", "finance.contract"),
    Kind("benefit_bands", "the law's benefit-share bands", "finance.benefit_share.bands"),
    Kind("benefit_days", "benefit days (or euros) per municipality and band",
         "finance.benefit_share.file or .band_shares"),
    Kind("benefit_daily", "benefit per day", "finance.benefit_share.daily_benefit_eur"),
    Kind("benefit_compensation", "the state's fixed yearly compensation",
         "finance.benefit_share.compensation_*"),
    Kind("benefit_effect", "benefit days saved per FTE above the floor",
         "finance.benefit_share.days_saved_per_fte"),
    Kind("sales", "quantities the municipalities buy from the organiser", "services.orders"),
)
"""Every kind of money input, in the order the outputs list them (declared once)."""
BY_KEY: Mapping[str, Kind] = {k.key: k for k in KINDS}
ILLUSTRATIVE = "illustrative"
"""How a source that is not a citation starts ("illustrative: why the figure is what it is")."""


@dataclass(frozen=True)
class Source:
    """Where an input comes from: `source` a citation or "illustrative: ...", "" when none
    is given; `year` the year the figure describes ("2025", "2019–2022"; "" unknown)."""

    source: str = ""
    year: str = ""

    @property
    def illustrative(self) -> bool:
        """Illustrative, or of unknown origin (no source given)."""
        return not self.source or self.source.lower().startswith(ILLUSTRATIVE)

    def words(self) -> str:
        """The source and year in one phrase."""
        text = self.source or "no source given (taken as illustrative)"
        return f"{text} ({self.year})" if self.year else text


def years(values) -> str:
    """Distinct years as text: "2024", or the range "2019–2022"."""
    found = sorted({str(v).strip() for v in values if str(v).strip()})
    if not found:
        return ""
    return found[0] if len(found) == 1 else f"{found[0]}–{found[-1]}"


def sources_of(values) -> str:
    """Distinct sources joined (a file's rows usually name one)."""
    return "; ".join(dict.fromkeys(str(v).strip() for v in values if str(v).strip()))


def parse_sources(table: Mapping[str, Any], source: str) -> dict[str, Source]:
    """The `[sources]` table: `<kind> = { source = "...", year = 2025 }` for kinds of
    `KINDS`; errors name the key."""
    out = {}
    for key, value in table.items():
        dotted = f"sources.{key}"
        if key not in BY_KEY:
            raise ModelError(f"{source}: unknown key '{dotted}' (kinds: "
                             f"{', '.join(BY_KEY)})")
        if not isinstance(value, dict) or set(value) - {"source", "year"} \
                or not isinstance(value.get("source"), str) or not value["source"].strip():
            raise ModelError(f"{source}: '{dotted}' must be {{ source = \"a citation, or "
                             f"'illustrative: why'\", year = 2025 }}, got {value!r}")
        year = value.get("year", "")
        if year != "" and (isinstance(year, bool) or not isinstance(year, int)
                           or not 1900 <= year <= 2100):
            raise ModelError(f"{source}: '{dotted}.year' must be a year such as 2025, "
                             f"got {year!r}")
        out[key] = Source(value["source"].strip(), str(year))
    return out


def row_source(table) -> Source:
    """The source of a file's figures from its optional `source` and `year` columns (every
    row's, joined); none given: Source() (illustrative)."""
    if table.column("source") is None and table.column("year") is None:
        return Source()
    src, yrs = [], []
    for _, cells in table.rows:
        for name, acc in (("source", src), ("year", yrs)):
            k = table.column(name)
            if k is not None and k < len(cells):
                acc.append(cells[k])
    return Source(sources_of(src), years(yrs))

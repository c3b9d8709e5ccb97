"""The law's incentive: the municipalities' share of financing unemployment benefits.

Since 1 January 2025 (the TE24 reform) a municipality pays part of the unemployment
benefits of its unemployed residents — the labour-market subsidy, the basic and the
earnings-related daily allowance, also for days in employment-promoting services — from
the 101st benefit day on, a share that grows with the length of unemployment (Kela,
"Kelan laskutus muuttuu, kun kuntien rahoitusvastuu työttömyystuista laajenee 1.1.2025
alkaen", 29.5.2024). The state compensates the added cost with a fixed yearly sum per
municipality set on the figures of 2023 (TEM, "Kuntien rahoituslaskelmat"): a
municipality whose residents' unemployment shortens keeps the difference. This is the
slides' "taloudellinen kannustin (laki)"; `finance.contract.surplus_reward` is a term of
the region's own agreement, not the law.

`[finance.benefit_share]` gives the bands (from which benefit day, what percent) and the
benefit per day; per-municipality inputs come from a file (benefit days or euros per
band, the compensation) or, illustratively, from the data: each jobseeker's benefit days
a year spread over the bands. With `days_saved_per_fte`, each FTE an area has above the
staffing floor shortens its jobseekers' unemployment by that many benefit days a year, so
the plan changes what its municipalities pay (reported, not optimised).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..csvfile import Once, Table, cell_number, read_table
from ..data.planfile import position
from ..errors import FinanceError, InstanceError, ModelError
from ..values import LARGEST, number
from .cents import allocate, to_cents
from .provenance import Source, row_source

DAILY_BENEFIT_EUR = 37.21
"""The basic daily allowance and the full labour-market subsidy, € a day, unchanged
2023–2027 (index freeze; Kela, sotekassa.fi): the earnings-related allowance is higher."""
DAYS_PER_JOBSEEKER = 250.0
"""Benefit days a year of one unemployed jobseeker: paid five days a week (illustrative:
about 50 weeks)."""
KEYS = ("bands", "daily_benefit_eur", "file", "band_shares", "days_per_jobseeker",
        "compensation_total", "compensation_key", "days_saved_per_fte")


@dataclass(frozen=True)
class BenefitShare:
    """`[finance.benefit_share]`: `bands` (first benefit day, municipal percent) in order;
    `daily_eur` the benefit per day; `file` per-municipality inputs; else `band_shares`
    (the share of a jobseeker's yearly benefit days in each band) × `days_per_jobseeker`;
    the compensation from the file, else `compensation_total` (default: the municipalities'
    cost at the inputs, cost-neutral) split by `compensation_key`; `days_saved_per_fte`
    links an area's staff above the floor to shorter unemployment."""

    bands: tuple[tuple[int, float], ...]
    daily_eur: float = DAILY_BENEFIT_EUR
    file: Path | None = None
    band_shares: tuple[float, ...] | None = None
    days_per_jobseeker: float = DAYS_PER_JOBSEEKER
    compensation_total: float | None = None
    compensation_key: str | None = None
    days_saved_per_fte: float = 0.0


def parse_benefit_share(table: Mapping[str, Any], *, base: Path, source: str) -> BenefitShare:
    """Validate `[finance.benefit_share]`; errors name the key."""
    key = "finance.benefit_share"
    for k in table:
        if k not in KEYS:
            raise ModelError(f"{source}: unknown key '{key}.{k}'")
    raw = table.get("bands")
    if not isinstance(raw, list) or not raw or not all(
            isinstance(b, list) and len(b) == 2 for b in raw):
        raise ModelError(f"{source}: '{key}.bands' must be a list of [first benefit day, "
                         "percent] pairs, e.g. [[101, 10], [201, 20], [301, 30]]")
    bands = []
    for k, (day, pct) in enumerate(raw):
        if isinstance(day, bool) or not isinstance(day, int) or day < 1:
            raise ModelError(f"{source}: '{key}.bands[{k}]': the first day must be a whole "
                             f"number ≥ 1, got {day!r}")
        pct = number(pct, f"{key}.bands[{k}]", where=source, lo=0, hi=100, error=ModelError)
        if bands and day <= bands[-1][0]:
            raise ModelError(f"{source}: '{key}.bands' must start on increasing days")
        bands.append((day, pct))
    shares = table.get("band_shares")
    if shares is not None:
        if not isinstance(shares, list) or len(shares) != len(bands):
            raise ModelError(f"{source}: '{key}.band_shares' must give one share per band "
                             f"({len(bands)})")
        shares = tuple(number(v, f"{key}.band_shares[{k}]", where=source, lo=0, hi=1,
                              error=ModelError) for k, v in enumerate(shares))
        if sum(shares) > 1 + 1e-9:
            raise ModelError(f"{source}: '{key}.band_shares' add up to {sum(shares):g}, more "
                             "than a jobseeker's benefit days")
    if table.get("file") is None and shares is None:
        raise ModelError(f"{source}: '{key}' needs per-municipality inputs: 'file' (benefit "
                         "days or euros per band) or 'band_shares' (illustrative, from the "
                         "jobseekers)")

    def num(name: str, default, **limits):
        if name not in table:
            return default
        return number(table[name], f"{key}.{name}", where=source, error=ModelError, **limits)

    comp_key = table.get("compensation_key")
    if comp_key is not None and not isinstance(comp_key, str):
        raise ModelError(f"{source}: '{key}.compensation_key' must be an attribute name")
    path = table.get("file")
    if path is not None and not isinstance(path, str):
        raise ModelError(f"{source}: '{key}.file' must be a file name")
    return BenefitShare(
        bands=tuple(bands), daily_eur=num("daily_benefit_eur", DAILY_BENEFIT_EUR, lo=0),
        file=None if path is None else (base / path).resolve(), band_shares=shares,
        days_per_jobseeker=num("days_per_jobseeker", DAYS_PER_JOBSEEKER, lo=0, hi=366),
        compensation_total=num("compensation_total", None, lo=0),
        compensation_key=comp_key, days_saved_per_fte=num("days_saved_per_fte", 0.0, lo=0))


@dataclass(frozen=True, eq=False)
class BenefitInputs:
    """Per municipality: `days[i, b]` benefit days a year in band b, `cost[i]` € it pays
    at them, `compensation[i]` € the state pays it; where they come from in words."""

    days: np.ndarray
    cost: np.ndarray
    compensation: np.ndarray
    derived: str
    days_source: Source = field(default_factory=Source)
    compensation_source: Source | None = None
    """None: the compensation is the model's (total and key), not the file's."""

    @property
    def charged(self) -> np.ndarray:
        """Benefit days a year a municipality pays a share of."""
        return self.days.sum(axis=1)


def benefit_inputs(terms: BenefitShare, instance, source: str) -> BenefitInputs:
    """The per-municipality inputs: from the file, or derived from the data (illustrative)."""
    pct = np.array([p for _, p in terms.bands]) / 100.0
    comp_file = None
    if terms.file is not None:
        days, comp_file, src = _read_file(terms, instance)
        derived = f"benefit days per band from {terms.file.name}"
    else:
        days, derived = _derived_days(terms, instance, source)
        src = Source()
    cost = terms.daily_eur * (days * pct[None, :]).sum(axis=1)
    if comp_file is not None:
        return BenefitInputs(days, cost, comp_file, derived, src, src)
    total = float(cost.sum()) if terms.compensation_total is None else terms.compensation_total
    key_name = terms.compensation_key or ("working_age_population"
                                          if "working_age_population" in instance.attributes
                                          else "population")
    try:
        key = instance.attribute(key_name)
    except InstanceError as exc:
        raise ModelError(f"{source}: 'finance.benefit_share.compensation_key': {exc}") from None
    comp = allocate(to_cents(total), key) / 100.0
    return BenefitInputs(days, cost, comp, derived + f"; compensation {total:,.0f} € split by "
                         f"{key_name}", src, None)


def _derived_days(terms: BenefitShare, instance, source: str) -> tuple[np.ndarray, str]:
    """Illustrative days: each jobseeker's yearly benefit days spread over the bands by
    `band_shares`; with `long_term_unemployed` in the data, the last band's days are theirs
    and the other bands share the rest's."""
    try:
        js = instance.attribute("jobseekers")
    except InstanceError as exc:
        raise ModelError(f"{source}: 'finance.benefit_share.band_shares' derives benefit days "
                         f"from the jobseekers: {exc}") from None
    shares = np.array(terms.band_shares)
    dpj = terms.days_per_jobseeker
    if "long_term_unemployed" not in instance.attributes or len(shares) < 2:
        return (js[:, None] * dpj * shares[None, :],
                f"jobseekers × {dpj:g} days × band shares {', '.join(f'{s:g}' for s in shares)}")
    lt = np.minimum(instance.attribute("long_term_unemployed"), js)
    lower = shares[:-1] / max(shares.sum(), 1e-12)
    days = np.column_stack([(js - lt)[:, None] * dpj * lower[None, :], lt * dpj])
    return days, (f"the long-term unemployed × {dpj:g} days in the last band, the other "
                  f"jobseekers × {dpj:g} days by band shares")


def _read_file(terms: BenefitShare, instance) -> tuple[np.ndarray, np.ndarray | None, Source]:
    """`code,days_<first>|eur_<first> for every band[,compensation_eur][,year,source]`."""
    path = terms.file
    table = read_table(path, "benefit file", FinanceError)
    table.require(("code",))
    cols = {}
    for first, _ in terms.bands:
        for kind in ("days", "eur"):
            if table.column(f"{kind}_{first}") is not None:
                cols[first] = (kind, table.column(f"{kind}_{first}"))
        if first not in cols:
            raise FinanceError(f"{path}:1: missing column 'days_{first}' (or 'eur_{first}'): "
                               f"the band from benefit day {first}")
    comp_col = table.column("compensation_eur")
    days = np.full((instance.n, len(terms.bands)), np.nan)
    comp = np.full(instance.n, np.nan) if comp_col is not None else None
    once = Once(table)
    for line, cell, cells in table.records({"code": table.column("code")}):
        i = position(cell["code"], instance)
        if i is None:
            continue
        once(i, line, instance.label(i))
        for b, (first, _) in enumerate(terms.bands):
            kind, k = cols[first]
            v = _cell(table, cells, k, f"{path}:{line}", f"{kind}_{first}", instance.label(i))
            days[i, b] = v if kind == "days" else v / max(terms.daily_eur, 1e-12)
        if comp is not None:
            comp[i] = _cell(table, cells, comp_col, f"{path}:{line}", "compensation_eur",
                            instance.label(i))
    missing = np.flatnonzero(np.isnan(days).any(axis=1))
    if len(missing):
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise FinanceError(f"{path}: no row for {instance.label(int(missing[0]))}{more}")
    return days, comp, row_source(table)


def _cell(table: Table, cells, k: int, where: str, column: str, label: str) -> float:
    """A number of the file as written (decimal commas where the delimiter is not a comma,
    as the subsidy file reads them), from 0 to LARGEST."""
    text = cells[k].strip() if k < len(cells) else ""
    value = cell_number(text, table.delimiter)
    if value is None:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > LARGEST:
        raise FinanceError(f"{where}: '{column}' must be a number from 0 to {LARGEST:g}, "
                           f"got {text!r} for {label}")
    return value


@dataclass(frozen=True)
class BenefitRow:
    """One municipality's share of benefits a year in cents: `cost` at its inputs,
    `effect` what its area's staff above the floor changes (< 0 saves), `compensation` the
    state's, `net` = compensation − cost − effect (> 0: it gains)."""

    code: str
    name: str
    lead_name: str
    days: float
    cost: int
    effect: int
    compensation: int
    net: int


@dataclass(frozen=True)
class BenefitMoney:
    """The law's incentive under a plan: a row per municipality and a line per area whose
    service level changes it."""

    rows: tuple[BenefitRow, ...]
    lines: tuple[str, ...]
    derived: str

    def total(self, field: str) -> int:
        return sum(getattr(r, field) for r in self.rows)


def settle_benefit(terms: BenefitShare, inputs: BenefitInputs, instance, labels,
                   areas) -> BenefitMoney:
    """Each municipality's share under a plan whose `areas` are (lead name, members,
    FTE above the staffing floor); `labels[i]` is i's lead name."""
    charged = inputs.charged
    rate = np.divide(inputs.cost, charged, out=np.zeros(instance.n), where=charged > 0)
    effect = np.zeros(instance.n)
    lines = []
    for name, members, above in areas:
        m = np.asarray(members, dtype=np.int64)
        saved = terms.days_saved_per_fte * max(above, 0.0)
        if saved <= 0 or charged[m].sum() <= 0:
            continue
        share = np.minimum(saved * charged[m] / charged[m].sum(), charged[m])
        effect[m] = -share * rate[m]
        lines.append(f"{name}: {above:,.1f} FTE above the floor × "
                     f"{terms.days_saved_per_fte:g} days = {share.sum():,.0f} benefit days "
                     f"saved: {-effect[m].sum():,.2f} € less to pay")
    rows = []
    for i in range(instance.n):
        cost, eff, comp = to_cents(inputs.cost[i]), to_cents(effect[i]), \
            to_cents(inputs.compensation[i])
        rows.append(BenefitRow(instance.codes[i], instance.names[i], labels[i],
                               float(charged[i]), cost, eff, comp, comp - cost - eff))
    return BenefitMoney(tuple(rows), tuple(lines), inputs.derived)

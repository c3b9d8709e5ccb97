"""The model's `[finance]` table: where subsidies come from and how costs are shared.

The slides' money rules as parameters: a share of every municipality's subsidy
pays the organiser's common work (a percentage of the subsidy, or the common
cost split by a key); an area's (or a sub-region's) deficit against its subsidies
is equalised among its municipalities by a key. The region's agreement
(`[finance.contract]`, formerly `[finance.incentives]`) may let an area keep part
of its surplus as a reward (the rest goes to the organiser's pool) and makes an
area pay sanctions to the organiser when it is staffed below the floor or above a
maximum caseload. The law's own incentive, the municipalities' share of
unemployment benefits, is `[finance.benefit_share]` (economics/benefit.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..data.instance import Instance
from ..errors import InstanceError, ModelError
from ..values import number
from ..words import did_you_mean
from .benefit import BenefitShare, parse_benefit_share
from .cents import allocate, round_fraction

AREA = "area"
"""`finance.equalisation.unit` for equalising within each production area (the default)."""
COST_KEYS = ("services",)
"""`finance.equalisation.cost_key` words besides instance attributes: `services` attributes an
area's cost to its members by the costs they drive (their services and staff need)."""
SETTLE = ("organiser", "members")
"""Who keeps the organiser's surplus or bears its deficit: the organiser municipality,
or the municipalities of its area by the share key."""


@dataclass(frozen=True)
class SubsidySource:
    """Exactly one of: an instance `column`, a CSV `file` (code,subsidy_eur), or the
    formula `total` × Σ_c weight_c · a_c,i / Σ_k a_c,k over the criteria `weights`."""

    column: str | None = None
    file: Path | None = None
    total: float | None = None
    weights: Mapping[str, float] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "column" if self.column else "file" if self.file else "formula"


@dataclass(frozen=True)
class FinanceTerms:
    """How a plan's money is settled (see the README's `[finance]` keys)."""

    subsidy: SubsidySource
    share_percent: float | None = None
    share_key: str | None = None
    equalise_by: str = "population"
    equalise_within: str = AREA
    """Where a deficit is equalised: within each production area ("area"), or within each
    group of an attribute such as the official sub-region ("subregion", the slides'
    "seutukunnittain"), whatever areas its municipalities are in."""
    cost_key: str = "services"
    """With a unit other than the area: how an area's production cost is attributed to its
    municipalities ("services": by the costs they drive; or an instance attribute)."""
    benefit: BenefitShare | None = None
    """The law's incentive (`[finance.benefit_share]`), None when the model leaves it out."""
    contract_key: str = "finance.contract"
    """The table the agreement's terms were given in (`finance.incentives`, its old name,
    is read too), for messages."""
    settle: str = "organiser"
    surplus_reward: float = 1.0
    sanction_per_missing_fte: float = 0.0
    max_caseload: float | None = None
    sanction_per_excess_jobseeker: float = 0.0

    @property
    def share_method(self) -> str:
        return "key" if self.share_key is not None else "percent"

    def percent_shares(self, subsidy: np.ndarray) -> np.ndarray:
        """Cents each municipality pays the organiser under the percentage method: its
        subsidy × percent, rounded to the cent per municipality."""
        p = Fraction(self.share_percent or 0.0) / 100
        return np.array([round_fraction(p * int(c)) for c in np.asarray(subsidy)],
                        dtype=np.int64)

    def organiser_shares(self, subsidy: np.ndarray, common: int, key: np.ndarray | None,
                         inside: np.ndarray) -> np.ndarray:
        """Cents each municipality pays the organiser: a percentage of its subsidy, or the
        common cost (`common` cents) split by `key` over the organiser's area `inside`."""
        share = np.zeros(len(subsidy), dtype=np.int64)
        if self.share_key is not None:
            share[inside] = allocate(common, key[inside])
        else:
            share[inside] = self.percent_shares(subsidy)[inside]
        return share

    @staticmethod
    def key_values(name: str, instance: Instance, subsidy: np.ndarray | None, key: str,
                   source: str) -> np.ndarray:
        """Values of a sharing key: 'subsidy' (euros, from `subsidy` in cents) or an instance
        attribute (≥ 0); errors name the model file `source` and the `key`."""
        if name == "subsidy":
            return subsidy / 100.0
        try:
            values = instance.attribute(name)
        except InstanceError as exc:
            raise ModelError(f"{source}: '{key}': {exc}") from None
        if np.any(values < 0):
            i = int(np.flatnonzero(values < 0)[0])
            raise ModelError(f"{source}: '{key}': {name!r} is negative for "
                             f"{instance.label(i)}")
        return values


@dataclass(frozen=True, eq=False)
class DeficitBound:
    """The objective's variant: every area's deficit ≤ `limit` × Σ `key` over its
    members, i.e. each municipality's equalised share ≤ `limit` per unit of key.
    Deficit = production cost − Σ `available` (€: subsidy less the organiser's share)."""

    limit: float
    available: np.ndarray
    key: np.ndarray
    key_name: str


_KEYS: dict[str, dict[str, Any]] = {
    "finance": {"subsidy": dict, "organiser_share": dict, "equalisation": dict,
                "incentives": dict, "contract": dict, "organiser_result": str,
                "benefit_share": dict},
    "finance.subsidy": {"column": str, "file": str, "total": (int, float), "weights": dict},
    "finance.organiser_share": {"percent": (int, float), "key": str},
    "finance.equalisation": {"key": str, "unit": str, "cost_key": str},
    "finance.contract": {"surplus_reward": (int, float),
                         "sanction_per_missing_fte": (int, float),
                         "max_caseload": (int, float),
                         "sanction_per_excess_jobseeker": (int, float)},
}
_KEYS["finance.incentives"] = _KEYS["finance.contract"]
"""The agreement's terms under their old table name, still read."""


def _check(table: Mapping[str, Any], section: str, source: str) -> None:
    for key, value in table.items():
        dotted = f"{section}.{key}"
        if key not in _KEYS[section]:
            raise ModelError(f"{source}: unknown key '{dotted}'"
                             f"{did_you_mean(key, _KEYS[section])}")
        want = _KEYS[section][key]
        if isinstance(value, bool) or not isinstance(value, want):
            kind = {dict: "a table", str: "a string"}.get(want, "a number")
            raise ModelError(f"{source}: '{dotted}' must be {kind}, got {value!r}")
        if want == (int, float):  # finite and at most LARGEST: cents must fit an int64
            number(value, dotted, where=source, error=ModelError)


def _non_negative(value: float, key: str, source: str, upper: float | None = None) -> float:
    if value < 0 or (upper is not None and value > upper):
        rng = f"in [0, {upper:g}]" if upper is not None else ">= 0"
        raise ModelError(f"{source}: '{key}' must be {rng}, got {value!r}")
    return float(value)


def parse_finance(table: Mapping[str, Any], *, base: Path, source: str) -> FinanceTerms:
    """Validate the `[finance]` table; errors name the key."""
    _check(table, "finance", source)
    for sub in ("subsidy", "organiser_share", "equalisation", "incentives", "contract"):
        if sub in table:
            _check(table[sub], f"finance.{sub}", source)
    if "incentives" in table and "contract" in table:
        raise ModelError(f"{source}: 'finance.incentives' is the old name of "
                         "'finance.contract': give one of them")
    if "subsidy" not in table:
        raise ModelError(f"{source}: missing table 'finance.subsidy' (column, file or "
                         "total and weights)")
    sub = table["subsidy"]
    given = [k for k in ("column", "file", "total") if k in sub]
    if len(given) != 1:
        raise ModelError(f"{source}: 'finance.subsidy' needs exactly one of 'column', 'file' "
                         f"or 'total' (with 'weights'), got {given or 'none'}")
    weights: dict[str, float] = {}
    if "total" in sub:
        if "weights" not in sub or not sub["weights"]:
            raise ModelError(f"{source}: missing key 'finance.subsidy.weights' (criteria and "
                             "their weights, e.g. {jobseekers = 0.6, population = 0.4})")
        for crit, w in sub["weights"].items():
            if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w):
                raise ModelError(f"{source}: 'finance.subsidy.weights.{crit}' must be a "
                                 f"number, got {w!r}")
            weights[crit] = _non_negative(w, f"finance.subsidy.weights.{crit}", source)
        if abs(sum(weights.values()) - 1) > 1e-9:
            raise ModelError(f"{source}: 'finance.subsidy.weights' must add up to 1, got "
                             f"{sum(weights.values()):g}")
        _non_negative(sub["total"], "finance.subsidy.total", source)
    elif "weights" in sub:
        raise ModelError(f"{source}: 'finance.subsidy.weights' applies to the formula "
                         "('total') only")
    subsidy = SubsidySource(
        column=sub.get("column"),
        file=(base / sub["file"]).resolve() if "file" in sub else None,
        total=float(sub["total"]) if "total" in sub else None, weights=weights)

    share = table.get("organiser_share", {})
    if len(share) > 1:
        raise ModelError(f"{source}: 'finance.organiser_share' needs one of 'percent' or "
                         "'key', not both")
    percent = share.get("percent")
    if percent is not None:
        percent = _non_negative(percent, "finance.organiser_share.percent", source, 100)
    elif "key" not in share:
        percent = 0.0
    settle = table.get("organiser_result", "organiser")
    if settle not in SETTLE:
        raise ModelError(f"{source}: 'finance.organiser_result' must be one of "
                         f"{', '.join(SETTLE)}, got {settle!r}")
    con = "finance.incentives" if "incentives" in table else "finance.contract"
    inc = table.get("incentives", table.get("contract", {}))
    max_caseload = inc.get("max_caseload")
    if max_caseload is not None and max_caseload <= 0:
        raise ModelError(f"{source}: '{con}.max_caseload' must be positive")
    return FinanceTerms(
        subsidy=subsidy, share_percent=percent, share_key=share.get("key"),
        equalise_by=table.get("equalisation", {}).get("key", "population"), settle=settle,
        equalise_within=table.get("equalisation", {}).get("unit", AREA),
        cost_key=table.get("equalisation", {}).get("cost_key", "services"),
        surplus_reward=_non_negative(inc.get("surplus_reward", 1.0),
                                     f"{con}.surplus_reward", source, 1),
        sanction_per_missing_fte=_non_negative(inc.get("sanction_per_missing_fte", 0.0),
                                               f"{con}.sanction_per_missing_fte", source),
        max_caseload=None if max_caseload is None else float(max_caseload),
        sanction_per_excess_jobseeker=_non_negative(
            inc.get("sanction_per_excess_jobseeker", 0.0),
            f"{con}.sanction_per_excess_jobseeker", source),
        benefit=parse_benefit_share(table["benefit_share"], base=base, source=source)
        if "benefit_share" in table else None, contract_key=con,
    )

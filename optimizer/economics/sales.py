"""What the organiser sells: the catalogue's on-demand lines, priced and ordered.

The slides: "Oulu myy tarvittaessa" — the organiser may sell services to the
municipalities. An `on_demand` line of the catalogue is priced by its `unit_cost` (€
per unit of its driver: a jobseeker coached, an event, ...), at cost: the price covers
the organiser's cost of producing it, so a sale is revenue and an equal cost for the
organiser and a cost for the buyer. `[services.orders.<service>]` says who buys how
many units a year: a municipality (by code or name) for itself, or `each_area` = q for
every regional production area inside the organiser's area, which then pays it as part
of its production cost (so it counts in the objective as a cost per area).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ModelError
from ..values import number
from .catalogue import Catalogue

EACH_AREA = "each_area"
"""The buyer key of an order placed by every regional production area."""


def parse_orders(table: Mapping[str, Any], source: str) -> dict[str, dict[str, float]]:
    """`[services.orders]`: service → {municipality or "each_area" → units a year}."""
    out: dict[str, dict[str, float]] = {}
    for service, buyers in table.items():
        if not isinstance(buyers, dict) or not buyers:
            raise ModelError(f"{source}: 'services.orders.{service}' must be a table of "
                             "buyers (a municipality, or each_area) and units a year")
        out[service] = {buyer: number(q, f"services.orders.{service}.{buyer}", where=source,
                                      lo=0, error=ModelError)
                        for buyer, q in buyers.items()}
    return out


@dataclass(frozen=True)
class Order:
    """`quantity` units of `service` at `price` € each, bought by municipality `buyer`
    (a position) or, with `buyer` None, by every regional area."""

    service: str
    name: str
    buyer: int | None
    quantity: float
    price: float
    unit: str

    @property
    def amount(self) -> float:
        return self.quantity * self.price


@dataclass(frozen=True, eq=False)
class Sales:
    """The orders of a model: `by_municipality[i]` € municipality i buys a year; `per_area`
    € every regional production area buys a year."""

    orders: tuple[Order, ...]
    by_municipality: np.ndarray
    per_area: float

    @classmethod
    def none(cls, n: int) -> Sales:
        return cls((), np.zeros(n), 0.0)


def bind_orders(orders: Mapping[str, Mapping[str, float]], catalogue: Catalogue | None,
                resolve, n: int, has_organiser: bool, source: str) -> Sales:
    """The orders resolved: each service an on-demand line of the catalogue, each buyer a
    municipality (`resolve(ref, key)` → position) or each_area; errors name the key."""
    if not orders:
        return Sales.none(n)
    if catalogue is None or not has_organiser:
        raise ModelError(f"{source}: 'services.orders' buys from the organiser's catalogue: "
                         "the model needs [services] and [organiser]")
    known = {s.service: s for s in catalogue.services}
    bought = np.zeros(n)
    per_area = 0.0
    out = []
    for service, buyers in orders.items():
        line = known.get(service)
        if line is None:
            raise ModelError(f"{source}: 'services.orders.{service}': no service {service!r} "
                             f"in {catalogue.source}")
        if line.tier != "on_demand":
            raise ModelError(f"{source}: 'services.orders.{service}': only on-demand lines are "
                             f"sold, and {service!r} is in the {line.tier} tier")
        for buyer, q in buyers.items():
            i = None if buyer == EACH_AREA else resolve(buyer, f"services.orders.{service}")
            out.append(Order(service, line.name_en, i, q, line.unit_cost, line.driver))
            if i is None:
                per_area += q * line.unit_cost
            else:
                bought[i] += q * line.unit_cost
    return Sales(tuple(out), bought, per_area)

"""Yearly cost rates derived from the service catalogue, split by what a plan changes.

A regional-tier service is produced in every production area: per-municipality
drivers (jobseekers, residents, labour force) cost the same in whichever area a
municipality lands, a per-area or per-region driver is paid once per area, a
per-FTE driver on the area's staff. An organiser-tier service is produced once
for the organiser's whole employment area: per-municipality drivers count that
area, a per-region driver is paid once, a per-area driver once per production
area inside it and a per-FTE driver on those areas' staff. So centralising a
per-region service saves its cost in every area but one, which is how moving a
service between tiers changes the optimum as well as the money.

Staff: a service's `staff` (FTE per driver unit) adds to the staff need of
whoever produces it; staff pay is the model's `staffing.cost_per_fte`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InstanceError, ModelError
from .catalogue import DRIVER_ATTRIBUTE, Catalogue, Service


@dataclass(frozen=True, eq=False)
class CostRates:
    """The catalogue's costs as rates (€ per year; staff in FTE). All zero without one.

    Production areas: `area_variable[i]` for serving municipality i, `area_fixed` per
    area, `area_per_fte` per FTE of the area; staff need `area_staff[i]` per
    municipality and `area_staff_fixed` per area. Organiser: `common_fixed` whatever
    the plan, `common_per_area` per production area in its area, `common_per_fte`
    per FTE of those areas; its staff `common_staff_fixed` + `common_staff_per_area`
    per production area.
    """

    area_variable: np.ndarray
    area_fixed: float = 0.0
    area_per_fte: float = 0.0
    area_staff: np.ndarray | None = None
    area_staff_fixed: float = 0.0
    common_fixed: float = 0.0
    common_per_area: float = 0.0
    common_per_fte: float = 0.0
    common_staff_fixed: float = 0.0
    common_staff_per_area: float = 0.0
    catalogue: Catalogue | None = None

    def __post_init__(self) -> None:
        v = np.array(self.area_variable, dtype=float)
        v.setflags(write=False)
        object.__setattr__(self, "area_variable", v)
        staff = np.zeros(len(v)) if self.area_staff is None else np.array(self.area_staff, float)
        staff.setflags(write=False)
        object.__setattr__(self, "area_staff", staff)

    @classmethod
    def none(cls, n: int) -> CostRates:
        return cls(np.zeros(n))

    @property
    def has_area_staff(self) -> bool:
        return bool(self.area_staff_fixed > 0 or np.any(self.area_staff > 0))

    @property
    def has_common(self) -> bool:
        return bool(self.common_fixed or self.common_per_area or self.common_per_fte
                    or self.common_staff_fixed or self.common_staff_per_area)

    def common_fte(self, areas: int, whole: bool = True) -> float:
        """FTEs the organiser needs when its area holds `areas` production areas (rounded
        up to a whole FTE if `whole`)."""
        need = self.common_staff_fixed + self.common_staff_per_area * areas
        if not whole:
            return need
        return int(np.ceil(need - 1e-9)) if need > 0 else 0

    def common_cost(self, areas: int, fte: float, cost_per_fte: float,
                    whole: bool = True) -> float:
        """The organiser's yearly common cost given the production areas in its area and
        their total FTE."""
        return (self.common_fixed + self.common_per_area * areas + self.common_per_fte * fte
                + cost_per_fte * self.common_fte(areas, whole))


def _quantity(instance, s: Service, key: str) -> np.ndarray:
    attr = DRIVER_ATTRIBUTE[s.driver]
    try:
        return instance.attribute(attr)
    except InstanceError:
        raise ModelError(f"{key}: service {s.service!r} is priced per {s.driver}, but "
                         f"instance {instance.name!r} has no attribute {attr!r}") from None


def cost_rates(catalogue: Catalogue | None, instance, organiser_area: np.ndarray | None,
               key: str = "services.catalogue") -> CostRates:
    """The rates of `catalogue` on `instance`; the organiser's per-municipality drivers
    count the municipalities of `organiser_area` (a mask; None = no organiser)."""
    n = instance.n
    if catalogue is None:
        return CostRates.none(n)
    v = np.zeros(n)
    staff = np.zeros(n)
    fixed = per_fte = staff_fixed = 0.0
    c_fixed = c_area = c_fte = c_staff = c_staff_area = 0.0
    for s in catalogue.services:
        if not s.priced:
            continue
        per_municipality = s.driver in DRIVER_ATTRIBUTE
        q = _quantity(instance, s, key) if per_municipality else None
        if s.tier == "regional":
            if per_municipality:
                v += s.unit_cost * q
                staff += s.staff * q
            elif s.driver in ("area", "region"):
                fixed += s.unit_cost
                staff_fixed += s.staff
            elif s.driver == "fte":
                per_fte += s.unit_cost
        else:  # organiser
            if organiser_area is None:
                raise ModelError(f"{key}: {catalogue.source} puts {s.service!r} at the "
                                 "organiser, but the model has no [organiser]")
            if per_municipality:
                total = float(q[organiser_area].sum())
                c_fixed += s.unit_cost * total
                c_staff += s.staff * total
            elif s.driver == "region":
                c_fixed += s.unit_cost
                c_staff += s.staff
            elif s.driver == "area":
                c_area += s.unit_cost
                c_staff_area += s.staff
            elif s.driver == "fte":
                c_fte += s.unit_cost
    return CostRates(v, fixed, per_fte, staff, staff_fixed, c_fixed, c_area, c_fte, c_staff,
                     c_staff_area, catalogue)

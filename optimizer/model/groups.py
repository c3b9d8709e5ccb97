"""Groupings kept whole: municipalities that share a value of an attribute (the official
sub-region `subregion`, the commuting area, ...) stay in one area.

`areas.keep_whole = ["subregion"]` is a rule (no group split across areas);
`areas.split_cost = {subregion = 25000}` prices each split group instead (€/yr, the
objective's `splits` term). A group is the set of municipalities with one value of the
attribute, with three exceptions, each from the instance or the model:

* a value the instance marks as no group (`no_group`, e.g. commuting area 99, "in no
  commuting area") groups nobody: each such municipality is on its own;
* the organiser producing its own area alone (`organiser.own_area = "alone"`, the slides'
  reading) leaves its group: the rest of the group stays together;
* a group crossing the border of the organiser's area is two groups, one on each side
  (no production area crosses that border anyway).

Groups of a single municipality are dropped (nothing to keep together). The verifier
re-derives the groups here from the instance and the model, not from the formulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.instance import Instance
from ..data.plan import UNASSIGNED
from ..errors import InstanceError, ModelError


@dataclass(frozen=True)
class Group:
    """Municipalities (positions) that share `value` of `attribute`; `price` None: they must
    stay in one area (keep_whole), else each split costs `price` €/yr (split_cost)."""

    attribute: str
    value: float
    name: str
    members: tuple[int, ...]
    price: float | None = None

    @property
    def hard(self) -> bool:
        return self.price is None

    def split(self, plan) -> bool:
        """Whether `plan` puts the members in more than one area (a member left out of every
        area counts as one of its own)."""
        return len({plan.lead_key(i) if plan.lead[i] != UNASSIGNED else ("none", i)
                    for i in self.members}) > 1

    def areas(self, plan) -> dict:
        """The members by their area key in `plan` (None: in no area)."""
        out: dict = {}
        for i in self.members:
            key = plan.lead_key(i) if plan.lead[i] != UNASSIGNED else None
            out.setdefault(key, []).append(i)
        return out


def group_name(instance: Instance, attribute: str, value: float, members) -> str:
    """A group in words: the name the instance gives it (`<attribute>_name`) and its code,
    else its code and its first member."""
    code = f"{value:g}"
    names = instance.text_attributes.get(f"{attribute}_name")
    if names is not None:
        return f"{names[members[0]]} ({code})"
    return f"{code} ({instance.names[members[0]]} and {len(members) - 1} more)"


def groups_of(instance: Instance, attribute: str, *, organiser: int | None = None,
              alone: bool = False, inside: np.ndarray | None = None,
              price: float | None = None) -> tuple[Group, ...]:
    """The groups of `attribute` (see the module docstring): `organiser` producing `alone`
    leaves its group; `inside` (the organiser's area) splits a group at its border."""
    values = instance.attribute(attribute)
    none = set(instance.metadata.get("no_group", {}).get(attribute, ()))
    side = np.zeros(instance.n, dtype=bool) if inside is None else np.asarray(inside, bool)
    out = []
    for value in np.unique(values):
        if float(value) in none:
            continue
        for on_side in (True, False):
            members = [i for i in np.flatnonzero((values == value) & (side == on_side))
                       if not (alone and i == organiser)]
            if len(members) > 1:
                out.append(Group(attribute, float(value),
                                 group_name(instance, attribute, float(value), members),
                                 tuple(int(i) for i in members), price))
    return tuple(out)


def bind_groups(instance: Instance, keep_whole, split_cost, *, organiser: int | None,
                alone: bool, inside: np.ndarray | None, source: str) -> tuple[Group, ...]:
    """Every group of `areas.keep_whole` (hard) and `areas.split_cost` (priced); an unknown
    attribute is an error naming the key."""
    out: list[Group] = []
    for attribute, price, key in ([(a, None, "areas.keep_whole") for a in keep_whole]
                                  + [(a, p, f"areas.split_cost.{a}")
                                     for a, p in split_cost.items()]):
        try:
            out += groups_of(instance, attribute, organiser=organiser, alone=alone,
                             inside=inside, price=price)
        except InstanceError as exc:
            raise ModelError(f"{source}: '{key}': {exc}") from None
    return tuple(out)


def model_groups(problem) -> tuple[Group, ...]:
    """The groups of a bound problem's model, derived again from the instance and the model
    (what the verifier checks)."""
    model = problem.model
    org = model.organiser
    return bind_groups(problem.instance, model.keep_whole, model.split_cost,
                       organiser=problem.organiser, alone=org is not None and
                       org.own_area == "alone", inside=problem.organiser_area,
                       source=model.source)


"""Two plans side by side: who moves where, each area in both plans, every objective term.

Either plan may be the 2025 areas (leads outside a region) or a solve's output.
Areas are matched one to one (`data/matching.py`, the same matching that bounds
`--max-moves`); a municipality moves when its reference area is not the one
matched with its area in the plan. `output/comparison.py` shows the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._moved import getattr_for
from ..data.matching import area_matching, moved
from ..data.plan import Plan
from ..economics.settle import settle
from ..errors import OptimizerError
from ..model.evaluate import AreaFigures, PlanFigures, evaluate
from ..model.objective import COMPARED, LABELS, UNITS
from ..model.problem import Problem
from ..model.verify import Verification, verify


@dataclass(frozen=True)
class Move:
    """Municipality `index` is in the reference's area `before` and the plan's area `after`
    (areas named `Lead (code)`)."""

    index: int
    code: str
    name: str
    before: str
    after: str


@dataclass(frozen=True, eq=False)
class Comparison:
    name: str
    reference: Plan
    figures: PlanFigures
    verification: Verification
    matched: dict[str, str]
    """Plan area lead code → the reference area lead code it corresponds to."""
    moves: tuple[Move, ...]


def _area(plan: Plan, i: int) -> str:
    code, name = plan.lead_label(plan.lead_key(i))
    return f"{name} ({code})"


def compare(problem: Problem, plan: Plan, reference: Plan, name: str) -> Comparison:
    """Match the plans' areas so that the fewest municipalities move, and list the moves."""
    inst = problem.instance
    matched = area_matching(plan, reference)
    moves = tuple(Move(int(i), inst.codes[i], inst.names[i], _area(reference, i),
                       _area(plan, i)) for i in np.flatnonzero(moved(plan, reference)))
    return Comparison(name, reference, evaluate(problem, reference), verify(problem, reference),
                      matched, tuple(sorted(moves, key=lambda m: m.name)))


@dataclass(frozen=True)
class AreaPair:
    """An area of plan A and its match in plan B (either may be None)."""

    a: AreaFigures | None
    b: AreaFigures | None
    moved_in: int
    moved_out: int


@dataclass(frozen=True, eq=False)
class PlanComparison:
    """Plan B against plan A under one model."""

    problem: Problem
    name_a: str
    name_b: str
    plan_a: Plan
    plan_b: Plan
    figures_a: PlanFigures
    figures_b: PlanFigures
    verification_a: Verification
    verification_b: Verification
    comparison: Comparison
    """The report's comparison of B against A (moves, matching)."""
    pairs: tuple[AreaPair, ...]
    net_a: tuple[int, ...] | None = None
    net_b: tuple[int, ...] | None = None
    """Each municipality's net money position in cents (when the model has [finance])."""
    money_note: str = ""

    def money_rows(self) -> list[tuple[str, str, int, int, int]]:
        """(code, name, net in A, net in B, B − A) in cents, biggest change first."""
        if self.net_a is None or self.net_b is None:
            return []
        inst = self.problem.instance
        rows = [(inst.codes[i], inst.names[i], a, b, b - a)
                for i, (a, b) in enumerate(zip(self.net_a, self.net_b, strict=True))]
        return sorted(rows, key=lambda r: (-abs(r[4]), r[1]))

    @property
    def moves(self):
        return self.comparison.moves

    def term_rows(self) -> list[tuple[str, str, float | None, float | None, float | None]]:
        """(term, unit, A, B, B − A) for every objective term both plans can have."""
        rows = []
        for t in COMPARED:
            a, b = self.figures_a.terms.get(t), self.figures_b.terms.get(t)
            if t == "exemptions" and not a and not b:
                continue
            rows.append((LABELS[t], UNITS[t], a, b, None if a is None or b is None else b - a))
        return rows


def compare_plans(problem: Problem, plan_a: Plan, plan_b: Plan, name_a: str = "A",
                  name_b: str = "B") -> PlanComparison:
    """Compare plan B with plan A (the reference) under `problem`."""
    figs_a, figs_b = evaluate(problem, plan_a), evaluate(problem, plan_b)
    cmp = compare(problem, plan_b, plan_a, name_a)
    by_code_b = {b.lead_code: b for b in figs_b.areas}
    inverse = {v: k for k, v in cmp.matched.items()}  # A lead code → B lead code
    into: dict[str, int] = {}
    out_of: dict[str, int] = {}
    for m in cmp.moves:
        into[plan_b.lead_code(m.index)] = into.get(plan_b.lead_code(m.index), 0) + 1
        out_of[plan_a.lead_code(m.index)] = out_of.get(plan_a.lead_code(m.index), 0) + 1
    pairs = []
    for a in sorted(figs_a.areas, key=lambda a: a.lead_name):
        b = by_code_b.get(inverse.get(a.lead_code, ""))
        pairs.append(AreaPair(a, b, into.get(b.lead_code, 0) if b else 0,
                              out_of.get(a.lead_code, 0)))
    for b in sorted(figs_b.areas, key=lambda b: b.lead_name):
        if b.lead_code not in cmp.matched:
            pairs.append(AreaPair(None, b, into.get(b.lead_code, 0), 0))
    net_a, net_b, note = _money(problem, plan_a, plan_b)
    return PlanComparison(problem, name_a, name_b, plan_a, plan_b, figs_a, figs_b,
                          verify(problem, plan_a), verify(problem, plan_b), cmp, tuple(pairs),
                          net_a, net_b, note)


def _money(problem: Problem, a: Plan, b: Plan) -> tuple[tuple | None, tuple | None, str]:
    """Each municipality's net position under both plans (issue 7's settlement)."""
    if problem.model.finance is None:
        return None, None, ""

    nets = []
    for plan in (a, b):
        try:
            nets.append(tuple(m.net for m in settle(problem, plan).municipalities))
        except OptimizerError as exc:
            return None, None, f"money not compared: {exc}"
    return nets[0], nets[1], ""


__getattr__ = getattr_for(__name__)  # names moved to optimizer.output in 0.2

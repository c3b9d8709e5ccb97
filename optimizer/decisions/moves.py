"""Minimal change from a reference plan: the trade-off of moved municipalities against cost.

`solve --reference PLAN --max-moves N` bounds the number of municipalities that
change area (areas matched one to one so that the fewest move, formulation (M));
`--max-moves 0,2,4,...` solves one point per bound, each started from the
previous point's plan (feasible for every larger bound), and reports how much of
the unconstrained optimum's gain each bound buys."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from .._moved import getattr_for
from ..data.matching import moved
from ..data.plan import Plan
from ..model.evaluate import evaluate
from ..model.problem import Problem, ReferenceAreas
from ..model.verify import verify
from .base import Decision, SolveOptions
from .exemptions import declare_short, tidy
from .question import reference_start, solve_model


@dataclass(frozen=True, eq=False)
class MovePoint:
    """The best plan moving at most `max_moves` municipalities."""

    max_moves: int
    decision: Decision

    @property
    def solution(self):
        return self.decision.solution

    @property
    def moves(self) -> int | None:
        f = self.solution.figures
        return None if f is None or f.terms.get("moves") is None else int(f.terms["moves"])

    @property
    def cost(self) -> float | None:
        f = self.solution.figures
        return None if f is None else f.terms.get("total")


@dataclass(frozen=True, eq=False)
class MovesCurve:
    """Points of the curve, the reference's own cost and the unconstrained optimum."""

    points: tuple[MovePoint, ...]
    reference_cost: float | None
    optimum: Decision | None
    reference: ReferenceAreas | None = None
    interrupted: str | None = None
    """The signal that stopped the curve (its later points and the optimum not solved)."""

    @property
    def optimum_cost(self) -> float | None:
        s = self.optimum.solution if self.optimum else None
        return None if s is None or s.figures is None else s.figures.terms.get("total")

    def share_of_gain(self, point: MovePoint) -> float | None:
        """(reference cost − point's cost) / (reference cost − optimum's cost)."""
        ref, best, cost = self.reference_cost, self.optimum_cost, point.cost
        if None in (ref, best, cost) or ref - best <= 1e-9:
            return None
        return (ref - cost) / (ref - best)

    def rows(self) -> list[dict]:
        out = []
        for p in self.points:
            s = p.solution
            share = self.share_of_gain(p)
            out.append({
                "max_moves": p.max_moves, "moves": p.moves, "status": str(s.status),
                "proven": p.decision.proven, "cost": p.cost, "bound": s.bound,
                "gain": None if None in (self.reference_cost, p.cost)
                else self.reference_cost - p.cost,
                "share_of_optimum_gain": share,
                "exemptions": None if s.figures is None else s.figures.terms.get("exemptions"),
                "wall_time_s": p.decision.wall_time})
        if self.optimum is not None:
            s = self.optimum.solution
            out.append({"max_moves": "none", "moves": None if s.plan is None else
                        int(moved(s.plan, self.reference.plan).sum()),
                        "status": str(s.status),
                        "proven": self.optimum.proven, "cost": self.optimum_cost,
                        "bound": s.bound,
                        "gain": None if None in (self.reference_cost, self.optimum_cost)
                        else self.reference_cost - self.optimum_cost,
                        "share_of_optimum_gain": 1.0 if self.optimum_cost is not None else None,
                        "exemptions": None if s.figures is None
                        else s.figures.terms.get("exemptions"),
                        "wall_time_s": self.optimum.wall_time})
        return out




MAX_STEPS = 100
"""Most points a curve may ask for (each is an exact solve)."""


def moves_curve(problem: Problem, steps: list[int], options: SolveOptions | None = None, *,
                optimum: bool = True) -> MovesCurve:
    """Solve for each bound in `steps` (ascending), each from the previous plan, and the
    optimum without a bound (from the last plan). `options.time_limit` applies to each
    point. A stop request (a signal) ends the curve after the point being solved (kept,
    not proven): no later point and no optimum is solved, so nothing stopped early is
    taken for the optimum."""
    if problem.reference is None:
        raise ValueError("moves_curve needs a problem with a reference plan")
    if not 1 <= len(set(steps)) <= MAX_STEPS:
        raise ValueError(f"a curve needs 1 to {MAX_STEPS} bounds, got {len(set(steps))}")
    stop = options.stop if options is not None else None
    # each point needs its best plan only, not the cost of every count
    options = replace(options or SolveOptions(), prune_counts=True)
    free_limits = {k: v for k, v in problem.limits.items() if k != "moves"}
    base = replace(problem, limits=free_limits)
    ref_figs = evaluate(base, problem.reference.plan)
    reference_cost = ref_figs.terms.get("total")
    points = []
    start = reference_start(base)
    for n in sorted(set(steps)):
        if stop is not None and stop.is_set():
            break
        options.say(f"at most {n} moves")
        p = replace(problem, limits={**free_limits, "moves": float(n)})
        if start is not None and n:
            start = _better(p, start, greedy_moves(p, start, n))
        d = _solve_from(p, start, replace(options, started=time.perf_counter()))
        points.append(MovePoint(n, d))
        if d.solution.plan is not None:
            start = d.solution.plan
    best = None
    interrupted = None
    if stop is not None and stop.is_set():
        interrupted = stop.reason.removeprefix("interrupted by ") if stop.signum else "stop"
        optimum = False
    if optimum:
        options.say("no limit on moves")
        free = base
        if not base.objective_weights.get("moves"):  # moves cost nothing: drop rows (M)
            free = replace(base, reference=None)
        best = _solve_from(free, start, replace(options, started=time.perf_counter()))
        if best.solution.interrupted is not None:  # stopped: not the optimum, left out
            interrupted, best = best.solution.interrupted, None
    return MovesCurve(tuple(points), reference_cost, best, problem.reference, interrupted)


def greedy_moves(problem: Problem, plan: Plan, moves: int) -> Plan:
    """`plan` improved by at most `moves` single moves, each the best one: a municipality
    (not a lead) joins a neighbouring area when its area stays connected and every area
    keeps its floors (an exempted area only its hard floors), cheapest travel first; the
    areas are then led by their cheapest member. The start for a bounded curve point."""
    from scipy.sparse.csgraph import connected_components

    inst = problem.instance
    adj = inst.adjacency
    lead = np.array(plan.lead, dtype=np.int64)
    if np.any(lead < 0):
        return plan
    floors = [b for b in problem.floors]
    vals = np.array([b.values for b in floors]).reshape(len(floors), problem.n)
    lim = np.array([b.member_limit for b in floors])
    soft = np.array([b.exemptable for b in floors], dtype=bool)
    exempt = {int(k) for k in plan.exempt if isinstance(k, int)}
    for _ in range(moves):
        best = None
        for i in range(problem.n):
            frm = int(lead[i])
            if frm == i:
                continue
            members = np.flatnonzero(lead == frm)
            rest = members[members != i]
            keep = ~soft if frm in exempt else np.ones(len(lim), dtype=bool)
            if np.any(vals[keep][:, rest].sum(axis=1) < lim[keep] - 1e-9):
                continue
            for to in {int(lead[v]) for v in adj.indices[adj.indptr[i]: adj.indptr[i + 1]]}:
                if to == frm or not problem.allowed[i, to]:
                    continue
                gain = problem.cost[i, frm] - problem.cost[i, to]
                if gain > 1e-9 and (best is None or gain > best[0]) and \
                        connected_components(adj[rest][:, rest], directed=False)[0] == 1:
                    best = (gain, i, to)
        if best is None:
            break
        lead[best[1]] = best[2]
    for j in np.unique(lead):  # each area led by its cheapest member
        members = np.flatnonzero(lead == j)
        ok = [c for c in members if problem.allowed[members, c].all()]
        if ok:
            c = min(ok, key=lambda c: problem.cost[members, c].sum())
            lead[members] = c
            if j in exempt:
                exempt = (exempt - {int(j)}) | {int(c)}
    out = declare_short(problem, Plan.from_leads(inst, lead))
    return out if verify(problem, out).ok else plan


def _solve_from(problem: Problem, start, options: SolveOptions) -> Decision:
    """solve_model with a start plan when the question is a single solve."""
    if start is not None and problem.needs_phases is None:
        sol = options.solve(problem, warm_start=start if verify(problem, start).ok else None)

        sol = tidy(sol)
        return Decision("cost", sol, (("cost", sol),))
    return solve_model(problem, options)


def _better(problem: Problem, a: Plan, b: Plan) -> Plan:
    """The cheaper of two plans under `problem` (a on a tie)."""
    va, vb = evaluate(problem, a).objective, evaluate(problem, b).objective
    return b if va is not None and vb is not None and vb < va - 1e-9 else a


def is_proven(curve: MovesCurve) -> bool:
    return curve.interrupted is None and all(p.decision.proven for p in curve.points) and (
        curve.optimum is None or curve.optimum.proven)


__all__ = ["MAX_STEPS", "MovePoint", "MovesCurve", "greedy_moves", "is_proven", "moves_curve"]


__getattr__ = getattr_for(__name__)  # names moved to optimizer.output in 0.2

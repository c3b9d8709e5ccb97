"""Pareto fronts of two objective terms by the exact ε-constraint method.

For terms X (minimised) and Y (bounded): the two ends come from lexicographic
solves (min X then min Y with X at its minimum; min Y then min X with Y at its
minimum). Between them, for ε on a grid of Y values, min X s.t. Y ≤ ε, then min Y
s.t. X at that optimum, so every point found is non-dominated when both solves
are proven. A point whose solves were stopped by a limit is kept but marked
unproven; dominated and repeated points are dropped, and an ε whose answer is already
known (the last point found lies within it) is not solved again. The time limit and a
stop request (a signal) bound the whole front: no solve starts after either, and the
front says why it is short (`stopped`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .._moved import getattr_for
from ..errors import InputError
from ..model.objective import BY_NAME
from ..model.problem import Problem
from ..result import Solution
from ..status import Status
from .base import SolveOptions
from .exemptions import tidy

PARETO_TERMS = tuple(BY_NAME)
"""Terms a front may use: every objective term (`model/objective.py`)."""


REL_STEP = 1e-6
"""Relative tolerance when fixing a term at its optimum in the second solve."""
MAX_POINTS = 100
"""Most points a front may ask for (each is two exact solves)."""


@dataclass(frozen=True, eq=False)
class ParetoPoint:
    x: float
    y: float
    solution: Solution
    proven: bool
    epsilon: float | None
    """The bound on y this point was found under (None for the two ends)."""


@dataclass(frozen=True, eq=False)
class ParetoFront:
    x_term: str
    y_term: str
    points: tuple[ParetoPoint, ...]
    """Non-dominated points, by increasing x."""
    solves: int
    stopped: str | None = None
    """Why the front ended before every point was tried (the time limit, a signal)."""
    interrupted: str | None = None
    """The signal (SIGINT, SIGTERM) that stopped it, if one did."""

    @property
    def proven(self) -> bool:
        return self.stopped is None and all(p.proven for p in self.points)

    def rows(self) -> list[dict]:
        out = []
        for k, p in enumerate(self.points, start=1):
            f = p.solution.figures
            out.append({"point": k, self.x_term: p.x, self.y_term: p.y, "proven": p.proven,
                        "areas": len(f.areas), "objective_total": f.terms.get("total"),
                        "epsilon": p.epsilon,
                        "leads": " ".join(sorted(a.lead_name for a in f.areas))})
        return out


def _check_term(term: str, problem: Problem) -> str:
    if term not in PARETO_TERMS:
        raise ValueError(f"unknown term {term!r} (choose from {', '.join(PARETO_TERMS)})")
    if term == "moves" and problem.reference is None:
        raise InputError(f"{problem.model.source}: the term 'moves' counts municipalities "
                         "moved from a reference plan, and the model has none ([reference] "
                         "plan = ...)")
    if term == "deficit" and problem.available is None:
        raise InputError(f"{problem.model.source}: the term 'deficit' needs [finance] with "
                         "the organiser's share fixed in advance (a percentage)")
    return term


def _term(sol: Solution, term: str) -> float:
    return float(sol.figures.terms[term])


def _lex(problem: Problem, first: str, second: str, limits: dict, options: SolveOptions,
         start=None) -> tuple[Solution | None, bool, int]:
    """min `first` under `limits`, then min `second` with `first` held at its optimum (not
    when the first solve was stopped: the point is then kept, unproven)."""
    p1 = replace(problem, weights={first: 1.0}, limits=limits)
    s1 = options.solve(p1, warm_start=start)
    if s1.plan is None:
        return None, False, 1
    if s1.interrupted is not None or options.deadline(problem).expired():
        return tidy(s1), False, 1
    v = _term(s1, first)
    hold = v + REL_STEP * max(1.0, abs(v))
    p2 = replace(problem, weights={second: 1.0},
                 limits={**limits, first: min(limits.get(first, np.inf), hold)})
    s2 = tidy(options.solve(p2, warm_start=s1.plan))
    if s2.plan is None:
        return tidy(s1), False, 2
    return s2, s1.status is Status.OPTIMAL and s2.status is Status.OPTIMAL, 2


def pareto_front(problem: Problem, x: str, y: str, points: int = 5,
                 options: SolveOptions | None = None) -> ParetoFront:
    """Up to `points` non-dominated points of (x, y), both minimised.

    (long: the two ends, the ε grid with its reuse of known answers, and the time limit and
    stop request checked before every solve)"""
    if x == y:
        raise ValueError("the two terms of a front must differ")
    x, y = _check_term(x, problem), _check_term(y, problem)
    if not 2 <= points <= MAX_POINTS:
        raise ValueError(f"a front needs 2 to {MAX_POINTS} points, got {points}")
    # each point needs its best plan only, not the cost of every count
    options = replace(options or SolveOptions(), prune_counts=True)
    deadline = options.deadline(problem)
    base = dict(problem.limits)
    solves = 0
    found: list[ParetoPoint] = []

    def front(stopped: bool = False) -> ParetoFront:
        why = deadline.why if stopped else None
        signal = None
        if stopped and options.stop is not None and options.stop.signum is not None:
            signal = options.stop.reason.removeprefix("interrupted by ")
        return ParetoFront(x, y, tuple(non_dominated(found)), solves, why, signal)

    options.say(f"front of {x} and {y}: the end with the least {x}")
    left, ok_left, n = _lex(problem, x, y, base, options)
    solves += n
    if left is None:
        return front(deadline.expired())
    found.append(ParetoPoint(_term(left, x), _term(left, y), left, ok_left, None))
    if deadline.expired():
        return front(True)
    options.say(f"the end with the least {y}")
    right, ok_right, n = _lex(problem, y, x, base, options, start=left.plan)
    solves += n
    if right is not None:
        found.append(ParetoPoint(_term(right, x), _term(right, y), right, ok_right, None))
    if right is None or found[0].y - found[1].y <= REL_STEP * max(1.0, abs(found[0].y)):
        return front(deadline.expired())
    hi, lo = found[0].y, found[1].y
    last = found[0]
    for k in range(1, points - 1):
        eps = hi - (hi - lo) * k / (points - 1)
        if last.proven and last.y <= eps + REL_STEP * max(1.0, abs(eps)):
            continue  # the last point lies within ε: it is this ε's answer too
        if deadline.expired():
            return front(True)
        options.say(f"point {k + 2} of {points}: {y} ≤ {eps:,.2f}")
        sol, proven, n = _lex(problem, x, y, {**base, y: min(base.get(y, np.inf), eps)},
                              options, start=right.plan)
        solves += n
        if sol is not None:
            last = ParetoPoint(_term(sol, x), _term(sol, y), sol, proven, eps)
            found.append(last)
    return front(deadline.stopped())


def non_dominated(points: list[ParetoPoint]) -> list[ParetoPoint]:
    """Points no other point dominates (≤ in both, < in one), repeats dropped, by x."""
    def tol(v: float) -> float:
        return REL_STEP * max(1.0, abs(v))

    keep: list[ParetoPoint] = []
    for p in sorted(points, key=lambda p: (p.x, p.y, not p.proven)):
        if any(q.x <= p.x + tol(p.x) and q.y <= p.y + tol(p.y) for q in keep):
            continue
        keep.append(p)
    return keep


__getattr__ = getattr_for(__name__)  # names moved to optimizer.output in 0.2

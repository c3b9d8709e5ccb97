"""A stronger incumbent: the best plan for a fixed set of leads, found by the solver, and
a descent that moves each lead to its area's centre and solves again.

With the leads fixed the MILP has n·k columns instead of n², and it is solved
exactly (contiguity included) in a fraction of the full solve; a plan that is
optimal for its leads is usually within a few per cent of the optimum, which is
what reduced-cost fixing needs (fixing.py). Lead sets come from the heuristic's
plan and from the root LP (the leads with the largest x_jj, then samples
weighted by x_jj). This is the "contiguity heuristic" of Validi, Buchanan &
Lykhovyd (2022) with their Hess descent, written for this project's model.
Nothing here claims optimality: the plans it returns are verified incumbents.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from ..data.plan import Plan
from ..mip.formulation import candidate_pairs
from ..model.evaluate import evaluate
from ..model.problem import Problem

DESCENT_STEPS = 6
"""Most re-centring steps from one lead set."""
PATIENCE = 2
"""Restricted solves in a row that may fail to improve the best plan before the descent
stops: this many, or the number of leads if larger (1 once the best plan is within
`CLOSE` of the lower bound)."""
CLOSE = 0.01
SOLVE_SHARE = 0.25
"""Most of the descent's time one restricted solve may take."""
SWAP_CANDIDATES = 3
"""Per lead, the cheapest members or neighbours of its area tried in its place."""


def restricted(problem: Problem, leads) -> Problem:
    """The problem with exactly these leads (every other candidate removed)."""
    chosen = np.zeros(problem.n, dtype=bool)
    chosen[list(leads)] = True
    k = int(chosen.sum())
    return replace(problem, candidates=problem.candidates & chosen,
                   allowed=problem.allowed & chosen[None, :],
                   fixed=tuple(sorted(set(problem.fixed) | {int(j) for j in leads})),
                   k_min=k, k_max=k)


def recentred(problem: Problem, plan: Plan, ok: np.ndarray) -> tuple[int, ...]:
    """Per area, the member that serves it cheapest as lead (fixed leads and locks stay)."""
    pinned = set(problem.fixed) | set(problem.locks.values())
    leads = []
    for j, members in plan.areas().items():
        j = int(j)
        m = np.asarray(members)
        if j in pinned:
            leads.append(j)
            continue
        able = [c for c in m if ok[c, c] and np.all(ok[m, c])]
        costs = [problem.cost[m, c].sum() + problem.lead_fixed[c] for c in able]
        leads.append(int(able[int(np.argmin(costs))]) if able else j)
    return tuple(sorted(leads))


def lead_sets(problem: Problem, k: int, plan: Plan | None, weight: np.ndarray | None,
              rng: np.random.Generator, also: tuple[tuple[int, ...], ...] = ()
              ) -> Iterator[tuple[int, ...]]:
    """Lead sets to try: the k heaviest by `weight` (the root LP's x_jj over the
    municipalities that may lead), the sets in `also` (the Lagrangian relaxation's leads),
    the plan's, then samples in proportion to the weight."""
    must = sorted(set(problem.fixed))
    need = k - len(must)
    free = np.zeros(0, dtype=np.int64)
    if weight is not None and need >= 0:
        free = np.flatnonzero(weight > 0)
        free = free[~np.isin(free, must)]
        if len(free) >= need:
            order = free[np.argsort(-weight[free], kind="stable")]
            yield tuple(sorted(must + order[:need].tolist()))
    for leads in also:
        if len(leads) == k and set(must) <= set(leads):
            yield tuple(sorted(leads))
    if plan is not None:
        yield tuple(sorted(int(j) for j in np.unique(plan.lead)))
    if weight is None or need < 0 or len(free) < need:
        return
    p = weight[free] + 1e-3 * weight[free].max()
    p = p / p.sum()
    while True:
        yield tuple(sorted(must + rng.choice(free, size=need, replace=False, p=p).tolist()))


def descend(problem: Problem, solve_for_leads: Callable[[Problem, float], Plan | None],
            start: Plan | None, weight: np.ndarray | None, *, time_limit: float,
            bound: float = -np.inf, seed: int = 0, tries: int = 2,
            also: tuple[tuple[int, ...], ...] = ()) -> Plan | None:
    """The best plan found from lead sets: a few starts (`lead_sets`), each improved by
    re-centring while it gets cheaper, then the best improved by swapping one lead for a
    municipality of or next to its area (first improvement, until none improves).
    `solve_for_leads(sub, seconds)` returns the solver's best plan of a restricted
    problem (or None)."""
    deadline = time.perf_counter() + time_limit
    ok = candidate_pairs(problem)
    rng = np.random.default_rng(seed)
    seen: dict[tuple[int, ...], float] = {}
    best: list = [np.inf, None]
    if start is not None:
        best[:] = [evaluate(problem, start).objective, start]
    misses = [0]

    def value_of(leads: tuple[int, ...]) -> tuple[float, Plan | None]:
        """The restricted optimum's value for these leads (inf if none), memoised."""
        if leads in seen:
            return seen[leads], None
        left = deadline - time.perf_counter()
        close = best[0] - bound <= CLOSE * max(1.0, abs(best[0]))
        if left <= 0 or misses[0] >= (1 if close else max(PATIENCE, problem.k_max)):
            return np.inf, None
        plan = solve_for_leads(restricted(problem, leads), min(left, time_limit * SOLVE_SHARE))
        value = np.inf if plan is None else evaluate(problem, plan).objective
        seen[leads] = value
        if value < best[0] - 1e-9 * max(1.0, abs(value)):
            best[:] = [value, plan]
            misses[0] = 0
        else:
            misses[0] += 1
        return value, plan

    sets = lead_sets(problem, problem.k_min, start, weight, rng, also)
    for _ in range(tries):
        leads = next(sets, None)
        if leads is None or time.perf_counter() > deadline:
            break
        chain = np.inf
        for _step in range(DESCENT_STEPS):
            value, plan = value_of(leads)
            if plan is None or value >= chain - 1e-9 * max(1.0, abs(value)):
                break
            chain = value
            leads = recentred(problem, plan, ok)
    _swap_search(problem, best, value_of, ok, deadline)
    return best[1]


def _swap_search(problem: Problem, best: list, value_of, ok: np.ndarray,
                 deadline: float) -> None:
    """Swap one lead for a member or neighbour of its area while that improves `best`."""
    adj = problem.instance.adjacency
    pinned = set(problem.fixed) | set(problem.locks.values())
    improved = True
    while improved and best[1] is not None and time.perf_counter() < deadline:
        improved = False
        plan = best[1]
        leads = tuple(sorted(int(j) for j in np.unique(plan.lead)))
        for j in leads:
            if j in pinned:
                continue
            area = np.flatnonzero(plan.lead == j)
            near = np.unique(np.concatenate([area, adj[area].indices]))
            near = [int(c) for c in near if ok[c, c] and c not in leads]
            near.sort(key=lambda c: problem.cost[area, c].sum() + problem.lead_fixed[c])
            for c in near[:SWAP_CANDIDATES]:
                if time.perf_counter() > deadline:
                    return
                trial = tuple(sorted([*(x for x in leads if x != j), c]))
                before = best[0]
                value_of(trial)
                if best[0] < before:
                    improved = True
                    break
            if improved:
                break

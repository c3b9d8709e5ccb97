"""Local search for a first plan when the floors and caps are tight (±0.5 % bands).

The constructive heuristic repairs bounds greedily and gives up on bands as
narrow as the districting benchmarks' (South Carolina: 7 districts of 46
counties within ±0.5 % of the ideal population). Here areas are grown from
their leads smallest-first, then a tabu search moves boundary municipalities
and swaps pairs of them between neighbouring areas, keeping every area
contiguous, until no floor or cap is broken: the violation (relative shortfall
and excess, summed over areas and bounds) is minimised; ties go to the cheaper
move; a municipality just moved may not move back for a few iterations.
The plan it returns is checked by the verifier by its callers; nothing here
claims optimality.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ..mip.formulation import candidate_pairs
from ..model.problem import Problem

TABU = 7
"""Iterations a moved municipality stays where it was put."""
SWAP_AREAS = 3
"""Swaps are tried around this many of the most violated areas when no move helps."""


class _Areas:
    """An assignment under search: lead per municipality, area totals per bound."""

    def __init__(self, problem: Problem, ok: np.ndarray, lead: np.ndarray):
        self.p = problem
        self.ok = ok
        adj = problem.instance.adjacency
        self.nb = [adj.indices[adj.indptr[i]: adj.indptr[i + 1]] for i in range(problem.n)]
        self.lead = lead
        bounds = [*problem.floors, *problem.caps]
        self.vals = np.array([b.values for b in bounds], dtype=float).reshape(len(bounds),
                                                                               problem.n)
        self.lo = np.array([b.member_limit for b in problem.floors]
                           + [-np.inf] * len(problem.caps))
        self.hi = np.array([np.inf] * len(problem.floors) + [b.limit for b in problem.caps])
        self.scale = np.maximum(np.abs(np.where(np.isfinite(self.lo), self.lo, self.hi)), 1e-9)
        self.tot = {int(j): self.vals[:, lead == j].sum(axis=1) for j in np.unique(lead)}
        pinned = set(problem.fixed) | set(problem.locks.values())
        self.fixed = set(problem.locks) | set(self.tot) | pinned
        self.apart: dict[int, set[int]] = {}
        for a, b in problem.separate:
            self.apart.setdefault(a, set()).add(b)
            self.apart.setdefault(b, set()).add(a)

    def violation(self, t: np.ndarray) -> float:
        return float((np.maximum(self.lo - t, 0) / self.scale).sum()
                     + (np.maximum(t - self.hi, 0) / self.scale).sum())

    def total(self) -> float:
        return sum(self.violation(t) for t in self.tot.values())

    def connected_without(self, j: int, gone: set[int], extra: int | None = None) -> bool:
        """Whether area j (with `gone` removed and `extra` added) is connected."""
        inside = self.lead == j
        for g in gone:
            inside[g] = False
        if extra is not None:
            inside[extra] = True
        seen = {j}
        todo = deque([j])
        while todo:
            u = todo.popleft()
            for v in self.nb[u]:
                v = int(v)
                if inside[v] and v not in seen:
                    seen.add(v)
                    todo.append(v)
        return len(seen) == int(inside.sum())

    def may_join(self, i: int, j: int) -> bool:
        return bool(self.ok[i, j]) and not any(self.lead[k] == j for k in self.apart.get(i, ()))

    def moves(self) -> list[tuple[int, int, int]]:
        """(i, from, to) for boundary municipalities that may change area."""
        out = []
        for i in range(self.p.n):
            if i in self.fixed:
                continue
            a = int(self.lead[i])
            for b in {int(self.lead[v]) for v in self.nb[i]} - {a}:
                if self.may_join(i, b):
                    out.append((i, a, b))
        return out

    def move(self, i: int, to: int) -> None:
        frm = int(self.lead[i])
        self.tot[frm] = self.tot[frm] - self.vals[:, i]
        self.tot[to] = self.tot[to] + self.vals[:, i]
        self.lead[i] = to


def grow_balanced(problem: Problem, ok: np.ndarray, leads: list[int]) -> np.ndarray | None:
    """Everyone assigned along edges: the area furthest below its floors (else the
    smallest) takes its cheapest unassigned neighbour; None if someone cannot be reached."""
    n = problem.n
    lead = np.full(n, -1, dtype=np.int64)
    lead[leads] = leads
    for i, j in problem.locks.items():
        if lead[i] < 0 and j in leads:
            lead[i] = j
    s = _Areas(problem, ok, np.where(lead >= 0, lead, leads[0]))
    size = {j: s.vals[:, lead == j].sum(axis=1) for j in leads}
    adj = problem.instance.adjacency
    while (lead < 0).any():
        best = None
        for j in leads:
            members = np.flatnonzero(lead == j)
            front = np.unique(adj[members].indices)
            front = front[(lead[front] < 0) & ok[front, j]]
            if not len(front):
                continue
            short = float((np.maximum(s.lo - size[j], 0) / s.scale).sum())
            key = (-short, float((size[j] / s.scale).sum()))
            if best is None or key < best[0]:
                best = (key, j, front)
        if best is None:
            return None
        _, j, front = best
        i = int(front[np.argmin(problem.cost[front, j])])
        lead[i] = j
        size[j] = size[j] + s.vals[:, i]
    return lead


def tabu_search(problem: Problem, ok: np.ndarray, lead: np.ndarray, *, time_limit: float,
                seed: int = 0, halt: Callable[[], bool] = lambda: False) -> np.ndarray | None:
    """A contiguous assignment meeting every floor and cap, from a contiguous `lead`
    (each area keeps its lead), or None when the time runs out first."""
    deadline = time.perf_counter() + time_limit
    rng = np.random.default_rng(seed)
    s = _Areas(problem, ok, np.array(lead, dtype=np.int64))
    current = s.total()
    tabu: dict[int, int] = {}
    step = 0
    while current > 1e-12:
        if time.perf_counter() > deadline or halt():
            return None
        step += 1
        best = None
        for i, a, b in s.moves():
            if tabu.get(i, -1) >= step:
                continue
            ta, tb = s.tot[a] - s.vals[:, i], s.tot[b] + s.vals[:, i]
            delta = (s.violation(ta) + s.violation(tb)
                     - s.violation(s.tot[a]) - s.violation(s.tot[b]))
            key = (round(delta, 12), problem.cost[i, b] - problem.cost[i, a], rng.random())
            if best is not None and key >= best[0]:
                continue
            if s.connected_without(a, {i}):
                best = (key, ((i, b),))
        if best is None or best[0][0] >= -1e-12:
            swap = _best_swap(s, tabu, step, rng)
            if swap is not None and (best is None or swap[0] < best[0]):
                best = swap
        if best is None:
            return None
        for i, b in best[1]:
            s.move(i, b)
            tabu[i] = step + TABU + int(rng.integers(0, 3))
        current = s.total()
    return s.lead


def _best_swap(s: _Areas, tabu: dict, step: int, rng):
    """The best exchange of two boundary municipalities between neighbouring areas, around
    the most violated areas."""
    worst = sorted(s.tot, key=lambda j: -s.violation(s.tot[j]))[:SWAP_AREAS]
    moves = s.moves()
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, a, b in moves:
        if tabu.get(i, -1) < step:
            by_pair.setdefault((a, b), []).append(i)
    best = None
    for a in worst:
        for (x, b), out in by_pair.items():
            if x != a:
                continue
            back = by_pair.get((b, a), [])
            for i in out:
                for k in back:
                    ta = s.tot[a] - s.vals[:, i] + s.vals[:, k]
                    tb = s.tot[b] + s.vals[:, i] - s.vals[:, k]
                    delta = (s.violation(ta) + s.violation(tb)
                             - s.violation(s.tot[a]) - s.violation(s.tot[b]))
                    key = (round(delta, 12), s.p.cost[i, b] + s.p.cost[k, a]
                           - s.p.cost[i, a] - s.p.cost[k, b], rng.random())
                    if best is not None and key >= best[0]:
                        continue
                    if (s.connected_without(a, {i}, extra=k)
                            and s.connected_without(b, {k}, extra=i)):
                        best = (key, ((i, b), (k, a)))
    return best


def search_plan(problem: Problem, weight: np.ndarray | None, *, time_limit: float,
                seed: int = 0, halt: Callable[[], bool] = lambda: False) -> np.ndarray | None:
    """A lead per municipality meeting every rule the search knows (contiguity, floors,
    caps, separate pairs, locks), from lead sets chosen by `weight` (the root LP's x_jj:
    its k heaviest first, then samples), or None. Callers verify it. `halt()` true
    (a stop request, the deadline) ends the search at once."""

    deadline = time.perf_counter() + time_limit
    ok = candidate_pairs(problem)
    rng = np.random.default_rng(seed)
    k = problem.k_min
    must = sorted(set(problem.fixed) | set(problem.locks.values()))
    can = np.flatnonzero(np.diag(ok))
    can = can[~np.isin(can, must)]
    need = k - len(must)
    if need < 0 or len(can) < need:
        return None
    w = np.ones(problem.n) if weight is None else np.asarray(weight, dtype=float)
    tries = 0
    while time.perf_counter() < deadline and not halt():
        if tries == 0:
            free = can[np.argsort(-w[can], kind="stable")[:need]]
        else:
            p = w[can] + 0.05 * max(float(w[can].max(initial=0.0)), 1e-9)
            free = rng.choice(can, size=need, replace=False, p=p / p.sum())
        tries += 1
        leads = [*must, *(int(j) for j in free)]
        grown = grow_balanced(problem, ok, leads)
        if grown is None:
            continue
        left = deadline - time.perf_counter()
        found = tabu_search(problem, ok, grown, time_limit=min(left, max(left / 3, 0.5)),
                            seed=seed + tries, halt=halt)
        if found is not None:
            return found
    return None

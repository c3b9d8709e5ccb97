"""A fast constructive heuristic: contiguous plans that respect every rule, no solver.

Used for warm starts (a good incumbent lets the MIP fix variables early and
gives the cut loop a plan to fall back on) and as `--backend heuristic` for a
quick answer. Steps per start: pick leads greedily by cost saving, grow areas
from the leads cheapest-first (so they are contiguous), move boundary
municipalities until every floor and cap holds, then improve by boundary
moves and re-centring leads. Several seeded starts per area count; the best
plan the verifier accepts wins. Nothing here claims optimality. A group kept whole
(`areas.keep_whole`) moves as one unit: it joins an area whole and leaves it whole.

The work is bounded by a `Budget`: a wall-clock deadline, or (for runs that
must give the same plan on a busy and a quiet machine) a number of steps.
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..data.plan import Plan
from ..mip.formulation import candidate_pairs
from ..model.problem import Problem
from ..model.verify import verify
from ..stopping import Deadline

CHECK_EVERY = 32
"""Municipalities examined between two looks at the clock within an improvement pass."""


class Budget:
    """How much the heuristic may do: until a deadline, for a number of steps, or both.

    A step is one repair move or one improvement pass, so a step budget gives the
    same plan at any speed; a deadline gives whatever fits in the time.
    """

    def __init__(self, deadline: Deadline | None = None, steps: int | None = None):
        self.deadline = deadline or Deadline()
        self.steps = steps
        self.used = 0

    @classmethod
    def of(cls, time_limit: float | None = None, deadline: Deadline | None = None,
           steps: int | None = None) -> Budget:
        """`time_limit` seconds from now, cut short by `deadline`, and/or `steps` steps."""
        return cls((deadline or Deadline()).sooner(time_limit), steps)

    def left(self) -> bool:
        return not self.deadline.expired() and (self.steps is None or self.used < self.steps)

    def out_of_time(self) -> bool:
        """The deadline alone (looked at within a step; steps are counted between them)."""
        return self.deadline.expired()

    def spend(self) -> bool:
        """Count one step; whether the budget allows another."""
        self.used += 1
        return self.left()


class _State:
    """A plan under construction: lead per municipality plus running area totals."""

    def __init__(self, problem: Problem, ok: np.ndarray, lead: np.ndarray):
        self.p = problem
        self.ok = ok
        self.adj = problem.instance.adjacency
        self.lead = lead
        bounds = [*problem.floors, *problem.caps]
        self.vals = np.array([b.values for b in bounds]).reshape(len(bounds), problem.n)
        self.lo = np.array([b.member_limit for b in problem.floors]
                           + [-np.inf] * len(problem.caps))
        self.hi = np.array([np.inf] * len(problem.floors) + [b.limit for b in problem.caps])
        self.tot = {}
        for j in np.unique(lead[lead >= 0]):
            self.tot[int(j)] = self.vals[:, lead == j].sum(axis=1)
        self.apart = _partners(problem)
        self.unit = problem.unit_of()

    def nb(self, i: int) -> np.ndarray:
        return self.adj.indices[self.adj.indptr[i]: self.adj.indptr[i + 1]]

    def members(self, j: int) -> np.ndarray:
        return np.flatnonzero(self.lead == j)

    def connected_without(self, j: int, i: int) -> bool:
        """Whether area j stays connected (and keeps its lead) when i's unit leaves it."""
        unit = self.unit[i]
        if j in unit:
            return False
        inside = self.lead == j
        inside[list(unit)] = False
        seen = {j}
        stack = [j]
        while stack:
            u = stack.pop()
            for v in self.nb(u):
                v = int(v)
                if inside[v] and v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == int(inside.sum())

    def deficit(self, j: int) -> float:
        """Relative violation of area j's floors and caps (0 when all hold)."""
        t = self.tot[j]
        short = np.maximum(self.lo - t, 0) / np.maximum(np.abs(self.lo), 1e-9)
        over = np.maximum(t - self.hi, 0) / np.maximum(np.abs(self.hi), 1e-9)
        return float(short.sum() + over.sum())

    def move(self, i: int, to: int) -> None:
        """Move i's unit (itself, or its group kept whole) to area `to`."""
        frm = int(self.lead[i])
        unit = self.unit[i]
        values = self.vals[:, i] if len(unit) == 1 else self.vals[:, list(unit)].sum(axis=1)
        self.tot[frm] = self.tot[frm] - values
        self.tot[to] = self.tot[to] + values
        self.lead[list(unit)] = to

    def can_move(self, i: int, to: int) -> bool:
        frm = int(self.lead[i])
        unit = self.unit[i]
        if frm == to or frm in unit:
            return False
        for u in unit:
            if not self.ok[u, to] or u in self.p.locks:
                return False
            if any(self.lead[k] == to for k in self.apart.get(u, ())):
                return False
        if not any(self.lead[v] == to for u in unit for v in self.nb(u)):
            return False
        return self.connected_without(frm, i)

    def move_cost(self, i: int, to: int) -> float:
        """What moving i's unit to `to` changes in travel cost."""
        unit = list(self.unit[i])
        frm = int(self.lead[i])
        return float(self.p.cost[unit, to].sum() - self.p.cost[unit, frm].sum())

    def cost(self) -> float:
        c = self.p.cost[np.arange(self.p.n), self.lead].sum()
        return float(c + self.p.lead_fixed[list(self.tot)].sum())


def _partners(problem: Problem) -> dict[int, tuple[int, ...]]:
    """Each municipality's separate partners (municipalities it may not share an area with)."""
    out: dict[int, list[int]] = {}
    for a, b in problem.separate:
        out.setdefault(a, []).append(b)
        out.setdefault(b, []).append(a)
    return {k: tuple(v) for k, v in out.items()}


SPARSE_LEADS = 4_000_000
"""More pairs than this (n × candidates): the greedy leads are picked over the allowed
pairs only (the sparse model of large instances), not over the dense cost matrix."""


def _pick_leads(problem: Problem, ok: np.ndarray, k: int, rng) -> list[int] | None:
    leads = list(dict.fromkeys([*problem.fixed, *problem.locks.values()]))
    if len(leads) > k:
        return None
    unit = problem.unit_of()
    if problem.n * int(np.diag(ok).sum()) > SPARSE_LEADS:
        return _pick_leads_sparse(problem, ok, k, rng, leads, unit)
    cost = np.where(ok, problem.cost, np.inf)
    can = np.flatnonzero(np.diag(ok))
    sub = cost[:, can]
    big = cost[np.isfinite(cost)].max(initial=0) * 2 + 1  # stands in for "not served yet"
    while len(leads) < k:
        cur = cost[:, leads].min(axis=1) if leads else np.full(problem.n, np.inf)
        cur = np.where(np.isfinite(cur), cur, big)
        with np.errstate(invalid="ignore"):
            gain = np.maximum(cur[:, None] - sub, 0).sum(axis=0)  # an infinite cost gains 0
        gain[np.isin(can, [u for j in leads for u in unit[j]])] = -1.0  # one lead a group
        if not gain.size or gain.max() < 0:  # no candidate left (e.g. every one over a cap)
            return None
        top = np.argsort(-gain)[: 1 if rng is None else 3]
        leads.append(int(can[top[0] if rng is None else rng.choice(top)]))
    return leads


def _pick_leads_sparse(problem: Problem, ok: np.ndarray, k: int, rng, leads: list[int],
                       unit: list[tuple[int, ...]]) -> list[int] | None:
    """`_pick_leads` over the allowed pairs alone: memory and time grow with the pairs."""
    pi, pj = np.nonzero(ok)
    c = problem.cost[pi, pj]
    can = np.diag(ok).copy()
    big = float(c.max(initial=0.0)) * 2 + 1
    cur = np.full(problem.n, big)
    for j in leads:
        here = pj == j
        np.minimum.at(cur, pi[here], c[here])
    chosen = np.zeros(problem.n, dtype=bool)  # a lead, or in a lead's group: one lead a group
    chosen[[u for j in leads for u in unit[j]]] = True
    while len(leads) < k:
        gain = np.bincount(pj, np.maximum(cur[pi] - c, 0.0), minlength=problem.n)
        gain[~can | chosen] = -1.0
        if gain.max(initial=-1.0) < 0:
            return None
        top = np.argsort(-gain)[: 1 if rng is None else 3]
        top = top[gain[top] >= 0]
        j = int(top[0] if rng is None else rng.choice(top))
        leads.append(j)
        chosen[list(unit[j])] = True
        here = pj == j
        np.minimum.at(cur, pi[here], c[here])
    return leads


def _grow(problem: Problem, ok: np.ndarray, leads: list[int],
          start: np.ndarray | None = None) -> np.ndarray | None:
    """Assign everyone to a lead along graph edges, so areas are contiguous.

    `start` may hold a partial assignment (-1 = open) whose areas are grown.
    While some area is below a floor, the neediest area takes its cheapest
    frontier municipality; after that, the cheapest frontier pair goes first. A
    municipality of a group kept whole brings its group.

    (long: the two phases share the frontier heaps and the lazy heap of needs, kept in
    closures over one state)
    """
    adj = problem.instance.adjacency
    n = problem.n
    lead = np.full(n, -1, dtype=np.int64) if start is None else start.copy()
    unit = problem.unit_of()
    for j in leads:
        lead[list(unit[j])] = j
    floors = [(b.values, b.member_limit) for b in problem.floors if b.member_limit > 0]
    have = {j: [float(v[lead == j].sum()) for v, _ in floors] for j in leads}
    heaps: dict[int, list[tuple[float, int]]] = {j: [] for j in leads}
    apart = _partners(problem)

    def push(u: int, j: int) -> list[tuple[float, int]]:
        added = []
        for v in adj.indices[adj.indptr[u]: adj.indptr[u + 1]]:
            if lead[v] < 0 and ok[v, j] and problem.locks.get(int(v), j) == j:
                added.append((problem.cost[v, j], int(v)))
                heapq.heappush(heaps[j], added[-1])
        return added

    def fits(u: int, j: int) -> bool:
        """u's unit is free and may join j whole."""
        return all(lead[v] < 0 and ok[v, j] and problem.locks.get(v, j) == j
                   and not any(lead[k] == j for k in apart.get(v, ())) for v in unit[u])

    def need(j: int) -> float:
        return max((lim - h) / lim for (_, lim), h in zip(floors, have[j], strict=True))

    def top(j: int) -> tuple[float, int] | None:
        h = heaps[j]
        while h and lead[h[0][1]] >= 0:
            heapq.heappop(h)
        return h[0] if h else None

    # the neediest area first (ties: the earlier lead), by a lazy heap: an area's need
    # only falls, and only when it takes a member; an area whose frontier is empty never
    # gets a new one (it only grows by taking a member)
    rank = {j: r for r, j in enumerate(leads)}
    needy = [(-need(j), rank[j], j) for j in leads] if floors else []
    heapq.heapify(needy)
    cheapest: list[tuple[float, int, int]] = []  # (cost, lead, municipality) for phase two

    def neediest() -> int | None:
        while needy:
            value, _, j = needy[0]
            now = need(j)
            if now <= 0 or -value != now or top(j) is None:
                heapq.heappop(needy)
                continue
            return j
        return None

    def add(u: int, j: int) -> None:
        for cost, v in push(u, j):
            heapq.heappush(cheapest, (cost, j, v))

    for u in np.flatnonzero(lead >= 0):
        push(int(u), int(lead[u]))
    for j in leads:
        for cost, v in heaps[j]:
            heapq.heappush(cheapest, (cost, j, v))
    open_left = int((lead < 0).sum())
    while open_left:
        j = neediest()
        if j is not None:
            _, u = heapq.heappop(heaps[j])
        else:
            while cheapest and lead[cheapest[0][2]] >= 0:
                heapq.heappop(cheapest)
            if not cheapest:
                return None
            _, j, u = heapq.heappop(cheapest)
        if not fits(u, j):
            continue
        for w in unit[u]:
            lead[w] = j
            open_left -= 1
            for k, (v, _) in enumerate(floors):
                have[j][k] += float(v[w])
        if floors and need(j) > 0:
            heapq.heappush(needy, (-need(j), rank[j], j))
        for w in unit[u]:
            add(w, j)
    return lead


def _repair(s: _State, budget: Budget) -> bool:
    """Move boundary municipalities, most violation removed first, until every bound holds."""
    while budget.spend():
        bad = [j for j in s.tot if s.deficit(j) > 1e-9]
        if not bad:
            return True
        best = None
        for j in bad:
            if budget.out_of_time():
                return False
            moves = set()
            for i in s.members(j):
                for v in s.nb(i):
                    other = int(s.lead[v])
                    if other != j:
                        moves.add((int(v), other, j))  # pull a neighbour in
                        moves.add((int(i), j, other))  # push a member out
            for i, frm, to in moves:
                if not s.can_move(i, to):
                    continue
                before = s.deficit(frm) + s.deficit(to)
                s.move(i, to)
                after = s.deficit(frm) + s.deficit(to)
                s.move(i, frm)
                if after < before - 1e-9:
                    key = (after - before, s.p.cost[i, to] - s.p.cost[i, frm]
                           if len(s.unit[i]) == 1 else s.move_cost(i, to))
                    if best is None or key < best[0]:
                        best = (key, i, to)
        if best is None:
            return False
        s.move(best[1], best[2])
    return False


def _improve(s: _State, budget: Budget) -> None:
    """Boundary moves and lead re-centring while the cost drops and every rule holds."""
    p = s.p
    improved = True
    while improved and budget.spend():
        improved = False
        for i in range(p.n):
            if i % CHECK_EVERY == 0 and budget.out_of_time():
                return
            frm = int(s.lead[i])
            for to in {int(s.lead[v]) for v in s.nb(i)} - {frm}:
                cheaper = (p.cost[i, to] < p.cost[i, frm] - 1e-12 if len(s.unit[i]) == 1
                           else s.move_cost(i, to) < -1e-12)
                if cheaper and s.can_move(i, to):
                    s.move(i, to)
                    if s.deficit(frm) > 1e-9 or s.deficit(to) > 1e-9:
                        s.move(i, frm)
                        continue
                    improved = True
                    break
        improved |= _recentre(s)


def _recentre(s: _State) -> bool:
    """Give each area the member lead that serves it cheapest (fixed leads and locks stay)."""
    p = s.p
    pinned = set(p.fixed) | set(p.locks.values())
    changed = False
    for j in list(s.tot):
        if j in pinned:
            continue
        m = s.members(j)
        feasible = [c for c in m if np.all(s.ok[m, c])]
        if not feasible:
            continue
        costs = [p.cost[m, c].sum() for c in feasible]
        c = int(feasible[int(np.argmin(costs))])
        if c != j and min(costs) < p.cost[m, j].sum() - 1e-12:
            s.lead[m] = c
            s.tot[c] = s.tot.pop(j)
            changed = True
    return changed


RESEEDS = 12
"""Times a start may move the lead of an area that cannot reach its floor."""


def _construct(problem: Problem, ok: np.ndarray, leads: list[int],
               budget: Budget) -> _State | None:
    """Grow and repair; if an area stays short, move its lead into the richest area."""
    pinned = set(problem.fixed) | set(problem.locks.values())
    for _ in range(RESEEDS):
        lead = _grow(problem, ok, leads)
        if lead is None:
            return None
        s = _State(problem, ok, lead)
        if _repair(s, budget):
            return s
        short = [j for j in s.tot if s.deficit(j) > 1e-9 and j not in pinned]
        if not short or not len(s.lo) or not budget.left():
            return None
        worst = max(short, key=s.deficit)
        floors = np.isfinite(s.lo) & (s.lo > 0)
        splittable = [j for j in s.tot if j != worst
                      and any(ok[c, c] and c != j and j not in s.unit[int(c)]
                              for c in s.members(j))]
        if not splittable:
            return None
        richest = max(splittable,
                      key=lambda j: float(np.min(s.tot[j][floors] / s.lo[floors])))
        members = [int(c) for c in s.members(richest) if ok[c, c] and c != richest
                   and richest not in s.unit[int(c)]]
        if not members:
            return None
        new = max(members, key=lambda c: problem.cost[c, richest])
        leads = [j for j in leads if j != worst] + [new]
    return None


def heuristic_plan(problem: Problem, *, seed: int = 0, starts: int = 6,
                   time_limit: float | None = 5.0, deadline: Deadline | None = None,
                   steps: int | None = None) -> Plan | None:
    """The best verified plan found from several seeded starts, or None.

    The work stops at `time_limit` seconds, at `deadline`, or after `steps` steps
    (with `time_limit=None` and no deadline: the same plan on any machine).
    """
    budget = Budget.of(time_limit, deadline, steps)
    ok = candidate_pairs(problem)
    best: tuple[float, Plan] | None = None
    rng = np.random.default_rng(seed)
    for k in range(problem.k_min, problem.k_max + 1):
        for start in range(starts):
            if not budget.left():
                break
            leads = _pick_leads(problem, ok, k, None if start == 0 else rng)
            if leads is None:
                break
            s = _construct(problem, ok, leads, budget)
            if s is None:
                continue
            _improve(s, budget)
            plan = Plan.from_leads(problem.instance, s.lead)
            if not verify(problem, plan).ok:
                continue
            value = s.cost() + _staff_cost(problem, s)
            if best is None or value < best[0] - 1e-9:
                best = (value, plan)
    return None if best is None else best[1]


def repair_plan(problem: Problem, plan: Plan, *, time_limit: float | None = 1.0,
                deadline: Deadline | None = None, steps: int | None = None) -> Plan | None:
    """A verified plan close to `plan`: pieces cut off from their lead join a neighbouring
    area, then bounds are repaired and the cost improved. None if that fails.

    The cut loop uses it to turn each relaxed (non-contiguous) optimum into an incumbent.
    The budget is as for `heuristic_plan`.
    """
    budget = Budget.of(time_limit, deadline, steps)
    ok = candidate_pairs(problem)
    lead = np.array(plan.lead, dtype=np.int64)
    leads = sorted({int(j) for j in lead if j >= 0 and lead[j] == j})
    if not leads or np.any(lead < 0) or any(lead[j] != j for j in set(lead.tolist())):
        return None
    adj = problem.instance.adjacency
    for j in leads:
        members = np.flatnonzero(lead == j)
        sub = adj[members][:, members]
        _, comp = connected_components(sub, directed=False)
        lead[members[comp != comp[np.searchsorted(members, j)]]] = -1
    for g in problem.hard_groups:  # a group split or cut off is grown again, whole
        m = list(g.members)
        if len(set(lead[m].tolist())) > 1:
            lead[m] = -1
    grown = _grow(problem, ok, leads, lead)
    if grown is None:
        return None
    s = _State(problem, ok, grown)
    if not _repair(s, budget):
        return None
    _improve(s, budget)
    result = Plan.from_leads(problem.instance, s.lead)
    return result if verify(problem, result).ok else None


def _staff_cost(problem: Problem, s: _State) -> float:
    price = problem.fte_price
    if problem.staffing is None or not np.any(price > 0):
        return 0.0
    return float(sum(price[j] * problem.fte_of(np.flatnonzero(s.lead == j)) for j in s.tot))

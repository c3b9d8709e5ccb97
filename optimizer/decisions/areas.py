"""The largest number of areas: every area contiguous and above its floors, at most E exempt.

The analysts' question about the law ("how many employment areas could the
mainland have?"). Phase 1 maximises the area count exactly; phase 2 finds the
cheapest plan with that count. Three things make phase 1 tractable on the 292
mainland municipalities, each valid for the count objective only:

* an upper bound: a municipality that meets every floor alone ("big") anchors at
  most one area, and areas of small municipalities only lie inside one connected
  part of the small ones, so count ≤ B + Σ_parts ⌊total / floor⌋ (+ E exemptions);
* every big municipality leads its own area (an area holding two bigs splits in two
  along a path between them, both halves still above every floor and below every
  cap), and every area is led by its top-ranked member (by the floor's attribute),
  which removes the symmetry of choosing leads;
* a greedy start that carves areas just above the floor out of the small parts.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from scipy.sparse.csgraph import connected_components

from ..data.instance import pieces
from ..data.plan import Plan
from ..model.precheck import big_municipalities, count_bound, floor_arrays
from ..model.problem import Problem
from ..model.verify import verify
from ..status import Status
from .base import Decision, SolveOptions
from .exemptions import declare_short, tidy

HEURISTIC_SECONDS = 3.0
"""Time the greedy start may take."""








def _restricted(problem: Problem) -> bool:
    """Whether the model pins leads (candidates, fixed, locks, distance): then the
    symmetry breaking is not valid and is left out."""
    return bool(problem.fixed or problem.locks or not problem.candidates.all()
                or problem.model.max_distance_km is not None)


def count_problem(problem: Problem, *, exemptions: int | None) -> Problem:
    """Phase 1: maximise the area count between the model's minimum and the bound."""
    limits = dict(problem.limits)
    if exemptions is not None:
        limits["exemptions"] = float(exemptions)
    most = int(limits.get("exemptions", 0)) if problem.exemptions is not None else 0
    hi = min(problem.k_max, count_bound(problem, most))
    lo = min(problem.k_min, hi)
    p = replace(problem, k_min=lo, k_max=hi, weights={"areas": -1.0}, limits=limits)
    if _restricted(problem):
        return p
    vals, _ = floor_arrays(problem)
    bigs = big_municipalities(problem)
    rank_key = vals[0] if len(vals) else np.zeros(problem.n)
    order = np.lexsort((np.arange(problem.n), -rank_key))  # top-ranked first
    rank = np.empty(problem.n, dtype=np.int64)
    rank[order] = np.arange(problem.n)
    allowed = problem.allowed & (rank[:, None] >= rank[None, :])  # led by its top member
    return replace(p, allowed=allowed, fixed=tuple(int(b) for b in bigs),
                   k_min=max(lo, len(bigs)) if len(bigs) <= hi else lo)


def greedy_most_areas(problem: Problem, *, seed: int = 0,
                      time_limit: float = HEURISTIC_SECONDS) -> Plan | None:
    """A plan with many areas: bigs alone, then areas carved just above every floor out of
    the parts the small municipalities form, the rest joined to a neighbouring area.
    Several seeded tries; the verified plan with the most areas wins."""
    deadline = time.perf_counter() + time_limit
    inst = problem.instance
    adj = inst.adjacency
    vals, lim = floor_arrays(problem)
    bigs = big_municipalities(problem)
    rng = np.random.default_rng(seed)
    dist = inst.distance
    best: Plan | None = None
    tries = 0
    exempt = int(problem.limits.get("exemptions", 0)) if problem.exemptions is not None else 0
    hard = [k for k, b in enumerate(problem.floors) if not b.exemptable]
    while time.perf_counter() < deadline and tries < 50:
        tries += 1
        lead = np.full(problem.n, -1, dtype=np.int64)
        lead[bigs] = bigs
        _carve(problem, lead, vals, lim, adj, dist, rng if tries > 1 else None)
        left = _exempt_leftovers(lead, vals, lim, hard, adj, exempt)
        if not _absorb(lead, adj, dist):
            continue
        _split(lead, vals, lim, adj, dist)
        _exempt_singletons(lead, vals, lim, hard, adj, left)
        plan = declare_short(problem, Plan.from_leads(inst, _top_leads(lead, vals)))
        if problem.k_min <= len(plan.areas()) <= problem.k_max and verify(problem, plan).ok \
                and (best is None or len(plan.areas()) > len(best.areas())):
            best = plan
    return best


def _exempt_leftovers(lead, vals, lim, hard, adj, exempt: int) -> int:
    """Make up to `exempt` of the pieces left after carving areas of their own (exempt, so
    only the hard floors apply), the largest first; returns the exemptions left."""
    free = np.flatnonzero(lead < 0)
    if not exempt or not len(free):
        return exempt
    for part in sorted(pieces(adj, free), key=lambda p: -vals[:, p].sum()):
        if exempt and np.all(vals[hard][:, part].sum(axis=1) >= lim[hard] - 1e-9):
            lead[part] = part[0]
            exempt -= 1
    return exempt


def _exempt_singletons(lead, vals, lim, hard, adj, exempt: int) -> None:
    """Split single municipalities off areas that stay connected and above every floor, as
    exempt areas of their own, while exemptions are left."""
    from scipy.sparse.csgraph import connected_components as parts

    for i in np.argsort(vals[0] if len(vals) else np.zeros(len(lead))):
        if not exempt:
            return
        j = lead[i]
        members = np.flatnonzero(lead == j)
        if len(members) < 2 or np.any(vals[hard, i] < lim[hard] - 1e-9):
            continue
        rest = members[members != i]
        if np.any(vals[:, rest].sum(axis=1) < lim - 1e-9):
            continue
        if parts(adj[rest][:, rest], directed=False)[0] != 1:
            continue
        lead[rest] = rest[0] if i == j else j
        lead[i] = i
        exempt -= 1


def _carve(problem, lead, vals, lim, adj, dist, rng) -> None:
    """Carve areas out of the unassigned parts while a part holds enough for one."""
    while True:
        free = np.flatnonzero(lead < 0)
        if not len(free):
            return
        sub = adj[free][:, free]
        k, comp = connected_components(sub, directed=False)
        carved = False
        for c in range(k):
            part = free[comp == c]
            if np.any(vals[:, part].sum(axis=1) < lim):
                continue
            # seed: the member farthest from the part's centre (the periphery first)
            centre = part[np.argmin(dist[np.ix_(part, part)].sum(axis=1))]
            far = part[np.argsort(-dist[part, centre])]
            s = int(far[0] if rng is None else far[rng.integers(min(3, len(far)))])
            area = _grow(s, set(part.tolist()), vals, lim, adj, dist, rng)
            if area is None:
                continue
            lead[area] = s
            carved = True
            break
        if not carved:
            return


def _grow(s, part, vals, lim, adj, dist, rng) -> list[int] | None:
    """Grow a connected set from s inside `part` until it meets every floor: the smallest
    neighbour that completes it, else the nearest neighbour (randomised among three)."""
    area = [s]
    have = vals[:, s].copy()
    inside = {s}
    while np.any(have < lim - 1e-9):
        frontier = sorted({int(v) for u in area for v in adj.indices[adj.indptr[u]:
                                                                      adj.indptr[u + 1]]
                           if int(v) in part and int(v) not in inside})
        if not frontier:
            return None
        done = [v for v in frontier if np.all(have + vals[:, v] >= lim - 1e-9)]
        if done:
            v = min(done, key=lambda v: (vals[:, v].sum(), v))
        else:
            near = sorted(frontier, key=lambda v: dist[s, v])
            v = near[0] if rng is None else near[int(rng.integers(min(3, len(near))))]
        area.append(v)
        inside.add(v)
        have = have + vals[:, v]
    return area


def _absorb(lead, adj, dist) -> bool:
    """Join each unassigned municipality to the nearest-led neighbouring area, repeatedly."""
    while np.any(lead < 0):
        moved = False
        for u in np.flatnonzero(lead < 0):
            nbr = [int(lead[v]) for v in adj.indices[adj.indptr[u]: adj.indptr[u + 1]]
                   if lead[v] >= 0]
            if nbr:
                lead[u] = min(nbr, key=lambda j: dist[u, j])
                moved = True
        if not moved:
            return False
    return True


def _split(lead, vals, lim, adj, dist) -> None:
    """Split areas holding enough for two: carve a connected part meeting every floor out of
    an area (away from its lead) when the rest stays connected and meets them too."""
    from scipy.sparse.csgraph import connected_components as parts

    changed = True
    while changed:
        changed = False
        for j in np.unique(lead):
            members = np.flatnonzero(lead == j)
            if np.any(vals[:, members].sum(axis=1) < 2 * lim - 1e-9):
                continue
            rest = set(members.tolist()) - {int(j)}
            for s in members[np.argsort(-dist[members, j])][:5]:
                if s == j:
                    continue
                piece = _grow(int(s), rest, vals, lim, adj, dist, None)
                if piece is None:
                    continue
                left = np.setdiff1d(members, piece)
                if np.any(vals[:, left].sum(axis=1) < lim - 1e-9):
                    continue
                if parts(adj[left][:, left], directed=False)[0] != 1:
                    continue
                lead[piece] = s
                changed = True
                break


def _top_leads(lead: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """Each area led by its top-ranked member (largest first floor value, then index)."""
    out = lead.copy()
    key = vals[0] if len(vals) else np.zeros(len(lead))
    for j in np.unique(lead):
        members = np.flatnonzero(lead == j)
        top = members[np.lexsort((members, -key[members]))[0]]
        out[members] = top
    return out


def most_areas(problem: Problem, options: SolveOptions, *, exemptions: int | None = None,
               cheapest: bool = True) -> Decision:
    """The largest number of areas (at most `exemptions` exempt, default the model's
    `exemptions.max`, or none without `[exemptions]`), then the cheapest plan with it."""
    first = count_problem(problem, exemptions=exemptions)
    notes = [f"upper bound before solving: {first.k_max} areas (big municipalities plus "
             "the floor's share of each part the small ones form)"]
    options.say(f"most areas: greedy start (bound {first.k_max})")
    start = greedy_most_areas(first)
    if start is not None:
        notes.append(f"greedy start: {len(start.areas())} areas")
        options.say(f"greedy start: {len(start.areas())} areas")
    one = tidy(options.solve(first, warm_start=start))
    phases = [("most areas", one)]
    if one.plan is None:
        return Decision("most areas", one, tuple(phases), None, False,
                        None if one.bound is None else float(np.floor(-one.bound + 1e-6)),
                        tuple(notes))
    k = len(one.plan.areas())
    proven = one.status is Status.OPTIMAL
    bound = float(k) if proven else (None if one.bound is None
                                     else float(np.floor(-one.bound + 1e-6)))
    final = one
    if cheapest:
        options.say(f"{k} areas{'' if proven else ' (not proven the most)'}; now the cost")
        weights = dict(problem.objective_weights)
        second = replace(problem, k_min=k, k_max=k, weights=weights,
                         model=problem.model.with_areas(k), limits=first.limits)
        final = tidy(options.solve(second, warm_start=one.plan))
        phases.append(("cost", final))
        if final.plan is None:
            notes.append("the cost phase found no plan in the time left: the count phase's "
                         "plan is shown")
            final = one
    return Decision("most areas", final, tuple(phases), float(k), proven, bound, tuple(notes))

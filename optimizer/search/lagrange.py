"""A Lagrangian bound over the assignment pairs, and fixing against an incumbent.

The assignment rows (1) Σ_j x_ij = 1 are relaxed with multipliers λ_i; contiguity
(6), the separate pairs (8), the limits and every floor and cap but one attribute are
dropped (dropping rows only lowers the bound). What is left splits by lead:

    L(λ) = Σ_i λ_i + min { Σ_j g_j y_j : k_min ≤ Σ_j y_j ≤ k_max, y_j = 1 for fixed j }
    g_j  = c_jj − λ_j + min { Σ_{i≠j} (c_ij − λ_i) x_ij : lo_j ≤ Σ_i a_i x_ij ≤ hi_j,
                                                          0 ≤ x_ij ≤ 1 }

with lo_j = floor − a_j, hi_j = cap − a_j on the kept attribute. Each inner problem is
a continuous knapsack, solved exactly by taking items in order of (c_ij − λ_i) / a_i
until the amount clamp(Σ of the negative items, lo_j, hi_j) is reached, so L(λ) is a
valid lower bound for every λ (Geoffrion 1974) whatever the multipliers' quality;
they are improved by subgradient steps (Polyak's rule against the incumbent), from
the root LP's duals of the rows (1) when there are some.

**Scale.** The pairs need not all be stored (`Pairs`): each municipality keeps its
cheapest leads and each lead its cheapest members, and every pair left out is
accounted for by two numbers: `reach_i` (every pair of i left out costs at least
this) and `tail_j` (every pair of lead j left out costs at least this). λ_i is held
at most reach_i, so no pair left out has a negative reduced cost, and a lead whose
kept members cannot reach its floor fills the rest at the least ratio a pair left
out could have. Memory grows with the pairs kept, and the bound stays valid for the
full problem.

**Fixing** (`survivors`): forcing x_ij = 1 raises L by at least the cost of
opening j (against the best lead left out or swapped) plus max(0, r_ij − ρ_j a_i),
ρ_j the ratio of j's marginal item; a pair whose forced bound exceeds the incumbent
is in no better plan. Leads are fixed both ways (open and closed) by the same
argument on the lead selection. Pairs left out of the kept set are judged one by one
from the dense cost (in chunks), so the survivors are all the pairs a better plan can
use: a model over them alone has the full model's optimum when it is below the
incumbent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..mip.pairs import cost_rows, objective_offset, pair_costs
from ..model.problem import Problem

ITERATIONS = 300
"""Most subgradient steps per call."""
STALL = 25
"""Steps without a better bound before the step size θ is halved."""
THETA = 2.0
"""Polyak's step-size factor at the start."""
MIN_THETA = 1e-4
CHUNK_CELLS = 2_000_000
"""Dense cost cells (rows × n) computed at once when the pairs are chosen (16 MB)."""
FIX_MARGIN = 1e-6
"""Relative margin above the incumbent before a pair or lead is fixed."""
KEEP_ALL_UNDER = 400
DP_CELLS = 4000
"""Largest capacity (in whole units) whose knapsacks are solved by dynamic programming."""
"""Fewer municipalities than this: every pair is kept (nothing left out)."""


@dataclass(frozen=True, eq=False)
class Pairs:
    """The kept pairs (i, j) grouped by lead j, with their costs and the least cost of
    the pairs left out (per municipality and per lead; inf when none is left out)."""

    n: int
    member: np.ndarray
    lead: np.ndarray
    cost: np.ndarray
    lead_cost: np.ndarray
    """c_jj per municipality (inf where j may not lead)."""
    reach: np.ndarray
    tail: np.ndarray

    @property
    def count(self) -> int:
        return len(self.member) + int(np.isfinite(self.lead_cost).sum())


def keep_pairs(problem: Problem, *, per_member: int = 12, per_lead: int = 40,
               keep_all: bool | None = None,
               halt: Callable[[], bool] = lambda: False) -> Pairs:
    """Each municipality's `per_member` nearest leads and each lead's `per_lead` nearest
    members (by distance; everything below `KEEP_ALL_UNDER` municipalities), computed in
    chunks of the dense matrices so that at most `CHUNK_CELLS` values exist at once; the
    least cost of the pairs left out is computed exactly, so a bound over them is valid."""
    n = problem.n
    if keep_all is None:
        keep_all = n < KEEP_ALL_UNDER or (per_member >= n and per_lead >= n)
    step = max(1, CHUNK_CELLS // max(n, 1))
    lead_cost = np.full(n, np.inf)
    members, leads = [], []
    best_val = np.full((0, n), np.inf)
    best_row = np.zeros((0, n), dtype=np.int64)
    for lo in range(0, n, step):
        if halt():
            raise TimeoutError("stopped while the pairs were chosen")
        rows = np.arange(lo, min(n, lo + step))
        c = cost_rows(problem, rows)
        lead_cost[rows] = c[np.arange(len(rows)), rows]
        c[np.arange(len(rows)), rows] = np.inf  # the lead's own pair is apart
        if not keep_all:  # chosen by distance, costs kept apart
            c = np.where(np.isfinite(c), problem.instance.distance[rows], np.inf)
        if keep_all:
            i, j = np.nonzero(np.isfinite(c))
            members.append(rows[i])
            leads.append(j)
            continue
        m = min(per_member, n - 1)
        top = np.argpartition(c, m - 1, axis=1)[:, :m] if m < n else np.argsort(c, axis=1)
        ok = np.isfinite(np.take_along_axis(c, top, axis=1))
        members.append(np.repeat(rows, m)[ok.ravel()])
        leads.append(top.ravel()[ok.ravel()])
        # the running per_lead cheapest members of every lead
        val = np.vstack([best_val, c])
        who = np.vstack([best_row, np.repeat(rows[:, None], n, axis=1)])
        if len(val) > per_lead:
            part = np.argpartition(val, per_lead - 1, axis=0)[:per_lead]
            val = np.take_along_axis(val, part, axis=0)
            who = np.take_along_axis(who, part, axis=0)
        best_val, best_row = val, who
    if not keep_all:
        ok = np.isfinite(best_val)
        members.append(best_row[ok])
        leads.append(np.broadcast_to(np.arange(n), best_val.shape)[ok])
    member = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    lead = np.concatenate(leads) if leads else np.zeros(0, dtype=np.int64)
    key = np.unique(lead.astype(np.int64) * n + member)
    lead, member = key // n, key % n
    reach = np.full(n, np.inf)
    tail = np.full(n, np.inf)
    if not keep_all:
        kept = np.zeros(n + 1, dtype=np.int64)  # kept pairs by member: positions in `key`
        order = np.argsort(member, kind="stable")
        kept[1:] = np.cumsum(np.bincount(member, minlength=n))
        for lo in range(0, n, step):
            if halt():
                raise TimeoutError("stopped while the pairs were chosen")
            rows = np.arange(lo, min(n, lo + step))
            c = cost_rows(problem, rows)
            c[np.arange(len(rows)), rows] = np.inf
            sel = order[kept[lo]: kept[rows[-1] + 1]]
            c[member[sel] - lo, lead[sel]] = np.inf
            reach[rows] = c.min(axis=1)
            tail = np.minimum(tail, c.min(axis=0))
    cost = pair_costs(problem, member, lead)
    return Pairs(n, member, lead, cost, lead_cost, reach, tail)


@dataclass(frozen=True, eq=False)
class LagrangeBound:
    """The best multipliers found, the valid bound they give and what fixing needs."""

    bound: float
    lam: np.ndarray
    iterations: int
    g: np.ndarray
    """Per lead, its value in the relaxation (inf where it cannot lead)."""
    chosen: np.ndarray
    """Leads open in the relaxation's optimum."""
    item_up: np.ndarray
    """Per kept pair, the least increase of g_j if x_ij is forced to 1."""
    outside_up: np.ndarray
    """Per lead, the least increase of g_j if any pair of j left out is forced to 1."""
    marginal: np.ndarray
    """Per lead, the ratio of its marginal item (0 when the floor does not bind)."""

    def open_cost(self, fixed: tuple[int, ...], k_min: int, k_max: int) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
        """(least rise of L if lead j is forced open, if forced closed), per municipality."""
        g = self.g
        chosen = self.chosen
        free = chosen.copy()
        free[list(fixed)] = False
        count = int(chosen.sum())
        worst = g[free].max() if free.any() else np.inf
        out = ~chosen & np.isfinite(g)
        nxt = g[out].min() if out.any() else np.inf
        up = np.zeros(len(g))
        options = [g - worst] if np.isfinite(worst) else []
        if count < k_max:
            options.append(g)
        up[~chosen] = (np.min(options, axis=0)[~chosen] if options else np.inf)
        up[~np.isfinite(g)] = np.inf
        down = np.zeros(len(g))
        options = [nxt - g] if np.isfinite(nxt) else []
        if count > k_min:
            options.append(-g)
        down[chosen] = np.min(options, axis=0)[chosen] if options else np.inf
        down[list(fixed)] = np.inf
        return np.maximum(up, 0.0), np.maximum(down, 0.0)


class Lagrangian:
    """The relaxation of a problem over a set of kept pairs (see the module docstring)."""

    def __init__(self, problem: Problem, pairs: Pairs):
        self.p = problem
        self.pairs = pairs
        n = problem.n
        self.offset = objective_offset(problem)
        self.fixed = tuple(int(j) for j in problem.fixed)
        floor = _kept_floor(problem)
        self.a = floor[0] if floor is not None else np.zeros(n)
        m = floor[1] if floor is not None else 0.0
        cap = floor[2] if floor is not None else np.inf
        self.lo = m - self.a  # what the members must add to the lead's own amount
        self.hi = cap - self.a
        self.can_lead = np.isfinite(pairs.lead_cost) & (self.hi >= -1e-9)
        off = pairs.member != pairs.lead
        self.member = pairs.member[off]
        self.lead = pairs.lead[off]
        self.cost = pairs.cost[off]
        self.item_a = self.a[self.member]
        self.pos = self.item_a > 0
        self.a_max = float(self.a.max(initial=0.0))
        self.reach = pairs.reach
        # a cap alone on whole numbers (the capacitated p-median): each knapsack is solved
        # exactly by dynamic programming over the capacity, which the LP does not see
        caps = np.where(self.can_lead, np.floor(self.hi + 1e-9), 0)
        self.dp = bool(np.all(self.lo <= 0) and np.isfinite(self.hi[self.can_lead]).all()
                       and self.can_lead.any() and np.allclose(self.a, np.round(self.a))
                       and 0 < caps.max() <= DP_CELLS)
        if self.dp:
            self.capacity = caps.astype(np.int64)
            self.size = np.round(self.item_a).astype(np.int64)

    def evaluate(self, lam: np.ndarray):
        """(L(λ), subgradient, g, chosen, x̂ over the items, marginal ratio per lead)."""
        n = self.p.n
        r = self.cost - lam[self.member]
        x = np.zeros(len(r))
        zero = ~self.pos
        x[zero & (r < 0)] = 1.0
        g = np.where(self.can_lead, self.pairs.lead_cost - lam, np.inf)
        g += np.bincount(self.lead[zero], np.minimum(r[zero], 0.0), minlength=n)
        idx = np.flatnonzero(self.pos)
        ratio = r[idx] / self.item_a[idx]
        order = idx[np.lexsort((ratio, self.lead[idx]))]
        lead_s = self.lead[order]
        a_s = self.item_a[order]
        r_s = r[order]
        neg = np.bincount(lead_s, np.where(r_s < 0, a_s, 0.0), minlength=n)
        total = np.bincount(lead_s, a_s, minlength=n)
        target = np.clip(neg, np.maximum(self.lo, 0.0), np.maximum(self.hi, 0.0))
        cum = np.cumsum(a_s)
        first = np.searchsorted(lead_s, np.arange(n))
        base = np.concatenate([[0.0], cum])[first]
        before = cum - a_s - base[lead_s]
        take = np.clip(target[lead_s] - before, 0.0, a_s)
        f = take / a_s
        x[order] = f
        g += np.bincount(lead_s, f * r_s, minlength=n)
        # the marginal ratio: the last item taken when the floor makes the fill
        used = f > 0
        marg = np.zeros(n)
        fill = target > neg + 1e-12
        last = np.zeros(n)
        np.maximum.at(last, lead_s[used], np.where(r_s[used] > 0, r_s[used] / a_s[used], 0.0))
        marg[fill] = last[fill]
        short = target - np.minimum(total, target)  # the amount no kept member supplies
        lam_max = float(lam.max(initial=0.0))
        rho_out = np.maximum(0.0, (self.pairs.tail - lam_max) / max(self.a_max, 1e-12))
        gap = short > 1e-9
        bad = gap & ~np.isfinite(self.pairs.tail)
        g[bad] = np.inf
        ok = gap & np.isfinite(self.pairs.tail)
        g[ok] += rho_out[ok] * short[ok]
        marg[ok] = np.maximum(marg[ok], rho_out[ok])
        up = np.where(x >= 1.0 - 1e-12, 0.0,
                      np.maximum(0.0, r - marg[self.lead] * self.item_a) * (1.0 - x))
        if self.dp:
            g, x, up = self._cap_dp(lam, r, x)
        chosen = self._choose(g)
        value = float(lam.sum() + g[chosen].sum() + self.offset)
        served = np.bincount(self.member, np.where(chosen[self.lead], x, 0.0), minlength=n)
        served += chosen
        return value, 1.0 - served, g, chosen, x, r, marg, up

    def _cap_dp(self, lam: np.ndarray, r: np.ndarray, x_lp: np.ndarray):
        """Each lead's knapsack under the cap solved exactly (0-1, whole sizes): g, x̂ and,
        per item, the least rise of g_j when it is forced in (its reduced cost plus the
        profit the capacity it takes would have earned: V_j(C_j) − V_j(C_j − a_i))."""
        n = self.p.n
        x = np.zeros(len(r))
        zero = ~self.pos
        x[zero & (r < 0)] = 1.0
        g = np.where(self.can_lead, self.pairs.lead_cost - lam, np.inf)
        g += np.bincount(self.lead[zero], np.minimum(r[zero], 0.0), minlength=n)
        sel = np.flatnonzero((r < 0) & self.pos & self.can_lead[self.lead])
        sel = sel[np.lexsort((r[sel], self.lead[sel]))]
        lead = self.lead[sel]
        leads, row = np.unique(lead, return_inverse=True)
        width = int(self.capacity.max()) + 1
        table = np.zeros((max(len(leads), 1), width))
        if len(sel):
            slot = np.arange(len(sel)) - np.searchsorted(lead, lead)
            depth = int(slot.max()) + 1
            size = np.zeros((len(leads), depth), dtype=np.int64)
            gain = np.zeros((len(leads), depth))
            size[row, slot] = self.size[sel]
            gain[row, slot] = -r[sel]
            w = np.arange(width)
            rows = np.arange(len(leads))[:, None]
            took = np.zeros((depth, len(leads), width), dtype=bool)
            for t in range(depth):
                src = w[None, :] - size[:, t][:, None]
                cand = np.where(src >= 0, table[rows, np.maximum(src, 0)] + gain[:, t][:, None],
                                -np.inf)
                better = cand > table + 1e-12
                took[t] = better
                table = np.where(better, cand, table)
            cap = self.capacity[leads]
            g[leads] -= table[np.arange(len(leads)), cap]
            left = cap.copy()
            take = np.zeros((len(leads), depth), dtype=bool)
            for t in range(depth - 1, -1, -1):
                take[:, t] = took[t][np.arange(len(leads)), left]
                left = left - np.where(take[:, t], size[:, t], 0)
            x[sel] = take[row, slot]
        # forced-in rise per item: r_i + V_j(C_j) − V_j(C_j − a_i) (inf past the capacity)
        at = np.full(n, -1, dtype=np.int64)
        at[leads] = np.arange(len(leads))
        k = at[self.lead]
        cap = self.capacity[self.lead]
        rest = cap - self.size
        full = np.where(k >= 0, table[np.maximum(k, 0), np.minimum(cap, width - 1)], 0.0)
        part = np.where((k >= 0) & (rest >= 0),
                        table[np.maximum(k, 0), np.clip(rest, 0, width - 1)], 0.0)
        up = np.where(rest < 0, np.inf, np.maximum(0.0, r + full - part))
        up = np.where(x >= 1.0, 0.0, up)
        up[zero] = np.where(x[zero] >= 1.0, 0.0, np.maximum(r[zero], 0.0))
        return g, x, up

    def _choose(self, g: np.ndarray) -> np.ndarray:
        """The leads of the cheapest selection: the fixed ones, then by g up to k_min, then
        every further negative g up to k_max."""
        p = self.p
        chosen = np.zeros(len(g), dtype=bool)
        chosen[list(self.fixed)] = True
        rest = np.flatnonzero(~chosen & np.isfinite(g))
        rest = rest[np.argsort(g[rest], kind="stable")]
        need = max(p.k_min - len(self.fixed), 0)
        room = max(p.k_max - len(self.fixed), 0)
        take = rest[:need]
        more = rest[need:room]
        take = np.concatenate([take, more[g[more] < 0]])
        chosen[take] = True
        return chosen

    def start(self) -> np.ndarray:
        """Multipliers to start from: each municipality's cheapest pair in a plan (its own
        lead's share of the fixed cost, or the cheapest other lead)."""
        n = self.p.n
        lam = np.full(n, np.inf)
        np.minimum.at(lam, self.member, self.cost)
        share = self.pairs.lead_cost / max(1.0, n / max(self.p.k_max, 1))
        lam = np.minimum(lam, np.where(np.isfinite(share), share, np.inf))
        lam[~np.isfinite(lam)] = 0.0
        return np.minimum(lam, self.reach)

    def run(self, *, upper: float | None = None, lam: np.ndarray | None = None,
            iterations: int = ITERATIONS, halt: Callable[[], bool] = lambda: False,
            target_gap: float = 0.0) -> LagrangeBound:
        """Subgradient steps from `lam` (default `start()`); the best bound found."""
        lam = self.start() if lam is None else np.minimum(np.asarray(lam, float), self.reach)
        best = None
        theta = THETA
        since = 0
        done = 0
        for step_no in range(1, iterations + 1):
            done = step_no
            value, s, g, chosen, _x, _r, marg, up = self.evaluate(lam)
            if best is None or value > best[0]:
                if best is not None and value > best[0] + 1e-9 * max(1.0, abs(value)):
                    since = 0
                best = (value, lam.copy(), g, chosen, up, marg)
            else:
                since += 1
            if since >= STALL:
                theta /= 2
                since = 0
            goal = upper if upper is not None else best[0] + 0.05 * max(1.0, abs(best[0]))
            if upper is not None and best[0] >= upper - target_gap * max(1.0, abs(upper)):
                break
            norm = float(s @ s)
            if norm < 1e-12 or theta < MIN_THETA or halt() or not np.isfinite(value):
                break
            step = theta * max(goal - value, 1e-6 * max(1.0, abs(value))) / norm
            lam = np.minimum(lam + step * s, self.reach)
        value, lam_b, g, chosen, up, marg = best
        return self._result(value, lam_b, done, g, chosen, up, marg)

    def _result(self, value, lam, done, g, chosen, up, marg) -> LagrangeBound:
        n = self.p.n
        lam_max = float(lam.max(initial=0.0))
        out = np.full(n, np.inf)
        finite = np.isfinite(self.pairs.tail)
        out[finite] = np.maximum(
            0.0, self.pairs.tail[finite] - lam_max - marg[finite] * self.a_max)
        return LagrangeBound(value, lam, done, g, chosen, up, out, marg)


def _kept_floor(problem: Problem):
    """(values, floor, cap) of the one attribute the relaxation keeps: the floor that asks
    the most of an average area (with a cap on the same values, if any), else a cap."""
    best = None
    for b in problem.floors:
        if b.scale != 1.0 or b.offset:
            continue
        total = float(b.values.sum())
        weight = b.member_limit * max(problem.k_max, 1) / max(total, 1e-12)
        if best is None or weight > best[0]:
            best = (weight, b)
    if best is None:
        caps = [c for c in problem.caps if c.scale == 1.0 and not c.offset]
        return None if not caps else (caps[0].values, 0.0, caps[0].limit)
    b = best[1]
    cap = min((c.limit for c in problem.caps if c.values is b.values
               or np.array_equal(c.values, b.values)), default=np.inf)
    return b.values, b.member_limit, cap


@dataclass(frozen=True, eq=False)
class Survivors:
    """The pairs a Lagrangian bound cannot exclude from a plan cheaper than an incumbent:
    every better plan uses only these (kept or not), and opens every lead in `opened`."""

    member: np.ndarray
    lead: np.ndarray
    """The surviving pairs, leads' own pairs (j, j) included."""
    opened: np.ndarray
    """Leads open in every better plan."""
    excluded: int
    """Pairs excluded (structural pairs less the survivors)."""


def survivors(lag: Lagrangian, lb: LagrangeBound, incumbent: float, *,
              max_pairs: int | None = None,
              halt: Callable[[], bool] = lambda: False) -> Survivors | None:
    """The pairs not excluded by `lb` against `incumbent` (see the module docstring): the
    kept ones by their `item_up`, the others pair by pair in chunks of the dense cost.
    None when more than `max_pairs` survive or `halt()` says stop."""
    p = lag.p
    n = p.n
    limit = incumbent + FIX_MARGIN * max(1.0, abs(incumbent)) - lb.bound
    up, down = lb.open_cost(lag.fixed, p.k_min, p.k_max)
    closed = up > limit
    opened = down > limit
    live = ~closed & lag.can_lead
    keep = live[lag.lead] & (up[lag.lead] + lb.item_up <= limit)
    members = [lag.member[keep], np.flatnonzero(live)]
    leads = [lag.lead[keep], np.flatnonzero(live)]
    count = sum(len(m) for m in members)
    cols = np.flatnonzero(live & np.isfinite(lag.pairs.tail))
    if len(cols):
        key = np.sort(lag.pairs.lead * n + lag.pairs.member)
        step = max(1, CHUNK_CELLS // n)
        for lo in range(0, n, step):
            if halt():
                return None
            rows = np.arange(lo, min(n, lo + step))
            c = cost_rows(p, rows)[:, cols]
            c[rows[:, None] == cols[None, :]] = np.inf
            cells = cols[None, :] * n + rows[:, None]
            pos = np.minimum(np.searchsorted(key, cells), len(key) - 1)
            c[key[pos] == cells] = np.inf  # kept pairs were judged above
            rise = c - lb.lam[rows][:, None] - lb.marginal[cols][None, :] * lag.a[rows][:, None]
            i, k = np.nonzero(up[cols][None, :] + np.maximum(rise, 0.0) <= limit)
            members.append(rows[i])
            leads.append(cols[k])
            count += len(i)
            if max_pairs is not None and count > max_pairs:
                return None
    member = np.concatenate(members)
    lead = np.concatenate(leads)
    total = int(np.isfinite(lag.pairs.lead_cost).sum()) + len(lag.member)
    return Survivors(member, lead, np.flatnonzero(opened), max(0, total - len(member)))

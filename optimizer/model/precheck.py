"""Cheap checks that explain obvious infeasibility before any MIP is built, and the cheap
bound on how many areas can meet the floors."""

from __future__ import annotations

import numpy as np

from ..data.instance import pieces
from .problem import Problem


def diagnose(problem: Problem) -> list[str]:
    """Reasons why no plan can exist, each naming the municipalities involved ([] if none)."""
    inst = problem.instance
    reasons: list[str] = []
    fixed = list(problem.fixed)

    def names(idx) -> str:
        idx = list(idx)
        shown = ", ".join(inst.names[i] for i in idx[:8])
        return shown + (f" and {len(idx) - 8} more" if len(idx) > 8 else "")

    if len(fixed) > problem.k_max:
        reasons.append(f"{len(fixed)} fixed leads ({names(fixed)}) but at most "
                       f"{problem.k_max} areas")
    for j in fixed:
        if not problem.candidates[j]:
            reasons.append(f"fixed lead {inst.label(j)} is not a candidate lead")
        if j in problem.locks and problem.locks[j] != j:
            reasons.append(f"fixed lead {inst.label(j)} is locked to "
                           f"{inst.label(problem.locks[j])}")
    n_cand = int(problem.candidates.sum())
    if n_cand < problem.k_min:
        reasons.append(f"{n_cand} candidate leads but at least {problem.k_min} areas")
    reasons += _locks(problem)
    served = problem.allowed.any(axis=1)
    if not served.all():
        why = "maximum distance or locks" if inst.metric != "file" else \
            "maximum distance or minutes, no route, or locks"
        reasons.append(f"no candidate lead may serve {names(np.flatnonzero(~served))} "
                       f"({why})")
    alone = np.flatnonzero((problem.allowed.sum(axis=1) == 1) & problem.allowed.diagonal())
    if len(alone) > problem.k_max:
        reasons.append(f"{len(alone)} municipalities ({names(alone)}) can only be served by "
                       f"themselves (maximum distance, candidates or locks), so each leads an "
                       f"area, but at most {problem.k_max} areas")

    hard = [b for b in problem.floors if not b.exemptable]  # an exemption may waive the rest
    for b in hard:
        total = b.values.sum()
        if total < problem.k_min * b.member_limit:
            reasons.append(f"{b.attribute} totals {total:,.0f}: not enough for "
                           f"{problem.k_min} areas with {b.label} {b.limit:,.0f}")
    for b in problem.caps:
        total = b.values.sum()
        if total > problem.k_max * b.limit:
            reasons.append(f"{b.attribute} totals {total:,.0f}: more than {problem.k_max} "
                           f"areas can hold with {b.label} {b.limit:,.0f}")
        over = np.flatnonzero(b.values > b.limit)
        if len(over):
            reasons.append(f"{names(over)} alone exceed(s) {b.label} {b.limit:,.0f}")

    reasons += _two_tiers(problem, names)
    reasons += _groups(problem, names)
    if problem.contiguity:
        comps = pieces(inst.adjacency, np.arange(inst.n))
        if len(comps) > problem.k_max:
            reasons.append(f"the graph has {len(comps)} separate parts but at most "
                           f"{problem.k_max} areas; declare links (ferries) in "
                           "[contiguity] links")
        if len(comps) > 1:
            for comp in comps:
                if not problem.candidates[comp].any():
                    reasons.append(f"separate part {{{names(comp)}}} has no candidate lead")
                for b in hard:
                    total = b.values[comp].sum() + b.offset
                    if total < b.limit:
                        reasons.append(f"separate part {{{names(comp)}}} has {b.attribute} "
                                       f"{total:,.0f} < {b.label} {b.limit:,.0f}; it cannot "
                                       "form an area of its own")
    return reasons


def _locks(problem: Problem) -> list[str]:
    """Locks that no plan can keep: to a non-candidate, to a locked municipality, beyond
    the maximum distance or travel time, or without a route."""
    inst = problem.instance
    out = []
    for i, j in problem.locks.items():
        locked = f"{inst.label(i)} is locked to {inst.label(j)}"
        if not problem.candidates[j]:
            out.append(f"{locked}, which is not a candidate lead")
        elif j in problem.locks and problem.locks[j] != j:
            out.append(f"{locked}, which is itself locked to {inst.label(problem.locks[j])}")
        max_d = problem.model.max_distance_km
        if max_d is not None and inst.km[i, j] > max_d:
            out.append(f"{locked}, {inst.km[i, j]:.1f} km away (maximum {max_d:g} km)")
        max_t = problem.model.max_minutes
        if max_t is not None and inst.minutes[i, j] > max_t:
            out.append(f"{locked}, {inst.minutes[i, j]:.1f} minutes away (maximum {max_t:g})")
        if not np.isfinite(inst.distance[i, j]):
            out.append(f"{locked}, but {inst.travel.path.name} has no route between them")
    return out


def _two_tiers(problem: Problem, names) -> list[str]:
    """The organiser's area against the law; self-only fixed leads below a floor;
    separate pairs that a lock joins."""
    inst = problem.instance
    out: list[str] = []
    org = problem.organiser
    if org is not None:
        members = np.flatnonzero(problem.in_organiser_area)
        for b in problem.organiser_floors:
            total = b.values[members].sum()
            if total < b.limit:
                out.append(f"the organiser {inst.label(org)}'s area has {b.attribute} "
                           f"{total:,.0f} < {b.limit:,.0f} (the law's floor)")
        if problem.model.organiser.contiguous and problem.contiguity:
            parts = pieces(inst.adjacency, members)
            if len(parts) > 1:
                stray = [i for p in parts if org not in p for i in p]
                out.append(f"the organiser {inst.label(org)}'s area is not contiguous: "
                           f"{names(stray)} cut off")
    for j in problem.self_only:
        if j not in problem.fixed:
            continue
        for b in problem.floors:
            if b.values[j] + b.offset < b.limit:
                out.append(f"{inst.label(j)} must produce alone but has {b.attribute} "
                           f"{b.values[j] + b.offset:,.2f} < {b.label} {b.limit:,.2f}")
    for a, b in problem.separate:
        la, lb = problem.locks.get(a, a), problem.locks.get(b, b)
        if la == lb and (a in problem.locks or b in problem.locks):
            out.append(f"{inst.label(a)} and {inst.label(b)} must stay apart but locks put "
                       f"both in the area of {inst.label(la)}")
    return out


def floor_arrays(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Floor values (floors × n) and limits of every floor."""
    vals = np.array([b.values for b in problem.floors]).reshape(len(problem.floors), problem.n)
    return vals, np.array([b.limit for b in problem.floors])


def big_municipalities(problem: Problem) -> np.ndarray:
    """Positions of municipalities that meet every floor on their own."""
    vals, lim = floor_arrays(problem)
    return np.flatnonzero(np.all(vals >= lim[:, None] - 1e-9, axis=0))


def count_bound(problem: Problem, exemptions: int = 0) -> int:
    """An upper bound on the number of areas that meet every floor, plus `exemptions`:
    each municipality that meets the floors alone is one area at most, and the others,
    part by connected part, hold at most ⌊their total / the floor⌋ areas each."""
    n = problem.n
    vals, lim = floor_arrays(problem)
    if not len(lim):
        return n
    big = np.zeros(n, dtype=bool)
    big[big_municipalities(problem)] = True
    small = np.flatnonzero(~big)
    total = int(big.sum())
    if len(small):
        parts = pieces(problem.instance.adjacency, small) if problem.contiguity else [small]
        for part in parts:
            total += int(np.min(np.floor(vals[:, part].sum(axis=1) / np.maximum(lim, 1e-12)
                                         + 1e-9)))
    return min(n, total + exemptions)


def _groups(problem: Problem, names) -> list[str]:
    """Groups kept whole that no plan can keep whole: two fixed leads, or locks to two
    leads, in one group; a separate pair in one; a group above a cap; a fixed lead that
    must produce alone inside one."""
    inst = problem.instance
    out: list[str] = []
    for g in problem.hard_groups:
        what = f"{g.attribute} {g.name} must stay in one area"
        members = set(g.members)
        fixed = [j for j in problem.fixed if j in members]
        if len(fixed) > 1:
            out.append(f"{what}, but {names(fixed)} must each lead an area")
        locked = sorted({problem.locks[i] for i in members if i in problem.locks}
                        | set(fixed))
        if len(locked) > 1 and len(fixed) <= 1:
            out.append(f"{what}, but locks and fixed leads put its members in the areas of "
                       f"{names(locked)}")
        for a, b in problem.separate:
            if a in members and b in members:
                out.append(f"{what}, but {inst.label(a)} and {inst.label(b)} must stay apart")
        for b in problem.caps:
            total = float(b.values[list(members)].sum())
            if total > b.limit:
                out.append(f"{what}, but its {b.attribute} {total:,.0f} is above "
                           f"{b.label} {b.limit:,.0f}")
        for j in problem.self_only:
            if j in fixed:
                out.append(f"{what}, but {inst.label(j)} must lead an area that serves only "
                           "itself")
    return out

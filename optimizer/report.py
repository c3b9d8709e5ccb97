"""Plain-text tables and lines for the terminal, and the JSON summary."""

from __future__ import annotations

import textwrap

import numpy as np

from .contiguity import pieces
from .figures import PlanFigures
from .model import Problem
from .solve import Solution
from .verify import Verification

LABELS = {"population": "population", "labour_force": "labour force",
          "jobseekers": "jobseekers"}


def _num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def area_table(figs: PlanFigures) -> str:
    """One row per area: lead, size, attribute totals, staff, weighted travel and cost."""
    has_fte = any(a.fte is not None for a in figs.areas)
    head = ["lead", "munic."] + [LABELS.get(a, a) for a in figs.attributes]
    head += (["FTE"] if has_fte else []) + [f"travel ({figs.travel_weight}·km)", "cost"]
    rows = []
    for a in figs.areas:
        row = [f"{a.lead_name} ({a.lead_code})", str(len(a.members))]
        row += [_num(a.totals[k], 2 if k == "jobseekers" else 0) for k in figs.attributes]
        fte = _num(a.fte, 0 if isinstance(a.fte, int) or a.fte is None else 1)
        row += ([fte] if has_fte else []) + [_num(a.travel), _num(a.cost, 2)]
        rows.append(row)
    if figs.common_cost is not None:  # the organiser's common work, counted once
        rows.append(["organiser's common work", ""] + [""] * len(figs.attributes)
                    + ([""] if has_fte else []) + ["", _num(figs.common_cost, 2)])
    total = ["total", str(sum(len(a.members) for a in figs.areas))]
    total += [_num(sum(a.totals[k] for a in figs.areas), 2 if k == "jobseekers" else 0)
              for k in figs.attributes]
    if has_fte:
        ftes = [a.fte for a in figs.areas]
        whole = all(isinstance(f, int) for f in ftes)
        total.append(_num(sum(ftes), 0 if whole else 1) if None not in ftes else "–")
    total += [_num(figs.travel), _num(figs.objective, 2)]
    widths = [max(len(r[c]) for r in [head, *rows, total]) for c in range(len(head))]

    def fmt(r: list[str]) -> str:
        return "  ".join(r[0].ljust(widths[0]) if c == 0 else r[c].rjust(widths[c])
                         for c in range(len(r))) if r else ""

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(head), rule, *map(fmt, rows), rule, fmt(total)])


def members_list(figs: PlanFigures, width: int = 100) -> str:
    lines = []
    for a in figs.areas:
        lines.append(textwrap.fill(", ".join(a.member_names), width=width,
                                   initial_indent=f"{a.lead_name}: ", subsequent_indent="    "))
    return "\n".join(lines)


def solver_line(sol: Solution) -> str:
    gap = "–" if sol.gap is None else f"{100 * sol.gap:.2f}%"
    parts = [f"status {sol.status}", f"objective {_num(sol.objective, 2)}",
             f"bound {_num(sol.bound, 2)}", f"gap {gap}", f"time {sol.wall_time:.2f} s",
             sol.version, f"contiguity {sol.strategy}"]
    if sol.strategy == "cuts":
        parts[-1] += f" ({sol.rounds} rounds, {sol.cuts} cuts)"
    line = " · ".join(parts)
    if sol.gap_limit and sol.status == "optimal":
        line += f" (optimal within the accepted gap {100 * sol.gap_limit:g}%)"
    return line


def verification_text(v: Verification) -> str:
    return v.summary()


def figures_json(figs: PlanFigures) -> dict:
    return {"objective": figs.objective, "weighted_travel_km": figs.travel,
            "travel_weight": figs.travel_weight,
            "areas": [a.as_dict() for a in figs.areas]}


def verification_json(v: Verification) -> dict:
    return {"ok": v.ok, "violations": [
        {"rule": x.rule, "message": x.message, "municipalities": list(x.municipalities)}
        for x in v.violations]}


def organiser_line(problem: Problem, figs: PlanFigures) -> str | None:
    """The two tiers in one wrapped paragraph: the organiser's area against the law, how
    it produces its own area, and the regional leads (None without an organiser)."""
    org = problem.organiser
    if org is None:
        return None
    inst = problem.instance
    members = np.flatnonzero(problem.in_organiser_area)
    checks = []
    for b in problem.organiser_floors:
        total = float(b.values[members].sum())
        sign = "≥" if total >= b.limit - 1e-6 else "<"
        checks.append(f"{LABELS.get(b.attribute, b.attribute)} {total:,.0f} {sign} "
                      f"{b.limit:,.0f}")
    if problem.model.organiser.contiguous and problem.contiguity:
        parts = len(pieces(inst.adjacency, members))
        checks.append("contiguous" if parts == 1 else f"NOT contiguous ({parts} parts)")
    own_area = next((a for a in figs.areas if a.lead_code == inst.codes[org]), None)
    if own_area is None:
        own = "leads no area"
    elif len(own_area.members) == 1:
        own = "produces its own area alone"
    else:
        own = f"leads an area of {len(own_area.members)} municipalities"
        if org in problem.self_only:
            own += " (the model asks it to produce alone)"
    leads = len(figs.areas) - (own_area is not None)
    common = "" if figs.common_cost is None else f"; common cost {figs.common_cost:,.0f} €/yr"
    text = (f"organiser {inst.label(org)} for {len(members)} municipalities"
            + (f" ({', '.join(checks)})" if checks else "")
            + f"; {own}; {leads} regional lead{'s' if leads != 1 else ''} besides it{common}")
    return textwrap.fill(text, 100)

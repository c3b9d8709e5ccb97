"""Plain-text tables and lines for the terminal, and the JSON summary."""

from __future__ import annotations

import textwrap

from .figures import PlanFigures
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
        row += ([_num(a.fte)] if has_fte else []) + [_num(a.travel), _num(a.cost, 2)]
        rows.append(row)
    total = ["total", str(sum(len(a.members) for a in figs.areas))]
    total += [_num(sum(a.totals[k] for a in figs.areas), 2 if k == "jobseekers" else 0)
              for k in figs.attributes]
    if has_fte:
        total.append(_num(sum(a.fte for a in figs.areas)))
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

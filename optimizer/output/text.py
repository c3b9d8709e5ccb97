"""Plain-text tables and lines for the terminal, and the JSON summary."""

from __future__ import annotations

import textwrap

import numpy as np

from ..data.instance import Instance
from ..mip.contiguity import pieces
from ..model.evaluate import PlanFigures
from ..model.problem import Problem
from ..model.verify import Verification
from ..result import Solution

LABELS = {"population": "population", "labour_force": "labour force",
          "jobseekers": "jobseekers"}


def _num(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


WIDTH = 100
"""Terminal tables and lines fit in this many columns."""


def _header(text: str, width: int) -> list[str]:
    """A heading on up to two lines, split at a space when it is wider than its column."""
    if len(text) <= width or " " not in text:
        return ["", text]
    words = text.split(" ")
    best = min(range(1, len(words)), key=lambda k: max(len(" ".join(words[:k])),
                                                         len(" ".join(words[k:]))))
    return [" ".join(words[:best]), " ".join(words[best:])]


def travel_unit(figs: PlanFigures) -> str:
    """The weighted travel's unit in words: `jobseeker-km`, `jobseeker-min`, `km`, `min`."""
    unit = "min" if figs.distance_unit == "minutes" else "km"
    weight = figs.travel_weight
    return unit if weight == "unweighted" else f"{weight.rstrip('s')}-{unit}"


def distance_line(figs: PlanFigures) -> str:
    """Where the travel figures come from, in one wrapped line (`travel: ...`)."""
    return textwrap.fill(f"travel: {figs.distance_source}", WIDTH, subsequent_indent="    ",
                         break_on_hyphens=False)


def area_table(figs: PlanFigures) -> str:
    """One row per area (sorted by lead name): lead, size, attribute totals, staff, weighted
    travel and cost, units in the headings; long headings take two lines to fit 100 columns.
    A last line says where the travel figures come from."""
    has_fte = any(a.fte is not None for a in figs.areas)
    unit = travel_unit(figs)
    head = ["lead", "members"] + [LABELS.get(a, a.replace("_", " ")) for a in figs.attributes]
    head += (["FTE"] if has_fte else []) + [f"travel {unit}", "cost €/yr"]
    rows = []
    for a in sorted(figs.areas, key=lambda a: a.lead_name):
        row = [f"{a.lead_name} ({a.lead_code})", str(len(a.members))]
        row += [_num(a.totals[k], 2 if k == "jobseekers" else 0) for k in figs.attributes]
        fte = _num(a.fte, 0 if isinstance(a.fte, int) or a.fte is None else 1)
        row += ([fte] if has_fte else []) + [_num(a.travel), _num(a.cost)]
        rows.append(row)
    if figs.common_cost is not None:  # the organiser's common work, counted once
        rows.append(["organiser's work", ""] + [""] * len(figs.attributes)
                    + ([""] if has_fte else []) + ["", _num(figs.common_cost)])
    total = ["total", str(sum(len(a.members) for a in figs.areas))]
    total += [_num(sum(a.totals[k] for a in figs.areas), 2 if k == "jobseekers" else 0)
              for k in figs.attributes]
    if has_fte:
        ftes = [a.fte for a in figs.areas]
        whole = all(isinstance(f, int) for f in ftes)
        total.append(_num(sum(ftes), 0 if whole else 1) if None not in ftes else "–")
    total += [_num(figs.travel), _num(figs.objective)]
    body = [*rows, total]
    data_w = [max(len(r[c]) for r in body) for c in range(len(head))]
    heads = [_header(h, max(w, 3)) for h, w in zip(head, data_w, strict=True)]
    widths = [max(w, *(len(x) for x in h)) for w, h in zip(data_w, heads, strict=True)]

    def fmt(r: list[str]) -> str:
        return "  ".join(r[0].ljust(widths[0]) if c == 0 else r[c].rjust(widths[c])
                         for c in range(len(r))).rstrip()

    lines = [fmt([h[0] for h in heads])] if any(h[0] for h in heads) else []
    lines.append(fmt([h[1] for h in heads]))
    rule = "  ".join("-" * w for w in widths)
    foot = [distance_line(figs)] if figs.distance_source else []
    return "\n".join([*lines, rule, *map(fmt, rows), rule, fmt(total), *foot])


def members_list(figs: PlanFigures, width: int = WIDTH) -> str:
    """Each area's members by name, wrapped to `width` columns."""
    lines = []
    for a in sorted(figs.areas, key=lambda a: a.lead_name):
        lead = a.lead_name + (" (lead outside the instance)" if a.travel is None else "")
        lines.append(textwrap.fill(", ".join(sorted(a.member_names)), width=width,
                                   initial_indent=f"{lead}: ", subsequent_indent="    ",
                                   break_on_hyphens=False))
    return "\n".join(lines)


def solver_line(sol: Solution) -> str:
    """The certificate in one line, wrapped at its separators to fit 100 columns."""
    gap = "–" if sol.gap is None else f"{100 * sol.gap:.2f}%"
    parts = [f"status {sol.status}", f"objective {_num(sol.objective, 2)}",
             f"bound {_num(sol.bound, 2)}", f"gap {gap}", f"time {sol.wall_time:.2f} s",
             sol.version, f"contiguity {sol.strategy}"]
    if sol.strategy == "cuts":
        parts[-1] += f" ({sol.rounds} rounds, {sol.cuts} cuts)"
    if sol.gap_limit and sol.status == "optimal":
        parts.append(f"optimal within the accepted gap {100 * sol.gap_limit:g}%")
    lines = [parts[0]]
    for p in parts[1:]:
        if len(lines[-1]) + 3 + len(p) > WIDTH:
            lines[-1] += " ·"
            lines.append("    " + p)
        else:
            lines[-1] += " · " + p
    return "\n".join(lines)


def region_name(instance: Instance) -> str:
    """The region in words: the instance's `region_name`, else its name."""
    name = instance.metadata.get("region_name")
    return str(name) if name else instance.name.replace("-", " ").replace("_", " ").capitalize()


def status_words(status: str, gap: float | None = None, backend: str = "") -> str:
    """What a solve proved, in a planner's words."""
    if status == "optimal":
        return "proven optimal"
    if status == "feasible-at-limit":
        what = "heuristic plan" if backend == "heuristic" else "stopped at the time limit"
        return what + ", not proven optimal" + ("" if gap is None else f" (gap {gap:.1%})")
    return {"infeasible": "infeasible", "no-solution-at-limit": "no plan found in the time limit",
            "error": "solver error"}.get(status, status)


def plan_title(instance: Instance, areas: int, words: str, subtitle: str = "") -> str:
    """`Region: k areas, what was proven` (and a second line) for maps and reports."""
    title = f"{region_name(instance)}: " + (f"{areas} areas, {words}" if areas else words)
    return f"{title}\n{subtitle}" if subtitle else title


def verification_text(v: Verification) -> str:
    """The verifier's summary, each line wrapped to fit 100 columns."""
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent="      ",
                                   break_on_hyphens=False) if len(line) > WIDTH else line
                     for line in v.summary().splitlines())


def figures_json(figs: PlanFigures) -> dict:
    """The figures for summary.json; with travel times the travel keys say minutes."""
    key = "weighted_travel_minutes" if figs.distance_unit == "minutes" else "weighted_travel_km"
    areas = [a.as_dict() for a in figs.areas]
    if key != "weighted_travel_km":
        areas = [{(key if k == "weighted_travel_km" else k): v for k, v in a.items()}
                 for a in areas]
    return {"objective": figs.objective, key: figs.travel,
            "travel_weight": figs.travel_weight, "distance_unit": figs.distance_unit,
            "distance_source": figs.distance_source, "areas": areas}


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
    return textwrap.fill(text, WIDTH)

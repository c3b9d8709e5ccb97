"""What the terminal shows: tables of areas and money (≤ 100 columns), the certificate in
one line, the two tiers in a paragraph, and a decision in words."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from ..data.instance import Instance, pieces
from ..decisions.base import Decision
from ..decisions.exemptions import (
    EXPLAIN_SECONDS,
    ExemptArea,
    exempted_areas,
    infeasibility,
)
from ..economics.cents import money
from ..economics.settle import Finance
from ..model.evaluate import PlanFigures
from ..model.problem import Problem
from ..model.verify import Verification
from ..result import Solution
from ..words import plural

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
        parts[-1] += f" ({plural(sol.rounds, 'round')}, {plural(sol.cuts, 'cut')})"
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


def status_words(status: str, gap: float | None = None, backend: str = "") -> str:
    """What a solve proved, in a planner's words."""
    if status == "optimal":
        return "proven optimal"
    if status == "feasible-at-limit":
        what = "heuristic plan" if backend == "heuristic" else "stopped at the time limit"
        return what + ", not proven optimal" + ("" if gap is None else f" (gap {gap:.1%})")
    return {"infeasible": "infeasible", "no-solution-at-limit": "no plan found in the time limit",
            "error": "solver error"}.get(status, status)


def plan_title(instance: Instance, areas: int, words: str, subtitle: str = "",
               organiser: str | None = None) -> str:
    """`Region: k areas, what was proven` (and a second line) for maps and reports; with an
    organiser, `Region: Oulu's own area and 4 regional leads, ...`."""
    count = plural(areas, "area")
    if organiser is not None and areas:
        count = f"{organiser}'s own area and {plural(areas - 1, 'regional lead')}"
    title = f"{instance.region}: " + (f"{count}, {words}" if areas else words)
    return f"{title}\n{subtitle}" if subtitle else title


def organiser_name(problem: Problem) -> str | None:
    """The organiser's name, for titles (None without one)."""
    return None if problem.organiser is None else problem.instance.names[problem.organiser]


def verification_text(v: Verification) -> str:
    """The verifier's summary, each line wrapped to fit 100 columns."""
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent="      ",
                                   break_on_hyphens=False) if len(line) > WIDTH else line
                     for line in v.summary().splitlines())






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
        own = f"leads an area of {plural(len(own_area.members), 'municipality')}"
        if org in problem.self_only:
            own += " (the model asks it to produce alone)"
    leads = len(figs.areas) - (own_area is not None)
    common = "" if figs.common_cost is None else f"; common cost {figs.common_cost:,.0f} €/yr"
    text = (f"organiser {inst.label(org)} for {plural(len(members), 'municipality')}"
            + (f" ({', '.join(checks)})" if checks else "")
            + f"; {own}; {leads} regional lead{'s' if leads != 1 else ''} besides it{common}")
    return textwrap.fill(text, WIDTH)


def decision_words(decision: Decision) -> str:
    """What a decision proved, in words (for titles): the status, and the first phase's
    answer when the question has one."""
    sol = decision.solution
    words = status_words(str(sol.status), sol.gap, sol.backend)
    if decision.question == "most areas" and decision.answer is not None:
        words = ("the most areas" + ("" if decision.answer_proven else " found, not proven")
                 + f"; cost {words}")
    elif decision.question == "fewest exemptions" and decision.answer is not None:
        n = int(decision.answer)
        words = (f"{n} exemption{'s' if n != 1 else ''}"
                 + (" (the fewest)" if decision.answer_proven else " (not proven fewest)")
                 + f", {words}")
    return words


def answer_line(decision: Decision) -> str:
    """The first phase's answer in words: the fewest exemptions or the most areas."""
    if decision.answer is None:
        return f"{decision.question}: no answer (no plan found)"
    what = {"fewest exemptions": "fewest exempted areas",
            "most areas": "largest number of areas"}.get(decision.question, decision.question)
    if decision.answer_proven:
        return f"{what}: {decision.answer:.0f} (proven)"
    side = "at least" if decision.question == "fewest exemptions" else "at most"
    bound = "" if decision.answer_bound is None else f"; {side} {decision.answer_bound:.0f}"
    return f"{what}: {decision.answer:.0f} (not proven{bound})"


def phase_line(name: str, sol: Solution) -> str:
    """An earlier phase's certificate in one short line."""
    value = "–" if sol.objective is None else f"{abs(sol.objective):,.0f}"
    bound = "–" if sol.bound is None else f"{abs(sol.bound):,.2f}"
    return (f"phase '{name}': {sol.status} · value {value} · bound {bound} · "
            f"time {sol.wall_time:.2f} s")


def interrupted_line(sol: Solution, reason: str, out: Path | None) -> str:
    """How far a solve stopped by a signal got, in one line (`reason`: the stop's)."""
    if sol.interrupted is None:
        return f"{reason} after the run had finished" + (
            f"; its outputs are complete in {out}/" if out is not None else "")
    head = f"{reason} after {sol.wall_time:.1f} s: "
    if sol.plan is None:
        return head + "no plan found yet; nothing written"
    gap = "" if sol.gap is None else f", gap {100 * sol.gap:.2f} %"
    found = f"the best plan found so far (objective {sol.objective:,.2f}{gap})"
    return head + (f"{found} is written to {out}/ as {sol.status}" if out is not None
                   else f"{found} is shown above as {sol.status}")


# -- money ------------------------------------------------------------------





def _fte(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _table(head: list[str], rows: list[list[str]], total: list[str] | None,
           left: int = 1) -> str:
    """Columns padded to fit; a heading wider than its column takes two lines."""
    body = [*rows, total] if total else rows
    data_w = [max(len(r[c]) for r in body) for c in range(len(head))]
    heads = [_header(h, max(w, 3)) for h, w in zip(head, data_w, strict=True)]
    widths = [max(w, *(len(x) for x in h)) for w, h in zip(data_w, heads, strict=True)]

    def fmt(r: list[str]) -> str:
        return "  ".join(r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c])
                         for c in range(len(r))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    top = [fmt([h[0] for h in heads])] if any(h[0] for h in heads) else []
    out = [*top, fmt([h[1] for h in heads]), rule, *map(fmt, rows)]
    if total:
        out += [rule, fmt(total)]
    return "\n".join(out)


def organiser_text(fin: Finance) -> str:
    """One paragraph: the organiser's common cost, what it receives and its result."""
    o = fin.organiser
    if o is None:
        return "no organiser: each area's municipalities share its cost"
    who = o.name if o.settled_by == "organiser" else "the municipalities of its area"
    return (f"organiser {o.name} ({o.code}) for {plural(o.municipalities, 'municipality')}: common "
            f"cost {money(o.common_cost)} € ({_fte(o.fte)} FTE); receives {money(o.shares)} € "
            f"in shares ({fin.share_rule}), {money(o.returned)} € of surpluses and "
            f"{money(o.sanctions)} € of sanctions; result {money(o.result)} € (kept or borne "
            f"by {who})")


def area_money_table(fin: Finance) -> str:
    """One row per production area: cost against subsidy, and how the balance is settled."""
    head = ["area (lead)", "munic.", "FTE", "production €", "subsidy after share €",
            "balance €", "members pay (+)/keep (−) €", "to organiser €"]
    rows = []
    for a in fin.areas:
        name = a.lead_name + (" (outside)" if a.outside else "")
        rows.append([name, str(len(a.members)), _fte(a.fte), money(a.production_cost),
                     money(a.subsidy), money(a.balance, sign=True),
                     money(a.equalised, sign=True), money(a.returned + a.sanctions)])
    fte = [a.fte for a in fin.areas]
    total = ["total", str(sum(len(a.members) for a in fin.areas)),
             _fte(sum(fte)) if None not in fte else "–",
             money(fin.total_production), money(sum(a.subsidy for a in fin.areas)),
             money(sum(a.balance for a in fin.areas), sign=True),
             money(sum(a.equalised for a in fin.areas), sign=True),
             money(sum(a.returned + a.sanctions for a in fin.areas))]
    return _table(head, rows, total) + "\n" + textwrap.fill(MONEY_SIGNS, WIDTH)


MONEY_SIGNS = ("balance: subsidy after the organiser's share − production cost (− a deficit); "
               "members pay a deficit (+) or keep part of a surplus (−)")


def municipality_money_table(fin: Finance) -> str:
    """One row per municipality: subsidy, what it pays and its net position (+ keeps)."""
    head = ["municipality", "area", "subsidy €", "to organiser €", "pays (+)/keeps (−) €",
            "sanctions €", "org. result €", "net (− pays) €"]
    rows = [[m.name, m.lead_name, money(m.subsidy), money(m.to_organiser), money(m.equalisation),
             money(m.sanctions), money(m.organiser_result), money(m.net)]
            for m in fin.municipalities]
    ms = fin.municipalities
    total = ["total", "", *(money(sum(getattr(m, k) for m in ms))
                            for k in ("subsidy", "to_organiser", "equalisation", "sanctions",
                                      "organiser_result", "net"))]
    return _table(head, rows, total, left=2)


def finance_text(fin: Finance, municipalities: bool = True) -> str:
    """The organiser, the areas, the municipalities (optional), then incentives and
    sanctions line by line and the notes."""
    parts = [textwrap.fill(organiser_text(fin), WIDTH), "", area_money_table(fin)]
    if municipalities:
        parts += ["", municipality_money_table(fin)]
    payer, receiver = fin.largest_payer(), fin.largest_receiver()
    parts += ["", textwrap.fill(
        f"subsidies {money(fin.total_subsidy)} € − production {money(fin.total_production)} € − "
        f"common cost {money(fin.common_cost)} € = net {money(fin.total_net)} €; largest net "
        f"payer {payer.name} ({money(payer.net)} €), largest receiver {receiver.name} "
        f"({money(receiver.net)} €)", WIDTH)]
    parts += [textwrap.fill(f"incentive/sanction: {line}", WIDTH, subsequent_indent="    ")
              for line in fin.lines]
    parts += [textwrap.fill(f"note: {note}", WIDTH, subsequent_indent="    ")
              for note in fin.notes]
    return "\n".join(parts)


# -- exemptions ---------------------------------------------------------------

SHOWN_NAMES = 6
"""Member names listed per area before "and N more"."""


def _names(names, shown: int = SHOWN_NAMES) -> str:
    names = sorted(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def shortfall_summary(areas: tuple[ExemptArea, ...]) -> str:
    """The exempted areas, one line per area with each floor it misses (terminal output)."""
    if not areas:
        return "no area has an exemption"
    by_area: dict[str, list[ExemptArea]] = {}
    for x in areas:
        by_area.setdefault(x.lead_code, []).append(x)
    n = len(by_area)
    lines = [f"{n} exempted area{'s' if n != 1 else ''}:"]
    for xs in by_area.values():
        x = xs[0]
        misses = "; ".join(f"{y.floor} {y.value:,.0f} < {y.limit:,.0f} ({y.shortfall:,.0f} "
                           "short)" for y in xs)
        lines.append(textwrap.fill(
            f"{x.lead_name} ({plural(len(x.member_names), 'municipality')}: "
            f"{_names(x.member_names)}): {misses}", WIDTH, initial_indent="  - ",
            subsequent_indent="      "))
    return "\n".join(lines)


def explain_infeasible(problem: Problem, reason: str, *, backend: str | None = None,
                       time_limit: float = EXPLAIN_SECONDS, stop=None) -> str:
    """Why no plan exists, in a planner's terms, and what exemptions would need.

    Tries the fewest-exemptions question for a short time (`decisions.exemptions.
    infeasibility`): when it is answered, the message names the floor, the areas that fall
    short (by their municipalities) and by how much, and the number of exemptions
    `--exemptions` would need.
    """
    why = infeasibility(problem, reason, backend=backend, time_limit=time_limit, stop=stop)
    if why is None or why.verdict == "none":
        return reason
    if why.verdict == "impossible":
        return f"{reason}; even with exemptions from every floor: {why.detail}"
    if why.verdict == "no help":
        return (f"{reason}. Exempting areas from the floors would not help: the other "
                "rules (area count, contiguity, caps, locks) cannot be met")
    if why.verdict == "unsettled":
        return (f"{reason}. Whether exemptions help was not settled in {time_limit:g} s: "
                "try `--exemptions`")
    decision = why.decision
    short = exempted_areas(decision.solution.problem, decision.solution.plan)
    n = int(decision.answer)
    floors = " and ".join(sorted({x.floor for x in short}))
    count = (f"{problem.k_min}" if problem.k_min == problem.k_max
             else f"{problem.k_min}–{problem.k_max}")
    if decision.answer_proven:
        need = (f"at least {n} area{'s' if n != 1 else ''} must fall short of {floors} "
                "(proven)")
    else:
        low = int(decision.answer_bound or 0)
        need = (f"between {low} and {n} areas must fall short of {floors} (not settled in "
                f"{time_limit:g} s)")
    head = (f"{problem.instance.region} cannot be split into {count} contiguous areas that "
            f"all meet the floors: {need}. `--exemptions` finds the cheapest plan with "
            f"{n} exemption{'s' if n != 1 else ''}, for instance:")
    return "\n".join([textwrap.fill(reason, WIDTH), textwrap.fill(head, WIDTH),
                      shortfall_summary(short)])


def count_line(sol: Solution, organiser: bool) -> str | None:
    """The cost of each area count a range tried, in one wrapped line (None for one)."""
    counts = [c for c in sol.per_count if c.objective is not None]
    if len(counts) < 2:
        return None
    word = "regional leads" if organiser else "areas"
    parts = [f"{c.areas - organiser} {word} {c.objective:,.0f} €/yr ({c.status})"
             for c in counts]
    return textwrap.fill("each count: " + " · ".join(parts), WIDTH, subsequent_indent="    ")

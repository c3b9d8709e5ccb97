"""The report's tables and its headline, each figure computed from the model and the plans.

A council member reads the headline first (what is proposed, what it costs against
the reference plan, who pays, why this number of leads), then the areas with the
organiser's row (so the total is the objective), the money per area and per
municipality beside the reference plan's, and who changes lead.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from ..decisions.compare import Comparison
from ..economics.cents import money
from ..economics.settle import Finance
from ..model.evaluate import PlanFigures
from ..model.problem import Problem
from . import escape
from .municipalities import label
from .text import travel_unit

PAYERS = 5
"""Municipalities named in the headline: the largest net payers."""
FIELDS = ("subsidy", "to_organiser", "to_area", "equalisation", "sanctions",
          "organiser_result", "net")
HEADS = {"subsidy": "subsidy", "to_organiser": "share to the organiser",
         "to_area": "subsidy after the share", "equalisation": "deficit share (+) or "
         "surplus kept (−)", "sanctions": "sanctions", "organiser_result": "organiser's result",
         "net": "net (− pays)"}
"""Human headings of the money per municipality (€/yr)."""


def table(head: Sequence[str], rows: Sequence[Sequence], numeric: Sequence[bool],
          total: Sequence | None = None, css: Sequence[str] | None = None) -> Markup:
    """An HTML table; cells are escaped (unless already Markup), numeric columns right; a
    table wider than the window scrolls on its own, not the page."""
    def cells(row, tag="td"):
        out = []
        for k, v in enumerate(row):
            cls = ["num"] if numeric[k] else []
            if css and css[k]:
                cls.append(css[k])
            attr = f' class="{" ".join(cls)}"' if cls else ""
            text = v if isinstance(v, Markup) else escape.text(str(v))
            out.append(f"<{tag}{attr}>{text}</{tag}>")
        return "".join(out)

    body = "".join(f"<tr>{cells(r)}</tr>" for r in rows)
    if total is not None:
        body += f'<tr class="total">{cells(total)}</tr>'
    return Markup(f'<div class="scroll"><table><thead><tr>{cells(head, "th")}</tr></thead>'
                  f"<tbody>{body}</tbody></table></div>")


def num(v, digits: int = 0) -> str:
    return "–" if v is None else f"{v:,.{digits}f}"


def fte(v) -> str:
    """Staff in FTE: whole numbers as such, fractions to one decimal (122.5, not 122)."""
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def areas_table(figs: PlanFigures, problem: Problem,
                colours: dict[str, str] | None = None) -> Markup:
    """Areas sorted by lead, then the organiser's common work: the cost column adds up to
    the plan's objective."""
    has_fte = any(a.fte is not None for a in figs.areas)
    head = ["area (lead)", "municipalities", *map(label, figs.attributes)]
    head += (["staff (FTE)"] if has_fte else []) + [f"travel ({travel_unit(figs)})",
                                                     "cost (€/yr)", "members"]
    numeric = [False, True, *[True] * len(figs.attributes)] + ([True] if has_fte else [])
    numeric += [True, True, False]
    rows = []
    for a in sorted(figs.areas, key=lambda a: a.lead_name):
        swatch = ""
        if colours and a.lead_code in colours:
            swatch = f'<span class="swatch" style="background:{colours[a.lead_code]}"></span>'
        role = (" — the organiser's own area" if a.role == "organiser"
                else " — lead outside the instance" if a.travel is None else "")
        lead = Markup(swatch + escape.text(f"{a.lead_name} ({a.lead_code}){role}"))
        row = [lead, len(a.members)]
        row += [num(a.totals[k], 2 if k == "jobseekers" else 0) for k in figs.attributes]
        row += ([fte(a.fte)] if has_fte else []) + [num(a.travel), num(a.cost),
                                                    ", ".join(sorted(a.member_names))]
        rows.append(row)
    if figs.common_cost is not None:
        org = problem.instance.names[problem.organiser]
        rows.append([f"{org}'s common work as the organiser", ""]
                    + [""] * len(figs.attributes) + ([""] if has_fte else [])
                    + ["", num(figs.common_cost), "management, administration, digital "
                       "services and the other centralised services, for every area"])
    total = ["total", sum(len(a.members) for a in figs.areas)]
    total += [num(sum(a.totals[k] for a in figs.areas), 2 if k == "jobseekers" else 0)
              for k in figs.attributes]
    ftes = [a.fte for a in figs.areas]
    total += ([fte(sum(ftes)) if None not in ftes else "–"] if has_fte else [])
    total += [num(figs.travel), num(figs.objective), ""]
    css = [""] * (len(head) - 1) + ["members"]
    return table(head, rows, numeric, total, css)


def count_table(per_count: Sequence[dict], organiser: bool) -> Markup | None:
    """The cost of each area count a range tried (why this count): None for one count. A
    count not solved to its end shows what is proven of it: its bound against the cheapest."""
    counts = [c for c in per_count if isinstance(c, dict) and isinstance(c.get("areas"), int)]
    if len(counts) < 2:
        return None
    values = [c.get("objective") for c in counts if _number(c.get("objective"))]
    best = min(values) if values else None
    rows = []
    for c in counts:
        value = c.get("objective") if _number(c.get("objective")) else None
        k = c["areas"] - 1 if organiser else c["areas"]
        rows.append([k, str(c.get("status", "–")), num(value),
                     "the cheapest" if value is not None and value == best else
                     _more(c, best, num)])
    return table(["regional leads" if organiser else "areas", "status", "cost (€/yr)",
                  "more than the cheapest (€/yr)"], rows, [True, False, True, True])


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _more(count: dict, best: float | None, show) -> str:
    """What is proven of a count's cost above the cheapest: exact when the count was solved
    to its end, else at least its bound's excess ("not settled" when that is below 0)."""
    if best is None:
        return "–"
    if count.get("status") == "optimal" and _number(count.get("objective")):
        return show(count["objective"] - best)
    if _number(count.get("bound")) and count["bound"] >= best - 1e-6:
        return f"at least {show(max(count['bound'] - best, 0.0))}"
    return "not settled"


def money_rows(fin: Finance, ref: Finance | None, ref_name: str) -> tuple[list, list, list]:
    """(head, rows, total) of the money per municipality, the reference plan's net and the
    difference beside the plan's when there is one; largest payers first."""
    head = ["municipality", "code", "area (lead)", *(f"{HEADS[k]} €" for k in FIELDS)]
    nets = {m.code: m.net for m in ref.municipalities} if ref is not None else {}
    if ref is not None:
        head += [f"net under {ref_name} €", "difference €"]
    rows = []
    for m in sorted(fin.municipalities, key=lambda m: (m.net, m.name)):
        row = [m.name, m.code, m.lead_name, *(money(getattr(m, k), decimals=True)
                                              for k in FIELDS)]
        if ref is not None:
            row += [money(nets[m.code], decimals=True),
                    money(m.net - nets[m.code], decimals=True, sign=True)]
        rows.append(row)
    total = ["total", "", "", *(money(sum(getattr(m, k) for m in fin.municipalities),
                                      decimals=True) for k in FIELDS)]
    if ref is not None:
        total += [money(sum(nets.values()), decimals=True),
                  money(fin.total_net - sum(nets.values()), decimals=True, sign=True)]
    return head, rows, total


def area_money(fin: Finance) -> Markup:
    """One row per production area and one for the organiser: what each costs, what it
    receives, and how its balance is settled."""
    head = ["area (lead)", "municipalities", "staff (FTE)", "production cost €",
            "subsidy after the organiser's share €", "balance €", "paid (+) or kept (−) "
            "by its municipalities €", "returned to the organiser €"]
    rows = [[a.lead_name + (" (lead outside)" if a.outside else ""), len(a.members),
             fte(a.fte), money(a.production_cost), money(a.subsidy),
             money(a.balance, sign=True), money(a.equalised, sign=True),
             money(a.returned + a.sanctions)] for a in fin.areas]
    if fin.organiser is not None:
        o = fin.organiser
        rows.append([f"{o.name}, the organiser's common work", f"for all {o.municipalities}",
                     fte(o.fte),
                     money(o.common_cost), money(o.shares) + " (shares)",
                     money(o.result, sign=True), "", ""])
    total = ["total", sum(len(a.members) for a in fin.areas), "",
             money(fin.total_production + fin.common_cost),
             money(sum(a.subsidy for a in fin.areas)
                   + (fin.organiser.shares if fin.organiser else 0)), "", "", ""]
    return table(head, rows, [False] + [True] * 7, total)


MONEY_LEGEND = (
    "All figures €/yr. Balance = subsidy after the organiser's share − production cost: "
    "+ a surplus, − a deficit. A deficit is paid by the area's municipalities (+ in "
    "'deficit share'), a surplus partly kept by them (−) and the rest returned to the "
    "organiser. Net = what a municipality is left with after all of it: − means it pays "
    "on balance. The columns add up exactly, to the cent: Σ net = Σ subsidies − Σ "
    "production costs − the organiser's common cost.")


def moves_table(cmp: Comparison) -> Markup:
    """The municipalities that change lead, with the area each leaves and joins."""
    return table(["municipality", "code", f"lead in {cmp.name}", "lead in the plan"],
                 [[m.name, m.code, m.before, m.after] for m in cmp.moves],
                 [False, False, False, False])


def headline(problem: Problem, figs: PlanFigures, fin: Finance | None,
             cmp: Comparison | None, ref: Finance | None,
             per_count: Sequence[dict]) -> list[str]:
    """The report's first lines, in words: the proposal, its cost against the reference,
    the moves, the largest payers, and why this number of leads."""
    inst = problem.instance
    leads = sorted(a.lead_name for a in figs.areas if a.role != "organiser")
    if problem.organiser is not None:
        org = inst.names[problem.organiser]
        lines = [f"Proposed: {org} organises the services for all {inst.n} municipalities "
                 f"and produces its own area; {len(leads)} regional lead"
                 f"{'s' if len(leads) != 1 else ''} produce the local services: "
                 f"{', '.join(leads)}."]
    else:
        lines = [f"Proposed: {len(leads)} areas, led by {', '.join(leads)}."]
    if cmp is not None and cmp.figures.terms:
        a, b = cmp.figures.terms, figs.terms
        parts = []
        for term, what in (("cost", "running the areas (fixed and staff costs)"),
                           ("travel", "travel"), ("total", "in all")):
            if a.get(term) is not None and b.get(term) is not None:
                d = b[term] - a[term]
                parts.append(f"{what} {abs(d):,.0f} €/yr {'more' if d > 0 else 'less'}")
        if a.get("travel") is None:
            parts.append("travel not comparable (a lead of the reference lies outside the "
                         "instance)")
        n = len(cmp.moves)
        lines.append(f"Against {cmp.name}: " + "; ".join(parts)
                     + f". {n} municipalit{'y changes' if n == 1 else 'ies change'} lead.")
    if fin is not None:
        nets = {m.code: m.net for m in ref.municipalities} if ref is not None else {}
        payers = sorted(fin.municipalities, key=lambda m: m.net)[:PAYERS]
        text = "; ".join(
            f"{m.name} {money(m.net)}" + (f" ({money(m.net - nets[m.code], sign=True)})"
                                          if m.code in nets else "") for m in payers)
        against = f"; in brackets the change against {cmp.name}" if nets and cmp else ""
        lines.append(f"The {len(payers)} largest net payers (€/yr; − pays{against}): {text}.")
    counts = [c for c in per_count if isinstance(c, dict) and isinstance(c.get("areas"), int)
              and c.get("status") != "infeasible"]
    if len(counts) > 1 and figs.objective is not None:
        organiser = problem.organiser is not None
        k = len(figs.areas) - organiser
        word = "regional leads" if organiser else "areas"
        others = [(c["areas"] - organiser, _more(c, figs.objective, lambda v: f"{v:+,.0f} €/yr"))
                  for c in counts if c["areas"] - organiser != k]
        why = ("the cheapest count the rules allow"
               if all(more != "not settled" for _, more in others)
               else "the cheapest plan found; not every count is settled")
        lines.append(f"Why {k} {word}: {why} ("
                     + "; ".join(f"{n} {word} {more}" for n, more in others) + ").")
    return lines

"""Two plans side by side: who moves where, each area in both plans, every objective term.

Either plan may be the 2025 areas (leads outside a region) or a solve's output.
Areas are matched with `reporting.comparison.compare` (one to one, the fewest
municipalities moving), the same matching that bounds `--max-moves`, and shown
through its map (both plans as layers, the moved municipalities highlighted).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ..figures import AreaFigures, PlanFigures, evaluate
from ..model import Problem
from ..plan import UNASSIGNED, Plan
from ..report import WIDTH
from ..reporting.comparison import Comparison, compare
from ..terms import LABELS, UNITS
from ..verify import Verification, verify

TERM_ORDER = ("fixed", "travel", "staffing", "cost", "total", "areas", "exemptions")


@dataclass(frozen=True)
class AreaPair:
    """An area of plan A and its match in plan B (either may be None)."""

    a: AreaFigures | None
    b: AreaFigures | None
    moved_in: int
    moved_out: int


@dataclass(frozen=True, eq=False)
class PlanComparison:
    """Plan B against plan A under one model."""

    problem: Problem
    name_a: str
    name_b: str
    plan_a: Plan
    plan_b: Plan
    figures_a: PlanFigures
    figures_b: PlanFigures
    verification_a: Verification
    verification_b: Verification
    comparison: Comparison
    """The report's comparison of B against A (moves, matching)."""
    pairs: tuple[AreaPair, ...]
    net_a: tuple[int, ...] | None = None
    net_b: tuple[int, ...] | None = None
    """Each municipality's net money position in cents (when the model has [finance])."""
    money_note: str = ""

    def money_rows(self) -> list[tuple[str, str, int, int, int]]:
        """(code, name, net in A, net in B, B − A) in cents, biggest change first."""
        if self.net_a is None or self.net_b is None:
            return []
        inst = self.problem.instance
        rows = [(inst.codes[i], inst.names[i], a, b, b - a)
                for i, (a, b) in enumerate(zip(self.net_a, self.net_b, strict=True))]
        return sorted(rows, key=lambda r: (-abs(r[4]), r[1]))

    @property
    def moves(self):
        return self.comparison.moves

    def term_rows(self) -> list[tuple[str, str, float | None, float | None, float | None]]:
        """(term, unit, A, B, B − A) for every objective term both plans can have."""
        rows = []
        for t in TERM_ORDER:
            a, b = self.figures_a.terms.get(t), self.figures_b.terms.get(t)
            if t == "exemptions" and not a and not b:
                continue
            rows.append((LABELS[t], UNITS[t], a, b, None if a is None or b is None else b - a))
        return rows


def compare_plans(problem: Problem, plan_a: Plan, plan_b: Plan, name_a: str = "A",
                  name_b: str = "B") -> PlanComparison:
    """Compare plan B with plan A (the reference) under `problem`."""
    figs_a, figs_b = evaluate(problem, plan_a), evaluate(problem, plan_b)
    cmp = compare(problem, plan_b, plan_a, name_a)
    by_code_b = {b.lead_code: b for b in figs_b.areas}
    inverse = {v: k for k, v in cmp.matched.items()}  # A lead code → B lead code
    into: dict[str, int] = {}
    out_of: dict[str, int] = {}
    for m in cmp.moves:
        into[plan_b.lead_code(m.index)] = into.get(plan_b.lead_code(m.index), 0) + 1
        out_of[plan_a.lead_code(m.index)] = out_of.get(plan_a.lead_code(m.index), 0) + 1
    pairs = []
    for a in sorted(figs_a.areas, key=lambda a: a.lead_name):
        b = by_code_b.get(inverse.get(a.lead_code, ""))
        pairs.append(AreaPair(a, b, into.get(b.lead_code, 0) if b else 0,
                              out_of.get(a.lead_code, 0)))
    for b in sorted(figs_b.areas, key=lambda b: b.lead_name):
        if b.lead_code not in cmp.matched:
            pairs.append(AreaPair(None, b, into.get(b.lead_code, 0), 0))
    net_a, net_b, note = _money(problem, plan_a, plan_b)
    return PlanComparison(problem, name_a, name_b, plan_a, plan_b, figs_a, figs_b,
                          verify(problem, plan_a), verify(problem, plan_b), cmp, tuple(pairs),
                          net_a, net_b, note)


def _money(problem: Problem, a: Plan, b: Plan) -> tuple[tuple | None, tuple | None, str]:
    """Each municipality's net position under both plans (issue 7's settlement)."""
    if problem.model.finance is None:
        return None, None, ""
    from ..economics.finance import settle
    from ..errors import OptimizerError

    nets = []
    for plan in (a, b):
        try:
            nets.append(tuple(m.net for m in settle(problem, plan).municipalities))
        except OptimizerError as exc:
            return None, None, f"money not compared: {exc}"
    return nets[0], nets[1], ""


def _attr(c: PlanComparison) -> str:
    """The figure shown per area: labour force, else the first floor's attribute, else the
    first attribute shown."""
    attrs = c.figures_a.attributes
    floors = [b.attribute for b in c.problem.floors if b.attribute in attrs]
    return "labour_force" if "labour_force" in attrs else floors[0] if floors else attrs[0]


def _num(v: float | None, digits: int = 0, sign: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v:+,.{digits}f}" if sign else f"{v:,.{digits}f}"


MONEY_SHOWN = 10
"""Municipalities shown in the terminal's money table (all are in compare.csv)."""


def _eur(cents: int, sign: bool = False) -> str:
    return f"{cents / 100:+,.0f}" if sign else f"{cents / 100:,.0f}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def continues(c: PlanComparison, move) -> str:
    """B's area of a moved municipality, with the A area it continues when that is led by
    another municipality (so 'Raahe → Raahe' reads as the move it is)."""
    code = c.plan_b.lead_code(move.index)
    match = c.comparison.matched.get(code)
    if match is None:
        return f"{move.after}, a new area"
    if match == code:
        return move.after
    name = next((a.lead_name for a in c.figures_a.areas if a.lead_code == match), match)
    return f"{move.after}, was {name}'s"


def area_rows(c: PlanComparison) -> tuple[list[str], list[list[str]]]:
    attr = _attr(c)
    head = [f"area in {c.name_a}", "n", attr.replace("_", " "), f"area in {c.name_b}", "n",
            attr.replace("_", " "), "change", "in", "out"]
    rows = []
    for p in c.pairs:
        va = p.a.totals[attr] if p.a else None
        vb = p.b.totals[attr] if p.b else None
        rows.append([
            (p.a.lead_name + (" *" if p.a.exempt else "")) if p.a else "–",
            str(len(p.a.members)) if p.a else "", _num(va),
            (p.b.lead_name + (" *" if p.b.exempt else "")) if p.b else "–",
            str(len(p.b.members)) if p.b else "", _num(vb),
            _num(None if va is None or vb is None else vb - va, sign=True),
            str(p.moved_in) if p.b else "", str(p.moved_out) if p.a else ""])
    return head, rows


def _text_table(head: list[str], rows: list[list[str]], left: set[int],
                width: int = WIDTH) -> str:
    """Columns padded to fit; left-aligned columns are cut so the line fits `width`."""
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    excess = sum(widths) + 2 * (len(widths) - 1) - width
    while excess > 0 and any(widths[k] > 8 for k in left):
        k = max(left, key=lambda k: widths[k])
        widths[k] -= 1
        excess -= 1

    def fmt(cells):
        return "  ".join(_cut(c, widths[k]).ljust(widths[k]) if k in left
                         else c.rjust(widths[k]) for k, c in enumerate(cells)).rstrip()

    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, rows)])


def comparison_text(c: PlanComparison) -> str:
    """The terminal view (≤ 100 columns): moves, areas side by side, terms, verification."""
    out = []
    n = len(c.moves)
    out.append(f"{n} municipalit{'y moves' if n == 1 else 'ies move'} from "
               f"{c.name_a} to {c.name_b}" + (":" if n else "."))
    if n:
        out.append(_text_table(["municipality", f"area in {c.name_a}", f"area in {c.name_b}"],
                               [[m.name, m.before, continues(c, m)] for m in c.moves],
                               {0, 1, 2}))
    out.append("")
    head, rows = area_rows(c)
    out.append(_text_table(head, rows, {0, 3}))
    if any((p.a and p.a.exempt) or (p.b and p.b.exempt) for p in c.pairs):
        out.append("* the area has an exemption")
    out.append("")
    out.append(_text_table(["objective term", "unit", c.name_a, c.name_b, "difference"],
                           [[t, u, _num(a), _num(b), _num(d, sign=True)]
                            for t, u, a, b, d in c.term_rows()], {0, 1}))
    if any(a is None or b is None for _, _, a, b, _ in c.term_rows()):
        out.append("– : not computable (an area's lead lies outside the instance, so its "
                   "travel is unknown)")
    money = c.money_rows()
    if money:
        out.append("")
        shown = [r for r in money if r[4]][:MONEY_SHOWN]
        out.append(f"net money per municipality, €/yr (the {len(shown)} largest changes of "
                   f"{sum(1 for r in money if r[4])}; all in compare.csv):")
        out.append(_text_table(["municipality", c.name_a, c.name_b, "difference"],
                               [[name, _eur(x), _eur(y), _eur(d, sign=True)]
                                for _, name, x, y, d in shown], {0}))
    elif c.money_note:
        out.append(c.money_note)
    out.append("")
    for name, v in ((c.name_a, c.verification_a), (c.name_b, c.verification_b)):
        out.append(f"{name}: " + ("every rule of the model holds" if v.ok else
                                  f"breaks {len(v.violations)} rule(s): "
                                  + "; ".join(x.message for x in v.violations[:3])
                                  + (" …" if len(v.violations) > 3 else "")))
    return "\n".join(_cut_lines(out))


def _cut_lines(lines: list[str]) -> list[str]:
    import textwrap

    out = []
    for block in lines:
        for line in block.split("\n"):
            out.extend(textwrap.wrap(line, WIDTH, subsequent_indent="    ") or [""]
                       if len(line) > WIDTH else [line])
    return out


def comparison_csv(c: PlanComparison) -> str:
    """One row per municipality: its area in both plans and whether it moves."""
    inst = c.problem.instance
    moved = {m.index for m in c.moves}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    money = c.net_a is not None and c.net_b is not None
    w.writerow(["code", "name", "lead_code_a", "lead_name_a", "lead_code_b", "lead_name_b",
                "moved"] + (["net_eur_a", "net_eur_b", "net_eur_difference"] if money else []))
    for i in range(inst.n):
        cells = [inst.codes[i], inst.names[i]]
        for plan in (c.plan_a, c.plan_b):
            if plan.lead[i] == UNASSIGNED:
                cells += ["", ""]
            else:
                cells += list(plan.lead_label(plan.lead_key(i)))
        cells.append("yes" if i in moved else "")
        if money:
            from ..economics.finance import format_cents

            cells += [format_cents(c.net_a[i]), format_cents(c.net_b[i]),
                      format_cents(c.net_b[i] - c.net_a[i])]
        w.writerow(cells)
    return buf.getvalue()


def _md_table(head: list[str], rows: list[list[str]], right: set[int]) -> str:
    esc = [[x.replace("|", "\\|") for x in r] for r in [head, *rows]]
    lines = ["| " + " | ".join(esc[0]) + " |",
             "|" + "|".join("---:" if k in right else "---" for k in range(len(head))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
    return "\n".join(lines)


def comparison_markdown(c: PlanComparison) -> str:
    n = len(c.moves)
    parts = [f"# {c.name_b} compared with {c.name_a}", "",
             f"Model `{c.problem.model.name}`, instance `{c.problem.instance.name}` "
             f"({c.problem.n} municipalities). {n} municipalit"
             f"{'y moves' if n == 1 else 'ies move'}.", ""]
    if n:
        parts += ["## Moved municipalities", "",
                  _md_table(["municipality", "code", f"area in {c.name_a}",
                             f"area in {c.name_b}"],
                            [[m.name, m.code, m.before, continues(c, m)] for m in c.moves],
                            set()), ""]
    head, rows = area_rows(c)
    parts += ["## Areas", "", _md_table(head, rows, {1, 2, 4, 5, 6, 7, 8}), ""]
    parts += ["## Objective terms", "",
              _md_table(["term", "unit", c.name_a, c.name_b, "difference"],
                        [[t, u, _num(a), _num(b), _num(d, sign=True)]
                         for t, u, a, b, d in c.term_rows()], {2, 3, 4}), ""]
    money = [r for r in c.money_rows() if r[4]]
    if money:
        parts += ["## Net money per municipality (€/yr, changed only)", "",
                  _md_table(["municipality", "code", c.name_a, c.name_b, "difference"],
                            [[name, code, _eur(x), _eur(y), _eur(d, sign=True)]
                             for code, name, x, y, d in money], {2, 3, 4}), ""]
    parts += ["## Rules", ""]
    for name, v in ((c.name_a, c.verification_a), (c.name_b, c.verification_b)):
        parts.append(f"* **{name}**: " + ("every rule holds" if v.ok else
                                          "; ".join(x.message for x in v.violations)))
    return "\n".join(parts) + "\n"


def write_comparison(c: PlanComparison, out: Path) -> list[Path]:
    """compare.csv, compare.md, map.html (both plans, moved municipalities highlighted) and
    map.png (side by side), written as one set."""
    from ..files import staged_directory
    from ..reporting.interactive import PlanLayer, write_map_html

    names = ["compare.csv", "compare.md"]
    with staged_directory(Path(out)) as stage:
        (stage / "compare.csv").write_text(comparison_csv(c), encoding="utf-8")
        (stage / "compare.md").write_text(comparison_markdown(c), encoding="utf-8")
        moved = {m.index: f"{m.name}: {m.before} → {m.after}" for m in c.moves}
        title = f"{c.name_b} against {c.name_a}: {len(moved)} municipalities move"
        layers = [PlanLayer(c.name_b, c.plan_b, c.figures_b, moved),
                  PlanLayer(c.name_a, c.plan_a, c.figures_a)]
        if write_map_html(layers, stage / "map.html", title=title):
            _side_by_side(c, stage / "map.png", title)
            names += ["map.html", "map.png"]
    return [Path(out) / x for x in names]


def _side_by_side(c: PlanComparison, path: Path, title: str) -> None:
    """Both plans' maps, the moved municipalities outlined in red on each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..maps import draw_areas, municipalities

    moved = [m.index for m in c.moves]
    fig, axes = plt.subplots(1, 2, figsize=(12, 7.5), dpi=130)
    for ax, plan, name in ((axes[0], c.plan_a, c.name_a), (axes[1], c.plan_b, c.name_b)):
        gdf = municipalities(plan)
        draw_areas(ax, plan, gdf)
        if moved:
            gdf.iloc[moved].boundary.plot(ax=ax, color="#d62728", linewidth=1.6)
        ax.set_title(f"{name}: {len(plan.areas())} areas", fontsize=10)
    fig.suptitle(title + (" (outlined in red)" if moved else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)

"""A comparison of two plans as text, CSV, Markdown and maps (compare.csv, compare.md, map.*).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..data.plan import UNASSIGNED
from ..decisions.compare import PlanComparison
from ..economics.cents import format_cents, money
from ..staging import staged_directory
from ..words import plural
from .escape import plain_text
from .geometry import municipalities
from .map_html import PlanLayer, write_map_html
from .map_png import LEGEND_UP_TO, draw_areas, label_plan, matched_colours, plan_colours
from .text import WIDTH


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
    out.append(f"{plural(n, 'municipality')} change{'s' if n == 1 else ''} lead from "
               f"{c.name_a} to {c.name_b}" + (":" if n else "."))
    if n:
        out.append(_text_table(["municipality", f"lead in {c.name_a}", f"lead in {c.name_b}"],
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
    nets = c.money_rows()
    if nets:
        out.append("")
        shown = [r for r in nets if r[4]][:MONEY_SHOWN]
        out.append(f"net money per municipality, €/yr (the {len(shown)} largest changes of "
                   f"{sum(1 for r in nets if r[4])}; all in compare.csv):")
        out.append(_text_table(["municipality", c.name_a, c.name_b, "difference"],
                               [[name, money(x), money(y), money(d, sign=True)]
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
    has_money = c.net_a is not None and c.net_b is not None
    w.writerow(["code", "name", "lead_code_a", "lead_name_a", "lead_code_b", "lead_name_b",
                "moved"] + (["net_eur_a", "net_eur_b", "net_eur_difference"] if has_money else []))
    for i in range(inst.n):
        cells = [inst.codes[i], inst.names[i]]
        for plan in (c.plan_a, c.plan_b):
            if plan.lead[i] == UNASSIGNED:
                cells += ["", ""]
            else:
                cells += list(plan.lead_label(plan.lead_key(i)))
        cells.append("yes" if i in moved else "")
        if has_money:

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
             f"({c.problem.n} municipalities). {plural(n, 'municipality')} "
             f"change{'s' if n == 1 else ''} lead.", ""]
    if n:
        parts += ["## Municipalities that change lead", "",
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
    changed = [r for r in c.money_rows() if r[4]]
    if changed:
        parts += ["## Net money per municipality (€/yr, changed only)", "",
                  _md_table(["municipality", "code", c.name_a, c.name_b, "difference"],
                            [[name, code, money(x), money(y), money(d, sign=True)]
                             for code, name, x, y, d in changed], {2, 3, 4}), ""]
    parts += ["## Rules", ""]
    for name, v in ((c.name_a, c.verification_a), (c.name_b, c.verification_b)):
        parts.append(f"* **{name}**: " + ("every rule holds" if v.ok else
                                          "; ".join(x.message for x in v.violations)))
    return "\n".join(parts) + "\n"


def write_comparison(c: PlanComparison, out: Path) -> list[Path]:
    """compare.csv, compare.md, map.html (both plans, moved municipalities highlighted) and
    map.png (side by side), written as one set."""

    names = ["compare.csv", "compare.md"]
    with staged_directory(Path(out)) as stage:
        (stage / "compare.csv").write_text(comparison_csv(c), encoding="utf-8")
        (stage / "compare.md").write_text(comparison_markdown(c), encoding="utf-8")
        moved = {m.index: f"{m.name}: {m.before} → {m.after}" for m in c.moves}
        title = f"{c.name_b} against {c.name_a}: {plural(len(moved), 'municipality')} change lead"
        layers = [PlanLayer(c.name_b, c.plan_b, c.figures_b, moved),
                  PlanLayer(c.name_a, c.plan_a, c.figures_a)]
        if write_map_html(layers, stage / "map.html", title=title):
            _side_by_side(c, stage / "map.png", title)
            names += ["map.html", "map.png"]
    return [Path(out) / x for x in names]


@plain_text
def _side_by_side(c: PlanComparison, path: Path, title: str) -> None:
    """Both plans' maps side by side: a continuing area keeps its colour across the panels,
    leads are starred and named, the municipalities that change lead are outlined in red,
    and each panel has its legend (a short one beyond `LEGEND_UP_TO` areas)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    moved = [m.index for m in c.moves]
    colours_b = plan_colours(c.plan_b)
    colours_a = matched_colours(colours_b, {a: b for b, a in c.comparison.matched.items()},
                                c.plan_a)
    fig, axes = plt.subplots(1, 2, figsize=(13, 8.5), dpi=130)
    panels = ((axes[0], c.plan_a, c.figures_a, c.name_a, colours_a),
              (axes[1], c.plan_b, c.figures_b, c.name_b, colours_b))
    for ax, plan, figs, name, colours in panels:
        gdf = municipalities(plan)
        draw_areas(ax, plan, gdf, colours=colours)
        if moved:
            gdf.iloc[moved].boundary.plot(ax=ax, color="#d62728", linewidth=1.6, zorder=4)
        ax.set_title(f"{name}: {plural(len(plan.areas()), 'area')}", fontsize=10)
        label_plan(ax, plan, gdf, members=False)
        areas = sorted(figs.areas, key=lambda a: a.lead_name)
        shown = areas if len(areas) <= LEGEND_UP_TO else []
        handles = [Patch(facecolor=colours.get(a.lead_code, (0.9, 0.9, 0.9)),
                         edgecolor="black", label=f"{a.lead_name}: "
                         f"{plural(len(a.members), 'municipality')}") for a in shown]
        if moved:
            handles.append(Patch(facecolor="none", edgecolor="#d62728", linewidth=1.6,
                                 label="changes lead"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.005),
                  ncol=2, fontsize=6.5, frameon=False)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)

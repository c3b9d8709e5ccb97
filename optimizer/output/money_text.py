"""Terminal tables of the money (at most 100 columns): the organiser, the areas and the
municipalities of a settlement, whole euros (finance.csv holds the cents)."""

from __future__ import annotations

import textwrap

from ..economics.settle import Finance

WIDTH = 100


def _eur(cents: int) -> str:
    return f"{cents / 100:,.0f}"


def _fte(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _table(head: list[str], rows: list[list[str]], total: list[str] | None,
           left: int = 1) -> str:
    body = [*rows, total] if total else rows
    widths = [max(len(r[c]) for r in [head, *body]) for c in range(len(head))]

    def fmt(r: list[str]) -> str:
        return "  ".join(r[c].ljust(widths[c]) if c < left else r[c].rjust(widths[c])
                         for c in range(len(r))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [fmt(head), rule, *map(fmt, rows)]
    if total:
        out += [rule, fmt(total)]
    return "\n".join(out)


def organiser_text(fin: Finance) -> str:
    """One paragraph: the organiser's common cost, what it receives and its result."""
    o = fin.organiser
    if o is None:
        return "no organiser: each area's municipalities share its cost"
    who = o.name if o.settled_by == "organiser" else "the municipalities of its area"
    return (f"organiser {o.name} ({o.code}) for {o.municipalities} municipalities: common "
            f"cost {_eur(o.common_cost)} € ({_fte(o.fte)} FTE); receives {_eur(o.shares)} € "
            f"in shares ({fin.share_rule}), {_eur(o.returned)} € of surpluses and "
            f"{_eur(o.sanctions)} € of sanctions; result {_eur(o.result)} € (kept or borne "
            f"by {who})")


def area_money_table(fin: Finance) -> str:
    """One row per production area: cost against subsidy, and how the balance is settled."""
    head = ["area (lead)", "munic.", "FTE", "production €", "subsidy €", "balance €",
            "equalised €", "to organiser €"]
    rows = []
    for a in fin.areas:
        name = a.lead_name + (" (outside)" if a.outside else "")
        rows.append([name, str(len(a.members)), _fte(a.fte), _eur(a.production_cost),
                     _eur(a.subsidy), _eur(a.balance), _eur(a.equalised),
                     _eur(a.returned + a.sanctions)])
    fte = [a.fte for a in fin.areas]
    total = ["total", str(sum(len(a.members) for a in fin.areas)),
             _fte(sum(fte)) if None not in fte else "–",
             _eur(fin.total_production), _eur(sum(a.subsidy for a in fin.areas)),
             _eur(sum(a.balance for a in fin.areas)), _eur(sum(a.equalised for a in fin.areas)),
             _eur(sum(a.returned + a.sanctions for a in fin.areas))]
    return _table(head, rows, total)


def municipality_money_table(fin: Finance) -> str:
    """One row per municipality: subsidy, what it pays and its net position (+ keeps)."""
    head = ["municipality", "area", "subsidy €", "organiser €", "equalised €", "sanctions €",
            "org. result €", "net €"]
    rows = [[m.name, m.lead_name, _eur(m.subsidy), _eur(m.to_organiser), _eur(m.equalisation),
             _eur(m.sanctions), _eur(m.organiser_result), _eur(m.net)]
            for m in fin.municipalities]
    ms = fin.municipalities
    total = ["total", "", *(_eur(sum(getattr(m, k) for m in ms))
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
        f"subsidies {_eur(fin.total_subsidy)} € − production {_eur(fin.total_production)} € − "
        f"common cost {_eur(fin.common_cost)} € = net {_eur(fin.total_net)} €; largest net "
        f"payer {payer.name} ({_eur(payer.net)} €), largest receiver {receiver.name} "
        f"({_eur(receiver.net)} €)", WIDTH)]
    parts += [textwrap.fill(f"incentive/sanction: {line}", WIDTH, subsequent_indent="    ")
              for line in fin.lines]
    parts += [textwrap.fill(f"note: {note}", WIDTH, subsequent_indent="    ")
              for note in fin.notes]
    return "\n".join(parts)

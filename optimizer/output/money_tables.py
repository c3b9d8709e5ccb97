"""The money tables beyond the areas' and the municipalities': where deficits are
equalised (the unit: the production area or the official sub-region), the law's
incentive per municipality, and what the organiser sells.

Each table is built once as data (`MoneyTable`) and drawn for the terminal (`text`) and
for the report (`html`), so the two always show the same figures. Self-contained on
purpose: the terminal and the report call these beside their own tables.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from ..economics.cents import money
from ..economics.settle import Finance
from . import escape

WIDTH = 100


@dataclass(frozen=True)
class MoneyTable:
    """A titled table: `head`, `rows` and a `total` row (or None) as text cells; `numeric`
    marks the right-aligned columns; `note` explains it in a sentence."""

    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    total: tuple[str, ...] | None = None
    note: str = ""
    lines: tuple[str, ...] = ()
    """Sentences printed one per line after the note (a line per area, ...)."""

    def text(self) -> str:
        body = [*self.rows, *([self.total] if self.total else [])]
        widths = [max(len(r[c]) for r in [self.head, *body]) for c in range(len(self.head))]

        def fmt(r) -> str:
            return "  ".join(r[c].rjust(widths[c]) if self.numeric[c] else r[c].ljust(widths[c])
                             for c in range(len(r))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        out = [textwrap.fill(self.title, WIDTH), fmt(self.head), rule, *map(fmt, self.rows)]
        if self.total:
            out += [rule, fmt(self.total)]
        if self.note:
            out.append(textwrap.fill(self.note, WIDTH))
        out += [textwrap.fill(x, WIDTH, initial_indent="  ", subsequent_indent="    ")
                for x in self.lines]
        return "\n".join(out)

    def html(self) -> str:
        lines = "".join(f"<li>{escape.text(x)}</li>" for x in self.lines)
        return (f"<h3>{escape.text(self.title)}</h3>"
                + (f'<p class="sub">{escape.text(self.note)}</p>' if self.note else "")
                + (f"<ul>{lines}</ul>" if lines else "")
                + html_table(self.head, self.rows, self.numeric, self.total))


def html_table(head, rows, numeric, total=None) -> str:
    """An HTML table of text cells, escaped; numeric columns right-aligned."""
    num = ' class="num"'

    def cells(row, tag="td"):
        return "".join(f"<{tag}{num if numeric[k] else ''}>{escape.text(v)}</{tag}>"
                       for k, v in enumerate(row))

    body = "".join(f"<tr>{cells(r)}</tr>" for r in rows)
    if total is not None:
        body += f'<tr class="total">{cells(total)}</tr>'
    return f"<table><thead><tr>{cells(head, 'th')}</tr></thead><tbody>{body}</tbody></table>"


def equalisation_line(fin: Finance) -> str:
    """Where a deficit is equalised and by which key, in one sentence."""
    if not fin.units:
        return (f"deficits and surpluses are settled within each production area; shares by "
                f"{fin.equalise_by}")
    how = ("by the costs they drive (their services and staff need)"
           if fin.cost_key == "services" else f"by {fin.cost_key}")
    return (f"deficits and surpluses are settled within each {fin.equalise_within} "
            f"(the equalisation unit), whatever areas its municipalities are in; an area's "
            f"cost is attributed to its municipalities {how}; shares by {fin.equalise_by}")


def unit_table(fin: Finance) -> MoneyTable | None:
    """One row per unit of equalisation when it is not the area (None otherwise)."""
    if not fin.units:
        return None
    head = (f"{fin.equalise_within} (unit)", "munic.", "areas", "cost €", "subsidy €",
            "balance €", "equalised €", "to organiser €")
    rows = tuple((u.name, str(len(u.members)), ", ".join(u.areas), money(u.cost),
                  money(u.subsidy), money(u.balance), money(u.equalised), money(u.returned))
                 for u in fin.units)
    total = ("total", str(sum(len(u.members) for u in fin.units)), "",
             *(money(sum(getattr(u, k) for u in fin.units))
               for k in ("cost", "subsidy", "balance", "equalised", "returned")))
    return MoneyTable(f"Deficits equalised within each {fin.equalise_within}", head, rows,
                      (False, True, False, True, True, True, True, True), total,
                      equalisation_line(fin))


def benefit_table(fin: Finance) -> MoneyTable | None:
    """The law's incentive per municipality: benefit days charged, what it pays, what its
    area's staff above the floor saves, the state's compensation and the net."""
    b = fin.benefit
    if b is None:
        return None
    head = ("municipality", "area", "days charged", "share €", "service level €",
            "compensation €", "net €")
    rows = tuple((r.name, r.lead_name, f"{r.days:,.0f}", money(r.cost), money(r.effect),
                  money(r.compensation), money(r.net)) for r in b.rows)
    total = ("total", "", f"{sum(r.days for r in b.rows):,.0f}",
             *(money(b.total(k)) for k in ("cost", "effect", "compensation", "net")))
    note = ("The municipalities' share of unemployment benefits (the law, since 2025): "
            f"inputs {b.derived}. Net = compensation − share − service level (> 0 gains).")
    return MoneyTable("The law's incentive: the municipal share of unemployment benefits",
                      head, rows, (False, False, True, True, True, True, True), total, note,
                      b.lines)


def sales_table(fin: Finance) -> MoneyTable | None:
    """What the organiser sells, one row per order: revenue for it, a cost for the buyer."""
    if not fin.sales:
        return None
    rows = tuple((o.service, o.buyer, f"{o.quantity:,g} {o.unit}", f"{o.price:,.2f}",
                  money(o.amount, decimals=True)) for o in fin.sales)
    org = fin.organiser
    total = ("total", "", "", "", money(sum(o.amount for o in fin.sales), decimals=True))
    note = (f"Revenue for the organiser {org.name}: {money(org.sales)} € a year, sold at cost "
            "(its cost of producing them is equal); a cost for each buyer (finance.csv's "
            "purchases; a regional area's is part of its production cost)."
            if org is not None else "")
    return MoneyTable("Services the organiser sells (on demand)",
                      ("service", "buyer", "units a year", "price €", "amount €"), rows,
                      (False, False, True, True, True), total, note)


def money_tables(fin: Finance) -> list[MoneyTable]:
    """Every table of this module the settlement has."""
    return [t for t in (unit_table(fin), benefit_table(fin), sales_table(fin)) if t]


def money_tables_text(fin: Finance) -> str:
    """The equalisation line and the tables, for the terminal."""
    return "\n\n".join([textwrap.fill(equalisation_line(fin), WIDTH)]
                       + [t.text() for t in money_tables(fin)])

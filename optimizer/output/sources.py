"""Money with its source, for every output: one line per input with where it comes from,
and a banner when any input is illustrative.

The terminal (`sources_text`, `banner_text`), summary.json (`MoneySources.summary`),
`finance_sources.csv` beside finance.csv (`sources_csv`) and the report
(`sources_html`, `banner_html`) all draw `economics/sources.money_sources`, so a figure
never leaves the program without its source. Self-contained on purpose: the outputs
call these beside their own tables.
"""

from __future__ import annotations

import csv
import io
import textwrap

from ..economics.sources import MoneySources
from . import escape
from .money_tables import html_table

WIDTH = 100
CSV_NAME = "finance_sources.csv"
"""The companion of finance.csv: one row per input with its source and year."""


def banner_text(ms: MoneySources) -> str | None:
    """The illustrative banner in a frame of `!`, or None when every input is cited."""
    if ms.banner is None:
        return None
    lines = textwrap.wrap(ms.banner, WIDTH - 4)
    rule = "!" * WIDTH
    return "\n".join([rule, *(f"! {x.ljust(WIDTH - 4)} !" for x in lines), rule])


def sources_text(ms: MoneySources) -> str:
    """'money inputs and their sources:' then one wrapped line per input, then the data's
    years."""
    out = ["money inputs and their sources:"]
    for x in ms.money:
        mark = " [illustrative]" if x.illustrative else ""
        out.append(textwrap.fill(x.words() + mark, WIDTH, initial_indent="  ",
                                 subsequent_indent="      ", break_on_hyphens=False))
    if ms.data:
        out.append("data:")
        out += [textwrap.fill(x.words(), WIDTH, initial_indent="  ", subsequent_indent="      ",
                              break_on_hyphens=False) for x in ms.data]
    return "\n".join(out)


def sources_csv(ms: MoneySources) -> str:
    """`finance_sources.csv`: kind,input,value,source,year,illustrative, one row per input
    (the data's figures last, kind `data`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "input", "value", "source", "year", "illustrative"])
    for x in (*ms.money, *ms.data):
        w.writerow([x.kind, x.label, x.value, x.source, x.year,
                    "yes" if x.illustrative else "no"])
    return buf.getvalue()


def banner_html(ms: MoneySources) -> str | None:
    """The banner as a block of the report (class `illustrative`), or None."""
    if ms.banner is None:
        return None
    return f'<div class="illustrative" role="alert"><strong>{escape.text(ms.banner)}</strong></div>'


def sources_html(ms: MoneySources) -> str:
    """The inputs and the data with their sources, as the report's table."""
    rows = [(x.label, x.value, x.source or "no source given", x.year,
             "illustrative" if x.illustrative else "cited") for x in (*ms.money, *ms.data)]
    return ("<h3>Where the money's figures come from</h3>"
            + html_table(("input", "value", "source", "year", ""), rows,
                         (False, False, False, True, False)))

"""A statistics overlay: a planner's own figures in place of the bundled ones for a run.

A CSV file `code,<figures...>[,year,source]` (one row per municipality; a name in
place of the code is read too) with any of the columns of `COLUMNS`. Its figures
replace the instance's (or add to it) for every municipality of the instance, which
must each have a row; rows of others are ignored. `year` and `source` say what the
figures are; the money outputs print them beside the bundled figures' (the instance's
`attribute_sources`). The README names the public tables each column comes from.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..csvfile import Once, read_table
from ..errors import StatisticsError
from ..values import LARGEST
from .instance import Instance
from .planfile import position

COLUMNS = {
    "population": "population at the end of the year (Statistics Finland 11ra, 'Väkiluku')",
    "labour_force": "labour force (TEM employment service statistics, StatFin 12r5, "
                    "'Työvoima')",
    "jobseekers": "unemployed jobseekers, yearly mean (StatFin 12r5, 'Työttömät "
                  "työnhakijat')",
    "working_age_population": "population aged 18–64 (Statistics Finland 11re, by age)",
    "foreign_language_share": "share of residents speaking a foreign language, 0–1 "
                              "(Statistics Finland 11rl, foreign-language speakers / "
                              "population)",
    "long_term_unemployed": "unemployed for over a year, yearly mean (StatFin 12r5, "
                            "'Pitkäaikaistyöttömät')",
}
"""The figures an overlay may give, with what each is and the public table it comes from."""
SHARES = ("foreign_language_share",)
"""Columns that are shares: from 0 to 1."""


def read_statistics(path: str | Path, instance: Instance) -> Instance:
    """`instance` with the overlay's figures in place of its own (and its
    `attribute_sources` saying where they come from); errors name the file, line and
    column."""
    path = Path(path)
    table = read_table(path, "statistics file", StatisticsError)
    table.require(("code",))
    known = set(COLUMNS) | {"code", "name", "year", "source"}
    unknown = [h for h in table.header if h.lower() not in known]
    if unknown:
        raise StatisticsError(f"{path}:1: unknown column '{unknown[0]}' (figures: "
                              f"{', '.join(COLUMNS)}; and code, name, year, source)")
    given = [c for c in COLUMNS if table.column(c) is not None]
    if not given:
        raise StatisticsError(f"{path}:1: no figure columns (give any of "
                              f"{', '.join(COLUMNS)})")
    values = {c: np.full(instance.n, np.nan) for c in given}
    years: dict[str, set] = {c: set() for c in given}
    sources: dict[str, list] = {c: [] for c in given}
    once = Once(table)
    extra = {c: table.column(c) for c in ("year", "source") if table.column(c) is not None}
    for line, cell, cells in table.records({"code": table.column("code"),
                                            **{c: table.column(c) for c in given}}):
        i = position(cell["code"], instance)
        if i is None:
            continue
        once(i, line, instance.label(i))
        for c in given:
            values[c][i] = _figure(cell[c], c, f"{path}:{line}", instance.label(i),
                                   table.delimiter)
        for c in given:
            if "year" in extra and extra["year"] < len(cells) and cells[extra["year"]].strip():
                years[c].add(cells[extra["year"]].strip())
            if "source" in extra and extra["source"] < len(cells):
                sources[c].append(cells[extra["source"]].strip())
    for c in given:
        missing = np.flatnonzero(np.isnan(values[c]))
        if len(missing):
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise StatisticsError(f"{path}: no row for {instance.label(int(missing[0]))}{more} "
                             "(every municipality of the instance needs one)")
    meta = dict(instance.metadata)
    sources_meta = dict(meta.get("attribute_sources", {}))
    for c in given:
        yr = sorted(years[c])
        sources_meta[c] = {
            "year": yr[0] if len(yr) == 1 else "–".join((yr[0], yr[-1])) if yr else "",
            "source": "; ".join(dict.fromkeys(s for s in sources[c] if s)),
            "file": str(path)}
    meta["attribute_sources"] = sources_meta
    return replace(instance, attributes={**instance.attributes, **values}, metadata=meta)


def _figure(text: str, column: str, where: str, label: str, delimiter: str) -> float:
    """A figure; a decimal comma is read when the file is not comma-separated."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if delimiter != ",":
        text = text.replace(",", ".")
    try:
        value = float(text) if text else math.nan
    except ValueError:
        value = math.nan
    high = 1.0 if column in SHARES else LARGEST
    if not math.isfinite(value) or value < 0 or value > high:
        raise StatisticsError(f"{where}: '{column}' must be a number from 0 to {high:g}, got "
                         f"{text!r} for {label}")
    return value

"""Each municipality's yearly employment-services subsidy, in cents.

From an instance column, a CSV file `code,subsidy_eur[,year,source]` (the optional
columns say what the figures are: the year of the state's decision and a citation),
or the formula of the model file: a total split by criteria and weights (the state's real criteria
are working-age population, unemployment and the foreign-language share; the
bundled data has population, labour force and jobseekers, so the bundled
formula is illustrative).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..csvfile import Once, cell_decimal, read_table
from ..data.planfile import position
from ..errors import FinanceError, InstanceError
from ..values import LARGEST
from .cents import MAX_CENTS, allocate, exact_cents, money, to_cents
from .contract import SubsidySource
from .provenance import Source, row_source

FILE_COLUMNS = ("code", "subsidy_eur")


def subsidies(source: SubsidySource, instance, model_source: str = "<model>") -> np.ndarray:
    """Subsidy per municipality of `instance` in cents (int64); their total is at most
    `cents.MAX_CENTS` (1e15 €), so that a settlement stays exact to the cent."""
    cents = _subsidies(source, instance, model_source)
    total = sum(int(c) for c in cents)
    if total > MAX_CENTS:
        where = source.file or f"{model_source}: 'finance.subsidy.column'"
        raise FinanceError(f"{where}: the subsidies add up to {money(total)} €, more than "
                           f"{money(MAX_CENTS)} €; amounts that large cannot be settled to the "
                           "cent")
    return cents


def _subsidies(source: SubsidySource, instance, model_source: str) -> np.ndarray:
    if source.column is not None:
        try:
            values = instance.attribute(source.column)
        except InstanceError as exc:
            raise FinanceError(f"{model_source}: 'finance.subsidy.column': {exc}") from None
        bad = np.flatnonzero((values < 0) | (values > LARGEST))
        if len(bad):
            raise FinanceError(f"{model_source}: 'finance.subsidy.column': {source.column!r} "
                               f"is {values[bad[0]]:g} for {instance.label(int(bad[0]))}; a "
                               f"subsidy must be 0 to {LARGEST:g} euros")
        return to_cents(values)
    if source.file is not None:
        return read_subsidies(source.file, instance)
    share = np.zeros(instance.n)
    for crit, w in source.weights.items():
        try:
            a = instance.attribute(crit)
        except InstanceError as exc:
            raise FinanceError(f"{model_source}: 'finance.subsidy.weights.{crit}': "
                               f"{exc}") from None
        if np.any(a < 0) or a.sum() <= 0:
            raise FinanceError(f"{model_source}: 'finance.subsidy.weights.{crit}': the "
                               "criterion must be >= 0 with a positive total")
        share += w * a / a.sum()
    return allocate(to_cents(source.total), share)


def subsidy_source(path: Path) -> Source:
    """The year and source a subsidy file gives for its figures (Source() if none)."""
    return row_source(read_table(path, "subsidy file", FinanceError))


def read_subsidies(path: Path, instance) -> np.ndarray:
    """Read `code,subsidy_eur`; rows for municipalities outside the instance are ignored,
    every municipality inside needs exactly one row. Errors name the line and column."""
    table = read_table(path, "subsidy file", FinanceError)
    columns = table.require(FILE_COLUMNS)
    once = Once(table)
    cents = np.zeros(instance.n, dtype=np.int64)
    for line, cell, _ in table.records(columns):
        i = position(cell["code"], instance)
        if i is None:
            continue
        text = cell["subsidy_eur"]
        exact = cell_decimal(text, table.delimiter)
        value = math.nan if exact is None else float(exact)
        if not math.isfinite(value) or value < 0 or value > LARGEST:
            raise FinanceError(f"{path}:{line}: 'subsidy_eur' must be a number from 0 to "
                               f"{LARGEST:g}, got {text!r} for {instance.label(i)}")
        once(i, line, instance.label(i))
        cents[i] = exact_cents(exact)  # as written, to the cent
    missing = [i for i in range(instance.n) if i not in once.first]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise FinanceError(f"{path}: no 'subsidy_eur' for {instance.label(missing[0])}{more}")
    return cents

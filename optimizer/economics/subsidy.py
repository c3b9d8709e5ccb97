"""Each municipality's yearly employment-services subsidy, in cents.

From an instance column, a CSV file `code,subsidy_eur`, or the formula of the
model file: a total split by criteria and weights (the state's real criteria
are working-age population, unemployment and the foreign-language share; the
bundled data has population, labour force and jobseekers, so the bundled
formula is illustrative).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..data.planfile import normalise_code
from ..errors import FinanceError, InstanceError
from ..reading import read_text
from ..values import LARGEST
from .cents import allocate, to_cents
from .contract import SubsidySource

FILE_COLUMNS = ("code", "subsidy_eur")


def subsidies(source: SubsidySource, instance, model_source: str = "<model>") -> np.ndarray:
    """Subsidy per municipality of `instance` in cents (int64)."""
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


def read_subsidies(path: Path, instance) -> np.ndarray:
    """Read `code,subsidy_eur`; rows for municipalities outside the instance are ignored,
    every municipality inside needs exactly one row. Errors name the line and column."""
    path = Path(path)
    text = read_text(path, "subsidy file", FinanceError, encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    for col in FILE_COLUMNS:
        if col not in header:
            raise FinanceError(f"{path}:1: missing column '{col}' (the header needs "
                               f"{','.join(FILE_COLUMNS)})")
    c_code, c_eur = header.index("code"), header.index("subsidy_eur")
    cents = np.zeros(instance.n, dtype=np.int64)
    seen: dict[int, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(c_code, c_eur):
            raise FinanceError(f"{path}:{line}: expected {len(header)} columns, got {len(row)}")
        code = normalise_code(row[c_code], instance)
        i = instance.index.get(code)
        if i is None:
            continue
        text = row[c_eur].strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or value > LARGEST:
            raise FinanceError(f"{path}:{line}: 'subsidy_eur' must be a number from 0 to "
                               f"{LARGEST:g}, got {text!r} for {instance.label(i)}")
        if i in seen:
            raise FinanceError(f"{path}:{line}: {instance.label(i)} listed twice (first on "
                               f"line {seen[i]})")
        seen[i] = line
        cents[i] = to_cents(value)
    missing = [i for i in range(instance.n) if i not in seen]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise FinanceError(f"{path}: no 'subsidy_eur' for {instance.label(missing[0])}{more}")
    return cents

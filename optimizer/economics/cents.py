"""Money in whole cents: rounding and exact proportional allocation.

Every figure of a settlement is an integer number of cents, so sums balance
exactly. A total is split by the largest-remainder method: each share gets
the floor of its proportional quota and the cents left over go, one each, to
the largest fractional remainders (ties to the earlier municipality). The quotas
are computed in exact integer arithmetic (a float weight is the fraction it holds),
so the split is exact at every magnitude a settlement allows (`MAX_CENTS`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np

MAX_CENTS = 10**17
"""Largest total a settlement handles (1e15 €, the largest number a model accepts): every
sum of a settlement then stays far inside int64 (9.2e18)."""


def to_cents(euros) -> np.ndarray | int:
    """Euros rounded half away from zero to whole cents (int64, or int for a scalar)."""
    a = np.asarray(euros, dtype=float)
    c = (np.sign(a) * np.floor(np.abs(a) * 100 + 0.5)).astype(np.int64)
    return int(c) if c.ndim == 0 else c


def exact_cents(value) -> int:
    """Euros (a Decimal, an int or a float: the number it holds) as whole cents, rounded half
    away from zero, exactly."""
    d = value if isinstance(value, Decimal) else Decimal(value)  # a float's exact value
    c = (abs(d) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(c) * (-1 if d < 0 else 1)


def round_fraction(x: Fraction) -> int:
    """A fraction of cents to whole cents, half away from zero."""
    whole = (abs(x.numerator) * 2 + x.denominator) // (2 * x.denominator)
    return whole if x >= 0 else -whole


def _integers(weights) -> list[int]:
    """Non-negative float or int weights as integers in the same exact proportions."""
    ratios = [Fraction(float(v)) if not isinstance(v, int | np.integer) else Fraction(int(v))
              for v in weights]
    den = 1
    for r in ratios:
        den = max(den, r.denominator)  # every float denominator is a power of two
    return [r.numerator * (den // r.denominator) for r in ratios]


def allocate(total: int, weights) -> np.ndarray:
    """`total` cents split in proportion to `weights` (≥ 0) so that the shares add up to
    `total` exactly; all-zero weights split it equally. A negative total is split as its
    absolute value, negated. Exact: the quotas are integer fractions."""
    w = np.asarray(weights)
    if len(w) == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over nobody")
        return np.zeros(0, dtype=np.int64)
    wf = w.astype(float)
    if np.any(wf < 0) or not np.all(np.isfinite(wf)):
        raise ValueError("allocation weights must be finite and >= 0")
    sign = -1 if total < 0 else 1
    t = abs(int(total))
    ints = _integers(w.tolist())
    s = sum(ints)
    if s <= 0:
        ints, s = [1] * len(ints), len(ints)
    base = [t * x // s for x in ints]
    rest = [t * x % s for x in ints]
    left = t - sum(base)
    for i in sorted(range(len(ints)), key=lambda i: (-rest[i], i))[:left]:
        base[i] += 1
    return sign * np.array(base, dtype=np.int64)


def euros(cents) -> float:
    return float(cents) / 100.0


def format_cents(c: int) -> str:
    """Cents as euros with two decimals, exactly, for files ('-1234.05')."""
    sign = "-" if c < 0 else ""
    c = abs(int(c))
    return f"{sign}{c // 100}.{c % 100:02d}"


def money(cents: int, *, decimals: bool = False, sign: bool = False) -> str:
    """Cents as euros for people: thousands grouped, whole euros (rounded half away from
    zero) or, with `decimals`, exact to the cent; `sign` shows + on gains."""
    c = int(cents)
    lead = "-" if c < 0 else "+" if sign and c > 0 else ""
    whole, part = divmod(abs(c), 100)
    if decimals:
        return f"{lead}{whole:,}.{part:02d}"
    whole += part >= 50
    return f"{lead if whole else ''}{whole:,}"


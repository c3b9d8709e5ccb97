"""Money in whole cents: rounding and exact proportional allocation.

Every figure of a settlement is an integer number of cents, so sums balance
exactly. A total is split by the largest-remainder method: each share gets
the floor of its proportional quota and the cents left over go, one each, to
the largest fractional remainders (ties to the earlier municipality).
"""

from __future__ import annotations

import numpy as np


def to_cents(euros) -> np.ndarray | int:
    """Euros rounded half away from zero to whole cents (int64, or int for a scalar)."""
    a = np.asarray(euros, dtype=float)
    c = (np.sign(a) * np.floor(np.abs(a) * 100 + 0.5)).astype(np.int64)
    return int(c) if c.ndim == 0 else c


def allocate(total: int, weights) -> np.ndarray:
    """`total` cents split in proportion to `weights` (≥ 0) so that the shares add up to
    `total` exactly; all-zero weights split it equally. A negative total is split as its
    absolute value, negated."""
    w = np.asarray(weights, dtype=float)
    if len(w) == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over nobody")
        return np.zeros(0, dtype=np.int64)
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("allocation weights must be finite and >= 0")
    sign = -1 if total < 0 else 1
    t = abs(int(total))
    if w.sum() <= 0:
        w = np.ones(len(w))
    quota = t * (w / w.sum())
    base = np.floor(quota).astype(np.int64)
    left = t - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(quota - base)))
    base[order[:left]] += 1
    return sign * base


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


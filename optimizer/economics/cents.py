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
